// The monitors' reference evaluator: (map image, operation) → the event a
// monitor would report, deciding as bpf/trace/*.bpf.c do — the same LPM
// and hash lookups on the same keys, the lowest policy bit reporting.
// Scope is the caller's: pass the policies whose [scope] holds (the BPF
// side's bw_mon_scope; see Evaluator::policies_in_scope for how).
#pragma once

#include "compile/map_image.hpp"

#include <optional>
#include <string>

namespace bulwark {

struct MonitorHit {
    uint32_t policy = 0;
    uint32_t entry = 0;
    uint32_t rule = 0;
    bw_mon_action action = BW_MON_REPORT;
    bool program = false;   // process: the program is not allowed
    bool script = false;    // process: the script is not allowed
};

class MonitorEvaluator {
public:
    explicit MonitorEvaluator(const MapImage& image) : mon_(image.monitors) {}

    // `in`: policies in scope; the result only ever names one of them.
    // Paths are absolute and normal, as the BPF side resolves them.
    std::optional<MonitorHit> file(uint64_t in, const std::string& path) const;
    std::optional<MonitorHit> syscall(uint64_t in, uint32_t uid, uint32_t nr, bool native_abi = true) const;
    std::optional<MonitorHit> process(uint64_t in, const std::string& program, const std::string* script = nullptr) const;
    // `addr`: as given ("10.0.0.1", "::1", "::ffff:10.0.0.1"); protocol 6 or 17.
    std::optional<MonitorHit> connect(uint64_t in, const std::string& addr, uint16_t port, uint8_t protocol) const;

private:
    std::optional<MonitorHit> hit(uint32_t entry, uint64_t policies) const;
    const MonitorImage& mon_;
};

}  // namespace bulwark
