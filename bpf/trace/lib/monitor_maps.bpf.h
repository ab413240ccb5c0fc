/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The maps every monitor object shares (docs/decisions/005-monitors.md).
 * Each monitor declares all of them, so whichever monitors a policy set
 * loads, the engine finds the same maps; the loader creates them once and
 * hands the same fds to every object, monitors and LSM objects alike.
 *
 * Monitor content follows the policy generations (decision 002): the key
 * maps are inner maps of two-slot ARRAY_OF_MAPS, monitor_sets and
 * mon_rule_cfg are indexed by slot, and all are written before live_slot
 * flips. Rate-limit buckets and the per-process "seen" bits are state, not
 * content: they carry the generation they belong to and reset themselves.
 */
#ifndef BULWARK_MONITOR_MAPS_BPF_H
#define BULWARK_MONITOR_MAPS_BPF_H

#include "policy_maps.bpf.h"

/* What each slot's monitors apply to (struct bw_monitor_set). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_SLOTS);
	__type(key, __u32);
	__type(value, struct bw_monitor_set);
} monitor_sets SEC(".maps");

/* Rate and action of every rule: slot * BW_MON_MAX_RULES + rule. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_SLOTS * BW_MON_MAX_RULES);
	__type(key, __u32);
	__type(value, struct bw_mon_rule_cfg);
} mon_rule_cfg SEC(".maps");

/* One rate-limit bucket per rule, shared by all CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_MON_MAX_RULES);
	__type(key, __u32);
	__type(value, struct bw_mon_bucket);
} mon_buckets SEC(".maps");

/* (entry, policy) → the rule that policy reports through. */
BW_SLOTTED(HASH, sizeof(struct bw_mon_rule_key), sizeof(__u32), 0) mon_rule_refs SEC(".maps");

/* [[monitor.file]]: watched paths and trees, one LPM trie over path bytes. */
BW_SLOTTED(LPM_TRIE, sizeof(struct bw_mon_path_key), sizeof(struct bw_mon_match), BPF_F_NO_PREALLOC)
	mon_file_paths SEC(".maps");

/* [monitor.process]: allowed programs and trees (value: policies allowing). */
BW_SLOTTED(LPM_TRIE, sizeof(struct bw_mon_path_key), sizeof(struct bw_mon_match), BPF_F_NO_PREALLOC)
	mon_process_allowed SEC(".maps");

/* [[monitor.connect]], stage 1: (family, address) → network entry. */
BW_SLOTTED(LPM_TRIE, sizeof(struct bw_mon_addr_key), sizeof(struct bw_mon_match), BPF_F_NO_PREALLOC)
	mon_connect_nets SEC(".maps");

/* ... stage 2: (network entry, protocol, port block) → policies and entry. */
BW_SLOTTED(LPM_TRIE, sizeof(struct bw_mon_port_key), sizeof(struct bw_mon_match), BPF_F_NO_PREALLOC)
	mon_connect_ports SEC(".maps");

/* [[monitor.syscalls]]: uid → policies with an allowlist for it. */
BW_SLOTTED(HASH, sizeof(__u32), sizeof(struct bw_mon_match), 0) mon_syscall_uids SEC(".maps");

/* ... (uid, syscall number) → policies allowing it. */
BW_SLOTTED(HASH, sizeof(struct bw_mon_syscall_key), sizeof(__u64), 0)
	mon_syscall_allowed SEC(".maps");

/* Per process: the disallowed syscalls already reported (audit). Task
 * storage dies with the task, so a recycled pid starts clean. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bw_mon_seen);
} mon_seen SEC(".maps");

/*
 * Loop state of the path helpers (path_string.bpf.h). It lives in the map
 * value rather than on the stack on purpose: the verifier knows stack
 * constants, so a bpf_loop callback advancing a stack counter is verified
 * once per possible value; read from a map, the counters are unknown and
 * the callback is verified once.
 */
struct bw_walk_state {
	__u64 d;                     /* struct dentry * of the current level */
	__u64 mnt;                   /* struct mount * it is reached through */
	__u64 root_d, root_mnt;      /* stop here (the task's root); 0: the mount tree's top */
	__u64 top_mnt;               /* the mount the walk ended at */
	__u32 off;                   /* the path so far starts at tmp[off] */
	__u32 flags;                 /* BW_MON_EVENT_PATH_TRUNCATED */
	__u32 done;
	__u32 pad;
};

struct bw_norm_state {
	__u32 r;                     /* next byte read */
	__u32 w;                     /* next byte written (<= r: in place) */
	__u32 depth;                 /* components kept */
	__u32 in_component;
	__u32 done;                  /* 1: finished, 2: too many components */
	__u32 len;                   /* scan: bytes to look at */
	__u64 carry;                 /* scan: 0x80 when the previous word ended in '/' */
};

/* Room to build paths: too large for the 512-byte BPF stack. */
struct bw_mon_scratch {
	struct bw_walk_state walk;
	struct bw_norm_state norm;
	__u32 prefixlen;                 /* with path: an LPM key (struct bw_mon_path_key) */
	char path[BW_MON_BUF];           /* a path being resolved */
	char tmp[BW_MON_BUF];            /* names written backwards by a dentry walk */
	char prog[BW_PATH_MAX];          /* process monitor: the program's path */
	char given[BW_PATH_MAX];         /* a relative name while its directory is walked */
	__u16 starts[64];                /* normalization: where each kept component began */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_mon_scratch);
} mon_scratch SEC(".maps");

#endif /* BULWARK_MONITOR_MAPS_BPF_H */
