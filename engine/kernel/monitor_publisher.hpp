// Publishing the monitors' part of a map image into one policy-set slot
// (docs/decisions/002-generations.md, 005-monitors.md): fresh inner maps
// for every monitor key map, the slot's rule configurations and monitor
// set — all before PolicyPublisher flips the live slot, so a monitor sees
// the old policy set or the new one, never a mix. Any failure throws
// before the flip.
#pragma once

#include "kernel/inner_maps.hpp"
#include "kernel/shared_maps.hpp"
#include "monitor/monitor_image.hpp"

namespace bulwark {

class MonitorPublisher {
public:
    // Whether the loaded objects include the monitors' maps.
    static bool available(const SharedMaps& maps) { return maps.has("monitor_sets"); }

    explicit MonitorPublisher(const SharedMaps& maps);

    // Writes `image` into `slot` (the one not live) for `generation`; its
    // inner maps go into `inner`, which the caller installs.
    void fill(const MonitorImage& image, uint32_t slot, uint32_t generation, InnerMaps& inner);

private:
    int sets_, rule_cfg_, rule_refs_, file_paths_, process_allowed_, connect_nets_, connect_ports_, syscall_uids_,
        syscall_allowed_;
};

}  // namespace bulwark
