/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deciding an operation that changes a tree (bpf/lsm/file_ops.bpf.c): the
 * same scope, walk and fold of masks as file_open, at the entry a hook
 * names — a dentry that may not exist yet (a create, the new name of a
 * rename or link), decided by its directory's key plus its name exactly as
 * an exact rule on a file not created yet is. The column decided is one
 * BW_ACCESS_* bit (docs/decisions/009-file-rights.md).
 * Mirrored by decide() in engine/explain/operation.cpp.
 */
#ifndef BULWARK_FILE_OPS_BPF_H
#define BULWARK_FILE_OPS_BPF_H

#include "decide.bpf.h"
#include "events.bpf.h"

#define BW_NAME_DEPTH 32             /* components an event's path names */

/* One end of an operation: an entry and the mount it is seen through
 * (NULL: not known, an inode hook on a filesystem mounted more than once). */
struct bw_end {
	struct dentry *d;
	struct vfsmount *mnt;
};

/* Building an event's path: the components' names, leaf first, then the
 * string, root first. Per CPU: 1.3 KiB is more than the stack holds. */
struct bw_path_scratch {
	__u64 names[BW_NAME_DEPTH];
	char buf[2 * BW_PATH_MAX];   /* writes start below BW_PATH_MAX: bounded */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_path_scratch);
} path_scratch SEC(".maps") __weak;

/* What bw_path_of says of the path it left in path_scratch's buf. */
#define BW_PATH_OF_UNKNOWN   1u      /* the walk met a mount it could not follow */
#define BW_PATH_OF_TRUNCATED 2u      /* the names nearest "/" are left out */
#define BW_PATH_OF_FAILED    4u      /* no scratch: nothing written */

/* The path of the dentry `d` seen through the vfsmount `mnt` (0: not
 * known) as its mount tree names it, into path_scratch's buf. A global
 * function (bpf/lsm/file_ops.bpf.c): its walks are verified once per
 * program, not once per event field and state (issue 14). */
extern __u32 bw_path_of(__u64 d, __u64 mnt);

/* The path of `d` through `mnt` into `out` (BW_PATH_MAX), the failures in
 * `flags`. Probe reads only: callable with plain numbers. */
static __always_inline void bw_put_end_path(__u64 d, __u64 mnt, char *out, __u32 *flags, __u32 truncated,
					    __u32 unknown)
{
	__u32 zero = 0, r = bw_path_of(d, mnt);
	struct bw_path_scratch *s = bpf_map_lookup_elem(&path_scratch, &zero);

	if (!s || (r & BW_PATH_OF_FAILED)) {
		out[0] = '\0';
		*flags |= unknown;
		return;
	}
	if (r & BW_PATH_OF_UNKNOWN)
		*flags |= unknown;
	if (r & BW_PATH_OF_TRUNCATED)
		*flags |= truncated;
	bpf_probe_read_kernel(out, BW_PATH_MAX, s->buf);
}

/* A superblock's mounts: a list through mount.mnt_instance up to 6.12,
 * a chain of mount.mnt_next_for_sb after (vmlinux.h is the newer). */
struct super_block___list {
	struct list_head s_mounts;
} __attribute__((preserve_access_index));

struct mount___list {
	struct list_head mnt_instance;
} __attribute__((preserve_access_index));

/* The task's program, named by the walk: bpf_d_path is not allowed in
 * these hooks (only in sleepable ones). */
static __always_inline void bw_put_exe(struct bw_event_header *h)
{
	/* Probe reads: a global function takes numbers, not kernel pointers
	 * (and on 6.12 a pointer loaded from a trusted one costs the verifier
	 * scans of the kernel's BTF: btf_nested_type_is_trusted). */
	struct file *exe = BPF_CORE_READ(bpf_get_current_task_btf(), mm, exe_file);

	if (!exe) {
		h->flags |= BW_EVENT_EXE_UNKNOWN;
		return;
	}
	bw_put_end_path((__u64)BPF_CORE_READ(exe, f_path.dentry), (__u64)BPF_CORE_READ(exe, f_path.mnt), h->exe,
			&h->flags, BW_EVENT_EXE_UNKNOWN, BW_EVENT_EXE_UNKNOWN);
}

/* The mount of a filesystem mounted exactly once; NULL otherwise. Inode
 * hooks (setxattr) know a dentry but not the mount it was reached through. */
