// SPDX-License-Identifier: GPL-2.0
/*
 * The moments a process could leave a scope, each marking what it was
 * (or, for a cgroup move, what it enters) so that it cannot
 * (bpf/lib/sticky_scope.bpf.h, docs/decisions/012-sticky-scope.md). None
 * of these programs denies anything: they return what the LSMs before
 * them decided.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sticky_scope.bpf.h"

char LICENSE[] SEC("license") __weak = "GPL";  /* one per linked object */

#define BW_CLONE_THREAD 0x00010000   /* include/uapi/linux/sched.h */

/* The live set, when some policy in it has a scope. */
static __always_inline const struct bw_policy_set *scoped_set(__u32 *slot)
{
	const struct bw_policy_set *set = bw_current_set(slot);

	if (!set || !(set->active & ~(set->uid_free & set->cgroup_free & set->executable_free)))
		return NULL;
	return set;
}

/* Mark the current process with what it is now. */
static __always_inline void mark_current(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct bw_policy_set *set;
	struct bw_task_marks *mk;
	__u32 slot = 0;

	set = scoped_set(&slot);
	if (!set)
		return;
	mk = bw_marks_of(task, 1);
	if (mk)
		bw_mark_task(set, slot, task, bw_task_cgroup(task), mk);
}

/* task_alloc: a new process starts with its parent's marks and what the
 * parent is now — children of a scoped process are in its scope. Threads
 * share their leader's marks and need nothing. */
SEC("lsm/task_alloc")
int BPF_PROG(bulwark_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	struct task_struct *parent = bpf_get_current_task_btf();
	const struct bw_policy_set *set;
	struct bw_task_marks *from, *mk;
	__u32 slot = 0;

	if (ret)
		return ret;
	if (clone_flags & BW_CLONE_THREAD)
		return 0;
	set = scoped_set(&slot);
	if (!set)
		return 0;
	/* The child is not its own group leader until later in fork: its
	 * storage is its own from the start. */
	mk = bpf_task_storage_get(&task_marks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!mk)
		return 0;
	from = bw_marks_of(parent, 0);
	if (from)
		__builtin_memcpy(mk, from, sizeof(*mk));
	bw_mark_task(set, slot, parent, bw_task_cgroup(parent), mk);
	mk->seen = set->generation + 1;
	return 0;
}

/* bprm_creds_for_exec: before a process becomes another program, mark the
 * program (and uid, cgroup) it was — a shell spawned by a scoped server
 * stays in the server's scope. A thread other than the leader that execs
 * becomes the leader: give it the process's marks first. */
SEC("lsm/bprm_creds_for_exec")
int BPF_PROG(bulwark_bprm_creds_for_exec, struct linux_binprm *bprm, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct bw_policy_set *set;
	struct bw_task_marks *from, *mk;
	__u32 slot = 0;

	if (ret)
		return ret;
	set = scoped_set(&slot);
	if (!set)
		return 0;
	mk = bw_marks_of(task, 1);
	if (!mk)
		return 0;
	bw_mark_task(set, slot, task, bw_task_cgroup(task), mk);
	if (task->group_leader == task)
		return 0;
	from = mk;
	mk = bpf_task_storage_get(&task_marks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (mk)
		__builtin_memcpy(mk, from, sizeof(*mk));
	return 0;
}

/* task_fix_setuid: before setuid(2) and friends take effect (the task's
 * credentials are still the old ones), mark the uid it had. */
SEC("lsm/task_fix_setuid")
int BPF_PROG(bulwark_task_fix_setuid, struct cred *new, const struct cred *old, int flags, int ret)
{
	if (ret)
		return ret;
	mark_current();
	return 0;
}

/* cgroup_attach_task (a tracepoint: no LSM hook sees a cgroup move): the
 * moved process is marked with the scoped cgroups it now sits in, so that
 * moving out again later leaves them marked. */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(bulwark_cgroup_attach_task, struct cgroup *dst, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	const struct bw_policy_set *set;
	struct bw_task_marks *mk;
	__u32 slot = 0;

	if ((__u32)BPF_CORE_READ(task, tgid) == self_tgid)
		return 0;
	set = scoped_set(&slot);
	if (!set || !set->cgroup_levels)
		return 0;
	mk = bw_marks_of(task, 1);
	if (mk)
		bw_mark_task(set, slot, task, dst, mk);
	return 0;
}
