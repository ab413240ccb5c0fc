// What `bulwark run` protects of its own (docs/decisions/011-self-protection.md,
// "Files"): its policy files, its options file, its executable and its
// pin directory. The compiler turns them into keys that deny every change
// right to the processes in scope.
#pragma once

#include "compile/compiler.hpp"

#include <string>
#include <vector>

namespace bulwark {

// `policies` as given to --policy (files or directories), `config` the
// options file read ("" for none), `pin_dir` the prepared pin directory
// ("" for none). The compiler protects the first two only from scoped
// policies' processes: under a policy without [scope] the operator's
// shell is in scope, and edits them to reload. Paths that do not exist
// are left out.
std::vector<OwnPath> own_paths(const std::vector<std::string>& policies, const std::string& config,
                               const std::string& pin_dir);

}  // namespace bulwark
