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
#include "bulwark/own_objects_abi.h"

/* PTRACE_MODE_* (include/linux/ptrace.h); stable since 4.5. */
#define BW_PTRACE_MODE_ATTACH  0x02u
#define BW_PTRACE_MODE_NOAUDIT 0x04u
#define BW_PTRACE_MODE_FSCREDS 0x08u

char LICENSE[] SEC("license") __weak = "GPL";  /* one per linked object */

static __always_inline __u32 decide_scope(const struct bw_policy_set **set, struct bw_outcome *o);

/* The verdict on the current task touching bulwark, whose thread `target`
 * is: from the policies in scope for tamper (bw_scope, sticky as for every
 * kind). Fills `o`; *set is the live set when some policy decided. */
static __always_inline __u32 decide(struct task_struct *target, const struct bw_policy_set **set,
				    struct bw_outcome *o)
{
	__u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);

	o->verdict = BW_VERDICT_ALLOW;
	if ((__u32)target->tgid != self_tgid || !self_tgid)
		return BW_VERDICT_ALLOW;
	if (tgid == 1 || tgid == (__u32)BPF_CORE_READ(target, real_parent, tgid))
		return BW_VERDICT_ALLOW;
	return decide_scope(set, o);
}

/* The tail of every decision: the current task is not exempt; do the
 * policies in force scope it for tamper? */
