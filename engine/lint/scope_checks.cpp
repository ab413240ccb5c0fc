// Ways out of a policy's scope that bulwark does not close yet. Leaving a
// cgroup, changing uids and exec'ing another program take nothing away
// (sticky scope, docs/decisions/012-sticky-scope.md); mounts over a
// protected path and file handles are not decided. One warning at the
// policy's [scope], so an operator who relies on the scope to confine a
// service knows what holds.
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
        if (p.scope.present && denies_files(p) && scope_may_hold_root(p, ctx.machine)) {
            ctx.out.warning(p.scope.pos, "policy " + p.name + " denies file access to processes that may be root: one with "
                                "CAP_SYS_ADMIN can mount over a protected path in its own mount namespace, and "
                                "open_by_handle_at (CAP_DAC_READ_SEARCH) opens a file without the path walk; "
                                "neither is decided in this version of bulwark");
        }
    }
}

}  // namespace bulwark::lint
