/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The maps every bulwark BPF object shares, enforcing or monitoring: the
 * event ring buffer and the statistics counters. Declared by each object,
 * created once by the loader and reused by the others.
 *
 * Every map and global in bpf/lib is __weak: the enforcing sources
 * (bpf/lsm/) are linked into one object (bpftool gen object), where each
 * source's copy of a definition is the same map.
 */
#ifndef BULWARK_COMMON_MAPS_BPF_H
#define BULWARK_COMMON_MAPS_BPF_H

#include "bulwark/abi.h"
#include <bpf/bpf_helpers.h>  /* __weak */

/* Verdict records for the engine. Sized by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps") __weak;

/* enum bw_stat counters. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BW_NR_STATS);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps") __weak;

/* Per-rule hit counters (struct bw_rule_hit_key). Allocated on a rule's
 * first hit of a generation, not preallocated: memory follows the rules
 * that fire, not the rules that exist. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, BW_MAX_RULE_HITS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bw_rule_hit_key);
	__type(value, __u64);
} rule_hits SEC(".maps") __weak;

/* bulwark's own thread group: never denied, never reported. */
const volatile __u32 self_tgid __weak = 0;

/* Who started bulwark (initial PID namespace; 0: not known): it keeps the
 * control it had over bulwark's own files (bpf/lsm/file_ops.bpf.c). */
const volatile __u32 self_parent_tgid __weak = 0;

/* A function of its own, not inlined: each map lookup site in a program
 * costs 6.12's verifier a patch of the whole program (the lookup is
 * inlined), and bw_count is called from dozens of places (issue 14). */
static __noinline __attribute__((unused)) void bw_count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&stats, &stat);

	if (n)
		*n += 1;
}

#endif /* BULWARK_COMMON_MAPS_BPF_H */
