// The [monitor] table: one sub-table (or array of tables) per monitor kind,
// checked like every other table — each problem at the offending value,
// with what to write instead. Only shapes and values are checked here;
// user names and path existence are the compiler's business.
#include "bulwark/abi.h"
#include "monitor/syscall_table.hpp"
#include "policy/parse_detail.hpp"
#include "policy/value_checks.hpp"

#include <map>
#include <set>

namespace bulwark::parse_detail {
namespace {

constexpr std::string_view kMonitorKinds[] = {"file", "syscalls", "process", "connect"};
constexpr std::string_view kFileMonitorKeys[] = {"paths", "prefixes", "rate_limit"};
constexpr std::string_view kSyscallMonitorKeys[] = {"uid", "allow", "action", "rate_limit"};
constexpr std::string_view kProcessMonitorKeys[] = {"allowed", "rate_limit"};
constexpr std::string_view kConnectMonitorKeys[] = {"cidrs", "ports", "protocols", "rate_limit"};
constexpr std::string_view kSyscallActions[] = {"audit", "kill"};
constexpr std::string_view kProtocolNames[] = {"tcp", "udp"};

constexpr std::string_view kAllMonitors =
    "monitors are [[monitor.file]], [[monitor.syscalls]], [monitor.process] and [[monitor.connect]]";

// rate_limit = N: events per second (and bursts of N) per rule.
void rate_limit(Ctx& c, const toml::node& v, std::string_view table, uint32_t& out)
{
    const auto* i = v.as_integer();
    if (!i) {
        c.error(c.at(v), "rate_limit in " + std::string(table) +
                             " must be an integer (events per second), not " + type_name(v));
        return;
    }
    const int64_t n = i->get();
    if (n < 1 || n > kMaxMonitorRate) {
        c.error(c.at(v), "rate_limit " + std::to_string(n) + " in " + std::string(table) +
                             " is out of range; write 1.." + std::to_string(kMaxMonitorRate) +
                             " events per second (each rule also bursts up to that many)");
        return;
    }
    out = static_cast<uint32_t>(n);
}

// A monitor path must fit an LPM key: the kernel compares at most
// BW_MON_PATH_KEY bytes, and an exact path needs one of them for its NUL.
std::string check_monitor_path(std::string_view path, PathKind kind)
{
    if (std::string msg = check_path(path, kind); !msg.empty()) return msg;
    const size_t max = kind == PathKind::prefix ? BW_MON_PATH_KEY : BW_MON_PATH_KEY - 1;
    if (path.size() > max) {
        return (kind == PathKind::prefix ? "prefix " : "path ") + quote_value(path, 40) + " is " +
               std::to_string(path.size()) + " bytes long; monitors match at most " + std::to_string(max) +
               " bytes — name a shorter " + (kind == PathKind::prefix ? "prefix" : "path") +
               " (a prefix covers everything below it)";
    }
    return {};
}

// A list of absolute paths into `out`, `kind` deciding the shape.
void path_list(Ctx& c, const toml::node& v, std::string_view key, std::string_view table,
               std::vector<Located>& out, std::optional<PathKind> kind, size_t& written)
{
    auto list = string_list(c, v, key, table);
    if (!list) return;
    written += v.is_array() ? v.as_array()->size() : 1;
    for (Located& l : *list) {
        // allowed = [...] mixes both: a trailing '/' makes a prefix.
        const PathKind k = kind ? *kind
                                : (!l.value.empty() && l.value.back() == '/' ? PathKind::prefix : PathKind::exact);
        if (std::string msg = check_monitor_path(l.value, k); !msg.empty())
            c.error(l.pos, std::move(msg));
        else
            out.push_back(std::move(l));
    }
}

std::optional<UidSpec> one_uid(Ctx& c, const toml::node& e, bool in_array, std::string_view table)
{
    if (const auto* i = e.as_integer()) {
        const int64_t n = i->get();
        if (n < 0 || n > 4294967294LL) {
            c.error(c.at(e), "uid " + std::to_string(n) +
                                 " is out of range; uids are 0..4294967294 (4294967295 is the invalid uid -1)");
            return std::nullopt;
        }
        return UidSpec{static_cast<uint32_t>(n), c.at(e)};
    }
    if (const auto* s = e.as_string()) {
        const std::string& name = s->get();
        if (name.empty() || name.find('\0') != std::string::npos || name.find_first_of(" \t\n/:") != std::string::npos) {
            c.error(c.at(e), "user name " + quote_value(name) + " in uid in " + std::string(table) +
                                 " cannot be a user name; write the name as in /etc/passwd, such as "
                                 "\"www-data\", or the number, such as 33");
            return std::nullopt;
        }
        return UidSpec{name, c.at(e)};
    }
    c.error(c.at(e), std::string(in_array ? "each element of uid" : "uid") + " in " + std::string(table) +
                         " must be an integer uid or a user name string, not " + type_name(e));
    return std::nullopt;
}

std::vector<std::string_view> syscall_names()
{
    std::vector<std::string_view> out;
    for (const SyscallEntry& e : x86_64_syscalls()) out.push_back(e.name);
    return out;
}

void ports(Ctx& c, const toml::node& v, std::string_view table, std::vector<PortRange>& out)
{
    auto elems = list_elements(c, v, "ports", table, "an array of ports and \"first-last\" ranges (or one of them)");
    if (!elems) return;
    if (elems->empty())
        empty_list_error(c, v, "ports", table, "an empty list matches no port; remove the key to match every port");
    for (const toml::node* e : *elems) {
        PortRange pr;
        pr.pos = c.at(*e);
        if (const auto* i = e->as_integer()) {
            const int64_t n = i->get();
            if (n < 0 || n > 65535) {
                c.error(c.at(*e), "port " + std::to_string(n) + " is out of range; ports are 0..65535");
                continue;
            }
            pr.first = pr.last = static_cast<uint16_t>(n);
        } else if (const auto* s = e->as_string()) {
            if (std::string msg = parse_port_range(s->get(), pr.first, pr.last); !msg.empty()) {
                c.error(c.at(*e), std::move(msg));
                continue;
            }
        } else {
            c.error(c.at(*e), std::string(v.is_array() ? "each element of ports" : "ports") + " in " +
                                  std::string(table) +
                                  " must be an integer port or a \"first-last\" range string, not " + type_name(*e));
            continue;
        }
        out.push_back(pr);
    }
}

// ---------------------------------------------------------------------------

void parse_file_monitor(Ctx& c, const toml::table& t)
{
    constexpr std::string_view table = "[[monitor.file]]";
    FileMonitor m;
    m.pos = c.at(t);
    size_t written = 0;
    for (auto [k, v] : in_source_order(t)) {
        const std::string_view key = k->str();
        if (key == "paths") {
            path_list(c, *v, key, table, m.paths, PathKind::exact, written);
            warn_duplicates(c, m.paths, "path", "this [[monitor.file]] table");
        } else if (key == "prefixes") {
            path_list(c, *v, key, table, m.prefixes, PathKind::prefix, written);
            warn_duplicates(c, m.prefixes, "prefix", "this [[monitor.file]] table");
        } else if (key == "rate_limit") {
            rate_limit(c, *v, table, m.rate_limit);
        } else {
            unknown_key(c, *k, table, kFileMonitorKeys);
        }
    }
    if (written == 0) {
        c.error(c.at(t), "[[monitor.file]] watches nothing: add paths = [...] for exact files or prefixes = [...] "
                         "for directory trees (ending in \"/\")");
    }
    c.policy.monitors.files.push_back(std::move(m));
}

void parse_syscall_monitor(Ctx& c, const toml::table& t)
{
    constexpr std::string_view table = "[[monitor.syscalls]]";
    SyscallMonitor m;
    m.pos = c.at(t);
    m.action_pos = m.pos;
    bool have_uid = false, have_allow = false;
    for (auto [k, v] : in_source_order(t)) {
        const std::string_view key = k->str();
        if (key == "uid") {
            have_uid = true;
            auto elems = list_elements(c, *v, key, table, "a uid, a user name, or an array of them");
            if (!elems) continue;
            if (elems->empty())
                empty_list_error(c, *v, key, table, "name the user(s) whose syscalls are watched");
            for (const toml::node* e : *elems)
                if (auto u = one_uid(c, *e, v->is_array(), table)) m.uids.push_back(std::move(*u));
        } else if (key == "allow") {
            have_allow = true;
            auto list = string_list(c, *v, key, table);
            if (!list) continue;
            static const std::vector<std::string_view> names = syscall_names();
            std::map<uint32_t, const SyscallName*> seen;
            for (Located& l : *list) {
                auto nr = syscall_number(l.value);
                if (!nr) {
                    std::string msg = "unknown syscall " + quote_value(l.value) + " in allow of " + std::string(table);
                    if (auto best = closest(l.value, names))
                        msg += "; did you mean \"" + std::string(*best) + "\"?";
                    else
                        msg += "; write x86_64 syscall names as in syscall_64.tbl, such as \"openat\" or \"read\"";
                    c.error(l.pos, std::move(msg));
                    continue;
                }
                m.allow.push_back(SyscallName{l.value, *nr, l.pos});
            }
            for (const SyscallName& s : m.allow) {
                auto [it, fresh] = seen.emplace(s.nr, &s);
                if (!fresh) {
                    c.warning(s.pos, "duplicate syscall " + quote_value(s.name) + " in allow (first at line " +
                                         std::to_string(it->second->pos.line) + "); remove this one");
                }
            }
        } else if (key == "action") {
            if (auto i = enum_value(c, *v, "action", table, kSyscallActions,
                                    " (kill sends SIGKILL after the syscall began; it denies nothing)")) {
                m.action = *i == 0 ? SyscallAction::audit : SyscallAction::kill;
                m.action_pos = c.at(*v);
            }
        } else if (key == "rate_limit") {
            rate_limit(c, *v, table, m.rate_limit);
        } else {
            unknown_key(c, *k, table, kSyscallMonitorKeys);
        }
    }
    if (!have_uid) {
        c.error(c.at(t), "[[monitor.syscalls]] has no uid; add uid = 1000 (or a user name, or a list) naming "
                         "whose syscalls the allowlist applies to");
    }
    if (!have_allow) {
        c.error(c.at(t), "[[monitor.syscalls]] has no allow list; add allow = [\"read\", \"write\", ...] naming "
                         "the syscalls those users may make — every other one is reported");
    }
    // One allowlist per user per policy: two would make "disallowed" ambiguous.
    for (const SyscallMonitor& other : c.policy.monitors.syscalls) {
        for (const UidSpec& a : m.uids) {
            for (const UidSpec& b : other.uids) {
                if (a.value != b.value) continue;
                c.error(a.pos, "this uid already has a [[monitor.syscalls]] allowlist in this policy (line " +
                                   std::to_string(b.pos.line) + "); merge the two allow lists");
            }
        }
    }
    c.policy.monitors.syscalls.push_back(std::move(m));
}

void parse_process_monitor(Ctx& c, const toml::table& t)
{
    constexpr std::string_view table = "[monitor.process]";
    ProcessMonitor m;
    m.pos = c.at(t);
    size_t written = 0;
    bool have_allowed = false;
    for (auto [k, v] : in_source_order(t)) {
        const std::string_view key = k->str();
        if (key == "allowed") {
            have_allowed = true;
            path_list(c, *v, key, table, m.allowed, std::nullopt, written);
            warn_duplicates(c, m.allowed, "program", "allowed");
        } else if (key == "rate_limit") {
            rate_limit(c, *v, table, m.rate_limit);
        } else {
            unknown_key(c, *k, table, kProcessMonitorKeys);
        }
    }
    if (!have_allowed) {
        c.error(c.at(t), "[monitor.process] has no allowed list; add allowed = [\"/usr/bin/\", \"/usr/sbin/nginx\"] "
                         "(programs, or trees ending in \"/\") — every other exec is reported");
    } else if (written == 0) {
        c.warning(c.at(t), "[monitor.process] allows nothing, so every exec in scope is reported");
    }
    c.policy.monitors.process = std::move(m);
}

void parse_connect_monitor(Ctx& c, const toml::table& t)
{
    constexpr std::string_view table = "[[monitor.connect]]";
    ConnectMonitor m;
    m.pos = c.at(t);
    bool have_cidrs = false;
    for (auto [k, v] : in_source_order(t)) {
        const std::string_view key = k->str();
        if (key == "cidrs") {
            have_cidrs = true;
            auto list = string_list(c, *v, key, table);
            if (!list) continue;
            if (v->is_array() && v->as_array()->empty()) {
                empty_list_error(c, *v, key, table,
                                 "a monitor needs at least one address or network; write \"0.0.0.0/0\" and "
                                 "\"::/0\" for every address");
            }
            for (Located& l : *list) {
                CidrCheck chk = check_cidr(l.value);
                if (!chk.error.empty()) {
                    c.error(l.pos, std::move(chk.error));
                    continue;
                }
                if (!chk.warning.empty()) c.warning(l.pos, std::move(chk.warning));
                m.cidrs.push_back(std::move(l));
            }
            warn_duplicates(c, m.cidrs, "CIDR", "this [[monitor.connect]] table");
        } else if (key == "ports") {
            ports(c, *v, table, m.ports);
        } else if (key == "protocols") {
            if (auto bits = bit_list(c, *v, key, "protocol", table, kProtocolNames,
                                     "omit protocols to watch both tcp and udp"))
                m.protocols = *bits;
        } else if (key == "rate_limit") {
            rate_limit(c, *v, table, m.rate_limit);
        } else {
            unknown_key(c, *k, table, kConnectMonitorKeys);
        }
    }
    if (!have_cidrs) {
        c.error(c.at(t), "[[monitor.connect]] has no cidrs; add cidrs = [...] naming the destinations to watch "
                         "(\"0.0.0.0/0\" and \"::/0\" for every address)");
    }
    c.policy.monitors.connects.push_back(std::move(m));
}

// Each element of an array-of-tables monitor, or the shape error.
void each_table(Ctx& c, const toml::key& k, const toml::node& v, std::string_view kind,
                void (*parse)(Ctx&, const toml::table&))
{
    const std::string header = "[[monitor." + std::string(kind) + "]]";
    if (const toml::array* a = v.as_array()) {
        for (const toml::node& e : *a) {
            if (const toml::table* t = e.as_table())
                parse(c, *t);
            else
                c.error(c.at(e), "each element of monitor." + std::string(kind) + " must be a table, not " +
                                     type_name(e) + "; write each monitor as its own " + header + " table");
        }
    } else if (v.is_table()) {
        c.error(c.at(v), "[monitor." + std::string(kind) + "] must be written " + header + ": each monitor is its own " +
                             header + " table");
    } else {
        c.error(c.at(k), "monitor." + std::string(kind) + " must be an array of tables, not " + type_name(v) +
                             "; write each monitor as its own " + header + " table");
    }
}

}  // namespace

void parse_monitors(Ctx& c, const toml::table& t)
{
    if (t.empty()) {
        c.error(c.at(t), "[monitor] holds no monitor; " + std::string(kAllMonitors) +
                             ", each written below its own header");
        return;
    }
    for (auto [k, v] : in_source_order(t)) {
        const std::string_view kind = k->str();
        if (kind == "file") {
            each_table(c, *k, *v, kind, parse_file_monitor);
        } else if (kind == "syscalls") {
            each_table(c, *k, *v, kind, parse_syscall_monitor);
        } else if (kind == "connect") {
            each_table(c, *k, *v, kind, parse_connect_monitor);
        } else if (kind == "process") {
            if (const toml::table* pt = v->as_table()) {
                if (c.policy.monitors.process)
                    c.error(c.at(*pt), "a second [monitor.process]; write it once, with every allowed program");
                else
                    parse_process_monitor(c, *pt);
            } else if (v->is_array_of_tables()) {
                c.error(c.at(*v->as_array()->get(0)),
                        "[[monitor.process]] must be a single [monitor.process] table; write [monitor.process] "
                        "once, with every allowed program in allowed");
            } else {
                c.error(c.at(*k), "monitor.process must be a table, not " + std::string(type_name(*v)) +
                                      "; write a [monitor.process] header with allowed = [...] below it");
            }
        } else {
            std::string msg = "unknown monitor " + quote_value(kind) + " in [monitor]";
            if (auto best = closest(kind, kMonitorKinds)) {
                const std::string b(*best);
                msg += "; did you mean " + (b == "process" ? "[monitor.process]" : "[[monitor." + b + "]]") + "?";
            } else {
                msg += "; " + std::string(kAllMonitors);
            }
            c.error(c.at(*k), std::move(msg));
        }
    }
}

}  // namespace bulwark::parse_detail
