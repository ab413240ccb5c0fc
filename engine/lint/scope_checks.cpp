// Ways out of a policy's scope that bulwark does not close yet: scope is
// decided on every hook from what the task is now (its cgroup, real uid and
// program; bpf/lib/scope.bpf.h), so a process in the scope of an enforcing
// policy can step out of it, and mounts and file handles are not decided.
// One warning per way, at the scope key (or the policy) it concerns, so an
// operator who relies on the scope to confine a service knows what holds.
#include "lint/checks.hpp"

namespace bulwark::lint {
namespace {

bool denies_files(const Policy& p)
{
    for (const auto& r : p.files)
        if (r.action == Action::deny) return true;
    return p.defaults.file.action == Action::deny;
}

bool denies_anything(const Policy& p)
{
    auto denies = [](const auto& rules) {
        for (const auto& r : rules)
            if (r.action == Action::deny) return true;
        return false;
    };
    return denies_files(p) || denies(p.execs) || denies(p.connects) || p.defaults.exec.action == Action::deny ||
           p.defaults.connect.action == Action::deny;
}

}  // namespace

void scope_checks(Context& ctx)
{
    for (const Policy& p : ctx.policies) {
        // A global policy has no scope to leave; mounts and file handles
        // are named for scoped ones, which exist to confine a service.
        if (p.mode != Mode::enforce || !p.scope.present || !denies_anything(p)) continue;
        const std::string not_yet = "; scopes are not sticky in this version of bulwark";
        if (!p.scope.cgroups.empty())
            ctx.out.warning(p.scope.cgroups.front().pos,
                            "policy " + p.name + " can be left by moving out of its cgroup: a process in it that may "
                            "write another cgroup's cgroup.procs (root, or a delegated user) moves itself out and "
                            "the policy stops applying to it" + not_yet);
        if (!p.scope.uids.empty())
            ctx.out.warning(p.scope.uids.front().pos,
                            "policy " + p.name + " matches the real uid a process has now: one that changes it "
                            "(setresuid, su, sudo, a setuid program) leaves the scope" + not_yet);
        if (!p.scope.executables.empty())
            ctx.out.warning(p.scope.executables.front().pos,
                            "policy " + p.name + " covers a process only while it runs " +
                                p.scope.executables.front().value +
                                ": a program it starts (a shell) is out of scope" + not_yet);
        if (p.scope.present && denies_files(p) && scope_may_hold_root(p, ctx.machine)) {
            ctx.out.warning(p.scope.pos, "policy " + p.name + " denies file access to processes that may be root: one with "
                                "CAP_SYS_ADMIN can mount over a protected path in its own mount namespace, and "
                                "open_by_handle_at (CAP_DAC_READ_SEARCH) opens a file without the path walk; "
                                "neither is decided in this version of bulwark");
        }
    }
}

}  // namespace bulwark::lint
