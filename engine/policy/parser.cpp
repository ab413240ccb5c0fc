// The policy parser. toml++ turns text into a tree with positions; this file
// walks that tree once, checking every key and value and building the model.
// It reports every problem it finds in a file (TOML syntax errors excepted:
// toml++ stops at the first), each at the position of the offending value.
//
// Layout: one parse function per top-level table, dispatched through
// kSections (top-level key → shape + handler). Later tables such as
// [[monitor.*]] and [[test]] are added as another row and function.

#include "policy/parser.hpp"

#include "policy/parse_detail.hpp"
#include "policy/value_checks.hpp"

#include <toml++/toml.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>

namespace bulwark {

// Helpers shared with the monitor parser (policy/parse_detail.hpp).
namespace parse_detail {

// ---------------------------------------------------------------------------
// Suggestions

// Optimal string alignment distance (Levenshtein plus adjacent swaps),
// case-insensitive: "prefixs" → "prefixes" is 1, "nmae" → "name" is 1.
size_t edit_distance(std::string_view a, std::string_view b)
{
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    const size_t n = a.size(), m = b.size();
    std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
    for (size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (size_t i = 1; i <= n; ++i) {
        for (size_t j = 1; j <= m; ++j) {
            size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]))
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[n][m];
}

// The closest candidate, when it is close enough to be a likely typo.
std::optional<std::string_view> closest(std::string_view word, Keys candidates)
{
    std::optional<std::string_view> best;
    size_t best_d = SIZE_MAX;
    for (std::string_view c : candidates) {
        size_t d = edit_distance(word, c);
        size_t limit = std::min<size_t>(c.size() <= 3 ? 1 : (c.size() <= 5 ? 2 : 3), word.size());
        if (d <= limit && d < best_d) {
            best = c;
            best_d = d;
        }
    }
    return best;
}

std::string join_quoted(Keys words, std::string_view last_sep)
{
    std::string out;
    for (size_t i = 0; i < words.size(); ++i) {
        if (i > 0) out += (i + 1 == words.size()) ? std::string(last_sep) : std::string(", ");
        out += '"';
        out += words[i];
        out += '"';
    }
    return out;
}

std::string join_plain(Keys words)
{
    std::string out;
    for (size_t i = 0; i < words.size(); ++i) {
        if (i > 0) out += ", ";
        out += words[i];
    }
    return out;
}

// ---------------------------------------------------------------------------
// Keys each table accepts (also used to say where a misplaced key belongs).

constexpr std::string_view kPolicyKeys[] = {"name", "mode", "description"};
constexpr std::string_view kScopeKeys[] = {"cgroup", "uid", "executable"};
constexpr std::string_view kDefaultsKeys[] = {"file", "exec", "connect"};
constexpr std::string_view kFileKeys[] = {"paths", "prefixes", "access", "action"};
constexpr std::string_view kExecKeys[] = {"paths", "prefixes", "fileless", "action"};
constexpr std::string_view kConnectKeys[] = {"cidrs", "ports", "protocols", "action"};

constexpr std::string_view kActions[] = {"deny", "audit", "allow"};
constexpr Action kActionValues[] = {Action::deny, Action::audit, Action::allow};
constexpr std::string_view kDefaultActions[] = {"allow", "deny", "audit"};
constexpr Action kDefaultActionValues[] = {Action::allow, Action::deny, Action::audit};
constexpr std::string_view kModes[] = {"enforce", "audit"};
constexpr std::string_view kProtocols[] = {"tcp", "udp"};

// ---------------------------------------------------------------------------
// Walking context: Ctx, in policy/parse_detail.hpp

const char* type_name(const toml::node& n)
{
    switch (n.type()) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    }
    return "a value";
}

// A table's entries in the order they were written (toml::table is sorted by
// key), so diagnostics come out in file order.
std::vector<std::pair<const toml::key*, const toml::node*>> in_source_order(const toml::table& t)
{
    std::vector<std::pair<const toml::key*, const toml::node*>> out;
    for (auto&& [k, v] : t) out.emplace_back(&k, &v);
    auto where = [](const auto& e) {
        const auto& b = e.first->source().begin;
        return std::pair(b.line, b.column);
    };
    std::stable_sort(out.begin(), out.end(),
                     [&](const auto& a, const auto& b) { return where(a) < where(b); });
    return out;
}

struct KnownKey {
    std::string_view key;
    std::string_view table;
};

// Every key of every table, to say where a misplaced key belongs.
constexpr KnownKey kAllKeys[] = {
    {"name", "[policy]"},        {"mode", "[policy]"},        {"description", "[policy]"},
    {"cgroup", "[scope]"},       {"uid", "[scope]"},          {"executable", "[scope]"},
    {"cidrs", "[[connect]]"},    {"ports", "[[connect]]"},    {"protocols", "[[connect]]"},
    {"fileless", "[[exec]]"},
    {"access", "[[file]]"},      {"paths", "[[file]] or [[exec]]"},
    {"prefixes", "[[file]] or [[exec]]"},                     {"action", "a [[file]], [[exec]] or [[connect]] rule"},
    {"allow", "[[monitor.syscalls]]"},                        {"allowed", "[monitor.process]"},
    {"rate_limit", "a [[monitor.*]] table"},
};

void unknown_key(Ctx& c, const toml::key& k, std::string_view table, Keys known)
{
    std::string msg = "unknown key " + quote_value(k.str()) + " in " + std::string(table);
    if (auto s = closest(k.str(), known)) {
        msg += "; did you mean \"" + std::string(*s) + "\"?";
    } else {
        std::optional<std::string_view> home;
        for (const auto& kk : kAllKeys)
            if (kk.key == k.str()) home = kk.table;
        if (home)
            msg += "; " + std::string(k.str()) + " belongs in " + std::string(*home) + ", move it there";
        else
            msg += "; the keys of " + std::string(table) + " are " + join_plain(known);
    }
    c.error(c.at(k), std::move(msg));
}

// ---------------------------------------------------------------------------
// Values

// A list-valued key's elements: the array's elements, or a lone scalar as a
// one-element list. nullopt (after an error) when it is a table.
std::optional<std::vector<const toml::node*>> list_elements(Ctx& c, const toml::node& v,
                                                            std::string_view key,
                                                            std::string_view table,
                                                            std::string_view expected)
{
    std::vector<const toml::node*> out;
    if (const toml::array* a = v.as_array()) {
        out.reserve(a->size());
        for (const toml::node& e : *a) out.push_back(&e);
        return out;
    }
    if (v.is_table()) {
        c.error(c.at(v), std::string(key) + " in " + std::string(table) + " must be " +
                             std::string(expected) + ", not a table");
        return std::nullopt;
    }
    out.push_back(&v);
    return out;
}

// A list of strings (or one string). Elements of another type are errors.
std::optional<std::vector<Located>> string_list(Ctx& c, const toml::node& v, std::string_view key,
                                                std::string_view table)
{
    auto elems = list_elements(c, v, key, table, "an array of strings (or one string)");
    if (!elems) return std::nullopt;
    std::vector<Located> out;
    out.reserve(elems->size());
    for (const toml::node* e : *elems) {
        if (const auto* s = e->as_string()) {
            out.push_back(Located{s->get(), c.at(*e)});
        } else if (v.is_array()) {
            c.error(c.at(*e), "each element of " + std::string(key) + " in " + std::string(table) +
                                  " must be a string, not " + type_name(*e));
        } else {
            c.error(c.at(*e), std::string(key) + " in " + std::string(table) +
                                  " must be an array of strings (or one string), not " + type_name(*e));
        }
    }
    return out;
}

void empty_list_error(Ctx& c, const toml::node& v, std::string_view key, std::string_view table,
                      std::string_view what_to_do)
{
    c.error(c.at(v), "empty " + std::string(key) + " in " + std::string(table) + "; " +
                         std::string(what_to_do));
}

// Warn about the second and later copies of the same value in one list.
void warn_duplicates(Ctx& c, const std::vector<Located>& items, std::string_view noun,
                     std::string_view where)
{
    // Hashed, not ordered: a rule may list 100,000 paths (bench/scale.cpp).
    std::unordered_map<std::string_view, const Located*> seen;
    seen.reserve(items.size());
    for (const Located& l : items) {
        auto [it, fresh] = seen.emplace(l.value, &l);
        if (!fresh) {
            c.warning(l.pos, "duplicate " + std::string(noun) + " " + quote_value(l.value) + " in " +
                                 std::string(where) + " (first at line " +
                                 std::to_string(it->second->pos.line) + "); remove this one");
        }
    }
}

// One of `names` (a string); on an unknown string, an error with a
// suggestion. `noun` is how the message calls the value.
std::optional<size_t> enum_value(Ctx& c, const toml::node& v, std::string_view noun,
                                 std::string_view table, Keys names, std::string_view extra)
{
    const auto* s = v.as_string();
    if (!s) {
        c.error(c.at(v), std::string(noun) + " in " + std::string(table) + " must be a string (" +
                             join_quoted(names, " or ") + "), not " + type_name(v));
        return std::nullopt;
    }
    for (size_t i = 0; i < names.size(); ++i)
        if (s->get() == names[i]) return i;
    std::string msg = "unknown " + std::string(noun) + " " + quote_value(s->get()) + " in " + std::string(table);
    if (auto best = closest(s->get(), names))
        msg += "; did you mean \"" + std::string(*best) + "\"?";
    else
        msg += "; write " + join_quoted(names, " or ") + std::string(extra);
    c.error(c.at(v), std::move(msg));
    return std::nullopt;
}

// A bit set from a list of names (access, protocols); nullopt after errors.
std::optional<uint8_t> bit_list(Ctx& c, const toml::node& v, std::string_view key,
                                std::string_view noun, std::string_view table, Keys names,
                                std::string_view omit_hint)
{
    auto elems = list_elements(c, v, key, table, "an array of strings (or one string)");
    if (!elems) return std::nullopt;
    if (elems->empty()) {
        empty_list_error(c, v, key, table,
                         "an empty list matches nothing; " + std::string(omit_hint));
        return std::nullopt;
    }
    uint8_t bits = 0;
    bool ok = true;
    for (const toml::node* e : *elems) {
        if (auto i = enum_value(c, *e, noun, table, names, std::string("; ") + std::string(omit_hint)))
            bits |= static_cast<uint8_t>(1u << *i);
        else
            ok = false;
    }
    return ok ? std::optional<uint8_t>(bits) : std::nullopt;
}

}  // namespace parse_detail