static __always_inline __u32 decide_scope(const struct bw_policy_set **set, struct bw_outcome *o)
{
	__u32 slot = 0;
	__u64 in;

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

static __always_inline void report_full(const struct bw_outcome *o, const struct bw_policy_set *set, __u32 op,
					__u32 sig, __u32 mode, __u32 object_type, __u32 object_id, __u32 call)
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
	e->object_type = object_type;
	e->object_id = object_id;
	e->call = call;
	e->file_op = 0;
	e->reserved[0] = e->reserved[1] = e->reserved[2] = 0;
	e->path[0] = '\0';
	e->target[0] = '\0';
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void report(const struct bw_outcome *o, const struct bw_policy_set *set, __u32 op,
				   __u32 sig, __u32 mode)
{
	report_full(o, set, op, sig, mode, 0, 0, 0);
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

/* ---- bpf(2) on bulwark's own programs, maps and links ------------------
 *
 * bulwark_objects holds every program, map and link bulwark owns, by id,
 * written by user space after load and attach (engine/kernel/own_objects.*)
 * and pinned with the other shared maps: the programs of a killed bulwark
 * keep protecting what is pinned. A process in a tamper scope gets no new
 * fd of any of them (security_bpf_map, security_bpf_prog: GET_FD_BY_ID and
 * OBJ_GET of a pin alike; security_bpf: LINK_GET_FD_BY_ID) and cannot
 * detach or replace a link it holds an fd of (LINK_DETACH, LINK_UPDATE).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BW_MAX_OWN_OBJECTS);
	__type(key, struct bw_object_key);
	__type(value, struct bw_object_owner);
} bulwark_objects SEC(".maps") __weak;

/* The bpf(2) command the current thread is in (security_bpf runs first in
 * every bpf(2) call), for the events of the fd hooks, which do not see it. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} bw_bpf_cmd SEC(".maps") __weak;

/* The verdict on the current task acting on bulwark's object (type, id). */
static __always_inline __u32 decide_object(__u32 type, __u32 id, const struct bw_policy_set **set,
					   struct bw_outcome *o)
{
	struct bw_object_key k = { .type = type, .id = id };
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	const struct bw_object_owner *own;
	struct file *exe;

	o->verdict = BW_VERDICT_ALLOW;
	if (!id)
		return BW_VERDICT_ALLOW;
	own = bpf_map_lookup_elem(&bulwark_objects, &k);
	if (!own)
		return BW_VERDICT_ALLOW;
	if (tgid == 1 || tgid == own->parent_tgid)
		return BW_VERDICT_ALLOW;
	/* Probe reads: on 6.12 every pointer loaded from a trusted one costs
	 * the verifier scans of the kernel's BTF (btf_nested_type_is_trusted). */
	exe = BPF_CORE_READ(task, mm, exe_file);
	if (exe && BPF_CORE_READ(exe, f_inode, i_ino) == own->exe_ino &&
	    BPF_CORE_READ(exe, f_inode, i_sb, s_dev) == own->exe_dev)
		return BW_VERDICT_ALLOW;  /* bulwark's own program: a takeover, status, stop */
	return decide_scope(set, o);
}

static __always_inline __u32 current_bpf_cmd(void)
{
	__u32 *cmd = bpf_task_storage_get(&bw_bpf_cmd, bpf_get_current_task_btf(), 0, 0);

	return cmd ? *cmd : 0;
}

SEC("lsm/bpf_map")
int BPF_PROG(bulwark_bpf_map, struct bpf_map *map, fmode_t fmode, int ret)
{
	const struct bw_policy_set *set = NULL;
	struct bw_outcome o;
	__u32 id;

	if (ret)
		return ret;
	id = BPF_CORE_READ(map, id);
	if (decide_object(BW_OBJ_MAP, id, &set, &o) == BW_VERDICT_ALLOW || !set)
		return 0;
	report_full(&o, set, BW_TAMPER_BPF, 0, 0, BW_OBJ_MAP, id, current_bpf_cmd());
	return verdict_ret(&o);
}

SEC("lsm/bpf_prog")
int BPF_PROG(bulwark_bpf_prog, struct bpf_prog *prog, int ret)
{
	const struct bw_policy_set *set = NULL;
	struct bw_outcome o;
	__u32 id;

	if (ret)
		return ret;
	id = BPF_CORE_READ(prog, aux, id);
	if (decide_object(BW_OBJ_PROG, id, &set, &o) == BW_VERDICT_ALLOW || !set)
		return 0;
	report_full(&o, set, BW_TAMPER_BPF, 0, 0, BW_OBJ_PROG, id, current_bpf_cmd());
	return verdict_ret(&o);
}

/* The id of the bpf link open as the current task's `fd`, or 0: the
 * file's private_data read as a struct bpf_link (kernel/bpf/syscall.c,
 * bpf_link_prime), with CO-RE probe reads, so that a file of another kind
 * reads some number, never faults. Only an id in bulwark_objects decides,
 * and the kernel refuses LINK_DETACH and LINK_UPDATE of a file that is not
 * a link (EINVAL): an unlucky number turns that EINVAL into EPERM, for a
 * process in scope only. */
static __always_inline __u32 link_id_of_fd(__u32 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;
	struct bpf_link *link;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return 0;
	link = BPF_CORE_READ(f, private_data);
	return link ? BPF_CORE_READ(link, id) : 0;
}

/* security_bpf: first in every bpf(2) call, with the attributes copied in. */
static __always_inline int on_bpf(int cmd, union bpf_attr *attr)
{
	const struct bw_policy_set *set = NULL;
	struct bw_outcome o;
	__u32 *slot, id;

	slot = bpf_task_storage_get(&bw_bpf_cmd, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (slot)
		*slot = (__u32)cmd;
	if (cmd == BW_BPF_LINK_GET_FD_BY_ID)
		id = BPF_CORE_READ(attr, link_id);
	else if (cmd == BW_BPF_LINK_DETACH)
		id = link_id_of_fd(BPF_CORE_READ(attr, link_detach.link_fd));
	else if (cmd == BW_BPF_LINK_UPDATE)
		id = link_id_of_fd(BPF_CORE_READ(attr, link_update.link_fd));
	else
		return 0;
	if (decide_object(BW_OBJ_LINK, id, &set, &o) == BW_VERDICT_ALLOW || !set)
		return 0;
	report_full(&o, set, BW_TAMPER_BPF, 0, 0, BW_OBJ_LINK, id, (__u32)cmd);
	return verdict_ret(&o);
}

/* security_bpf(cmd, attr, size) to 6.13; 6.14 added `bool kernel`. */
SEC("lsm/bpf")
int BPF_PROG(bulwark_bpf__3args, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	if (ret)
		return ret;
	return on_bpf(cmd, attr);
}

SEC("lsm/bpf")
int BPF_PROG(bulwark_bpf__4args, int cmd, union bpf_attr *attr, unsigned int size, bool kernel, int ret)
{
	if (ret)
		return ret;
	return on_bpf(cmd, attr);
}
