// The compiler: validated policies + the machine → map image. Resolves user
// names, cgroups and paths against the machine (through SystemView), folds
// every rule into the keys the BPF side looks up, and checks capacities.
// Errors leave no image: a policy set is compiled whole or not at all.
#pragma once

#include "compile/map_image.hpp"
#include "compile/system_view.hpp"
#include "policy/diagnostics.hpp"
#include "policy/model.hpp"

#include <optional>
#include <string>
#include <vector>

namespace bulwark {

// One of bulwark's own files or trees: a process in the scope of a policy
// that decides anything (for the operator's files: of a policy with a
// [scope] table) may not change it — write, create, delete, rename,
// metadata — an attempt is tampering (docs/decisions/011-self-protection.md).
struct OwnPath {
    std::string path;             // absolute; a tree ends in '/'
    std::string as;               // what it is to bulwark: "policy", "config", "binary", "pins"

    // The operator edits these while bulwark runs (and reloads).
    bool operators() const { return as == "policy" || as == "config"; }
};

struct CompileOptions {
    bool global_audit = false;    // --audit: every policy reports, none blocks
    uint32_t generation = 1;
    // Capacities, lowered by tests to exercise the "too many rules" errors.
    size_t max_path_keys = BW_MAX_PATH_KEYS;
    size_t max_scope_keys = BW_MAX_SCOPE_KEYS;
    size_t max_connect_keys = BW_MAX_CONNECT_KEYS;
    // What `bulwark run` protects of its own; none in the offline tools.
    std::vector<OwnPath> own_paths;
};

struct CompileResult {
    std::optional<MapImage> image;  // empty when diagnostics has errors
    Diagnostics diagnostics;
};

CompileResult compile(const std::vector<Policy>& policies, const SystemView& system,
                      const CompileOptions& options = {});

}  // namespace bulwark
