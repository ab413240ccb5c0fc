// SPDX-License-Identifier: GPL-2.0
/*
 * monitor_process: report every exec of a program that [monitor.process]
 * does not allow, with its full path, the parent's program, pid, ppid,
 * uid and cgroup.
 *
 * The chapter matched `comm`: 16 bytes that any process sets to anything
 * (prctl PR_SET_NAME, or by naming a copy "sshd"). Here the program is the
 * file the kernel executed (bprm->file), its path walked from its dentries
 * through the mounts to the top of the mount tree — so a symlink, a
 * relative name, a chroot or a bind mount all lead to the real path. Paths
 * from another mount namespace (a container, or an unprivileged user
 * namespace that pivot_root'ed into its own /usr/bin) are not comparable
 * with the allowlist and count as not allowed. A script's interpreter is
 * the executed file, so the script itself (bprm->filename, resolved
 * against the cwd) must be allowed too.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lib/monitor.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The inode number of bulwark's mount namespace: paths walked to the top
 * of another namespace's mount tree are not the paths the rules name. */
const volatile __u32 host_mnt_ns = 0;

/* Policies (of `in`) that do not allow the path in s->path. */
static __always_inline __u64 not_allowed(struct bw_mon_scratch *s, void *trie, __u64 in)
{
	const struct bw_mon_match *m;

	s->prefixlen = BW_MON_PATH_KEY * 8;
	m = bpf_map_lookup_elem(trie, &s->prefixlen);
	return m ? in & ~m->policies : in;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(bw_mon_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct bw_mon_process_event *e;
	struct bw_mon_scratch *s;
	struct bw_mon_ctx c;
	struct bw_mon_hit h;
	__u64 in, bad_prog, bad_script = 0, top = 0;
	__u32 flags = 0, pflags = 0;
	struct mm_struct *pmm;
	struct file *pexe;
	long len = 0;
	void *allowed;

	in = bw_mon_applies(BW_MON_PROCESS, &c);
	if (!in)
		return 0;
	in = bw_mon_scope(&c, in);
	if (!in)
		return 0;
	s = bw_mon_scratch();
	allowed = bpf_map_lookup_elem(&mon_process_allowed, &c.slot);
	if (!s || !allowed)
		return 0;

	/* The program: its real path, from the executed file. */
	if (bw_file_name(s, bprm->file, s->path, &flags, &top) < 0 ||
	    BPF_CORE_READ((struct mount *)top, mnt_ns, ns.inum) != host_mnt_ns) {
		if (top)
			flags |= BW_MON_EVENT_OTHER_ROOT;
		bad_prog = in;               /* not comparable with the allowlist */
	} else {
		bad_prog = not_allowed(s, allowed, in);
	}
	if (bprm->file->f_path.dentry->d_hash.pprev == NULL)
		flags |= BW_MON_EVENT_DELETED;   /* unlinked (or never linked: memfd) */
	bpf_probe_read_kernel_str(s->prog, sizeof(s->prog), s->path);

	/* A script: the kernel replaced bprm->interp with the interpreter's
	 * name; bprm->filename is still the script as the caller named it. */
	if (bprm->interp != bprm->filename) {
		if (bw_resolve(s, BW_AT_FDCWD, bprm->filename, false, &len, &flags) == BW_RESOLVED)
			bad_script = not_allowed(s, allowed, in);
		else
			bad_script = in;
	}
	if (!(bad_prog | bad_script))
		return 0;

	if (!bw_mon_rule(&c, BW_MON_ENTRY_PROCESS, bw_lowest_bit(bad_prog | bad_script), &h) || !bw_mon_admit(&c, &h))
		return 0;
	e = bw_mon_reserve(sizeof(*e));
	if (!e)
		return 0;
	if (bad_prog & (1ull << h.policy))
		flags |= BW_MON_EVENT_PROGRAM;
	if (bad_script & (1ull << h.policy))
		flags |= BW_MON_EVENT_SCRIPT;
	bw_mon_fill(&e->m, &c, &h, BW_MON_PROCESS, flags, s, false);
	/* The task's program is the one just executed. */
	bpf_probe_read_kernel_str(e->m.h.exe, sizeof(e->m.h.exe), s->prog);
	e->script[0] = '\0';
	if (bprm->interp != bprm->filename)
		bpf_probe_read_kernel_str(e->script, sizeof(e->script), s->path);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), bprm->filename);
	e->parent_exe[0] = '\0';
	pmm = p->real_parent->mm;
	pexe = pmm ? pmm->exe_file : NULL;
	if (pexe)                        /* a kernel thread parent runs no program */
		bw_file_name(s, pexe, e->parent_exe, &pflags, NULL);
	bw_mon_submit(e);
	return 0;
}
