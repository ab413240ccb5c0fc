// `bulwark run --backend`: which mechanism decides each kind of rule on
// this kernel (engine/backend/backends.hpp), and refusing a policy set
// whose rules no backend here can decide — never enforcing less than asked.
#pragma once

#include "backend/backends.hpp"
#include "monitor/run_plan.hpp"

#include <string>
#include <vector>

namespace bulwark {

// Probes the kernel; `values` are the --backend values (Error exit_usage
// when one is not a backend).
Backends choose_run_backends(const std::vector<std::string>& values);

// Throws Error (exit_unsupported) naming the rules of kinds no backend
// here decides, and why.
void require_backends(const RunPlan& plan, const Backends& backends);

// The stderr warning for scoped enforcing policies whose rules a backend
// other than BPF-LSM decides: there the scope is what a process is now, it
// does not stick (docs/decisions/012-sticky-scope.md). Empty: none.
std::string unsticky_scope_warning(const std::vector<Policy>& policies, const Backends& backends);

// Throws Error (exit_unsupported) naming the enforcing rules the fanotify
// backend would decide but cannot see all of (plan.unseen_enforced): a
// denial it would miss is never enforced more weakly than written.
void require_fanotify_coverage(const RunPlan& plan);
// The stderr warning for auditing rules of which fanotify sees only the
// opens (plan.unseen_audited). Empty: none.
std::string fanotify_unseen_warning(const RunPlan& plan);

// Throws Error (exit_unsupported) naming the LSM hooks the plan needs that
// this kernel lacks (a path_* hook without CONFIG_SECURITY_PATH), and the
// [[file]] rules: a right without its hook would be silently weaker.
void require_lsm_hooks(const RunPlan& plan);

}  // namespace bulwark
