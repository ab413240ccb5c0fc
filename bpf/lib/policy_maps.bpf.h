/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The policy maps the enforcing (LSM) objects share. Each object declares
 * them; the loader creates them once and hands the same fds to every object
 * (bpf_map__reuse_fd), so file, exec and connect hooks see one policy set.
 *
 * Generations (docs/decisions/002-generations.md): the rule and scope maps
 * are inner maps of two-slot ARRAY_OF_MAPS. The engine fills the slot that
 * is not live, then flips live_slot with one write: a hook reads the slot
 * once and sees either the old set or the new one, never a mix.
 *
 * Inner map templates give key_size/value_size rather than __type():
 * types used only inside them would reach BTF as forward declarations.
 */
#ifndef BULWARK_POLICY_MAPS_BPF_H
#define BULWARK_POLICY_MAPS_BPF_H

#include "common_maps.bpf.h"

/* A two-slot ARRAY_OF_MAPS whose inner maps are BPF_MAP_TYPE_<inner> with
 * the given key and value sizes and map_flags (the engine creates the real
 * inner maps, sized to their contents, with the same four). */
#define BW_SLOTTED(inner, key_size_, value_size_, flags_)            \
	struct {                                                     \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);            \
		__uint(max_entries, BW_SLOTS);                       \
		__type(key, __u32);                                  \
		__array(values, struct {                             \
			__uint(type, BPF_MAP_TYPE_##inner);          \
			__uint(max_entries, 1);                      \
			__uint(map_flags, flags_);                   \
			__uint(key_size, key_size_);                 \
			__uint(value_size, value_size_);             \
		});                                                  \
	}

/* Which slot is in force (index 0 only). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_live);
} live_slot SEC(".maps") __weak;

/* The policy set of each slot: masks a hook reads before any rule map. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_SLOTS);
	__type(key, __u32);
	__type(value, struct bw_policy_set);
} policy_sets SEC(".maps") __weak;

/* Directories (prefix rules) and files (hardlink backstop) by identity. */
BW_SLOTTED(HASH, sizeof(struct bw_inode_key), sizeof(struct bw_path_rule), 0)
	inode_rules SEC(".maps") __weak;

/* Names under a directory: exact rules, and trees that did not exist yet. */
BW_SLOTTED(HASH, sizeof(struct bw_name_key), sizeof(struct bw_path_rule), 0)
	name_rules SEC(".maps") __weak;

/* The same, for names of at most BW_SHORT_NAME_MAX - 2 characters (those
 * are not in name_rules): 40 bytes of key to hash instead of 272. A slot
 * without one (pins of a bulwark before it) has every name in name_rules. */
BW_SLOTTED(HASH, sizeof(struct bw_short_name_key), sizeof(struct bw_path_rule), 0)
	short_name_rules SEC(".maps") __weak;

/* uid → policies scoped to it. */
BW_SLOTTED(HASH, sizeof(__u32), sizeof(__u64), 0) scope_uids SEC(".maps") __weak;

/* cgroup v2 id → policies scoped to it (and its descendants). */
BW_SLOTTED(HASH, sizeof(__u64), sizeof(__u64), 0) scope_cgroups SEC(".maps") __weak;

/* [scope] executable: the program a task runs (mm->exe_file) by identity,
 * never by comm or path string. The file itself, role SELF ... */
BW_SLOTTED(HASH, sizeof(struct bw_inode_key), sizeof(__u64), 0) scope_exe_inodes SEC(".maps") __weak;

/* ... and its (parent directory, name), role SELF: a program replaced by an
 * upgrade (rename over it) keeps its scope. */
BW_SLOTTED(HASH, sizeof(struct bw_name_key), sizeof(__u64), 0) scope_exe_names SEC(".maps") __weak;

/* Connect rules by destination (docs/decisions/004-connect-maps.md):
 * IPv4 CIDRs (and IPv4-mapped IPv6 destinations) ... */
BW_SLOTTED(LPM_TRIE, sizeof(struct bw_cidr4_key), sizeof(struct bw_connect_rule), BPF_F_NO_PREALLOC)
	connect_v4 SEC(".maps") __weak;

/* ... IPv6 CIDRs ... */
BW_SLOTTED(LPM_TRIE, sizeof(struct bw_cidr6_key), sizeof(struct bw_connect_rule), BPF_F_NO_PREALLOC)
	connect_v6 SEC(".maps") __weak;

/* ... and, for CIDR entries whose verdict depends on protocol or port,
 * (entry, protocol, port block) → verdict. */
BW_SLOTTED(LPM_TRIE, sizeof(struct bw_port_key), sizeof(struct bw_connect_rule), BPF_F_NO_PREALLOC)
	connect_ports SEC(".maps") __weak;

/* Room for one name key: too large for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_name_key);
} name_scratch SEC(".maps") __weak;

#endif /* BULWARK_POLICY_MAPS_BPF_H */
