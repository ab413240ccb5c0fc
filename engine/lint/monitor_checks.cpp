// Monitors ([[monitor.*]], docs/decisions/005-monitors.md) as lint sees
// them. A file monitor matches the *name* a process passes, so a path
// through a symlink is watched as written and where it leads (a note, not
// the warning a [[file]] rule gets: writing the target would stop matching
// the name through the link), and a missing path is still watched (a note:
// attempts are reported, but it may be a typo). What cannot work is a
// warning: an exact path that is a directory, a prefix that is a file, an
// allowed program that is a directory written without its '/'. Users
// unknown here are warnings as in [scope]; a kill for root in a policy
// that reaches administrators is a lockout risk; port ranges that overlap
// in one table, or across two tables of one policy at one CIDR (the first
// table reports the overlap, under its own rate limit), are warnings.
#include "lint/checks.hpp"
#include "policy/value_checks.hpp"

namespace bulwark::lint {
namespace {

std::string without_slash(const std::string& p)
{
    return p.size() > 1 && p.back() == '/' ? p.substr(0, p.size() - 1) : p;
}

// The first symlink on the way to `path` on `machine`: (link, its target).
std::optional<std::pair<std::string, std::string>> first_symlink(const std::string& path, const SystemView& machine)
{
    std::string lexical, resolved = "/";
    size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        size_t j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        if (j == i) break;
        const std::string comp = path.substr(i, j - i);
        lexical += "/" + comp;
        auto c = machine.canonical(lexical);
        if (!c) return std::nullopt;
        if (*c != (resolved == "/" ? "" : resolved) + "/" + comp) return std::pair(lexical, *c);
        resolved = *c;
        i = j;
    }
    return std::nullopt;
}

enum class Watch : uint8_t { file_path, file_prefix, allowed };

// One path of a file monitor (`paths`, `prefixes`) or of allowed.
void check_monitor_path(Context& ctx, const Located& l, Watch w)
{
    const bool tree = !l.value.empty() && l.value.back() == '/';
    const std::string path = without_slash(l.value);
    const char* what = w == Watch::file_path ? "monitored path" : w == Watch::file_prefix ? "monitored prefix" : "allowed";
    const auto id = ctx.machine.identify(path);

    // Through a symlink: the compiler watches the resolved name too, when it exists.
    if (auto link = id ? first_symlink(path, ctx.machine) : std::nullopt) {
        const auto target = ctx.machine.canonical(path);
        const std::string resolved = target ? (tree && *target != "/" ? *target + "/" : *target) : link->second;
        if (w == Watch::allowed)
            ctx.out.note(l.pos, std::string("allowed ") + l.value + " goes through the symlink " + link->first +
                                    " → " + link->second + ": the process monitor compares a program's real path, "
                                    "so what is allowed is " + resolved);
        else
            ctx.out.note(l.pos, std::string(what) + " " + l.value + " goes through the symlink " + link->first + " → " +
                                    link->second + ": opens by either name are reported (" + resolved +
                                    " is watched too); other names of the file, such as hardlinks or bind mounts, "
                                    "are not");
    }
    if (!id) {
        if (w == Watch::allowed)
            ctx.out.note(l.pos, std::string("allowed ") + l.value +
                                    " does not exist on this machine; here it allows nothing until it is installed");
        else
            ctx.out.note(l.pos, std::string(what) + " " + l.value +
                                    " does not exist on this machine; attempts to open it are reported all the "
                                    "same (check the spelling if it should exist here)");
        return;
    }
    if (w == Watch::file_path && id->is_dir)
        ctx.out.warning(l.pos, "monitored path " + l.value +
                                   " is a directory: an exact path reports opens of the directory itself, not of "
                                   "the files in it; to watch them, write prefixes = [" +
                                   quote_value(l.value + "/") + "]");
    else if (w == Watch::file_prefix && !id->is_dir)
        ctx.out.warning(l.pos, "monitored prefix " + l.value +
                                   " names a file, not a directory: nothing can be opened below it, so it never "
                                   "reports; to watch the file, write paths = [" + quote_value(path) + "]");
    else if (w == Watch::allowed && !tree && id->is_dir)
        ctx.out.warning(l.pos, "allowed " + l.value +
                                   " is a directory: without a trailing '/' it allows only a program of exactly "
                                   "that name, so every program in it is reported; write " +
                                   quote_value(l.value + "/"));
    else if (w == Watch::allowed && tree && !id->is_dir)
        ctx.out.warning(l.pos, "allowed " + l.value +
                                   " names a file, not a directory: no program is below it; write " +
                                   quote_value(path) + " to allow the program");
}

std::string range_text(const PortRange& r)
{
    return r.first == r.last ? std::to_string(r.first) : std::to_string(r.first) + "-" + std::to_string(r.last);
}

bool overlap(const PortRange& a, const PortRange& b)
{
    return a.first <= b.last && b.first <= a.last;
}

const char* protocol_text(uint8_t bits)
{
    return bits == proto_tcp ? "tcp" : bits == proto_udp ? "udp" : "tcp and udp";
}

void connect_monitor_checks(Context& ctx, const Policy& p)
{
    const auto& mons = p.monitors.connects;
    for (const auto& m : mons) {
        for (size_t b = 0; b < m.ports.size(); ++b) {
            for (size_t a = 0; a < b; ++a) {
                if (!overlap(m.ports[a], m.ports[b])) continue;
                ctx.out.warning(m.ports[b].pos, "ports " + range_text(m.ports[b]) + " overlap " +
                                                    range_text(m.ports[a]) + " (column " +
                                                    std::to_string(m.ports[a].pos.column) +
                                                    ") in the same [[monitor.connect]]; merge them into one range");
                break;
            }
        }
    }
    // Two tables of one policy at one CIDR: the first table in the file
    // reports where both match (the compiler folds the most specific CIDR
    // first, then file order), so the second's rate limit and rule line
    // never apply there.
    for (size_t later = 0; later < mons.size(); ++later) {
        for (size_t first = 0; first < later; ++first) {
            const auto& a = mons[first];
            const auto& b = mons[later];
            const uint8_t protos = a.protocols & b.protocols;
            if (!protos) continue;
            const Located* cidr = nullptr;
            for (const auto& x : b.cidrs)
                for (const auto& y : a.cidrs)
                    if (!cidr && parse_network(x.value) && parse_network(x.value) == parse_network(y.value)) cidr = &x;
            if (!cidr) continue;
            const PortRange all{0, 65535, {}};
            const std::vector<PortRange> pa = a.ports.empty() ? std::vector{all} : a.ports;
            const std::vector<PortRange> pb = b.ports.empty() ? std::vector{all} : b.ports;
            std::optional<PortRange> both;
            for (const auto& x : pb)
                for (const auto& y : pa)
                    if (!both && overlap(x, y))
                        both = PortRange{std::max(x.first, y.first), std::min(x.last, y.last), {}};
            if (!both) continue;
            const SourcePos& at = b.ports.empty() ? cidr->pos : b.ports.front().pos;
            ctx.out.warning(at, "ports " + range_text(*both) + " (" + protocol_text(protos) + ") of " + cidr->value +
                                    " are also watched by the [[monitor.connect]] at line " +
                                    std::to_string(a.pos.line) +
                                    " of this policy; there its events report through that table, under its rate "
                                    "limit, and this one never reports them — merge the two tables, or make their "
                                    "ports disjoint");
            break;
        }
    }
}

}  // namespace

