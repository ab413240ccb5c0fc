// The monitors' part of the map image: for every monitor map, the exact
// keys and values to write, and for every rule and entry what it came
// from, so that events and `compile --dump` can name them. Pure data,
// written verbatim by the loader (kernel/monitor_publisher.cpp).
#pragma once

#include "bulwark/abi.h"
#include "policy/model.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bulwark {

struct MonitorRule {
    uint32_t policy = 0;
    bw_monitor_kind kind = BW_MON_FILE;
    bw_mon_action action = BW_MON_REPORT;
    uint32_t rate_limit = 0;        // events per second
    SourcePos pos;                  // the table's header
};

// What a key stands for, for dumps and explanations.
struct MonitorEntry {
    bw_monitor_kind kind = BW_MON_FILE;
    std::string what;               // "/etc/passwd", "10.0.0.0/8 tcp 22", "uid 1000", ...
};

struct MonPathEntry {
    bw_mon_path_key key{};
    bw_mon_match value{};
};

struct MonAddrEntry {
    bw_mon_addr_key key{};
    bw_mon_match value{};
};

struct MonPortEntry {
    bw_mon_port_key key{};
    bw_mon_match value{};
};

struct MonitorImage {
    bw_monitor_set set{};
    std::vector<MonitorRule> rules;            // index: rule number
    std::vector<bw_mon_rule_cfg> rule_cfg;     // index: rule number
    std::vector<MonitorEntry> entries;         // index: entry (BW_MON_ENTRY_*, then keys)

    std::vector<MonPathEntry> file_paths;      // mon_file_paths (LPM)
    std::vector<MonPathEntry> process_allowed; // mon_process_allowed (LPM)
    std::vector<MonAddrEntry> connect_nets;    // mon_connect_nets (LPM), stage 1
    std::vector<MonPortEntry> connect_ports;   // mon_connect_ports (LPM), stage 2
    std::vector<std::pair<uint32_t, bw_mon_match>> syscall_uids;             // uid → rule holders
    std::vector<std::pair<bw_mon_syscall_key, uint64_t>> syscall_allowed;    // (uid, nr) → allowing
    std::vector<std::pair<bw_mon_rule_key, uint32_t>> rule_refs;             // (entry, policy) → rule

    bool empty() const { return rules.empty(); }
    bool has(bw_monitor_kind kind) const { return set.applies[kind] != 0; }
    // The rule a policy reports through at `entry`; -1 when none.
    int32_t rule_of(uint32_t entry, uint32_t policy) const;
    // "file.toml:12": where rule `rule` is written.
    std::string rule_location(uint32_t rule) const;
};

const char* monitor_kind_name(uint32_t kind);   // "file", "syscalls", "process", "connect"
const char* monitor_action_name(uint32_t action);  // "report", "kill", "would-kill"

// The LPM key for a path: exact paths keep their NUL inside the prefix,
// prefixes (ending in '/') do not. Throws nothing; the path must fit.
bw_mon_path_key mon_path_key(const std::string& path);

}  // namespace bulwark
