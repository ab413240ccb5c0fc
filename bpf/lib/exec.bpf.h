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

#include "decide.bpf.h"
#include "events.bpf.h"

/*
 * The verdict of the policies `in` on `file`, in `column`: BW_COL_EXEC to
 * run it (the exec default applies), BW_COL_MAP to map it as code ([[exec]]
 * rules only). Sets BW_EVENT_FILELESS in `flags` for a program without a
 * name (no link left: its policies' fileless rules decide).
 */
static __always_inline void bw_decide_program(__u32 slot, __u64 in, struct file *file, __u32 column,
					      struct bw_outcome *o, __u32 *flags)
{
	struct bw_path_query q;
	struct bw_walk walk;

	bw_path_query_init(&q, in, slot, 1u << column, bw_walk(file, slot, &walk), file->f_inode);
	if (q.inode.nlink == 0) {
		*flags |= BW_EVENT_FILELESS;
		q.fileless = 1;
	}
	bw_decide_path(&q, &walk.found, o);
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
static __always_inline int bw_exec_verdict(const struct bw_outcome *o, __u32 generation)
{
	bw_count_verdict(BW_KIND_EXEC, o, generation);
	if (o->verdict != BW_VERDICT_DENY)
		return 0;
	bw_count(BW_STAT_EXEC_DENIED);
	return -1; /* -EPERM */
}

#endif /* BULWARK_EXEC_BPF_H */
