// Lockout risks: denials that could stop the machine from running programs
// or its administrators from repairing it. Only policies that can apply to
// an administrator's shell are checked for the first two: a policy scoped
// to postgres that denies it writes under "/" breaks postgres, not the way
// back in.
#include "bulwark/abi.h"
#include "compile/scope_compiler.hpp"
#include "lint/checks.hpp"
#include "policy/value_checks.hpp"

namespace bulwark::lint {

bool global(const Policy& p)
{
    return !p.scope.narrows();
}

bool scope_may_hold_root(const Policy& p, const SystemView& system)
{
    if (p.scope.uids.empty()) return true;
    for (const auto& u : p.scope.uids) {
        if (const auto* n = std::get_if<uint32_t>(&u.value)) {
            if (*n == 0) return true;
        } else if (std::get<std::string>(u.value) == "root" || system.uid_of_user(std::get<std::string>(u.value)) == 0u) {
            return true;
        }
    }
    return false;
}

bool reaches_administrators(const Policy& p, const SystemView& system)
{
    if (!p.scope.executables.empty()) return false;
    if (!scope_may_hold_root(p, system)) return false;
    if (!p.scope.cgroups.empty()) {
        const std::string mount = system.cgroup2_mount().value_or("/sys/fs/cgroup");
        bool admin = false;
        for (const auto& cg : p.scope.cgroups) {
            auto dir = resolve_cgroup(cg.value, mount);
            if (!dir) continue;
            // root's sessions: <mount>/user.slice/user-0.slice/...
            const std::string tree = dir->path + "/";
            admin = admin || under(mount + "/user.slice/user-0.slice/", tree);
        }
        if (!admin) return false;
    }
    return true;
}

namespace {

struct Critical {
    std::string key;              // canonical: a file, or a tree ending in '/'
    std::string what;
};

std::vector<Critical> critical_objects(const SystemView& system, const std::string& self_exe)
{
    std::vector<Critical> out;
    auto add = [&](const std::string& path, bool tree, const std::string& what) {
        auto c = system.canonical(path);
        if (!c) return;
        const std::string key = tree ? (*c == "/" ? "/" : *c + "/") : *c;
        for (const auto& x : out)
            if (x.key == key) return;
        out.push_back({key, what});
    };
    add("/", true, "the whole filesystem (/)");
    add("/usr", true, "/usr/, where the programs and libraries are");
    for (const char* lib : {"/lib", "/lib64", "/lib32", "/libx32", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32"})
        add(lib, true, std::string(lib) + "/, where shared libraries are");
    for (const char* ld : {"/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1", "/lib/ld-linux.so.2",
                           "/lib/ld-musl-x86_64.so.1"})
        add(ld, false, std::string("the dynamic loader ") + ld + ", through which every dynamically linked program starts");
    if (!self_exe.empty()) add(self_exe, false, "bulwark's own program " + self_exe + ", so that it could not be restarted");
    return out;
}

bool covers(const PathKey& k, const Critical& c)
{
    if (k.exact) return k.key == c.key;
    return under(c.key, k.key);
}

std::string mode_note(const Policy& p)
{
    return p.mode == Mode::audit ? " once the policy is enforced" : "";
}

}  // namespace

void lockout_checks(Context& ctx)
{
    const auto critical = critical_objects(ctx.machine, ctx.options.self_exe);
    for (uint32_t pi = 0; pi < ctx.policies.size(); ++pi) {
        const Policy& p = ctx.policies[pi];
        const bool admins = reaches_administrators(p, ctx.imagined);

        // A deny that covers what every program needs.
        if (admins) {
            for (const PathKey& k : ctx.keys.paths) {
                if (k.policy != pi || k.action != Action::deny) continue;
                for (const Critical& c : critical) {
                    if (!covers(k, c)) continue;
                    const std::string verb = k.kind == RuleKind::exec ? "running or mapping" : "opening";
                    ctx.out.warning(k.written->pos,
                                    "lockout risk: this rule denies " + verb + " " + c.what +
                                        ", to every process in the policy's scope, administrators' shells included" +
                                        mode_note(p) +
                                        "; deny narrower paths, or scope the policy to the services it is for");
                    break;
                }
            }
        }

        // An exec allowlist that the init system is not on.
        const bool reaches_init = p.scope.cgroups.empty() && p.scope.executables.empty() && admins;
        if (reaches_init && p.defaults.exec.given && p.defaults.exec.action == Action::deny) {
            for (const char* init : {"/sbin/init", "/lib/systemd/systemd"}) {
                auto key = ctx.machine.canonical(init);
                if (!key) continue;
                const PathDecision d = decide_path(ctx.keys, p, pi, RuleKind::exec, *key, true, BW_COL_EXEC);
                if (d.action == Action::deny)
                    ctx.out.warning(p.defaults.exec.pos,
                                    "lockout risk: with exec = \"deny\", policy " + p.name + " lets no process in its "
                                    "scope run the init system " + init + (*key != init ? " (" + *key + ")" : std::string()) +
                                    mode_note(p) + ": the next boot, or systemd re-executing itself, fails; "
                                    "allow it, or scope the policy");
                break;
            }
        }

        // Enforcing exec rules on every process.
        if (global(p) && p.mode == Mode::enforce) {
            std::string what;
            if (p.defaults.exec.given && p.defaults.exec.action == Action::deny)
                what = "an exec allowlist ([defaults] exec = \"deny\")";
            for (const auto& r : p.execs)
                if (what.empty() && r.action == Action::deny && !r.prefixes.empty())
                    what = "exec denials of whole trees (line " + std::to_string(r.pos.line) + ")";
            if (!what.empty())
                ctx.out.warning(p.mode_pos, "lockout risk: policy " + p.name + " enforces " + what +
                                                " on every process (it has no [scope]); one missing program stops "
                                                "the whole machine, services and administrators alike — run it with "
                                                "mode = \"audit\" first and read `bulwark report`, or scope it");
        }
    }
}

}  // namespace bulwark::lint
