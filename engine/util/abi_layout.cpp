// The ABI pinned: bpf/include/bulwark/abi.h is compiled by clang for BPF
// and by g++ for the engine. These asserts fail the build if a change to
// the header alters a layout the other side (or a running kernel object,
// or a recorded event file) depends on without this file being updated
// deliberately. Padding must be explicit: every struct is a multiple of 8.
#include "bulwark/abi.h"

#include <cstddef>

static_assert(sizeof(bw_inode_key) == 16);
static_assert(offsetof(bw_inode_key, dev) == 8 && offsetof(bw_inode_key, role) == 12);

static_assert(sizeof(bw_name_key) == 16 + BW_NAME_MAX);
static_assert(offsetof(bw_name_key, name) == 16);
static_assert(sizeof(bw_short_name_key) == 16 + BW_SHORT_NAME_MAX);
static_assert(offsetof(bw_short_name_key, name) == 16 && BW_SHORT_NAME_MAX % 8 == 0);

static_assert(sizeof(bw_path_rule) == 8 * 2 * BW_NR_COLUMNS + 8);
static_assert(offsetof(bw_path_rule, entry) == 16 * BW_NR_COLUMNS && offsetof(bw_path_rule, flags) == 16 * BW_NR_COLUMNS + 4);

static_assert(sizeof(bw_live) == 8);
static_assert(sizeof(bw_task_marks) == 88);
static_assert(offsetof(bw_task_marks, exes) == 32 && offsetof(bw_task_marks, uids) == 64);
static_assert(offsetof(bw_task_marks, full) == 80 && offsetof(bw_task_marks, seen) == 84);
static_assert(sizeof(bw_policy_set) == 8 * (1 + 1 + BW_NR_ENFORCE_KINDS + 3 + 4 * BW_NR_COLUMNS + 1 + 5 + 1) + 8 +
                                         8 * BW_DIR_FILTER_WORDS);
static_assert(BW_DIR_FILTER_WORDS * 64 == (1u << BW_DIR_FILTER_SHIFT));
static_assert(offsetof(bw_policy_set, fileless_entry) == sizeof(bw_policy_set) - 16);
static_assert(offsetof(bw_policy_set, generation) == sizeof(bw_policy_set) - 8);

static_assert(offsetof(bw_event_header, kind) == 16);
static_assert(offsetof(bw_event_header, comm) == 64);
static_assert(offsetof(bw_event_header, exe) == 80);
static_assert(sizeof(bw_event_header) == 80 + BW_PATH_MAX);
static_assert(sizeof(bw_file_event) == sizeof(bw_event_header) + 8 + 2 * BW_PATH_MAX);
static_assert(offsetof(bw_file_event, op) == sizeof(bw_event_header) + 4 &&
              offsetof(bw_file_event, call) == sizeof(bw_event_header) + 5);
static_assert(offsetof(bw_file_event, target) == sizeof(bw_event_header) + 8 + BW_PATH_MAX);
static_assert(sizeof(bw_tamper_event) == sizeof(bw_event_header) + 32 + 2 * BW_PATH_MAX);
static_assert(sizeof(bw_rule_hit_key) == 16);
static_assert(offsetof(bw_rule_hit_key, entry) == 8 && offsetof(bw_rule_hit_key, column) == 12 &&
              offsetof(bw_rule_hit_key, verdict) == 14);
static_assert(offsetof(bw_tamper_event, path) == sizeof(bw_event_header) + 32);
static_assert(sizeof(bw_object_key) == 8);

static_assert(sizeof(bw_exec_event) == sizeof(bw_event_header) + 8 + 2 * BW_PATH_MAX);
static_assert(offsetof(bw_exec_event, via) == sizeof(bw_event_header) + 8 + BW_PATH_MAX);
static_assert(sizeof(bw_connect_event) == sizeof(bw_event_header) + 8 + 16);
static_assert(offsetof(bw_connect_event, addr) == sizeof(bw_event_header) + 8);

