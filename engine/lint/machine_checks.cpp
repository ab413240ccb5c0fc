// What this machine says about the names a policy uses: paths that do not
// exist here (notes: files appear later, and a policy may be meant for
// another server), paths that go through a symlink (the rule is anchored
// at the target), users and cgroups unknown here (the loader refuses them
// on this machine).
#include "compile/scope_compiler.hpp"
#include "lint/checks.hpp"
#include "policy/value_checks.hpp"

namespace bulwark::lint {
namespace {

std::string dirname_of(const std::string& p)
{
    const auto slash = p.find_last_of('/');
    return slash == 0 ? "/" : p.substr(0, slash);
}

std::string join(const std::string& dir, const std::string& name)
{
    return (dir == "/" ? "" : dir) + "/" + name;
}

// The first symlink `path` goes through on `machine`: (link, where it leads).
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
        if (!c) return std::nullopt;  // missing from here on: nothing more to see
        if (*c != join(resolved, comp)) return std::pair(lexical, *c);
        resolved = *c;
        i = j;
    }
    return std::nullopt;
}

void check_path(Context& ctx, const Located& l, bool tree, const std::string& what)
{
    const std::string path = tree && l.value.size() > 1 ? l.value.substr(0, l.value.size() - 1) : l.value;
    if (auto link = first_symlink(path, ctx.machine)) {
        const std::string target = canonical_key(l.value, ctx.imagined).value_or(link->second);
        ctx.out.warning(l.pos, what + " " + l.value + " goes through the symlink " + link->first + " → " +
                                   link->second + ": the rule is anchored at " + target +
                                   " and matches it under every name; write " + quote_value(target) +
                                   " to say so (the rule does not follow the link if it is changed)");
    }
    if (ctx.machine.canonical(path)) return;
    if (ctx.machine.canonical(dirname_of(path))) {
        ctx.out.note(l.pos, what + " " + l.value + " does not exist on this machine; " +
                                (what == "executable" ? "the scope takes in its processes as soon as it is installed"
                                                      : "the rule applies to it as soon as it is created"));
    } else {
        ctx.out.note(l.pos, "neither " + what + " " + l.value +
                                " nor its directory exists on this machine; here the rule stays inactive until "
                                "they exist and the policies are reloaded");
    }
}

}  // namespace

void machine_checks(Context& ctx)
{
    for (const Policy& p : ctx.policies) {
        for (const auto& r : p.files) {
            for (const auto& l : r.paths) check_path(ctx, l, false, "path");
            for (const auto& l : r.prefixes) check_path(ctx, l, true, "prefix");
        }
        for (const auto& r : p.execs) {
            for (const auto& l : r.paths) check_path(ctx, l, false, "program");
            for (const auto& l : r.prefixes) check_path(ctx, l, true, "prefix");
        }
        for (const auto& l : p.scope.executables) check_path(ctx, l, false, "executable");

        for (const auto& u : p.scope.uids) {
            const auto* name = std::get_if<std::string>(&u.value);
            if (name && !ctx.machine.uid_of_user(*name))
                ctx.out.warning(u.pos, "user " + quote_value(*name) +
                                           " is unknown on this machine (not in /etc/passwd): bulwark run refuses "
                                           "the policy here, since it resolves names when it loads; create the "
                                           "user, or write the numeric uid");
        }
        const auto mount = ctx.machine.cgroup2_mount();
        for (const auto& cg : p.scope.cgroups) {
            if (!mount) {
                ctx.out.warning(cg.pos, "cgroup v2 is not mounted on this machine: bulwark run refuses cgroup "
                                        "scopes here");
                continue;
            }
            auto dir = resolve_cgroup(cg.value, *mount);
            if (!dir) continue;  // the compiler reports it
            auto id = ctx.machine.identify(dir->path);
            if (!id || !id->is_dir)
                ctx.out.warning(cg.pos, "cgroup " + quote_value(cg.value) + " does not exist on this machine (no " +
                                            dir->path + "): bulwark run refuses the policy until it does; "
                                            "systemd creates a service's cgroup when it starts the service");
        }
    }
}

}  // namespace bulwark::lint
