// [scope] executable → scope_exe_inodes and scope_exe_names: a policy that
// applies only to processes running one of the given programs.
//
// The kernel side looks at the task's mm->exe_file — the program file it
// runs, symlinks already resolved — so a program is named by identity:
// its (dev, ino), and its (parent directory, name) for when an upgrade
// replaces it by rename(2). comm (prctl PR_SET_NAME) and argv[0] play no
// part; a hardlink is the same program, a copy is another.
#pragma once

#include "compile/compiler.hpp"

namespace bulwark {

// Adds every policy's executables to `image`; sets executable_free for
// policies without any.
void compile_executable_scopes(const std::vector<Policy>& policies, const SystemView& system,
                               const CompileOptions& options, MapImage& image, Diagnostics& diags);

}  // namespace bulwark
