// bulwark lint: everything the loader would say about a policy set, and
// the mistakes it would not — rules that never decide anything, policies
// that disagree, lockout risks, names this machine does not know.
//
// Lint judges a policy for any machine: the set is compiled on this
// machine with whatever it lacks imagined (explain/imagined_system.hpp), so
// the loader's machine-dependent errors (an unknown user, a missing cgroup)
// come out as lint warnings, and paths missing here as notes — the policy
// may be meant for another server. Pure: the machine is a SystemView.
#pragma once

#include "compile/system_view.hpp"
#include "policy/diagnostics.hpp"
#include "policy/model.hpp"

#include <string>
#include <vector>

namespace bulwark {

struct LintOptions {
    // bulwark's own program, which a deny must not cover ("" to skip).
    std::string self_exe;
};

// Diagnostics of a parsed, error-free policy set (parse errors stop
// before lint): the compiler's and lint's own, in file and line order.
Diagnostics lint_policies(const std::vector<Policy>& policies, const SystemView& machine,
                          const LintOptions& options = {});

// Diagnostics sorted by file (in the order of `files`, then in the order
// others first appear), line and column; a note stays right after the
// diagnostic it belongs to.
Diagnostics sorted(const Diagnostics& d, const std::vector<std::string>& files = {});

// `bulwark lint --format json`: {"diagnostics":[{"file","line","column",
// "severity","message"}...],"errors":N,"warnings":N,"notes":N,"policies":N}
std::string diagnostics_json(const Diagnostics& d, size_t policies);

}  // namespace bulwark
