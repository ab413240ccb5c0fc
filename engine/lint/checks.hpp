// The checks lint runs, one file each (lint/*_checks.cpp). Each appends
// its diagnostics to ctx.out.
#pragma once

#include "compile/map_image.hpp"
#include "explain/imagined_system.hpp"
#include "lint/lint.hpp"
#include "lint/rule_keys.hpp"

namespace bulwark::lint {

struct Context {
    const std::vector<Policy>& policies;
    const SystemView& machine;          // this machine, as it is
    const ImaginedSystem& imagined;     // this machine and what the policies name
    const RuleKeys& keys;               // on `imagined`
    const LintOptions& options;
    Diagnostics& out;
};

// Paths that do not exist here (notes), paths through symlinks, users and
// cgroups unknown here (warnings).
void machine_checks(Context& ctx);
// Rules that never decide anything; allow rules that change nothing.
void shadow_checks(Context& ctx);
// Policies whose scopes overlap and that decide the same object differently.
void overlap_checks(Context& ctx);
// Denials that could stop the machine or its administrators.
void lockout_checks(Context& ctx);
// Overlapping port ranges.
void connect_checks(Context& ctx);
// Ways out of an enforcing policy's scope that bulwark does not close:
// cgroup moves, uid changes, programs started, mounts, file handles.
void scope_checks(Context& ctx);
// [[monitor.*]] tables: paths through symlinks, missing or of the wrong
// type, users unknown here, kill for root, overlapping port ranges.
void monitor_checks(Context& ctx);

// Whether a policy's uid scope (if any) can hold root: 0, "root", or a name
// this machine resolves to 0.
bool scope_may_hold_root(const Policy& p, const SystemView& system);
// Whether a policy can apply to an administrator's shell: no executable
// scope, a uid scope (if any) holding 0, a cgroup scope (if any) holding
// the root cgroup or user.slice/user-0.slice.
bool reaches_administrators(const Policy& p, const SystemView& system);
// No [scope] key at all: every process.
bool global(const Policy& p);

}  // namespace bulwark::lint