static __always_inline struct vfsmount *bw_sole_mount(struct super_block *sb)
{
	__u64 m;

	if (bpf_core_field_exists(struct mount___list, mnt_instance)) {
		struct super_block___list *l = (void *)sb;
		__u64 head = (__u64)sb + bpf_core_field_offset(struct super_block___list, s_mounts);
		struct list_head *first = BPF_CORE_READ(l, s_mounts.next);

		if (!first || (__u64)first == head || (__u64)BPF_CORE_READ(first, next) != head)
			return NULL;
		m = (__u64)first - bpf_core_field_offset(struct mount___list, mnt_instance);
	} else {
		struct mount *first = BPF_CORE_READ(sb, s_mounts);

		if (!first || BPF_CORE_READ(first, mnt_next_for_sb))
			return NULL;
		m = (__u64)first;
	}
	return (struct vfsmount *)(m + bpf_core_field_offset(struct mount, mnt));
}

/* The file an entry names, by probe reads: zero for a name not created
 * yet (a negative dentry has no inode, and the verifier would take a
 * direct load through d_inode for one that cannot be NULL). */
static __always_inline void bw_entry_facts(struct dentry *d, struct bw_inode_facts *f)
{
	struct inode *inode = BPF_CORE_READ(d, d_inode);

	f->ino = inode ? BPF_CORE_READ(inode, i_ino) : 0;
	f->dev = inode ? BPF_CORE_READ(inode, i_sb, s_dev) : 0;
	f->nlink = inode ? BPF_CORE_READ(inode, __i_nlink) : 0;
	f->mode = inode ? BPF_CORE_READ(inode, i_mode) : 0;
	f->pad = 0;
}

/* The task acts with credentials other than its own: a stacked filesystem
 * (overlayfs) changing its layer's files on the task's behalf (copy-up,
 * the layer's side of chmod, utimes, setxattr) under its mounter's
 * credentials. The change the task asked for was decided on the overlay's
 * dentry; the layer's filesystem is mounted at least twice (its own mount
 * and overlayfs's private clone), so an inode hook finds no sole mount and
 * would fail closed at the layer's root (docs/decisions/013-overlayfs.md). */
static __always_inline bool bw_creds_overridden(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	/* Probe reads: see bw_put_exe. */
	return BPF_CORE_READ(task, cred) != BPF_CORE_READ(task, real_cred);
}

/* bw_file_change's `access`, besides BW_ACCESS_* bits: decide each end
 * also as the directory above everything below it — its own tree key — as
 * a mount on it or an unmount of it changes its whole tree (mounts.bpf.c). */
#define BW_ACCESS_AS_TREE 0x100u

/* The tree key of the directory `d` (a prefix rule on it) into `found`:
 * 1 when there is one. Mounts are rare: no directory filter. */
static __always_inline int bw_tree_key(struct dentry *d, __u32 slot, struct bw_path_rule *found)
{
	__u64 ino = BPF_CORE_READ(d, d_inode, i_ino);
	__u32 dev = BPF_CORE_READ(d, d_sb, s_dev);

	return ino && bw_level_key(slot | BW_LEVEL_DIR_ONLY, dev, ino, 0, found);
}

/* The verdict at one end for column bits `access`. */
static __always_inline int bw_decide_end(const struct bw_policy_set *set, __u32 slot, __u64 in,
					 const struct bw_end *e, __u32 access, struct bw_walk *walk,
					 struct bw_outcome *o)
{
	struct bw_path_query q = { .in = in, .slot = slot, .access = access & ~BW_ACCESS_AS_TREE };

	if ((access & BW_ACCESS_AS_TREE) && bw_tree_key(e->d, slot, &walk->found))
		q.end = BW_WALK_FOUND;
	else
		q.end = bw_walk_dentry(e->d, e->mnt, slot, walk);
	if (q.end == BW_WALK_ROOT && !e->mnt && !bw_creds_overridden()) {
		/* No mount known: the walk stopped at its filesystem's root,
		 * above which a rule could decide: fail closed. */
		bw_count(BW_STAT_WALK_NO_MOUNT);
		bw_fallback_rule(set, true, &walk->found);
		walk->found.entry = BW_ENTRY_NO_MOUNT;
		q.end = BW_WALK_FOUND;
	}
	bw_entry_facts(e->d, &q.inode);
	return bw_decide_path(&q, &walk->found, o);
}

/* What an event says (bw_report_change). The kernel pointers travel as
 * numbers in memory: a global function takes no pointer as a scalar, and
 * reads them only through probe reads. */
