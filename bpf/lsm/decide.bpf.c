// SPDX-License-Identifier: GPL-2.0
/*
 * The global functions of decide.bpf.h: one definition in the enforce
 * object, called by every enforcing program.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "decide.bpf.h"
#include "sticky_scope.bpf.h"

char LICENSE[] SEC("license") __weak = "GPL";  /* one per linked object */

/* Room for the fileless masks: with the walk's state, a bw_path_rule on
 * the stack would exceed the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_path_rule);
} fileless_scratch SEC(".maps");

__noinline __u64 bw_scope(__u32 slot, __u32 kind)
{
	const struct bw_policy_set *set = bpf_map_lookup_elem(&policy_sets, &slot);

	if (!set)
		return 0;
	return bw_sticky_policies_in_scope(set, slot, kind);
}

__noinline int bw_level_key(__u32 at, __u32 dev, __u64 parent_ino, __u64 name, struct bw_path_rule *found)
{
	__u32 slot = at & BW_LEVEL_SLOT;
	const struct bw_policy_set *set;
	const struct bw_path_rule *r;
	void *inodes, *names;

	if (!found)
		return 0;
	inodes = bpf_map_lookup_elem(&inode_rules, &slot);
	names = bpf_map_lookup_elem(&name_rules, &slot);
	if (!inodes || !names) {
		/* Cannot happen (the publisher fills both slots): fail closed. */
		bw_count(BW_STAT_MAP_MISSING);
		set = bpf_map_lookup_elem(&policy_sets, &slot);
		if (set) {
			bw_fallback_rule(set, true, found);
		} else {
			__builtin_memset(found, 0xff, sizeof(*found));
			found->entry = BW_ENTRY_TOO_DEEP;
			found->flags = 0;
		}
		return 1;
	}
	if (at & BW_LEVEL_DIR_ONLY)
		name = 0;
	r = bw_lookup_level(inodes, names, bpf_map_lookup_elem(&short_name_rules, &slot), dev, parent_ino,
			    (const unsigned char *)name, at & BW_LEVEL_SELF);
	if (!r)
		return 0;
	__builtin_memcpy(found, r, sizeof(*found));
	return 1;
}

/* A program with no name left (memfd_create, a deleted or O_TMPFILE file):
 * policies with a fileless rule decide by it (in `b`, returned), the
 * others as for any file — a deleted file's dentry still has its parent
 * and name, a memfd reaches the root at once. */
static __always_inline const struct bw_path_rule *bw_fileless_rule(const struct bw_policy_set *set,
								   struct bw_path_rule *found)
{
	struct bw_path_rule *fileless;
	__u32 zero = 0;

	fileless = bpf_map_lookup_elem(&fileless_scratch, &zero);
	if (!fileless) {
		/* Cannot happen (a one-entry per-CPU array): fail closed. */
		bw_fallback_rule(set, true, found);
		return NULL;
	}
	__builtin_memset(fileless, 0, sizeof(*fileless));
	fileless->deny[BW_COL_EXEC] = fileless->deny[BW_COL_MAP] = set->fileless_deny;
	fileless->audit[BW_COL_EXEC] = fileless->audit[BW_COL_MAP] = set->fileless_audit;
	fileless->entry = set->fileless_entry;
	found->deny[BW_COL_EXEC] &= ~set->fileless;
	found->deny[BW_COL_MAP] &= ~set->fileless;
	found->audit[BW_COL_EXEC] &= ~set->fileless;
	found->audit[BW_COL_MAP] &= ~set->fileless;
	return fileless;
}

__noinline int bw_decide_path(const struct bw_path_query *q, struct bw_path_rule *found, struct bw_outcome *o)
{
	const struct bw_policy_set *set;
	const struct bw_path_rule *b;
	__u32 slot;

	if (!q || !found || !o)
		return BW_VERDICT_ALLOW;
	o->verdict = BW_VERDICT_ALLOW;
	o->policy = BW_POLICY_NONE;
	o->column = 0;
	o->entry = BW_ENTRY_NONE;
	slot = q->slot;
	set = bpf_map_lookup_elem(&policy_sets, &slot);
	if (!set)
		return BW_VERDICT_ALLOW;
	if (q->end != BW_WALK_FOUND) {
		/* No key can be found: fail closed, for every policy in scope
		 * that could decide the column (docs/decisions/016). */
		bool closed = q->end == BW_WALK_TOO_DEEP || q->end == BW_WALK_DISCONNECTED;

		if (q->end == BW_WALK_TOO_DEEP)
			bw_count(BW_STAT_WALK_TOO_DEEP);
		if (q->end == BW_WALK_DISCONNECTED)
			bw_count(BW_STAT_WALK_DISCONNECTED);
		bw_fallback_rule(set, closed, found);
		if (q->end == BW_WALK_DISCONNECTED)
			found->entry = BW_ENTRY_DISCONNECTED;
	}
	b = q->fileless ? bw_fileless_rule(set, found) : bw_hardlink_backstop(&q->inode, slot);
	bw_decide(set, q->in, found, b, q->access, o);
	return o->verdict;
}
