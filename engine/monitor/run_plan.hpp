// What `bulwark run` loads for a policy set: the enforcing (BPF-LSM)
// objects only when some rule needs them, and the monitor objects of the
// monitor kinds present. Monitors need no BPF-LSM, so a set of monitors
// alone runs on kernels that refuse LSM programs.
#pragma once

#include "compile/map_image.hpp"
#include "policy/model.hpp"

#include <string>
#include <vector>

namespace bulwark {

struct RunPlan {
    std::vector<std::string> objects;    // registry names (kernel/object_registry.cpp), to load
    bool enforcement = false;            // LSM objects needed: the kernel must enforce
    bool monitors = false;               // monitor objects among `objects`
    std::vector<std::string> lsm_rules;  // what needs BPF-LSM: "web.toml:5 [[file]]", ...
};

RunPlan plan_run(const std::vector<Policy>& policies, const MapImage& image);

}  // namespace bulwark
