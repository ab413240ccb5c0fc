#include "util/json.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace bulwark {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0.
size_t utf8_sequence(std::string_view s, size_t i)
{
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
    return n;
}

// Bytes written as they are: printable ASCII but the quote and the backslash.
constexpr bool plain(unsigned char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; }

}  // namespace

void append_json_string(std::string& out, std::string_view s)
{
    static const char hex[] = "0123456789abcdef";
    out += '"';
    // Runs of plain bytes are appended whole (the event pipeline's paths
    // and names are nearly all plain); the rest byte by byte.
    size_t i = 0;
    while (i < s.size()) {
        size_t run = i;
        while (run < s.size() && plain(static_cast<unsigned char>(s[run]))) ++run;
        if (run > i) {
            out.append(s.data() + i, run - i);
            i = run;
            if (i == s.size()) break;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x80) {  // other control bytes and DEL
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else if (size_t n = utf8_sequence(s, i)) {
            out.append(s.substr(i, n));
            i += n - 1;
        } else {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
        ++i;
    }
    out += '"';
}

void JsonLine::key(std::string_view k)
{
    // One append: `"key":` or `,"key":` (keys are the writer's own names, never escaped).
    char buf[64];
    size_t n = 0;
    if (!first_) buf[n++] = ',';
    first_ = false;
    if (k.size() + 4 > sizeof buf) {
        out_.append(buf, n).append(1, '"').append(k).append("\":");
        return;
    }
    buf[n++] = '"';
    for (char c : k) buf[n++] = c;
    buf[n++] = '"';
    buf[n++] = ':';
    out_.append(buf, n);
}

JsonLine& JsonLine::field(std::string_view k, std::string_view value)
{
    key(k);
    append_json_string(out_, value);
    return *this;
}

JsonLine& JsonLine::field(std::string_view k, uint64_t value)
{
    key(k);
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), value);
    out_.append(buf, r.ptr);
    return *this;
}

JsonLine& JsonLine::field(std::string_view k, int64_t value)
{
    key(k);
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), value);
    out_.append(buf, r.ptr);
    return *this;
}

JsonLine& JsonLine::field(std::string_view k, bool value)
{
    key(k);
    out_ += value ? "true" : "false";
    return *this;
}

JsonLine& JsonLine::field(std::string_view k, const std::vector<std::string>& values)
{
    key(k);
    out_ += '[';
    for (size_t i = 0; i < values.size(); ++i) {
        if (i) out_ += ',';
        append_json_string(out_, values[i]);
    }
    out_ += ']';
    return *this;
}

JsonLine& JsonLine::raw(std::string_view k, std::string_view json)
{
    key(k);
    out_ += json;
    return *this;
}

std::string rfc3339_utc(int64_t unix_ns)
{
    time_t secs = static_cast<time_t>(unix_ns / 1000000000);
    long nanos = static_cast<long>(unix_ns % 1000000000);
    if (nanos < 0) {
        nanos += 1000000000;
        --secs;
    }
    struct tm tm {};
    gmtime_r(&secs, &tm);
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
    return buf;
}

}  // namespace bulwark
