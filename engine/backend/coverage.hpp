// What `bulwark probe` prints per kind of rule: the mechanism this kernel
// gives it and why (docs/decisions/010-backends.md). The rows are finer
// than RuleKind: file operations other than open, and exec through the
// dynamic loader (mmap of code), have no fallback of their own.
#pragma once

#include "backend/backends.hpp"

#include <string>
#include <vector>

namespace bulwark {

struct CoverageRow {
    std::string what;       // "file open", "file operations", "exec", ...
    std::string mechanism;  // "bpf-lsm", "fanotify", "cgroup-sock-addr", "none", ...
    std::string why;
};

std::vector<CoverageRow> coverage(const BackendSupport& support, const Backends& backends);

}  // namespace bulwark
