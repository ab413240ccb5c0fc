// SPDX-License-Identifier: GPL-2.0
/*
 * monitor_syscalls: per-user syscall allowlists ([[monitor.syscalls]]).
 * A task whose uid has an allowlist and that makes any other syscall is
 * reported — the first use of each such syscall per process, so a loop
 * does not flood — or, with action = "kill", sent SIGKILL.
 *
 * This observes; it does not deny. The chapter returned -EPERM from a
 * tracepoint, which the kernel ignores, and kept the allowlist in a 64-bit
 * bitmap that cannot name syscalls past 63. Here any syscall number is a
 * key of a hash map, and "kill" is a response: the signal is sent from the
 * raw sys_enter tracepoint, the syscall it interrupts still runs to
 * completion, and the task dies on its way back to user space. Denying a
 * syscall is seccomp's job.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lib/monitor.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define BW_SIGKILL 9
#define BW_X32_SYSCALL_BIT 0x40000000u
#define BW_TS_COMPAT 0x0002u         /* thread_info.status: an ia32 syscall is running */

/* Has this process reported `nr` already? Marks it if not. Per process:
 * the storage hangs off the thread group leader. */
static __always_inline bool already_reported(struct task_struct *task, __u32 nr, __u32 generation)
{
	struct bw_mon_seen *seen;
	__u32 bit = nr < BW_SYSCALL_SEEN_MAX ? nr : BW_SYSCALL_SEEN_MAX - 1;
	__u64 mask = 1ull << (bit & 63), old;

	seen = bpf_task_storage_get(&mon_seen, task->group_leader, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!seen)
		return false;            /* no memory: report rather than stay silent */
	if (seen->generation != generation) {
		/* A new policy set may allow or forbid other syscalls. */
		__builtin_memset(seen->bits, 0, sizeof(seen->bits));
		seen->generation = generation;
	}
	old = __sync_fetch_and_or(&seen->bits[(bit / 64) & (BW_SYSCALL_SEEN_WORDS - 1)], mask);
	return old & mask;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(bw_mon_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_mon_syscall_key key;
	struct bw_mon_syscall_event *e;
	const struct bw_mon_match *m;
	const __u64 *allowed;
	struct bw_mon_ctx c;
	struct bw_mon_hit h;
	void *uids, *allow;
	__u64 in, bad, kill;
	__u32 abi = BW_ABI_X86_64;

	in = bw_mon_applies(BW_MON_SYSCALLS, &c);
	if (!in)
		return 0;
	uids = bpf_map_lookup_elem(&mon_syscall_uids, &c.slot);
	allow = bpf_map_lookup_elem(&mon_syscall_allowed, &c.slot);
	if (!uids || !allow) {
		bw_count(BW_STAT_MAP_MISSING);
		return 0;
	}
	key.uid = (__u32)bpf_get_current_uid_gid();
	key.nr = (__u32)id;
	m = bpf_map_lookup_elem(uids, &key.uid);
	if (!m)
		return 0;
	in = bw_mon_scope(&c, in & m->policies);
	if (!in)
		return 0;

	/* Numbers mean x86_64 syscalls only in a 64-bit syscall: from another
	 * ABI nothing is allowed (names were resolved for x86_64). */
	if (key.nr & BW_X32_SYSCALL_BIT)
		abi = BW_ABI_X32;
	else if (task->thread_info.status & BW_TS_COMPAT)
		abi = BW_ABI_IA32;
	allowed = abi == BW_ABI_X86_64 ? bpf_map_lookup_elem(allow, &key) : NULL;
	bad = in & ~(allowed ? *allowed : 0);
	if (!bad)
		return 0;

	kill = bad & m->act;
	if (kill) {
		/* Act first: nothing below may stand between the syscall and
		 * the signal. bpf_send_signal targets the whole process. */
		if (!bw_mon_rule(&c, m->entry, bw_lowest_bit(kill), &h))
			return 0;
		if (bpf_send_signal(BW_SIGKILL) == 0)
			bw_count(BW_STAT_MON_KILLED);
		else
			bw_count(BW_STAT_MON_KILL_FAILED);
	} else {
		if (!bw_mon_rule(&c, m->entry, bw_lowest_bit(bad), &h))
			return 0;
		if (already_reported(task, key.nr, c.generation))
			return 0;
	}
	if (!bw_mon_admit(&c, &h))
		return 0;
	e = bw_mon_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->nr = key.nr;
	e->abi = abi;
	bw_mon_fill(&e->m, &c, &h, BW_MON_SYSCALLS, 0, bw_mon_scratch(), true);
	bw_mon_submit(e);
	return 0;
}