// LPM trie keys are the exception to "a multiple of 8": every byte after
// prefixlen is data the trie matches on, so they carry no padding.
static_assert(sizeof(bw_cidr4_key) == 8 && sizeof(bw_cidr6_key) == 20);
static_assert(sizeof(bw_port_key) == 12 && offsetof(bw_port_key, protocol) == 8 && offsetof(bw_port_key, port) == 9);
static_assert(BW_PORT_KEY_BITS <= 8 * (sizeof(bw_port_key) - 4));
static_assert(sizeof(bw_connect_rule) == 24 && offsetof(bw_connect_rule, entry) == 16);
static_assert(BW_COL_CONNECT >= BW_NR_COLUMNS, "connect decisions are outside the path columns");
static_assert(BW_COL_TAMPER > BW_COL_CONNECT);
static_assert(BW_ACCESS_METADATA == 1u << BW_COL_METADATA && BW_ACCESS_CREATE == 1u << BW_COL_CREATE &&
                  BW_ACCESS_MAP == 1u << BW_COL_MAP,
              "access bit c is column c (bw_decide)");

static_assert(BW_NR_STATS >= 12, "room for every bw_stat");
static_assert(int(BW_STAT_RULE_HITS_FULL) < 16, "the enforcing side's counters keep 0..15");
static_assert(BW_MAX_POLICIES == 64, "policy masks are __u64");

// ---- monitors (bulwark/monitor_abi.h, docs/decisions/005-monitors.md) ----

// LPM keys: prefixlen, then only matched bytes. A path key holds
// BW_MON_PATH_KEY bytes, the most an LPM trie compares.
static_assert(sizeof(bw_mon_path_key) == 4 + BW_MON_PATH_KEY && offsetof(bw_mon_path_key, path) == 4);
static_assert(BW_MON_PATH_KEY == 256, "the kernel's LPM_DATA_SIZE_MAX");
static_assert(sizeof(bw_mon_addr_key) == 24 && offsetof(bw_mon_addr_key, family) == 4 &&
              offsetof(bw_mon_addr_key, addr) == 8);
static_assert(sizeof(bw_mon_port_key) == 12 && offsetof(bw_mon_port_key, net) == 4 &&
              offsetof(bw_mon_port_key, protocol) == 8 && offsetof(bw_mon_port_key, port) == 9);

static_assert(sizeof(bw_mon_match) == 24 && offsetof(bw_mon_match, entry) == 16);
static_assert(sizeof(bw_mon_rule_key) == 8 && sizeof(bw_mon_syscall_key) == 8);
static_assert(sizeof(bw_mon_rule_cfg) == 24 && offsetof(bw_mon_rule_cfg, kind) == 16);
static_assert(sizeof(bw_monitor_set) == 8 * BW_MON_NR_KINDS + 8);
static_assert(sizeof(bw_mon_bucket) == 16 && offsetof(bw_mon_bucket, suppressed) == 12);
static_assert(sizeof(bw_mon_seen) == 8 + 8 * BW_SYSCALL_SEEN_WORDS && BW_SYSCALL_SEEN_WORDS * 64 == BW_SYSCALL_SEEN_MAX);
static_assert((BW_MON_BUF & (BW_MON_BUF - 1)) == 0 && BW_MON_BUF >= 2 * BW_PATH_MAX,
              "path_string.bpf.h masks offsets with BW_MON_BUF - 1 and appends a name to a directory");

static_assert(sizeof(bw_monitor_event) == sizeof(bw_event_header) + 16);
static_assert(offsetof(bw_monitor_event, monitor) == sizeof(bw_event_header));
static_assert(sizeof(bw_mon_file_event) == sizeof(bw_monitor_event) + 16 + 2 * BW_PATH_MAX);
static_assert(offsetof(bw_mon_file_event, path) == sizeof(bw_monitor_event) + 16);
static_assert(sizeof(bw_mon_syscall_event) == sizeof(bw_monitor_event) + 8);
static_assert(sizeof(bw_mon_process_event) == sizeof(bw_monitor_event) + 3 * BW_PATH_MAX);
static_assert(sizeof(bw_mon_connect_event) == sizeof(bw_monitor_event) + 8 + 16);
static_assert(offsetof(bw_mon_connect_event, addr) == sizeof(bw_monitor_event) + 8);

// enum bw_stat (the enforcing side's counters) keeps 0..15.
static_assert(int(BW_STAT_MON_REPORTED) == 16 && int(BW_STAT_AUDITED) < 16);
static_assert(int(BW_STAT_MON_END) <= int(BW_NR_STATS), "every monitor counter fits the stats map");
static_assert(BW_MON_ENTRY_FIRST == 2);
