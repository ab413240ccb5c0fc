// SPDX-License-Identifier: GPL-2.0
/*
 * bprm_check_security: deny running a program when an enforcing policy in
 * scope says so ([[exec]] rules, [defaults] exec). The kernel calls it for
 * the file execve(2)/execveat(2) names — after following symlinks, from a
 * relative path or an fd alike — and, for a script, once more for the
 * interpreter its #! line names: a rule on the script stops the script, a
 * rule on the interpreter stops every script run through it. Scope is that
 * of the process calling execve, before it becomes the new program.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "exec.bpf.h"

char LICENSE[] SEC("license") __weak = "GPL";  /* one per linked object */

static __always_inline void report(struct linux_binprm *bprm, const struct bw_outcome *o, __u32 flags,
				   const struct bw_policy_set *set)
{
	/* binfmt_script and binfmt_misc set bprm->interp to the interpreter's
	 * name; until then it is bprm->filename itself. */
	__u32 route = bprm->interp != bprm->filename ? BW_ROUTE_INTERPRETER : BW_ROUTE_EXEC;
	struct bw_exec_event *e = bw_exec_event_reserve(o, route);

	if (!e)
		return;
	bw_fill_header(&e->h, BW_KIND_EXEC, o, set->generation);
	e->h.flags |= flags;
	bw_put_path(&bprm->file->f_path, e->path, &e->h.flags, BW_EVENT_PATH_TRUNCATED, BW_EVENT_PATH_UNKNOWN);
	if (route == BW_ROUTE_INTERPRETER)
		bpf_probe_read_kernel_str(e->via, sizeof(e->via), bprm->filename);
	bpf_ringbuf_submit(e, 0);
}

SEC("lsm/bprm_check_security")
int BPF_PROG(bulwark_bprm_check_security, struct linux_binprm *bprm, int ret)
{
	const struct bw_policy_set *set;
	__u32 slot = 0, flags = 0;
	struct bw_outcome o;
	__u64 in;

	if (ret)
		return ret;
	set = bw_current_set(&slot);
	if (!set)
		return 0;
	in = bw_scope(slot, BW_KIND_EXEC);
	if (!in)
		return 0;

	bw_decide_program(slot, in, bprm->file, BW_COL_EXEC, &o, &flags);
	if (o.verdict == BW_VERDICT_ALLOW)
		return 0;
	report(bprm, &o, flags, set);
	return bw_exec_verdict(&o, set->generation);
}