namespace {

using namespace parse_detail;
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// [policy]

void parse_policy(Ctx& c, const toml::table& t)
{
    Policy& p = c.policy;
    c.saw_policy_table = true;
    p.pos = c.at(t);
    p.mode_pos = c.at(t);
    bool have_name = false;
    for (auto [k, v] : in_source_order(t)) {
        const std::string_view key = k->str();
        if (key == "name") {
            have_name = true;
            const auto* s = v->as_string();
            if (!s) {
                c.error(c.at(*v), "name in [policy] must be a string, not " + std::string(type_name(*v)));
                continue;
            }
            p.pos = c.at(*v);
            if (std::string msg = check_policy_name(s->get()); !msg.empty())
                c.error(c.at(*v), std::move(msg));
            else
                p.name = s->get();
        } else if (key == "mode") {
            if (auto i = enum_value(c, *v, "mode", "[policy]", kModes)) {
                p.mode = *i == 0 ? Mode::enforce : Mode::audit;
                p.mode_pos = c.at(*v);
            }
        } else if (key == "description") {
            if (const auto* s = v->as_string())
                p.description = s->get();
            else
                c.error(c.at(*v), "description in [policy] must be a string, not " +
                                      std::string(type_name(*v)));
        } else {
            unknown_key(c, *k, "[policy]", kPolicyKeys);
        }
    }
    if (!have_name)
        c.error(c.at(t), "[policy] has no name; add name = \"...\" (letters, digits, \"_\", \".\", \"-\"; unique among loaded policies)");
}

// ---------------------------------------------------------------------------
// [scope]

constexpr std::string_view kEmptyScope =
    "an empty list scopes nothing; remove the key to apply to every process";

void parse_scope(Ctx& c, const toml::table& t)
{
    Scope& s = c.policy.scope;
    s.present = true;
    s.pos = c.at(t);
    for (auto [k, v] : in_source_order(t)) {
        const std::string_view key = k->str();
        if (key == "cgroup") {
            auto list = string_list(c, *v, key, "[scope]");
            if (!list) continue;
            if (v->is_array() && v->as_array()->empty()) empty_list_error(c, *v, key, "[scope]", kEmptyScope);
            for (Located& l : *list) {
                if (std::string msg = check_cgroup(l.value); !msg.empty())
                    c.error(l.pos, std::move(msg));
                else
                    s.cgroups.push_back(std::move(l));
            }
            warn_duplicates(c, s.cgroups, "cgroup", "[scope]");
        } else if (key == "executable") {
            auto list = string_list(c, *v, key, "[scope]");
            if (!list) continue;
            if (v->is_array() && v->as_array()->empty()) empty_list_error(c, *v, key, "[scope]", kEmptyScope);
            for (Located& l : *list) {
                if (std::string msg = check_path(l.value, PathKind::executable); !msg.empty())
                    c.error(l.pos, std::move(msg));
                else
                    s.executables.push_back(std::move(l));
            }
            warn_duplicates(c, s.executables, "executable", "[scope]");
        } else if (key == "uid") {
            auto elems = list_elements(c, *v, key, "[scope]",
                                       "an array of uids and user names (or one of them)");
            if (!elems) continue;
            if (elems->empty()) empty_list_error(c, *v, key, "[scope]", kEmptyScope);
            for (const toml::node* e : *elems) {
                if (const auto* i = e->as_integer()) {
                    int64_t n = i->get();
                    if (n < 0 || n > 4294967294LL) {
                        c.error(c.at(*e), "uid " + std::to_string(n) +
                                              " is out of range; uids are 0..4294967294 "
                                              "(4294967295 is the invalid uid -1)");
                    } else {
                        s.uids.push_back(UidSpec{static_cast<uint32_t>(n), c.at(*e)});
                    }
                } else if (const auto* str = e->as_string()) {
                    const std::string& name = str->get();
                    if (name.empty()) {
                        c.error(c.at(*e), "empty user name in uid in [scope]; write a user name, "
                                          "such as \"www-data\", or a number, such as 33");
                    } else if (name.find('\0') != std::string::npos ||
                               name.find_first_of(" \t\n/:") != std::string::npos) {
                        c.error(c.at(*e), "user name " + quote_value(name) +
                                              " in uid in [scope] cannot be a user name (it has a "
                                              "space, \"/\", \":\" or control byte); write the name "
                                              "as in /etc/passwd or the number");
                    } else {
                        s.uids.push_back(UidSpec{name, c.at(*e)});
                    }
                } else {
                    c.error(c.at(*e), std::string(v->is_array() ? "each element of uid" : "uid") +
                                          " in [scope] must be an integer uid or a user name "
                                          "string, not " +
                                          type_name(*e));
                }
            }
        } else {
            unknown_key(c, *k, "[scope]", kScopeKeys);
        }
    }
}

// ---------------------------------------------------------------------------
// [defaults]

void parse_defaults(Ctx& c, const toml::table& t)
{
    for (auto [k, v] : in_source_order(t)) {
        const std::string_view key = k->str();
        Default* d = key == "file"      ? &c.policy.defaults.file
                     : key == "exec"    ? &c.policy.defaults.exec
                     : key == "connect" ? &c.policy.defaults.connect
                                        : nullptr;
        if (!d) {
            unknown_key(c, *k, "[defaults]", kDefaultsKeys);
            continue;
        }
        if (auto i = enum_value(c, *v, std::string(key) + " default", "[defaults]", kDefaultActions)) {
            d->action = kDefaultActionValues[*i];
            d->given = true;
            d->pos = c.at(*v);
        }
    }
}

// ---------------------------------------------------------------------------
// Rules

struct RulePaths {
    std::vector<Located> paths;
    std::vector<Located> prefixes;
    size_t written = 0;     // entries written, valid or not
    bool type_error = false;
};

// paths / prefixes of a [[file]] or [[exec]] rule.
void rule_paths(Ctx& c, const toml::node& v, std::string_view key, std::string_view table,
                RulePaths& out)
{
    const bool prefix = key == "prefixes";
    auto list = string_list(c, v, key, table);
    if (!list) {
        out.type_error = true;
        return;
    }
    if (v.is_array()) out.written += v.as_array()->size();
    else out.written += 1;
    std::vector<Located>& dest = prefix ? out.prefixes : out.paths;
    dest.reserve(dest.size() + list->size());
    for (Located& l : *list) {
        if (std::string msg = check_path(l.value, prefix ? PathKind::prefix : PathKind::exact);
            !msg.empty())
            c.error(l.pos, std::move(msg));
        else
            dest.push_back(std::move(l));
    }
    warn_duplicates(c, dest, prefix ? "prefix" : "path", "this " + std::string(table) + " rule");
}

std::optional<Action> rule_action(Ctx& c, const toml::node& v, std::string_view table)
{
    if (auto i = enum_value(c, v, "action", table, kActions)) return kActionValues[*i];
    return std::nullopt;
}

void missing_action(Ctx& c, const toml::table& t, std::string_view table)
{
    c.error(c.at(t), std::string(table) +
                         " rule has no action; add action = \"deny\", \"audit\" or \"allow\"");
}

void check_not_empty(Ctx& c, const toml::table& t, std::string_view table, const RulePaths& rp)
{
    if (rp.written == 0 && !rp.type_error) {
        c.error(c.at(t), "empty " + std::string(table) +
                             " rule: it has neither paths nor prefixes; add paths = [...] for "
                             "exact files or prefixes = [...] for directory trees (ending in \"/\")");
    }
}

void parse_file_rule(Ctx& c, const toml::table& t)
{
    constexpr std::string_view table = "[[file]]";
    FileRule r;
    r.pos = c.at(t);
    RulePaths rp;
    bool have_action = false;
    for (auto [k, v] : in_source_order(t)) {
        const std::string_view key = k->str();
        if (key == "paths" || key == "prefixes") {
            rule_paths(c, *v, key, table, rp);
        } else if (key == "access") {
            if (auto names = bit_list(c, *v, key, "access", table, kAccessRightNames, "omit access to match any access"))
                r.access = access_of_names(*names);
        } else if (key == "action") {
            have_action = true;
            if (auto a = rule_action(c, *v, table)) r.action = *a;
        } else {
            unknown_key(c, *k, table, kFileKeys);
        }
    }
    if (!have_action) missing_action(c, t, table);
    check_not_empty(c, t, table, rp);
    r.paths = std::move(rp.paths);
    r.prefixes = std::move(rp.prefixes);
    c.policy.files.push_back(std::move(r));
}

void parse_exec_rule(Ctx& c, const toml::table& t)
{
    constexpr std::string_view table = "[[exec]]";
    ExecRule r;
    r.pos = c.at(t);
    RulePaths rp;
    bool have_action = false;
    for (auto [k, v] : in_source_order(t)) {
        const std::string_view key = k->str();
        if (key == "paths" || key == "prefixes") {
            rule_paths(c, *v, key, table, rp);
        } else if (key == "fileless") {
            if (const auto* b = v->as_boolean()) {
                r.fileless = b->get();
                r.fileless_pos = c.at(*v);
                if (!r.fileless)
                    c.warning(c.at(*v), "fileless = false matches nothing; remove the key (programs with a "
                                        "name are matched by paths and prefixes)");
            } else {
                c.error(c.at(*v), "fileless in [[exec]] must be true or false, not " + std::string(type_name(*v)));
                rp.type_error = true;
            }
        } else if (key == "action") {
            have_action = true;
            if (auto a = rule_action(c, *v, table)) r.action = *a;
        } else {
            unknown_key(c, *k, table, kExecKeys);
        }
    }
    if (!have_action) missing_action(c, t, table);
    if (!r.fileless) check_not_empty(c, t, table, rp);
    r.paths = std::move(rp.paths);
    r.prefixes = std::move(rp.prefixes);
    c.policy.execs.push_back(std::move(r));
}

void parse_connect_rule(Ctx& c, const toml::table& t)
{
    constexpr std::string_view table = "[[connect]]";
    ConnectRule r;
    r.pos = c.at(t);
    bool have_action = false, have_cidrs = false;
    for (auto [k, v] : in_source_order(t)) {
        const std::string_view key = k->str();
        if (key == "cidrs") {
            have_cidrs = true;
            auto list = string_list(c, *v, key, table);
            if (!list) continue;
            if (v->is_array() && v->as_array()->empty()) {
                empty_list_error(c, *v, key, table,
                                 "a rule needs at least one address or network; write "
                                 "\"0.0.0.0/0\" and \"::/0\" for every address");
            }
            for (Located& l : *list) {
                CidrCheck chk = check_cidr(l.value);
                if (!chk.error.empty()) {
                    c.error(l.pos, std::move(chk.error));
                    continue;
                }
                if (!chk.warning.empty()) c.warning(l.pos, std::move(chk.warning));
                r.cidrs.push_back(std::move(l));
            }
            warn_duplicates(c, r.cidrs, "CIDR", "this [[connect]] rule");
        } else if (key == "ports") {
            auto elems = list_elements(c, *v, key, table,
                                       "an array of ports and \"first-last\" ranges (or one of them)");
            if (!elems) continue;
            if (elems->empty())
                empty_list_error(c, *v, key, table,
                                 "an empty list matches no port; remove the key to match every port");
            for (const toml::node* e : *elems) {
                PortRange pr;
                pr.pos = c.at(*e);
                if (const auto* i = e->as_integer()) {
                    int64_t n = i->get();
                    if (n < 0 || n > 65535) {
                        c.error(c.at(*e), "port " + std::to_string(n) +
                                              " is out of range; ports are 0..65535");
                        continue;
                    }
                    pr.first = pr.last = static_cast<uint16_t>(n);
                } else if (const auto* s = e->as_string()) {
                    if (std::string msg = parse_port_range(s->get(), pr.first, pr.last); !msg.empty()) {
                        c.error(c.at(*e), std::move(msg));
                        continue;
                    }
                } else {
                    c.error(c.at(*e), std::string(v->is_array() ? "each element of ports" : "ports") +
                                          " in [[connect]] must be an integer port or a "
                                          "\"first-last\" range string, not " +
                                          type_name(*e));
                    continue;
                }
                r.ports.push_back(std::move(pr));
            }
        } else if (key == "protocols") {
            if (auto bits = bit_list(c, *v, key, "protocol", table, kProtocols,
                                     "omit protocols to match both tcp and udp"))
                r.protocols = *bits;
        } else if (key == "action") {
            have_action = true;
            if (auto a = rule_action(c, *v, table)) r.action = *a;
        } else {
            unknown_key(c, *k, table, kConnectKeys);
        }
    }
    if (!have_cidrs) {
        c.error(c.at(t), "[[connect]] rule has no cidrs; add cidrs = [...] naming the addresses it "
                         "covers (\"0.0.0.0/0\" and \"::/0\" for every address)");
    }
    if (!have_action) missing_action(c, t, table);
    c.policy.connects.push_back(std::move(r));
}

// ---------------------------------------------------------------------------
// Top level

enum class Shape : uint8_t { table, array_of_tables };

struct Section {
    std::string_view name;
    Shape shape;
    void (*parse)(Ctx&, const toml::table&);  // the table, or each element
};

// Top-level key → handler. [monitor] dispatches on its own sub-keys
// (monitor/monitor_parser.cpp); [[test]] is policy/parse_tests.cpp.
constexpr Section kSections[] = {
    {"policy", Shape::table, parse_policy},
    {"scope", Shape::table, parse_scope},
    {"defaults", Shape::table, parse_defaults},
    {"file", Shape::array_of_tables, parse_file_rule},
    {"exec", Shape::array_of_tables, parse_exec_rule},
    {"connect", Shape::array_of_tables, parse_connect_rule},
    {"monitor", Shape::table, parse_monitors},
    {"test", Shape::array_of_tables, parse_test},
};

std::string header(const Section& s)
{
    if (s.name == "monitor") return "[[monitor.*]]";  // [monitor] itself holds only sub-tables
    return s.shape == Shape::table ? "[" + std::string(s.name) + "]"
                                   : "[[" + std::string(s.name) + "]]";
}

void unknown_top_level(Ctx& c, const toml::key& k, const toml::node& v)
{
    const std::string_view name = k.str();
    if (!v.is_table() && !v.is_array_of_tables()) {
        // A key written above the first header, or a misspelt table.
        for (const auto& kk : kAllKeys) {
            if (kk.key == name) {
                c.error(c.at(k), "key " + quote_value(name) + " is outside any table; it belongs in " +
                                     std::string(kk.table) + ", so move it below that header");
                return;
            }
        }
    }
    std::vector<std::string_view> names;
    for (const Section& s : kSections) names.push_back(s.name);
    std::string msg = "unknown top-level " + std::string(v.is_table() || v.is_array_of_tables() ? "table " : "key ") +
                      quote_value(name);
    if (auto best = closest(name, names)) {
        const Section& s = *std::find_if(std::begin(kSections), std::end(kSections),
                                         [&](const Section& x) { return x.name == *best; });
        msg += "; did you mean " + header(s) + "?";
    } else {
        std::string all;
        for (const Section& s : kSections) all += (all.empty() ? "" : ", ") + header(s);
        msg += "; a policy file has only " + all;
    }
    c.error(c.at(k), std::move(msg));
}

void parse_section(Ctx& c, const Section& s, const toml::key& k, const toml::node& v)
{
    const std::string name(s.name);
    if (s.shape == Shape::table) {
        if (const toml::table* t = v.as_table()) {
            s.parse(c, *t);
        } else if (v.is_array_of_tables() && s.name == "monitor") {
            c.error(c.at(*v.as_array()->get(0)), "[[monitor]] is not a table of its own; write "
                                                 "[[monitor.file]], [[monitor.syscalls]], "
                                                 "[monitor.process] or [[monitor.connect]]");
        } else if (v.is_array_of_tables()) {
            c.error(c.at(*v.as_array()->get(0)), "[[" + name + "]] must be a single [" + name +
                                                     "] table; write [" + name + "] once");
        } else {
            c.error(c.at(v), name + " must be a table, not " + type_name(v) + "; write a [" + name +
                                 "] header with its keys below it");
        }
        return;
    }
    if (const toml::array* a = v.as_array()) {
        for (const toml::node& e : *a) {
            if (const toml::table* t = e.as_table())
                s.parse(c, *t);
            else
                c.error(c.at(e), "each element of " + name + " must be a table, not " +
                                     type_name(e) + "; write each rule as its own [[" + name +
                                     "]] table");
        }
    } else if (v.is_table()) {
        c.error(c.at(v), "[" + name + "] must be written [[" + name +
                             "]]: each rule is its own [[" + name + "]] table");
    } else {
        c.error(c.at(k), name + " must be an array of tables, not " + type_name(v) +
                             "; write each rule as its own [[" + name + "]] table");
    }
}

// Diagnostics in file order; a note stays right after what it explains.
void append_in_order(Diagnostics& out, const Diagnostics& in)
{
    std::vector<std::vector<const Diagnostic*>> groups;
    for (const Diagnostic& d : in.all()) {
        if (d.severity == Severity::note && !groups.empty())
            groups.back().push_back(&d);
        else
            groups.push_back({&d});
    }
    std::stable_sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
        return std::pair(a[0]->pos.line, a[0]->pos.column) < std::pair(b[0]->pos.line, b[0]->pos.column);
    });
    for (const auto& g : groups) {
        for (const Diagnostic* d : g) {
            switch (d->severity) {
            case Severity::error: out.error(d->pos, d->message); break;
            case Severity::warning: out.warning(d->pos, d->message); break;
            case Severity::note: out.note(d->pos, d->message); break;
            }
        }
    }
}

