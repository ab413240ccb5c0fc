/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deciding a program (docs/decisions/003-exec.md). The file being run, or
 * mapped as code, is found by the identity walk of file_open
 * (path_walk.bpf.h): a symlink, a relative path, execveat(fd, "") or
 * /proc/self/fd/N reach the same key as the path a rule names. A program
 * with no name left (memfd_create, a deleted or O_TMPFILE file) is decided
 * by the policies' fileless rules. Mirrored by Evaluator::decide_program.
 */
#ifndef BULWARK_EXEC_BPF_H
#define BULWARK_EXEC_BPF_H

#include "events.bpf.h"
#include "path_walk.bpf.h"
#include "scope.bpf.h"
#include "verdict.bpf.h"

/*
 * The verdict of the policies `in` on `file`, in `column`: BW_COL_EXEC to
 * run it (the exec default applies), BW_COL_MAP to map it as code ([[exec]]
 * rules only). Sets BW_EVENT_FILELESS in `flags` for a program without a
 * name.
 */
/* Room for the fileless masks: with the walk's state, a bw_path_rule on
 * the stack would exceed the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_path_rule);
} fileless_scratch SEC(".maps") __weak;

static __always_inline void bw_decide_program(const struct bw_policy_set *set, __u32 slot, __u64 in,
					      struct file *file, __u32 column, struct bw_outcome *o, __u32 *flags)
{
	struct inode *inode = file->f_inode;
	const struct bw_path_rule *b = NULL;
	struct bw_path_rule *fileless;
	struct bw_walk walk;
	__u32 zero = 0;
	enum bw_walk_end end;

	end = bw_walk(file, slot, &walk);
	if (end != BW_WALK_FOUND) {
		if (end == BW_WALK_TOO_DEEP)
			bw_count(BW_STAT_WALK_TOO_DEEP);
		bw_fallback_rule(set, end == BW_WALK_TOO_DEEP, &walk.found);
	}
	if (inode->i_nlink == 0) {
		/* No name in any directory: policies with a fileless rule decide
		 * by it; the others as for any file (a deleted file's dentry still
		 * has its parent and name, a memfd reaches the root at once). */
		*flags |= BW_EVENT_FILELESS;
		fileless = bpf_map_lookup_elem(&fileless_scratch, &zero);
		if (!fileless) {
			/* Cannot happen (a one-entry per-CPU array): fail closed. */
			bw_fallback_rule(set, true, &walk.found);
			bw_decide(set, in, &walk.found, NULL, 1u << column, o);
			return;
		}
		__builtin_memset(fileless, 0, sizeof(*fileless));
		fileless->deny[BW_COL_EXEC] = fileless->deny[BW_COL_MAP] = set->fileless_deny;
		fileless->audit[BW_COL_EXEC] = fileless->audit[BW_COL_MAP] = set->fileless_audit;
		fileless->entry = set->fileless_entry;
		walk.found.deny[BW_COL_EXEC] &= ~set->fileless;
		walk.found.deny[BW_COL_MAP] &= ~set->fileless;
		walk.found.audit[BW_COL_EXEC] &= ~set->fileless;
		walk.found.audit[BW_COL_MAP] &= ~set->fileless;
		b = fileless;
	} else {
		b = bw_hardlink_backstop(inode, slot);
	}
	bw_decide(set, in, &walk.found, b, 1u << column, o);
}

/* A record for a decided program; the caller fills the header, path, via. */
static __always_inline struct bw_exec_event *bw_exec_event_reserve(const struct bw_outcome *o, __u32 route)
{
	struct bw_exec_event *e = bw_reserve(sizeof(*e), o->verdict);

	if (!e)
		return NULL;
	e->route = route;
	e->reserved = 0;
	e->path[0] = '\0';
	e->via[0] = '\0';
	return e;
}

/* Counters, and the return value of the hook. */
static __always_inline int bw_exec_verdict(const struct bw_outcome *o)
{
	bw_count_verdict(o->verdict);
	if (o->verdict != BW_VERDICT_DENY)
		return 0;
	bw_count(BW_STAT_EXEC_DENIED);
	return -1; /* -EPERM */
}

#endif /* BULWARK_EXEC_BPF_H */
