// The pieces `bulwark compile --dump --json` is written with, shared by its
// two files (dump_json.cpp: policies, rules and the rule maps;
// dump_json_monitors.cpp: the monitor maps).
#pragma once

#include "compile/map_image.hpp"
#include "util/json.hpp"

#include <string>
#include <string_view>

namespace bulwark::dump_json {

// A minimal nested JSON writer: values are written in order; commas are
// placed by the writer.
class Json {
public:
    explicit Json(std::string& out) : out_(out) {}
    Json& open(char c)
    {
        sep();
        out_ += c;
        first_ = true;
        return *this;
    }
    Json& close(char c)
    {
        out_ += c;
        first_ = false;
        return *this;
    }
    Json& key(std::string_view k)
    {
        sep();
        append_json_string(out_, k);
        out_ += ':';
        first_ = true;  // the value follows without a comma
        return *this;
    }
    Json& str(std::string_view v)
    {
        sep();
        append_json_string(out_, v);
        return *this;
    }
    Json& num(uint64_t v)
    {
        sep();
        out_ += std::to_string(v);
        return *this;
    }
    Json& boolean(bool v)
    {
        sep();
        out_ += v ? "true" : "false";
        return *this;
    }
    Json& null()
    {
        sep();
        out_ += "null";
        return *this;
    }

private:
    void sep()
    {
        if (!first_) out_ += ',';
        first_ = false;
    }
    std::string& out_;
    bool first_ = true;
};

// "web.toml:14"
inline std::string loc(const SourcePos& p)
{
    return basename_of(p.file) + ":" + std::to_string(p.line);
}

// The names of the policies in `mask`, as a JSON array.
inline void policies(Json& j, const MapImage& image, uint64_t mask)
{
    j.open('[');
    for (size_t i = 0; i < image.policies.size(); ++i)
        if (mask & (1ull << i)) j.str(image.policies[i].name);
    j.close(']');
}

// "monitors": {...}, the monitor maps and the rule every value reports through.
void monitors(Json& j, const MapImage& image);

}  // namespace bulwark::dump_json