struct bw_change_report {
	__u64 from_d, from_mnt;      /* struct dentry *, struct vfsmount * (0: not known) */
	__u64 to_d, to_mnt;          /* rename, link: the new name; else 0 */
	struct bw_outcome o;
	__u32 generation;
	__u32 op;                    /* enum bw_file_op */
	__u32 call;                  /* enum bw_file_call */
	__u32 tamper;                /* decided at bulwark's own file: a BW_KIND_TAMPER record */
};

/* Per CPU: on the stack, it and the walk would pass the 512 bytes that
 * a program and the function it calls share. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_change_report);
} change_scratch SEC(".maps") __weak;

/* A tamper record's fields for a change to one of bulwark's own files
 * (the header, path and target are the caller's). */
static __always_inline void bw_tamper_file_fields(struct bw_tamper_event *e, __u32 op, __u32 call)
{
	e->op = BW_TAMPER_FILE;
	e->target_pid = self_tgid;
	e->signal = 0;
	e->mode = 0;
	e->object_type = 0;
	e->object_id = 0;
	e->call = call;
	e->file_op = (__u8)op;
	e->reserved[0] = e->reserved[1] = e->reserved[2] = 0;
}

/* Reports `r` (bpf/lsm/file_ops.bpf.c). */
extern int bw_report_change(const struct bw_change_report *r);

/* May the current task change bulwark's own files (bpf/lsm/file_ops.bpf.c)?
 * 1: bulwark's parent, PID 1, or a process running bulwark's executable. */
extern int bw_may_change_own(__u32 slot);

/* The verdict `o` was decided at the walk's key, and that key is one of
 * bulwark's own files or trees (BW_ENTRY_PROTECTED, compiled from what
 * bulwark was started with: docs/decisions/011-self-protection.md). */
static __always_inline bool bw_decided_own(const struct bw_walk *walk, const struct bw_outcome *o)
{
	return o->verdict != BW_VERDICT_ALLOW && o->entry == walk->found.entry &&
	       (walk->found.flags & BW_ENTRY_PROTECTED);
}

/*
 * The whole decision of a hook: an operation `op` by `call` on `from`
 * (and, for rename and link, `to`), deciding column bit `access` at each
 * end; the stronger verdict wins, the source's at equal ones (as decide()
 * in engine/explain/operation.cpp). 0 or -EPERM. Decided at one of
 * bulwark's own files, it is tampering: counted and reported as such.
 */
static __always_inline int bw_file_change(const struct bw_end *from, const struct bw_end *to, __u32 access, __u32 op,
					  __u32 call)
{
	const struct bw_policy_set *set;
	struct bw_change_report *r;
	struct bw_outcome o, t;
	struct bw_walk walk;
	__u32 slot = 0, zero = 0;
	__u64 in;

	set = bw_current_set(&slot);
	if (!set)
		return 0;
	in = bw_scope(slot, BW_KIND_FILE);
	if (!in)
		return 0;
	bw_decide_end(set, slot, in, from, access, &walk, &o);
	/* A source that is bulwark's own and only would-deny is final: no
	 * enforcing policy scopes the task for tamper, so none does for file
	 * rules (the same scope), and the target cannot deny. Not walking it
	 * leaves the source's key in `walk` to say whose the verdict is. */
	if (to && o.verdict != BW_VERDICT_DENY && !bw_decided_own(&walk, &o)) {
		bw_decide_end(set, slot, in, to, access, &walk, &t);
		if (t.verdict > o.verdict)
			o = t;
	}
	if (o.verdict == BW_VERDICT_ALLOW)
		return 0;
	r = bpf_map_lookup_elem(&change_scratch, &zero);
	if (!r)
		return o.verdict == BW_VERDICT_DENY ? -1 /* -EPERM */ : 0;
	/* The walk holds the deciding end's key, or (the source decided, the
	 * target walked) another key than o.entry: not bulwark's then. */
	r->tamper = bw_decided_own(&walk, &o);
	if (r->tamper && bw_may_change_own(slot))
		return 0;
	bw_count_verdict(r->tamper ? BW_KIND_TAMPER : BW_KIND_FILE, &o, set->generation);
	if (r->tamper && o.verdict == BW_VERDICT_DENY)
		bw_count(BW_STAT_TAMPER_DENIED);
	r->o = o;
	r->generation = set->generation;
	r->op = op;
	r->call = call;
	r->from_d = (__u64)from->d;
	r->from_mnt = (__u64)from->mnt;
	r->to_d = to ? (__u64)to->d : 0;
	r->to_mnt = to ? (__u64)to->mnt : 0;
	bw_report_change(r);
	return o.verdict == BW_VERDICT_DENY ? -1 /* -EPERM */ : 0;
}

#endif /* BULWARK_FILE_OPS_BPF_H */
