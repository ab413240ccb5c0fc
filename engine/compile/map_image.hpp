// The map image: the compiler's output, pure data. For every BPF map, the
// exact keys and values to write, and for every entry what produced it, so
// that events, `explain` and `compile --dump` can name the deciding rule.
// Testable without a kernel; the loader writes it verbatim.
#pragma once

#include "bulwark/abi.h"
#include "compile/columns.hpp"
#include "monitor/monitor_image.hpp"
#include "policy/model.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace bulwark {

// A rule as events and tools name it.
struct RuleInfo {
    uint32_t policy = 0;          // index into MapImage::policies
    std::string kind;             // "file", "exec", "connect"
    Action action = Action::deny;
    SourcePos pos;                // the rule's table header
};

// Which rule decided one (policy, column) at an entry; -1: the default.
struct Decision {
    uint32_t policy = 0;
    uint32_t column = 0;
    int32_t rule = -1;            // index into MapImage::rules
};

// inode / name: keys of inode_rules / name_rules; fileless: the policy
// set's fileless masks; cidr: a connect_v4/v6 key; ports: a connect_ports
// key (one port interval of one protocol under a cidr entry).
enum class KeyKind : uint8_t { inode, name, fileless, cidr, ports };

// One key in a rule map, with where it came from.
struct EntryInfo {
    std::string path;             // canonical path the key stands for; for
                                  // connect keys "10.0.0.0/8" or
                                  // "10.0.0.0/8 tcp 80-443"
    bw_role role = BW_ROLE_ANCESTOR;
    KeyKind key_kind = KeyKind::inode;
    bool synthetic = false;       // exists only to flag named children
    std::vector<Decision> decisions;  // non-default decisions only
    // bulwark's own file or tree (BW_ENTRY_PROTECTED): "policy", "binary",
    // "pins"; empty for others. Tamper events name it ("object").
    std::string protected_as;
};

struct PolicyInfo {
    std::string name;
    std::string file;             // path as given
    Mode mode = Mode::enforce;    // after --audit
    // Of the [defaults] values, by column (BW_COL_CONNECT: connect;
    // BW_COL_TAMPER: the policy's [policy] table, whose scope decides).
    std::array<SourcePos, kDecisionColumns> default_pos;
    std::array<Action, kDecisionColumns> default_action{};  // Action::allow
};

struct InodeEntry {
    bw_inode_key key{};
    bw_path_rule value{};
};

struct NameEntry {
    bw_name_key key{};
    bw_path_rule value{};
};

struct Cidr4Entry {
    bw_cidr4_key key{};
    bw_connect_rule value{};
};

struct Cidr6Entry {
    bw_cidr6_key key{};
    bw_connect_rule value{};
};

struct PortEntry {
    bw_port_key key{};
    bw_connect_rule value{};
};

struct MapImage {
    bw_policy_set policy_set{};
    std::vector<InodeEntry> inode_rules;
    std::vector<NameEntry> name_rules;
    std::vector<std::pair<uint32_t, uint64_t>> scope_uids;     // uid → policy mask
    std::vector<std::pair<uint64_t, uint64_t>> scope_cgroups;  // cgroup id → policy mask
    // [scope] executable: the program's (dev, ino) and its (parent, name).
    std::vector<std::pair<bw_inode_key, uint64_t>> scope_exe_inodes;
    std::vector<std::pair<bw_name_key, uint64_t>> scope_exe_names;
    // [[connect]]: destination CIDRs, and port blocks of BY_PORT entries.
    std::vector<Cidr4Entry> connect_v4;
    std::vector<Cidr6Entry> connect_v6;
    std::vector<PortEntry> connect_ports;

    std::vector<PolicyInfo> policies;
    std::vector<RuleInfo> rules;
    std::vector<EntryInfo> entries;  // indexed by bw_path_rule.entry
    MonitorImage monitors;           // [[monitor.*]] maps (monitor/monitor_image.hpp)

    // The rule that decided (policy, column) at `entry`; -1 for the default
    // (also for BW_ENTRY_NONE / BW_ENTRY_TOO_DEEP).
    int32_t deciding_rule(uint32_t entry, uint32_t policy, uint32_t column) const;
    // "file.toml:14" for events: the rule's line, or the default's line.
    std::string rule_location(uint32_t entry, uint32_t policy, uint32_t column) const;
};

std::string basename_of(const std::string& path);

}  // namespace bulwark
