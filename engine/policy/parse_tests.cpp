// [[test]] tables: offline test cases (policy/test_model.hpp). Checked like
// every other table — each problem at the offending value, with what to
// write instead. Whether a user or cgroup exists is not checked here:
// `bulwark test` resolves them when it runs the case.
#include "policy/parse_detail.hpp"
#include "policy/value_checks.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

namespace bulwark {

const std::string_view kTestOpNames[9] = {"open",   "exec", "connect",  "create",  "delete",
                                          "rename", "link", "truncate", "metadata"};

const char* to_string(TestOp op)
{
    const auto i = static_cast<size_t>(op);
    return i < std::size(kTestOpNames) ? kTestOpNames[i].data() : "open";
}

std::optional<TestOp> test_op(std::string_view name)
{
    for (size_t i = 0; i < std::size(kTestOpNames); ++i)
        if (kTestOpNames[i] == name) return static_cast<TestOp>(i);
    return std::nullopt;
}

const char* to_string(Verdict v)
{
    switch (v) {
    case Verdict::allow: return "allow";
    case Verdict::audit: return "audit";
    case Verdict::would_deny: return "would-deny";
    case Verdict::deny: return "deny";
    }
    return "allow";
}

namespace parse_detail {
namespace {

constexpr std::string_view kTable = "[[test]]";
constexpr std::string_view kTestKeys[] = {"name",   "op",         "path",   "target",     "access",
                                          "addr",   "protocol",   "uid",    "cgroup",     "executable",
                                          "expect", "port",       "parent_uid", "parent_cgroup", "parent_executable"};
constexpr std::string_view kVerdicts[] = {"allow", "audit", "would-deny", "deny"};
constexpr std::string_view kAccessNames[] = {"read", "write"};
constexpr std::string_view kProtocolNames[] = {"tcp", "udp"};

// Which operations use a key; the others reject it.
bool used_by(std::string_view key, TestOp op)
{
    if (key == "path") return op != TestOp::connect;
    if (key == "target") return has_target(op);
    if (key == "access") return op == TestOp::open;
    if (key == "addr" || key == "port" || key == "protocol") return op == TestOp::connect;
    return true;
}

std::optional<std::string> string_value(Ctx& c, const toml::node& v, std::string_view key)
{
    if (const auto* s = v.as_string()) return s->get();
    c.error(c.at(v), std::string(key) + " in [[test]] must be a string" +
                         (key.starts_with("parent_") ? " or a list of strings" : "") + ", not " + type_name(v));
    return std::nullopt;
}

// One uid: `key` is "uid", or "parent_uid" for an element of its list.
std::optional<UidSpec> uid_value(Ctx& c, const toml::node& v, std::string_view key)
{
    if (const auto* i = v.as_integer()) {
        const int64_t n = i->get();
        if (n < 0 || n > 4294967294LL) {
            c.error(c.at(v), "uid " + std::to_string(n) + " is out of range; uids are 0..4294967294");
            return std::nullopt;
        }
        return UidSpec{static_cast<uint32_t>(n), c.at(v)};
    }
    if (const auto* s = v.as_string()) {
        const std::string& name = s->get();
        if (name.empty() || name.find('\0') != std::string::npos || name.find_first_of(" \t\n/:") != std::string::npos) {
            c.error(c.at(v), "user name " + quote_value(name) +
                                 " in [[test]] cannot be a user name; write the name as in /etc/passwd or the number");
            return std::nullopt;
        }
        return UidSpec{name, c.at(v)};
    }
    c.error(c.at(v), std::string(key) + " in [[test]] must be one integer uid or one user name, not " +
                         std::string(type_name(v)) +
                         (key == "uid" ? "; a case describes one process (parent_uid names what it was before)"
                                       : ""));
    return std::nullopt;
}

// A cgroup as [scope] cgroup writes it.
std::optional<Located> cgroup_value(Ctx& c, const toml::node& v, std::string_view key)
{
    auto s = string_value(c, v, key);
    if (!s) return std::nullopt;
    if (std::string msg = check_cgroup(*s); !msg.empty()) {
        c.error(c.at(v), msg);
        return std::nullopt;
    }
    return Located{*s, c.at(v)};
}

// A program as [scope] executable writes it.
std::optional<Located> executable_value(Ctx& c, const toml::node& v, std::string_view key)
{
    auto s = string_value(c, v, key);
    if (!s) return std::nullopt;
    if (std::string msg = check_path(*s, PathKind::executable); !msg.empty()) {
        c.error(c.at(v), msg);
        return std::nullopt;
    }
    return Located{*s, c.at(v)};
}

// parent_*: one value, or a list of them, each parsed by `one` as the key
// without "parent_" is; false after an error (every element is checked).
template <typename T, typename One>
bool history_values(Ctx& c, const toml::node& v, std::string_view key, std::vector<T>& out, One one)
{
    const auto* list = v.as_array();
    if (!list) {
        auto x = one(c, v, key);
        if (x) out.push_back(std::move(*x));
        return x.has_value();
    }
    if (list->empty()) {
        c.error(c.at(v), "empty " + std::string(key) + " in [[test]]; name what the process or an ancestor was "
                         "before, or remove the key");
        return false;
    }
    bool ok = true;
    for (const toml::node& e : *list) {
        if (e.is_array()) {
            c.error(c.at(e), std::string(key) + " in [[test]] is one value or a list of values, not a list of lists");
            ok = false;
        } else if (auto x = one(c, e, key)) {
            out.push_back(std::move(*x));
        } else {
            ok = false;
        }
    }
    return ok;
}

bool is_address(const std::string& a)
{
    std::array<unsigned char, 16> buf{};
    const int family = a.find(':') == std::string::npos ? AF_INET : AF_INET6;
    return inet_pton(family, a.c_str(), buf.data()) == 1;
}

}  // namespace

void parse_test(Ctx& c, const toml::table& t)
{
    TestCase tc;
    tc.pos = c.at(t);
    const auto entries = in_source_order(t);
    bool ok = true;

    // op first: it decides which other keys belong.
    std::optional<TestOp> op;
    for (auto [k, v] : entries) {
        if (k->str() != "op") continue;
        if (auto i = enum_value(c, *v, "op", kTable, kTestOpNames)) op = static_cast<TestOp>(*i);
        else ok = false;
    }
    if (op) tc.op = *op;

    bool have_name = false, have_expect = false, have_path = false, have_target = false, have_addr = false, have_port = false;
    for (auto [k, v] : entries) {
        const std::string_view key = k->str();
        if (std::find(std::begin(kTestKeys), std::end(kTestKeys), key) == std::end(kTestKeys)) {
            unknown_key(c, *k, kTable, kTestKeys);
            ok = false;
            continue;
        }
        if (op && !used_by(key, *op)) {
            c.error(c.at(*k), std::string(key) + " is not used by op = \"" + to_string(*op) + "\"; remove it" +
                                  (*op == TestOp::connect ? " (a connect case has addr, port and protocol)"
                                                          : std::string(*op <= TestOp::exec ? " (an " : " (a ") +
                                                                to_string(*op) +
                                                                " case has path" +
                                                                (*op == TestOp::open  ? " and access)"
                                                                 : has_target(*op)   ? " and target)"
                                                                                     : ")")));
            ok = false;
            continue;
        }
        if (key == "op") continue;
        if (key == "name") {
            have_name = true;
            if (auto s = string_value(c, *v, key)) {
                if (s->empty()) {
                    c.error(c.at(*v), "empty name in [[test]]; say what the case shows, such as "
                                      "\"nginx cannot read the shadow file\"");
                    ok = false;
                }
                tc.name = *s;
            } else {
                ok = false;
            }
        } else if (key == "path" || key == "target") {
            // Two plain branches, not a conditional lvalue: GCC 12 with the
            // sanitizers crashes (ICE) on `(cond ? a : b) = {...}` here.
            const bool is_path = key == "path";
            bool& have = is_path ? have_path : have_target;
            have = true;
            auto s = string_value(c, *v, key);
            if (!s) {
                ok = false;
            } else if (std::string msg = check_path(*s, PathKind::exact); !msg.empty()) {
                c.error(c.at(*v), msg);
                ok = false;
            } else if (is_path) {
                tc.path = Located{*s, c.at(*v)};
            } else {
                tc.target = Located{*s, c.at(*v)};
            }
        } else if (key == "access") {
            if (auto bits = bit_list(c, *v, key, "access", kTable, kAccessNames,
                                     "omit access to open for reading"))
                tc.access = *bits;
            else
                ok = false;
        } else if (key == "addr") {
            have_addr = true;
            auto s = string_value(c, *v, key);
            if (s && is_address(*s)) {
                tc.addr = {*s, c.at(*v)};
            } else {
                if (s)
                    c.error(c.at(*v), "addr " + quote_value(*s) +
                                          " is not an IP address; write one address such as \"192.0.2.1\" or "
                                          "\"2001:db8::1\" (no /prefix: a case connects to one address)");
                ok = false;
            }
        } else if (key == "port") {
            have_port = true;
            const auto* i = v->as_integer();
            if (!i || i->get() < 0 || i->get() > 65535) {
                c.error(c.at(*v), i ? "port " + std::to_string(i->get()) + " is out of range; ports are 0..65535"
                                    : "port in [[test]] must be an integer, not " + std::string(type_name(*v)));
                ok = false;
            } else {
                tc.port = static_cast<uint16_t>(i->get());
            }
        } else if (key == "protocol") {
            if (auto i = enum_value(c, *v, "protocol", kTable, kProtocolNames))
                tc.protocol = static_cast<uint8_t>(1u << *i);
            else
                ok = false;
        } else if (key == "uid") {
            if (auto u = uid_value(c, *v, key)) tc.uid = std::move(*u);
            else ok = false;
        } else if (key == "cgroup") {
            if (auto l = cgroup_value(c, *v, key)) tc.cgroup = std::move(*l);
            else ok = false;
        } else if (key == "executable") {
            if (auto l = executable_value(c, *v, key)) tc.executable = std::move(*l);
            else ok = false;
        } else if (key == "parent_uid") {
            ok = history_values(c, *v, key, tc.parent_uids, uid_value) && ok;
        } else if (key == "parent_cgroup") {
            ok = history_values(c, *v, key, tc.parent_cgroups, cgroup_value) && ok;
        } else if (key == "parent_executable") {
            ok = history_values(c, *v, key, tc.parent_executables, executable_value) && ok;
        } else if (key == "expect") {
            have_expect = true;
            if (auto i = enum_value(c, *v, "expect", kTable, kVerdicts)) {
                tc.expect = static_cast<Verdict>(*i);
                tc.expect_pos = c.at(*v);
            } else {
                ok = false;
            }
        }
    }

    auto missing = [&](std::string_view what) {
        c.error(c.at(t), "[[test]] has no " + std::string(what));
        ok = false;
    };
    if (!have_name) missing("name; add name = \"...\" saying what the case shows");
    if (!op && std::none_of(entries.begin(), entries.end(), [](const auto& e) { return e.first->str() == "op"; }))
        missing("op; add op = \"open\", \"exec\", \"connect\", \"create\", \"delete\", \"rename\", \"link\", "
                "\"truncate\" or \"metadata\"");
    if (op && *op != TestOp::connect && !have_path) missing("path; add path = \"/...\" naming the file or program");
    if (op && has_target(*op) && !have_target) missing("target; add target = \"/...\" naming where the name goes");
    if (op && *op == TestOp::connect && !have_addr) missing("addr; add addr = \"...\" naming the destination");
    if (op && *op == TestOp::connect && !have_port) missing("port; add port = N");
    if (!have_expect) missing("expect; add expect = \"allow\", \"audit\", \"would-deny\" or \"deny\"");

    if (ok) {
        for (const TestCase& other : c.policy.tests) {
            if (other.name == tc.name) {
                c.warning(c.at(t), "another [[test]] in this file is named " + quote_value(tc.name) + " (line " +
                                       std::to_string(other.pos.line) + "); give each case its own name");
                break;
            }
        }
        c.policy.tests.push_back(std::move(tc));
    }
}

}  // namespace parse_detail
}  // namespace bulwark
