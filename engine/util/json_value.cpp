#include "util/json_value.hpp"

#include <cerrno>
#include <cstdlib>

namespace bulwark {

class JsonParser {
public:
    explicit JsonParser(std::string_view t) : t_(t) {}

    std::optional<JsonValue> document(std::string* error)
    {
        std::optional<JsonValue> v = value(0);
        ws();
        if (v && i_ != t_.size()) fail("text after the value");
        if (!err_.empty()) {
            if (error) *error = "at byte " + std::to_string(i_) + ": " + err_;
            return std::nullopt;
        }
        return v;
    }

private:
    static constexpr int kMaxDepth = 256;

    void fail(const char* what)
    {
        if (err_.empty()) err_ = what;
    }
    void ws()
    {
        while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
    }
    bool eat(std::string_view word)
    {
        if (t_.substr(i_, word.size()) != word) return false;
        i_ += word.size();
        return true;
    }

    std::optional<JsonValue> value(int depth)
    {
        if (depth > kMaxDepth) {
            fail("nested too deeply");
            return std::nullopt;
        }
        ws();
        if (i_ >= t_.size()) {
            fail("unexpected end");
            return std::nullopt;
        }
        JsonValue v;
        const char c = t_[i_];
        if (c == '{') {
            v.type_ = JsonValue::Type::object;
            ++i_;
            ws();
            if (i_ < t_.size() && t_[i_] == '}') {
                ++i_;
                return v;
            }
            for (;;) {
                ws();
                auto k = string();
                if (!k) return std::nullopt;
                ws();
                if (!eat(":")) {
                    fail("expected ':'");
                    return std::nullopt;
                }
                auto m = value(depth + 1);
                if (!m) return std::nullopt;
                v.members_.emplace_back(std::move(*k), std::move(*m));
                ws();
                if (eat(",")) continue;
                if (eat("}")) return v;
                fail("expected ',' or '}'");
                return std::nullopt;
            }
        }
        if (c == '[') {
            v.type_ = JsonValue::Type::array;
            ++i_;
            ws();
            if (i_ < t_.size() && t_[i_] == ']') {
                ++i_;
                return v;
            }
            for (;;) {
                auto e = value(depth + 1);
                if (!e) return std::nullopt;
                v.array_.push_back(std::move(*e));
                ws();
                if (eat(",")) continue;
                if (eat("]")) return v;
                fail("expected ',' or ']'");
                return std::nullopt;
            }
        }
        if (c == '"') {
            auto s = string();
            if (!s) return std::nullopt;
            v.type_ = JsonValue::Type::string;
            v.string_ = std::move(*s);
            return v;
        }
        if (eat("true") || eat("false")) {
            v.type_ = JsonValue::Type::boolean;
            v.bool_ = t_[i_ - 1] == 'e' && t_[i_ - 2] == 'u';
            return v;
        }
        if (eat("null")) return v;
        return number();
    }

    std::optional<JsonValue> number()
    {
        const size_t start = i_;
        if (i_ < t_.size() && t_[i_] == '-') ++i_;
        bool integral = true, digits = false;
        while (i_ < t_.size()) {
            const char c = t_[i_];
            if (c >= '0' && c <= '9') {
                digits = true;
            } else if (c == '.' || c == 'e' || c == 'E' || ((c == '+' || c == '-') && i_ > start)) {
                integral = false;
            } else {
                break;
            }
            ++i_;
        }
        if (!digits) {
            fail("expected a value");
            return std::nullopt;
        }
        const std::string text(t_.substr(start, i_ - start));
        JsonValue v;
        v.type_ = JsonValue::Type::number;
        char* end = nullptr;
        v.number_ = std::strtod(text.c_str(), &end);
        if (end != text.c_str() + text.size()) {
            fail("malformed number");
            return std::nullopt;
        }
        if (integral) {
            errno = 0;
            v.integer_ = std::strtoll(text.c_str(), nullptr, 10);
            v.integral_ = errno == 0;
        }
        return v;
    }

    static void utf8(std::string& out, uint32_t cp)
    {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }

    std::optional<uint32_t> hex4()
    {
        if (i_ + 4 > t_.size()) return std::nullopt;
        uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = t_[i_++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
            else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
            else return std::nullopt;
        }
        return v;
    }

    std::optional<std::string> string()
    {
        if (!eat("\"")) {
            fail("expected a string");
            return std::nullopt;
        }
        std::string out;
        while (i_ < t_.size()) {
            const char c = t_[i_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) {
                fail("control character in a string");
                return std::nullopt;
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= t_.size()) break;
            const char e = t_[i_++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                auto cp = hex4();
                if (!cp) {
                    fail("malformed \\u escape");
                    return std::nullopt;
                }
                if (*cp >= 0xd800 && *cp < 0xdc00 && eat("\\u")) {
                    auto lo = hex4();
                    if (!lo || *lo < 0xdc00 || *lo >= 0xe000) {
                        fail("malformed surrogate pair");
                        return std::nullopt;
                    }
                    *cp = 0x10000 + ((*cp - 0xd800) << 10) + (*lo - 0xdc00);
                }
                utf8(out, *cp);
                break;
            }
            default: fail("unknown escape"); return std::nullopt;
            }
        }
        fail("unterminated string");
        return std::nullopt;
    }

    std::string_view t_;
    size_t i_ = 0;
    std::string err_;
};

std::optional<JsonValue> JsonValue::parse(std::string_view text, std::string* error)
{
    return JsonParser(text).document(error);
}

const JsonValue* JsonValue::get(std::string_view key) const
{
    for (const auto& [k, v] : members_)
        if (k == key) return &v;
    return nullptr;
}

std::string JsonValue::str(std::string_view key, const std::string& fallback) const
{
    const JsonValue* v = get(key);
    return v && v->is_string() ? v->string() : fallback;
}

}  // namespace bulwark