// One file. The policy is returned even with errors (for checks that span
// files); its name is set only when valid. Returns nullopt when the text is
// not TOML. A file of nothing but [[test]] tables is a test file, not a
// policy: it needs no [policy], and `test_file` says so.
std::optional<Policy> parse_one(std::string_view text, std::string_view path, Diagnostics& diag,
                                bool* test_file = nullptr)
{
    Diagnostics local;
    Policy p;
    p.file = std::string(path);
    toml::table root;
    try {
        root = toml::parse(text, std::string(path));
    } catch (const toml::parse_error& e) {
        const auto& b = e.source().begin;
        local.error(SourcePos{std::string(path), b.line, b.column},
                    "invalid TOML: " + std::string(e.description()));
        append_in_order(diag, local);
        return std::nullopt;
    }
    Ctx c{std::string(path), local, p};
    for (auto [k, v] : in_source_order(root)) {
        // A named copy: lambdas may capture structured bindings only from
        // C++20 compilers newer than Debian 12's clang.
        const std::string_view name = k->str();
        const auto* s = std::find_if(std::begin(kSections), std::end(kSections),
                                     [&](const Section& x) { return x.name == name; });
        if (s == std::end(kSections))
            unknown_top_level(c, *k, *v);
        else
            parse_section(c, *s, *k, *v);
    }
    const bool only_tests = !root.empty() && std::all_of(root.begin(), root.end(), [](const auto& kv) {
        return kv.first.str() == "test";
    });
    if (test_file) *test_file = only_tests;
    if (!c.saw_policy_table && !only_tests) {
        local.error(SourcePos{std::string(path), 1, 1},
                    "no [policy] table; every policy file needs [policy] with name = \"...\"");
    }
    append_in_order(diag, local);
    return p;
}

