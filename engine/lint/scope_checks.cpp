// Ways out of a policy's scope that bulwark does not close yet. Leaving a
// cgroup, changing uids and exec'ing another program take nothing away
// (sticky scope, docs/decisions/012-sticky-scope.md); mounts over protected
// paths and file handles are decided (docs/decisions/016). What is left:
// a root process in the scope asking one out of it to act for it, and the
// fallback backends, where none of this holds. One warning at the
// policy's [scope], so an operator who relies on the scope to confine a
// service knows what holds.
#include "lint/checks.hpp"
#include "util/lsm_list.hpp"

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

// What the running kernel says of BPF-LSM, for the warning: "" when bpf
// is listed or nothing is known.
std::string kernel_note(const SystemView& machine)
{
    const auto list = machine.lsm_list();
    if (!list || lsm_list_has(*list, "bpf")) return "";
    return "; this kernel does not list bpf among its LSMs (/sys/kernel/security/lsm), so here the fanotify "
           "backend would decide";
}

}  // namespace

void scope_checks(Context& ctx)
{
    for (const Policy& p : ctx.policies) {
        // A global policy has no scope to leave; the ways out are named
        // for scoped ones, which exist to confine a service.
        if (p.mode != Mode::enforce || !p.scope.present || !denies_anything(p)) continue;
        if (p.scope.present && denies_files(p) && scope_may_hold_root(p, ctx.machine)) {
            ctx.out.warning(p.scope.pos, "policy " + p.name + " denies file access to processes that may be root: one can "
                                "still ask a process out of the scope to act for it (ptrace or process_vm_writev "
                                "into it, systemd-run, a cron or at job), and where the fanotify backend decides "
                                "(kernels without BPF-LSM) the scope does not stick and mounts and file handles are "
                                "not decided; none of this is decided in this version of bulwark" +
                                kernel_note(ctx.machine));
        }
    }
}

}  // namespace bulwark::lint
