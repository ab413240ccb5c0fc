// `bulwark status` with no engine running: what the pinned state under a
// --pin-dir says is in force (kernel/pinned_state.hpp) — the live
// generation, whether its policies enforce or only audit, the programs
// whose links are pinned, and what the ring buffer lost while no engine
// read it. Policy names and files live in the engine, not in the kernel:
// a pins-only status has none.
#pragma once

#include "daemon/status.hpp"

#include <optional>
#include <string>

namespace bulwark {

// nullopt when nothing is pinned in `dir`.
std::optional<StatusSnapshot> status_from_pins(const std::string& dir);

}  // namespace bulwark
