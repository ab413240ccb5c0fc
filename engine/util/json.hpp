// A JSON Lines writer: one object per line, fields in the order written.
// Hand-rolled because the event pipeline writes millions of lines a
// second; strings are escaped and always valid UTF-8 (bytes that are not
// are written as \u00XX, so odd file names still produce valid JSON).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

class JsonLine {
public:
    explicit JsonLine(std::string& out) : out_(out) { out_ += '{'; }
    JsonLine& field(std::string_view key, std::string_view value);
    JsonLine& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
    JsonLine& field(std::string_view key, uint64_t value);
    JsonLine& field(std::string_view key, int64_t value);
    JsonLine& field(std::string_view key, uint32_t value) { return field(key, uint64_t(value)); }
    JsonLine& field(std::string_view key, int value) { return field(key, int64_t(value)); }
    JsonLine& field(std::string_view key, bool value);
    JsonLine& field(std::string_view key, const std::vector<std::string>& values);
    JsonLine& raw(std::string_view key, std::string_view json);  // value already JSON
    void end() { out_ += "}\n"; }
    // The object without the newline: a value to nest with raw().
    void close() { out_ += '}'; }

private:
    void key(std::string_view k);
    std::string& out_;
    bool first_ = true;
};

void append_json_string(std::string& out, std::string_view s);

// "2026-11-25T16:40:01.123456789Z"
std::string rfc3339_utc(int64_t unix_ns);

}  // namespace bulwark
