// Verdicts counted per deciding rule: what `bulwark status` shows per
// rule and the metrics export (bulwark_verdicts_total,
// bulwark_rule_hits_total). Read from the kernel's per-rule counters
// (kernel/rule_hits.hpp), so monotonic, and complete even when the ring
// buffer lost the records.
#pragma once

#include <cstdint>
#include <string>

namespace bulwark {

struct VerdictCount {
    std::string policy;
    std::string kind;            // "file", "exec", "connect", "tamper"
    std::string verdict;         // "deny", "would-deny", "audit"
    std::string rule;            // "file.toml:12"
    uint64_t count = 0;
};

}  // namespace bulwark
