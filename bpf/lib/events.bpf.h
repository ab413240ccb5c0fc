/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Filling the common event header. Records are reserved in the ring
 * buffer and written in place; a full buffer is counted, never silent.
 */
#ifndef BULWARK_EVENTS_BPF_H
#define BULWARK_EVENTS_BPF_H

#include <bpf/bpf_core_read.h>

#include "common_maps.bpf.h"
#include "verdict.bpf.h"

#define BW_ENAMETOOLONG 36

/* Reserve a record of `size` bytes, counting the loss when full. */
static __always_inline void *bw_reserve(__u64 size, __u32 verdict)
{
	void *rec = bpf_ringbuf_reserve(&events, size, 0);

	if (!rec) {
		bw_count(BW_STAT_EVENTS_LOST);
		if (verdict == BW_VERDICT_DENY)
			bw_count(BW_STAT_DENY_EVENTS_LOST);
	}
	return rec;
}

/* Write `path` into `buf` (BW_PATH_MAX) and say in `flags` if it failed. */
static __always_inline void bw_put_path(const struct path *path, char *buf, __u32 *flags, __u32 truncated, __u32 unknown)
{
	long n = bpf_d_path((struct path *)path, buf, BW_PATH_MAX);

	if (n < 0) {
		buf[0] = '\0';
		*flags |= n == -BW_ENAMETOOLONG ? truncated : unknown;
	}
}

/* Everything but `exe`: for hooks where bpf_d_path is not allowed. */
static __always_inline void bw_fill_header_fields(struct bw_event_header *h, __u32 kind, const struct bw_outcome *o,
						  __u32 generation)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	h->time_ns = bpf_ktime_get_boot_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->kind = kind;
	h->verdict = o->verdict;
	h->generation = generation;
	h->policy = o->policy;
	h->entry = o->entry;
	h->column = o->column;
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	/* A probe read: on 6.12 every pointer loaded from a trusted one costs
	 * the verifier scans of the kernel's BTF (btf_nested_type_is_trusted). */
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->flags = 0;
	h->suppressed = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	h->exe[0] = '\0';
}

static __always_inline void bw_fill_header(struct bw_event_header *h, __u32 kind, const struct bw_outcome *o,
					   __u32 generation)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mm_struct *mm;
	struct file *exe;

	bw_fill_header_fields(h, kind, o, generation);
	mm = task->mm;
	exe = mm ? mm->exe_file : NULL;
	if (exe)
		bw_put_path(&exe->f_path, h->exe, &h->flags, BW_EVENT_EXE_UNKNOWN, BW_EVENT_EXE_UNKNOWN);
	else
		h->flags |= BW_EVENT_EXE_UNKNOWN;
}

/* One more hit of (generation, o's policy, entry, column, kind, verdict):
 * a lookup and an add on this CPU's value; the first hit of a key inserts
 * it (another CPU may have just done so). A full map is counted, never
 * silent. Not inlined: the key lives in this function's own frame, not in
 * the hook's, whose stack (path_rename decides two ends) is at the
 * verifier's 512-byte limit on 6.1. */
static __noinline void bw_count_rule(const struct bw_outcome *o, __u32 kind, __u32 generation)
{
	struct bw_rule_hit_key key = {
		.generation = generation,
		.policy = o->policy,
		.entry = o->entry,
		.column = (__u8)o->column,
		.kind = (__u8)kind,
		.verdict = (__u8)o->verdict,
	};
	__u64 one = 1, *n = bpf_map_lookup_elem(&rule_hits, &key);
	long err;

	if (n) {
		*n += 1;
		return;
	}
	err = bpf_map_update_elem(&rule_hits, &key, &one, BPF_NOEXIST);
	if (err == -17 /* EEXIST: inserted meanwhile */) {
		n = bpf_map_lookup_elem(&rule_hits, &key);
		if (n)
			*n += 1;
	} else if (err) {
		bw_count(BW_STAT_RULE_HITS_FULL);
	}
}

/* A verdict other than allow: the counter of its verdict, and its rule's. */
static __always_inline void bw_count_verdict(__u32 kind, const struct bw_outcome *o, __u32 generation)
{
	if (o->verdict == BW_VERDICT_DENY)
		bw_count(BW_STAT_DENIED);
	else if (o->verdict == BW_VERDICT_WOULD_DENY)
		bw_count(BW_STAT_WOULD_DENY);
	else if (o->verdict == BW_VERDICT_AUDIT)
		bw_count(BW_STAT_AUDITED);
	bw_count_rule(o, kind, generation);
}

#endif /* BULWARK_EVENTS_BPF_H */
