// Publishing a map image: fill the slot that is not live, then flip the
// live slot with one map write (docs/decisions/002-generations.md). Any
// failure before the flip throws and leaves the policy set in force
// exactly as it was.
#pragma once

#include "compile/map_image.hpp"
#include "kernel/monitor_publisher.hpp"
#include "kernel/shared_maps.hpp"

#include <optional>

namespace bulwark {

class PolicyPublisher {
public:
    explicit PolicyPublisher(const SharedMaps& maps);

    // Makes `image` the live policy set; returns its generation.
    uint32_t publish(const MapImage& image);

    uint32_t generation() const { return generation_; }

private:
    void wait_for_readers() const;

    int live_slot_, policy_sets_, inode_rules_, name_rules_, short_name_rules_, scope_uids_, scope_cgroups_;
    int scope_exe_inodes_, scope_exe_names_, connect_v4_, connect_v6_, connect_ports_;
    std::optional<MonitorPublisher> monitors_;  // when monitor objects are loaded
    uint32_t live_ = 0;          // slot in force (0 holds the empty set at start)
    uint32_t generation_ = 0;    // 0: nothing published yet
};

}  // namespace bulwark