// The whole file, or the OS error's text.
std::optional<std::string> read_file(const std::string& path, std::string& err)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err = std::strerror(errno);
        return std::nullopt;
    }
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            err = std::strerror(errno);
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

}  // namespace

ParseResult parse_policy_text(std::string_view text, std::string_view path)
{
    ParseResult r;
    bool test_file = false;
    if (auto p = parse_one(text, path, r.diagnostics, &test_file)) {
        r.tests = p->tests;
        if (!test_file) r.policies.push_back(std::move(*p));
    }
    if (r.diagnostics.has_errors()) {
        r.policies.clear();
        r.tests.clear();
    }
    return r;
}

ParseResult load_policies(const std::vector<std::string>& paths)
{
    ParseResult r;
    Diagnostics& diag = r.diagnostics;

    // Each argument in order: a file, or a directory's *.toml files sorted by
    // name. A file reached twice is read once.
    std::map<fs::path, std::string> seen;    // canonical → as first named
    std::map<std::string, SourcePos> names;  // policy name → where first defined

    auto load_file = [&](const std::string& f) {
        std::error_code ec;
        fs::path canon = fs::canonical(f, ec);
        if (!ec) {
            auto [it, fresh] = seen.emplace(canon, f);
            if (!fresh) {
                diag.warning(SourcePos{f, 0, 0}, "policy file is named twice (also as " +
                                                     quote_value(it->second) + "); reading it once");
                return;
            }
        }
        std::string err;
        std::optional<std::string> text = read_file(f, err);
        if (!text) {
            diag.error(SourcePos{f, 0, 0}, "cannot read policy file: " + err);
            return;
        }
        bool test_file = false;
        std::optional<Policy> p = parse_one(*text, f, diag, &test_file);
        if (!p) return;
        r.tests.insert(r.tests.end(), p->tests.begin(), p->tests.end());
        if (test_file) return;
        if (!p->name.empty()) {
            auto [it, fresh] = names.emplace(p->name, p->pos);
            if (!fresh) {
                diag.error(p->pos, "duplicate policy name " + quote_value(p->name) +
                                       "; policy names must be unique among loaded policies — "
                                       "rename one of them");
                diag.note(it->second, "policy " + quote_value(p->name) + " first defined here");
            }
        }
        r.policies.push_back(std::move(*p));
    };

    for (const std::string& path : paths) {
        std::error_code ec;
        fs::file_status st = fs::status(path, ec);
        if (ec || !fs::exists(st)) {
            std::string why = ec ? ec.message() : std::strerror(ENOENT);
            diag.error(SourcePos{path, 0, 0}, "cannot read policy path: " + why +
                                                  "; name a policy file or a directory of *.toml files");
            continue;
        }
        if (!fs::is_directory(st)) {
            load_file(path);
            continue;
        }
        std::vector<std::string> found;
        fs::directory_iterator it(path, ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            const fs::path& p = it->path();
            if (p.extension() != ".toml") continue;
            std::error_code ec2;
            if (!fs::is_regular_file(it->status(ec2)) || ec2) continue;
            found.push_back(p.string());
        }
        if (ec) {
            diag.error(SourcePos{path, 0, 0}, "cannot read policy directory: " + ec.message());
            continue;
        }
        std::sort(found.begin(), found.end());
        if (found.empty()) {
            diag.warning(SourcePos{path, 0, 0},
                         "no *.toml files in this directory; no policies loaded from it");
        }
        for (const std::string& f : found) load_file(f);
    }
    if (diag.has_errors()) {
        r.policies.clear();
        r.tests.clear();
    }
    return r;
}

}  // namespace bulwark
