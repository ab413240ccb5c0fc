// [[file]] (and later [[exec]]) rules → inode_rules and name_rules.
//
// Every rule path is anchored to a kernel identity (docs/decisions/001):
// a directory by (dev, ino), an exact name by (parent dir, name) so that a
// file replaced by rename(2) or created later is still matched, and an
// existing exact file also by its own (dev, ino) so that hardlinks are.
// Each key's value holds every policy's verdict for paths at or below it,
// with less specific rules folded in: the deepest key found decides.
#pragma once

#include "compile/compiler.hpp"

namespace bulwark {

// One rule path to compile, in any policy.
struct PathRule {
    uint32_t policy = 0;
    int32_t rule = 0;             // index into MapImage::rules
    std::string path;             // as written: exact, or a prefix ending in '/'
    SourcePos pos;                // of the path value
    uint8_t columns = 0;          // bit c: decides bw_column c
    Action action = Action::deny;
    // Protecting one of bulwark's own files (OwnPath::as, in the options
    // compile() was given); null for the policies' rules.
    const std::string* own_as = nullptr;
};

void compile_paths(const std::vector<PathRule>& rules, const SystemView& system, const CompileOptions& options,
                   MapImage& image, Diagnostics& diags);

}  // namespace bulwark
