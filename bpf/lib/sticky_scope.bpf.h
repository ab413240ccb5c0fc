/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sticky scope (docs/decisions/012-sticky-scope.md): a process that has
 * matched a scope key — a scoped cgroup, uid or program — keeps it. The
 * keys live in task local storage (struct bw_task_marks) on the process's
 * thread-group leader, written only here: when a hook first sees the task
 * under a generation, when it forks (the child gets the parent's marks and
 * what the parent is now), before it execs or changes uids (what it was),
 * and when it is moved into a cgroup (what it enters). Scope is then what
 * the task is now OR what it has been, per dimension, so leaving a cgroup,
 * dropping a uid or exec'ing another program takes nothing away.
 *
 * Used by the BPF-LSM programs only (bw_scope, bpf/lsm/decide.bpf.c); the
 * cgroup socket backend decides from what the task is now.
 */
#ifndef BULWARK_STICKY_SCOPE_BPF_H
#define BULWARK_STICKY_SCOPE_BPF_H

#include "scope.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bw_task_marks);
} task_marks SEC(".maps") __weak;

/* The marks of `task`'s process, created empty when `create`. */
static __always_inline struct bw_task_marks *bw_marks_of(struct task_struct *task, int create)
{
	return bpf_task_storage_get(&task_marks, task->group_leader, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline void bw_mark_cgroup(struct bw_task_marks *mk, __u64 id)
{
	for (int i = 0; i < BW_MARK_CGROUPS; i++) {
		if (mk->cgroups[i] == id)
			return;
		if (!mk->cgroups[i]) {
			mk->cgroups[i] = id;
			return;
		}
	}
	mk->full |= BW_MARK_FULL_CGROUP;
}

static __always_inline void bw_mark_uid(struct bw_task_marks *mk, __u32 uid)
{
	for (int i = 0; i < BW_MARK_UIDS; i++) {
		if (mk->uids[i] == uid + 1)
			return;
		if (!mk->uids[i]) {
			mk->uids[i] = uid + 1;
			return;
		}
	}
	mk->full |= BW_MARK_FULL_UID;
}

static __always_inline void bw_mark_exe(struct bw_task_marks *mk, const struct bw_inode_key *k)
{
	for (int i = 0; i < BW_MARK_EXES; i++) {
		if (mk->exes[i].ino == k->ino && mk->exes[i].dev == k->dev)
			return;
		if (!mk->exes[i].ino) {
			mk->exes[i] = *k;
			return;
		}
	}
	mk->full |= BW_MARK_FULL_EXE;
}

/* One cgroup level, walking up from a leaf by parent pointers (bpf_loop
 * context): the leaf may be another task's, or the one it is moving to. */
struct bw_cgroup_marking {
	void *cgroups;               /* the slot's scope_cgroups */
	__u64 levels;                /* the policy set's cgroup_levels */
	__u64 cgroup;                /* struct cgroup * to look at next */
	struct bw_task_marks *mk;
};

static long bw_mark_cgroup_step(__u32 i, struct bw_cgroup_marking *c)
{
	struct cgroup *cg = (struct cgroup *)c->cgroup;
	struct cgroup_subsys_state *parent;
	__u64 id;
	int level;

	if (!cg)
		return 1;
	level = BPF_CORE_READ(cg, level);
	if (level < 0 || level >= BW_CGROUP_MAX_LEVEL)
		return 1;
	if (!(c->levels >> level))
		goto up;             /* no scoped cgroup this deep */
	if (c->levels & (1ull << level)) {
		id = BPF_CORE_READ(cg, kn, id);
		if (id && bpf_map_lookup_elem(c->cgroups, &id))
			bw_mark_cgroup(c->mk, id);
	}
up:
	if (!level)
		return 1;
	parent = BPF_CORE_READ(cg, self.parent);
	c->cgroup = parent ? (__u64)parent - bpf_core_field_offset(struct cgroup, self) : 0;
	return 0;
}

/* Mark in `mk` the scope keys of the live set that `task` matches now, its
 * cgroup being `cgroup` (its own, or the one it is being moved to). */
static __always_inline void bw_mark_task(const struct bw_policy_set *set, __u32 slot, struct task_struct *task,
					 struct cgroup *cgroup, struct bw_task_marks *mk)
{
	struct bw_cgroup_marking c = { .levels = set->cgroup_levels, .cgroup = (__u64)cgroup, .mk = mk };
	struct bw_inode_key ik = { .role = BW_ROLE_SELF };
	void *uids, *inodes;
	struct file *exe;
	__u32 uid;

	uids = bpf_map_lookup_elem(&scope_uids, &slot);
	if (uids && ~set->uid_free & set->active) {
		uid = BPF_CORE_READ(task, cred, uid.val);
		if (bpf_map_lookup_elem(uids, &uid))
			bw_mark_uid(mk, uid);
	}
	c.cgroups = bpf_map_lookup_elem(&scope_cgroups, &slot);
	if (c.cgroups && c.levels)
		bpf_loop(BW_CGROUP_MAX_LEVEL, bw_mark_cgroup_step, &c, 0);
	inodes = bpf_map_lookup_elem(&scope_exe_inodes, &slot);
	if (!inodes || !(~set->executable_free & set->active))
		return;
	exe = BPF_CORE_READ(task, mm, exe_file);
	if (!exe)
		return;              /* a kernel thread runs no program */
	ik.ino = BPF_CORE_READ(exe, f_inode, i_ino);
	ik.dev = BPF_CORE_READ(exe, f_inode, i_sb, s_dev);
	if (bpf_map_lookup_elem(inodes, &ik))
		bw_mark_exe(mk, &ik);
}

/* The current task's cgroup v2 cgroup. */
static __always_inline struct cgroup *bw_task_cgroup(struct task_struct *task)
{
	return BPF_CORE_READ(task, cgroups, dfl_cgrp);
}

/* Policies whose keys of each dimension the marks hold. */
static __always_inline __u64 bw_marked_uids(const struct bw_task_marks *mk, __u32 slot)
{
	__u64 m = 0, *v;
	void *uids;
	__u32 uid;

	if (mk->full & BW_MARK_FULL_UID)
		return ~0ull;
	if (!mk->uids[0])
		return 0;            /* never matched a scoped uid */
	uids = bpf_map_lookup_elem(&scope_uids, &slot);
	if (!uids)
		return 0;
	for (int i = 0; i < BW_MARK_UIDS; i++) {
		if (!mk->uids[i])
			break;
		uid = mk->uids[i] - 1;
		v = bpf_map_lookup_elem(uids, &uid);
		if (v)
			m |= *v;
	}
	return m;
}

static __always_inline __u64 bw_marked_cgroups(const struct bw_task_marks *mk, __u32 slot)
{
	__u64 m = 0, *v, id;
	void *cgroups;

	if (mk->full & BW_MARK_FULL_CGROUP)
		return ~0ull;
	if (!mk->cgroups[0])
		return 0;            /* never in a scoped cgroup */
	cgroups = bpf_map_lookup_elem(&scope_cgroups, &slot);
	if (!cgroups)
		return 0;
	for (int i = 0; i < BW_MARK_CGROUPS; i++) {
		id = mk->cgroups[i];
		if (!id)
			break;
		v = bpf_map_lookup_elem(cgroups, &id);
		if (v)
			m |= *v;
	}
	return m;
}

static __always_inline __u64 bw_marked_exes(const struct bw_task_marks *mk, __u32 slot)
{
	struct bw_inode_key k;
	__u64 m = 0, *v;
	void *inodes;

	if (mk->full & BW_MARK_FULL_EXE)
		return ~0ull;
	if (!mk->exes[0].ino)
		return 0;            /* never ran a scoped program */
	inodes = bpf_map_lookup_elem(&scope_exe_inodes, &slot);
	if (!inodes)
		return 0;
	for (int i = 0; i < BW_MARK_EXES; i++) {
		if (!mk->exes[i].ino)
			break;
		k = mk->exes[i];
		v = bpf_map_lookup_elem(inodes, &k);
		if (v)
			m |= *v;
	}
	return m;
}

/* Policies of `kind` in whose scope the current task is, or has been. */
static __always_inline __u64 bw_sticky_policies_in_scope(const struct bw_policy_set *set, __u32 slot, __u32 kind)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_task_marks *mk;
	__u64 in, now;

	if (kind >= BW_NR_ENFORCE_KINDS)
		return 0;
	in = set->applies[kind];
	if (!in || !(in & ~(set->uid_free & set->cgroup_free & set->executable_free)))
		return in;           /* no policy of this kind has a scope */
	mk = bw_marks_of(task, 1);
	if (!mk)                     /* no memory: what the task is now */
		return bw_policies_in_scope(set, slot, kind);
	/* First sight under this generation: what the task is now becomes
	 * what it has been (a process that was here before bulwark, or before
	 * the reload that scoped it). */
	if (mk->seen != set->generation + 1) {
		bw_mark_task(set, slot, task, bw_task_cgroup(task), mk);
		mk->seen = set->generation + 1;
	}
	/* What the task is now first; the marks only for the policies that
	 * leaves out (a task in scope now reads no mark). */
	if (in & ~set->uid_free) {
		now = bw_uid_scope(set, slot);
		if (in & ~now)
			now |= bw_marked_uids(mk, slot);
		in &= now;
		if (!in)
			return 0;
	}
	if (in & ~set->cgroup_free) {
		now = bw_cgroup_scope(set, slot);
		if (in & ~now)
			now |= bw_marked_cgroups(mk, slot);
		in &= now;
		if (!in)
			return 0;
	}
	if (in & ~set->executable_free) {
		now = bw_executable_scope(set, slot);
		if (in & ~now)
			now |= bw_marked_exes(mk, slot);
		in &= now;
	}
	return in;
}

#endif /* BULWARK_STICKY_SCOPE_BPF_H */
