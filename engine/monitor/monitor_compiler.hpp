// [[monitor.*]] tables → the monitor maps of the map image
// (docs/decisions/005-monitors.md). Like the file rules, every key's value
// already holds what every policy decides there, less specific rules
// folded in, so the BPF side does one lookup per map and never loops over
// rules:
//   file / process   one LPM trie over path bytes (exact keys keep their NUL)
//   connect          LPM on (family, address), then LPM on (network, protocol, port)
//   syscalls         hash on uid, then hash on (uid, syscall number)
#pragma once

#include "compile/compiler.hpp"

namespace bulwark {

// Fills image.monitors; image.policies must already hold every policy's
// effective mode (audit turns kill into would-kill).
void compile_monitors(const std::vector<Policy>& policies, const SystemView& system, const CompileOptions& options,
                      MapImage& image, Diagnostics& diags);

// Port range [first, last] as LPM blocks: (first port of block, prefix bits).
std::vector<std::pair<uint16_t, uint8_t>> port_blocks(uint32_t first, uint32_t last);

}  // namespace bulwark
