// A small JSON reader: text → a tree of values. For the tools that read
// JSON (`bulwark report` reads event lines) and the tests that check JSON
// output. Not for the event pipeline's hot path (that only writes).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

class JsonValue {
public:
    enum class Type : uint8_t { null, boolean, number, string, array, object };

    // nullopt on malformed text (`error`, when given, says where and why).
    static std::optional<JsonValue> parse(std::string_view text, std::string* error = nullptr);

    Type type() const { return type_; }
    bool is_null() const { return type_ == Type::null; }
    bool is_bool() const { return type_ == Type::boolean; }
    bool is_number() const { return type_ == Type::number; }
    bool is_string() const { return type_ == Type::string; }
    bool is_array() const { return type_ == Type::array; }
    bool is_object() const { return type_ == Type::object; }
    // An integral number (no fraction, no exponent), as written.
    bool is_integer() const { return type_ == Type::number && integral_; }

    bool boolean() const { return bool_; }
    double number() const { return number_; }
    int64_t integer() const { return integer_; }
    const std::string& string() const { return string_; }
    const std::vector<JsonValue>& array() const { return array_; }
    // Members in the order written.
    const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }
    // A member, or nullptr.
    const JsonValue* get(std::string_view key) const;
    // A string member, or `fallback`.
    std::string str(std::string_view key, const std::string& fallback = "") const;

private:
    friend class JsonParser;
    Type type_ = Type::null;
    bool bool_ = false;
    bool integral_ = false;
    double number_ = 0;
    int64_t integer_ = 0;
    std::string string_;
    std::vector<JsonValue> array_;
    std::vector<std::pair<std::string, JsonValue>> members_;
};

}  // namespace bulwark
