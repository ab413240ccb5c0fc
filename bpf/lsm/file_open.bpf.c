// SPDX-License-Identifier: GPL-2.0
/*
 * file_open: deny opening a file for reading or writing when an enforcing
 * policy in scope says so; report denials, would-be denials and audit
 * matches. Runs after DAC and the other LSMs (ret) and for every open that
 * yields a file — including reopening through /proc/self/fd/N — so one
 * hook covers every way to name a file.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "file_ops.bpf.h"  /* bw_decided_own, bw_may_change_own */

/* fmode_t bits (include/linux/fs.h); stable since the first git import. */
#define BW_FMODE_READ  0x1u
#define BW_FMODE_WRITE 0x2u

char LICENSE[] SEC("license") __weak = "GPL";  /* one per linked object */

/* MNT_NS_INTERNAL (fs/mount.h): the namespace of a kernel-internal mount,
 * such as clone_private_mount()'s, which overlayfs makes of every layer. */
#define BW_MNT_NS_INTERNAL ((__u64)-22 /* ERR_PTR(-EINVAL) */)

/*
 * A stacked filesystem's own open of the file behind the one the process
 * opened: overlayfs opens the layer's file (upper or lower) inside its
 * ->open, after this hook has decided the overlay's file, under its
 * mounter's credentials. Up to 6.5 it is a "fake path" file (f_path the
 * overlay's, f_inode the layer's); from 6.6 a backing file (f_path the
 * layer's own, on overlayfs's private clone of the layer's mount). The
 * process's open was decided on the file it named; deciding the kernel's
 * as well would report it twice (6.1) or judge it by the layer's path
 * (6.6+): docs/decisions/013-overlayfs.md. No FMODE_BACKING test: its bit
 * moved between releases.
 */
static __always_inline bool stacked_open(struct file *file)
{
	struct task_struct *task;
	struct mount *m;

	if (file->f_inode != file->f_path.dentry->d_inode)
		return true;
	task = bpf_get_current_task_btf();
	if (task->cred == task->real_cred)
		return false;
	m = (struct mount *)bw_real_mount(file->f_path.mnt);
	return (__u64)BPF_CORE_READ(m, mnt_ns) == BW_MNT_NS_INTERNAL;
}

static __always_inline void report(struct file *file, const struct bw_outcome *o, __u32 access,
				   const struct bw_policy_set *set)
{
	struct bw_file_event *e = bw_reserve(sizeof(*e), o->verdict);

	if (!e)
		return;
	bw_fill_header(&e->h, BW_KIND_FILE, o, set->generation);
	e->access = access;
	e->op = BW_OP_OPEN;
	e->call = BW_FCALL_OPEN;
	e->reserved = 0;
	e->target[0] = '\0';
	bw_put_path(&file->f_path, e->path, &e->h.flags, BW_EVENT_PATH_TRUNCATED, BW_EVENT_PATH_UNKNOWN);
	bpf_ringbuf_submit(e, 0);
}

/* Opening one of bulwark's own files for writing (a policy file, its
 * executable): tampering, reported as what was tried on what. */
static __always_inline void report_tamper(struct file *file, const struct bw_outcome *o,
					  const struct bw_policy_set *set)
{
	struct bw_tamper_event *e = bw_reserve(sizeof(*e), o->verdict);

	if (!e)
		return;
	bw_fill_header(&e->h, BW_KIND_TAMPER, o, set->generation);
	bw_tamper_file_fields(e, BW_OP_OPEN, BW_FCALL_OPEN);
	e->target[0] = '\0';
	bw_put_path(&file->f_path, e->path, &e->h.flags, BW_EVENT_PATH_TRUNCATED, BW_EVENT_PATH_UNKNOWN);
	bpf_ringbuf_submit(e, 0);
}

SEC("lsm/file_open")
int BPF_PROG(bulwark_file_open, struct file *file, int ret)
{
	const struct bw_policy_set *set;
	struct bw_path_query q;
	struct bw_walk walk;
	struct bw_outcome o;
	__u32 slot = 0, access = 0;
	__u64 in;

	if (ret)
		return ret;
	if (stacked_open(file))
		return 0;
	set = bw_current_set(&slot);
	if (!set)
		return 0;
	in = bw_scope(slot, BW_KIND_FILE);
	if (!in)
		return 0;

	if (file->f_mode & BW_FMODE_READ)
		access |= BW_ACCESS_READ;
	if (file->f_mode & BW_FMODE_WRITE)
		access |= BW_ACCESS_WRITE;
	if (!access)
		return 0;

	bw_path_query_init(&q, in, slot, access, bw_walk(file, slot, &walk), file->f_inode);
	if (bw_decide_path(&q, &walk.found, &o) == BW_VERDICT_ALLOW)
		return 0;
	if (o.column != BW_COL_READ && bw_decided_own(&walk, &o)) {
		if (bw_may_change_own(slot))
			return 0;
		bw_count_verdict(BW_KIND_TAMPER, &o, set->generation);
		if (o.verdict == BW_VERDICT_DENY)
			bw_count(BW_STAT_TAMPER_DENIED);
		report_tamper(file, &o, set);
	} else {
		bw_count_verdict(BW_KIND_FILE, &o, set->generation);
		report(file, &o, access, set);
	}
	return o.verdict == BW_VERDICT_DENY ? -1 /* -EPERM */ : 0;
}
