/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scope first: which policies apply to the current task. A task outside
 * every policy pays for the self check, two array lookups, and a hash
 * lookup per scope key that some applicable policy constrains.
 * Mirrored by Evaluator::policies_in_scope (engine/compile/evaluator.cpp).
 */
#ifndef BULWARK_SCOPE_BPF_H
#define BULWARK_SCOPE_BPF_H

#include "policy_maps.bpf.h"

/* The policy set in force, or NULL when none is (or this is bulwark). */
static __always_inline const struct bw_policy_set *bw_current_set(__u32 *slot)
{
	__u32 zero = 0;
	const struct bw_live *live;

	if ((__u32)(bpf_get_current_pid_tgid() >> 32) == self_tgid)
		return NULL;
	live = bpf_map_lookup_elem(&live_slot, &zero);
	if (!live)
		return NULL;
	*slot = live->slot;
	return bpf_map_lookup_elem(&policy_sets, slot);
}

static __always_inline __u64 bw_uid_scope(const struct bw_policy_set *set, __u32 slot)
{
	__u64 m = set->uid_free;
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	void *uids = bpf_map_lookup_elem(&scope_uids, &slot);
	__u64 *v;

	if (!uids) {
		bw_count(BW_STAT_MAP_MISSING);
		return m;
	}
	v = bpf_map_lookup_elem(uids, &uid);
	return v ? m | *v : m;
}

/* The cgroup levels still to look at (bpf_loop context). */
struct bw_cgroup_walk {
	void *cgroups;               /* the slot's scope_cgroups */
	__u64 levels;                /* the policy set's cgroup_levels */
	__u64 m;                     /* policies in scope so far */
};

/* One level: a callback, verified once rather than once per level. */
static long bw_cgroup_step(__u32 level, struct bw_cgroup_walk *c)
{
	__u64 id, *v;

	if (level >= BW_CGROUP_MAX_LEVEL || !(c->levels >> level))
		return 1;            /* no scoped cgroup at this level or deeper */
	if (!(c->levels & (1ull << level)))
		return 0;
	id = bpf_get_current_ancestor_cgroup_id(level);
	if (!id)
		return 1;
	v = bpf_map_lookup_elem(c->cgroups, &id);
	if (v)
		c->m |= *v;
	return 0;
}

static __always_inline __u64 bw_cgroup_scope(const struct bw_policy_set *set, __u32 slot)
{
	struct bw_cgroup_walk c = { .levels = set->cgroup_levels, .m = set->cgroup_free };

	c.cgroups = bpf_map_lookup_elem(&scope_cgroups, &slot);
	if (!c.cgroups) {
		bw_count(BW_STAT_MAP_MISSING);
		return c.m;
	}
	/* Only the levels where some scoped cgroup sits: usually one lookup. */
	bpf_loop(BW_CGROUP_MAX_LEVEL, bw_cgroup_step, &c, 0);
	return c.m;
}

/* The program the task runs (mm->exe_file), by identity: its own (dev, ino),
 * or, when that misses, its (parent directory, name) — the program after an
 * upgrade replaced it. A symlink or hardlink to the program is the program,
 * a copy is not, and comm (prctl PR_SET_NAME) plays no part. The compiler
 * puts every policy naming a file on that file's inode key, so the name
 * key is only needed when the inode key misses. */
static __always_inline __u64 bw_executable_scope(const struct bw_policy_set *set, __u32 slot)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_inode_key ik = { .role = BW_ROLE_SELF };
	__u64 m = set->executable_free;
	struct mm_struct *mm = task->mm;
	struct bw_name_key *nk;
	struct dentry *d;
	void *inodes, *names;
	struct file *exe;
	__u32 zero = 0;
	__u64 *v;

	if (!mm)                     /* a kernel thread runs no program */
		return m;
	exe = mm->exe_file;
	if (!exe)
		return m;
	inodes = bpf_map_lookup_elem(&scope_exe_inodes, &slot);
	names = bpf_map_lookup_elem(&scope_exe_names, &slot);
	if (!inodes || !names) {
		bw_count(BW_STAT_MAP_MISSING);
		return m;
	}
	ik.ino = exe->f_inode->i_ino;
	ik.dev = exe->f_inode->i_sb->s_dev;
	v = bpf_map_lookup_elem(inodes, &ik);
	if (v)
		return m | *v;
	nk = bpf_map_lookup_elem(&name_scratch, &zero);
	if (!nk)
		return m;
	d = exe->f_path.dentry;
	__builtin_memset(nk, 0, sizeof(*nk));
	nk->parent_ino = d->d_parent->d_inode->i_ino;
	nk->parent_dev = ik.dev;
	nk->role = BW_ROLE_SELF;
	bpf_probe_read_kernel_str(nk->name, sizeof(nk->name), d->d_name.name);
	v = bpf_map_lookup_elem(names, nk);
	return v ? m | *v : m;
}

/* Policies of `kind` whose every scope key holds for the current task. */
static __always_inline __u64 bw_policies_in_scope(const struct bw_policy_set *set, __u32 slot, __u32 kind)
{
	__u64 in;

	if (kind >= BW_NR_ENFORCE_KINDS)
		return 0;
	in = set->applies[kind];
	if (!in)
		return 0;
	if (in & ~set->uid_free) {
		in &= bw_uid_scope(set, slot);
		if (!in)
			return 0;
	}
	if (in & ~set->cgroup_free) {
		in &= bw_cgroup_scope(set, slot);
		if (!in)
			return 0;
	}
	if (in & ~set->executable_free)
		in &= bw_executable_scope(set, slot);
	return in;
}

#endif /* BULWARK_SCOPE_BPF_H */