void monitor_checks(Context& ctx)
{
    for (const Policy& p : ctx.policies) {
        for (const auto& m : p.monitors.files) {
            for (const auto& l : m.paths) check_monitor_path(ctx, l, Watch::file_path);
            for (const auto& l : m.prefixes) check_monitor_path(ctx, l, Watch::file_prefix);
        }
        if (p.monitors.process)
            for (const auto& l : p.monitors.process->allowed) check_monitor_path(ctx, l, Watch::allowed);

        for (const auto& m : p.monitors.syscalls) {
            bool root = false;
            for (const auto& u : m.uids) {
                if (const auto* n = std::get_if<uint32_t>(&u.value)) {
                    root = root || *n == 0;
                    continue;
                }
                const auto& name = std::get<std::string>(u.value);
                const auto uid = ctx.machine.uid_of_user(name);
                root = root || uid == 0u;
                if (!uid)
                    ctx.out.warning(u.pos, "user " + quote_value(name) +
                                               " is unknown on this machine (not in /etc/passwd): bulwark run "
                                               "refuses the policy here, since it resolves names when it loads; "
                                               "create the user, or write the numeric uid");
            }
            if (root && m.action == SyscallAction::kill && p.mode == Mode::enforce &&
                reaches_administrators(p, ctx.machine))
                ctx.out.warning(m.action_pos,
                                "action = \"kill\" for uid 0 in a policy that applies to administrators' shells: "
                                "every root process in scope that makes a syscall outside allow is killed — init, "
                                "sshd, the package manager, the shell you would repair it from; scope the policy "
                                "([scope] cgroup or executable), or use action = \"audit\" first");
        }
        connect_monitor_checks(ctx, p);
    }
}

}  // namespace bulwark::lint
