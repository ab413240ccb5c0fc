// What `bulwark run` protects of its own (docs/decisions/011-self-protection.md,
// "Files"): its executable and its pin directory. The compiler turns
// them into keys that deny every change right to the processes in scope.
#pragma once

#include "compile/compiler.hpp"

#include <string>
#include <vector>

namespace bulwark {

// `pin_dir` the prepared pin directory ("" for none). Not the policy files
// nor the options file: an operator edits them and reloads (`systemctl
// reload`) while bulwark runs, and under a policy without [scope] every
// shell is in scope; [[file]] rules of a scoped policy protect them where
// wanted. Paths that do not exist are left out.
std::vector<OwnPath> own_paths(const std::string& pin_dir);

}  // namespace bulwark
