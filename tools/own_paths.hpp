// What `bulwark run` protects of its own (docs/decisions/011-self-protection.md,
// "Files"): the policy files and directories it was started with, its
// options file, its executable and its pin directory. The compiler turns
// them into keys that deny every change right to the processes in scope.
#pragma once

#include "compile/compiler.hpp"

#include <string>
#include <vector>

namespace bulwark {

// `policies` as given to --policy, `config` the options file read ("" for
// none), `pin_dir` the prepared pin directory ("" for none). Paths that do
// not exist are left out (the compiler warns about those it cannot anchor).
std::vector<OwnPath> own_paths(const std::vector<std::string>& policies, const std::string& config,
                               const std::string& pin_dir);

}  // namespace bulwark
