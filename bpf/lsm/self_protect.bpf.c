// SPDX-License-Identifier: GPL-2.0
/*
 * bulwark protecting itself (docs/decisions/011-self-protection.md): a
 * process in the scope of a policy that decides something cannot signal
 * bulwark or look into it with ptrace's access checks. An enforcing
 * policy denies (EPERM), an audit-mode one reports would-deny; each
 * attempt is a BW_KIND_TAMPER record saying what was tried and at whom.
 *
 * Never in scope here: bulwark's own threads (bw_current_set), PID 1 (the
 * service manager must be able to stop and restart bulwark, and shut the
 * machine down) and bulwark's parent (whoever started it — systemd, or the
 * shell or test that ran `bulwark run` — keeps the control it had).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "file_ops.bpf.h"  /* bw_put_exe */

/* PTRACE_MODE_* (include/linux/ptrace.h); stable since 4.5. */
#define BW_PTRACE_MODE_ATTACH  0x02u
#define BW_PTRACE_MODE_NOAUDIT 0x04u
#define BW_PTRACE_MODE_FSCREDS 0x08u

char LICENSE[] SEC("license") __weak = "GPL";  /* one per linked object */

/* The verdict on the current task touching bulwark, whose thread `target`
 * is: from the policies in scope for tamper (bw_scope, sticky as for every
 * kind). Fills `o`; *set is the live set when some policy decided. */
static __always_inline __u32 decide(struct task_struct *target, const struct bw_policy_set **set,
				    struct bw_outcome *o)
{
	__u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	__u32 slot = 0;
	__u64 in;

	o->verdict = BW_VERDICT_ALLOW;
	if ((__u32)target->tgid != self_tgid || !self_tgid)
		return BW_VERDICT_ALLOW;
	if (tgid == 1 || tgid == (__u32)target->real_parent->tgid)
		return BW_VERDICT_ALLOW;
	*set = bw_current_set(&slot);           /* NULL for bulwark's own threads */
	if (!*set)
		return BW_VERDICT_ALLOW;
	in = bw_scope(slot, BW_KIND_TAMPER);
	if (!in)
		return BW_VERDICT_ALLOW;
	o->column = BW_COL_TAMPER;
	o->entry = BW_ENTRY_NONE;           /* decided by scope alone: the [policy] table */
	if (in & (*set)->enforcing) {
		o->verdict = BW_VERDICT_DENY;
		o->policy = bw_lowest_bit(in & (*set)->enforcing);
	} else {
		o->verdict = BW_VERDICT_WOULD_DENY;
		o->policy = bw_lowest_bit(in);
	}
	bw_count_verdict(BW_KIND_TAMPER, o, (*set)->generation);
	return o->verdict;
}

/* What the hook returns once `o` is decided and reported. A denial counts
 * in its own branch: the two constants stay two constant moves, which the
 * verifier of 6.10+ needs to see that the program returns 0 or an errno
 * (a select folded into a negation is a value it cannot bound). */
static __always_inline int verdict_ret(const struct bw_outcome *o)
{
	if (o->verdict != BW_VERDICT_DENY)
		return 0;
	bw_count(BW_STAT_TAMPER_DENIED);
	return -1; /* -EPERM */
}

static __always_inline void report(const struct bw_outcome *o, const struct bw_policy_set *set, __u32 op,
				   __u32 sig, __u32 mode)
{
	struct bw_tamper_event *e = bw_reserve(sizeof(*e), o->verdict);

	if (!e)
		return;
	/* bpf_d_path is not allowed in these hooks: the program by the walk. */
	bw_fill_header_fields(&e->h, BW_KIND_TAMPER, o, set->generation);
	bw_put_exe(&e->h);
	e->op = op;
	e->target_pid = self_tgid;
	e->signal = sig;
	e->mode = mode;
	e->object_type = 0;
	e->object_id = 0;
	e->call = 0;
	e->file_op = 0;
	e->reserved[0] = e->reserved[1] = e->reserved[2] = 0;
	e->path[0] = '\0';
	e->target[0] = '\0';
	bpf_ringbuf_submit(e, 0);
}

/* task_kill: kill(2), tgkill(2), rt_sigqueueinfo, pidfd_send_signal — every
 * signal a process sends (the kernel's own, SIGCHLD or a terminal's ^C, do
 * not come here). Signal 0 only asks whether bulwark exists, which /proc
 * says anyway: allowed, not reported. */
SEC("lsm/task_kill")
int BPF_PROG(bulwark_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	const struct bw_policy_set *set = NULL;
	struct bw_outcome o;

	if (ret)
		return ret;
	if (!sig || decide(p, &set, &o) == BW_VERDICT_ALLOW || !set)
		return 0;
	report(&o, set, BW_TAMPER_SIGNAL, (__u32)sig, 0);
	return verdict_ret(&o);
}

/* ptrace_access_check: every access that could change bulwark or read its
 * memory — attach mode: PTRACE_ATTACH/SEIZE, /proc/PID/mem, process_vm_readv
 * and writev, pidfd_getfd, /proc/PID/stack and syscall — and the syscalls
 * that read it with the caller's real credentials: perf_event_open on it
 * (which can sample its registers and stack), kcmp, get_robust_list,
 * migrate_pages. What /proc says about it with read mode and the caller's
 * fs credentials (/proc/PID/exe, cwd, root, ns/, environ, maps, fd/) is
 * left alone: journald reads exe for every client, lsof, htop and nsenter
 * the rest, and none of it gives control; nor is a check the kernel marks
 * NOAUDIT (ps reading /proc/PID/stat). */
SEC("lsm/ptrace_access_check")
int BPF_PROG(bulwark_ptrace_access_check, struct task_struct *child, unsigned int mode, int ret)
{
	const struct bw_policy_set *set = NULL;
	struct bw_outcome o;

	if (ret)
		return ret;
	if (mode & BW_PTRACE_MODE_NOAUDIT)
		return 0;
	if (!(mode & BW_PTRACE_MODE_ATTACH) && (mode & BW_PTRACE_MODE_FSCREDS))
		return 0;
	if (decide(child, &set, &o) == BW_VERDICT_ALLOW || !set)
		return 0;
	report(&o, set, BW_TAMPER_PTRACE, 0, mode);
	return verdict_ret(&o);
}
