// [[exec]] rules → the EXEC and MAP path columns and the policy set's
// fileless masks (docs/decisions/003-exec.md), and the loader's warning
// about allowlists that would not even let a shell run.
//
// An [[exec]] path or prefix decides two columns: BW_COL_EXEC (running the
// program: execve, a script's interpreter; [defaults] exec applies) and
// BW_COL_MAP (mapping it as code: ld.so PROGRAM, shared libraries; rules
// only, so that an allowlist still lets allowed programs map libraries).
#pragma once

#include "compile/compiler.hpp"
#include "compile/path_compiler.hpp"

namespace bulwark {

inline constexpr uint8_t kExecColumns = (1u << BW_COL_EXEC) | (1u << BW_COL_MAP);

// Policy `index`'s [[exec]] rules: RuleInfo in image.rules, paths and
// prefixes appended to `path_rules`, fileless rules folded into the
// policy set (the strongest action of the policy's fileless rules) with
// their decisions appended to `fileless`.
void add_exec_rules(const Policy& p, uint32_t index, MapImage& image, std::vector<PathRule>& path_rules,
                    std::vector<Decision>& fileless);

// After every policy was added: the map image entry naming the fileless
// rules (policy_set.fileless_entry), or BW_ENTRY_NONE.
void finish_fileless(MapImage& image, std::vector<Decision> fileless);

// Warnings for policies whose [defaults] exec = "deny" lets no process in
// their scope run /bin/sh: the allowlist is probably incomplete.
void warn_about_allowlists(const std::vector<Policy>& policies, const SystemView& system, const MapImage& image,
                           Diagnostics& diags);

}  // namespace bulwark
