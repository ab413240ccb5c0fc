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
#include <vector>

namespace bulwark {

struct CompileOptions {
    bool global_audit = false;    // --audit: every policy reports, none blocks
    uint32_t generation = 1;
    // Capacities, lowered by tests to exercise the "too many rules" errors.
    size_t max_path_keys = BW_MAX_PATH_KEYS;
    size_t max_scope_keys = BW_MAX_SCOPE_KEYS;
    size_t max_connect_keys = BW_MAX_CONNECT_KEYS;
};

struct CompileResult {
    std::optional<MapImage> image;  // empty when diagnostics has errors
    Diagnostics diagnostics;
};

CompileResult compile(const std::vector<Policy>& policies, const SystemView& system,
                      const CompileOptions& options = {});

}  // namespace bulwark
