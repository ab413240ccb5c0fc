// The parser's building blocks, shared by the table parsers in
// policy/parser.cpp and monitor/monitor_parser.cpp: the walking context
// and the helpers that turn toml++ nodes into checked values with
// diagnostics at the offending value. Not a public interface: parse
// policies through policy/parser.hpp.
#pragma once

#include "policy/diagnostics.hpp"
#include "policy/model.hpp"

#include <toml++/toml.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::parse_detail {

using Keys = std::span<const std::string_view>;

// Walking context: one file, one policy.
struct Ctx {
    std::string file;
    Diagnostics& diag;
    Policy& policy;
    bool saw_policy_table = false;

    SourcePos at(const toml::source_region& r) const
    {
        return SourcePos{file, r.begin.line, r.begin.column};
    }
    SourcePos at(const toml::node& n) const { return at(n.source()); }
    SourcePos at(const toml::key& k) const { return at(k.source()); }
    void error(SourcePos p, std::string m) { diag.error(std::move(p), std::move(m)); }
    void warning(SourcePos p, std::string m) { diag.warning(std::move(p), std::move(m)); }
};

// Optimal string alignment distance, case-insensitive.
size_t edit_distance(std::string_view a, std::string_view b);
// The closest candidate, when it is close enough to be a likely typo.
std::optional<std::string_view> closest(std::string_view word, Keys candidates);
std::string join_quoted(Keys words, std::string_view last_sep);
std::string join_plain(Keys words);

const char* type_name(const toml::node& n);  // "a string", "an array", ...
// A table's entries in the order they were written.
std::vector<std::pair<const toml::key*, const toml::node*>> in_source_order(const toml::table& t);
// "unknown key ... in TABLE", with a suggestion or where the key belongs.
void unknown_key(Ctx& c, const toml::key& k, std::string_view table, Keys known);

// A list-valued key's elements (a lone scalar is a one-element list);
// nullopt after an error when it is a table.
std::optional<std::vector<const toml::node*>> list_elements(Ctx& c, const toml::node& v, std::string_view key,
                                                            std::string_view table, std::string_view expected);
// A list of strings (or one string); other elements are errors.
std::optional<std::vector<Located>> string_list(Ctx& c, const toml::node& v, std::string_view key,
                                                std::string_view table);
void empty_list_error(Ctx& c, const toml::node& v, std::string_view key, std::string_view table,
                      std::string_view what_to_do);
// Warns about the second and later copies of a value in one list.
void warn_duplicates(Ctx& c, const std::vector<Located>& items, std::string_view noun, std::string_view where);
// One of `names`; an unknown string is an error with a suggestion.
std::optional<size_t> enum_value(Ctx& c, const toml::node& v, std::string_view noun, std::string_view table,
                                 Keys names, std::string_view extra = {});
// A bit set from a list of names (bit i: names[i]).
std::optional<uint8_t> bit_list(Ctx& c, const toml::node& v, std::string_view key, std::string_view noun,
                                std::string_view table, Keys names, std::string_view omit_hint);

// The [monitor] table: [[monitor.file]], [[monitor.syscalls]],
// [monitor.process], [[monitor.connect]] (monitor/monitor_parser.cpp).
void parse_monitors(Ctx& c, const toml::table& t);

// One [[test]] table: an offline test case (policy/parse_tests.cpp).
void parse_test(Ctx& c, const toml::table& t);

}  // namespace bulwark::parse_detail
