// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_file and file_mprotect: code mapped from a file. `ld.so PROGRAM`
 * executes ld.so, which then maps PROGRAM's code itself — no execve of
 * PROGRAM ever happens — so a program denied by an [[exec]] rule must also
 * be denied as code: mmap(PROT_EXEC) of it, or mprotect adding PROT_EXEC
 * to a mapping of it. Shared libraries are mapped the same way, so here
 * only [[exec]] rules decide (BW_COL_MAP), never the exec default: under
 * an allowlist (`[defaults] exec = "deny"`) allowed programs still map
 * their libraries. A process with no ELF interpreter — the loader run as a
 * program, or a static program loading code itself — is running whatever
 * it maps, so for it the default applies too (BW_COL_EXEC).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "exec.bpf.h"

#define BW_PROT_EXEC 0x4ul         /* include/uapi/asm-generic/mman-common.h */
#define BW_VM_EXEC   0x4ul         /* include/linux/mm.h */
#define BW_AT_NULL   0ul           /* include/uapi/linux/auxvec.h */
#define BW_AT_BASE   7ul
#define BW_AUXV_PAIRS 20           /* AT_BASE is the 7th to 10th pair on x86-64 */

char LICENSE[] SEC("license") __weak = "GPL";  /* one per linked object */

/*
 * Was the process started with an ELF interpreter? AT_BASE in the auxiliary
 * vector is the interpreter's load address, 0 without one. While execve
 * itself maps the new program and its interpreter, saved_auxv is still
 * empty: those mappings are treated as a dynamic program's (the program was
 * decided by bprm_check_security, its interpreter is the one it names).
 */
__noinline int bw_has_elf_interpreter(void)
{
	struct mm_struct *mm = bpf_get_current_task_btf()->mm;
	unsigned long pair[2];

	if (!mm)
		return 1;
	/* Probe reads: saved_auxv's length differs between kernels, and CO-RE
	 * refuses a direct load from an array field whose size changed. A
	 * global function: the verifier walks these pairs once per program. */
	for (int i = 0; i < BW_AUXV_PAIRS; i++) {
		if (bpf_core_read(pair, sizeof(pair), &mm->saved_auxv[2 * i]))
			return 1;
		if (pair[0] == BW_AT_NULL)
			return 1;
		if (pair[0] == BW_AT_BASE)
			return pair[1] != 0;
	}
	return 1;
}

/* Write a dentry's name: file_mprotect may not call bpf_d_path on 6.1. */
static __always_inline void put_name(struct file *file, char *buf)
{
	if (bpf_probe_read_kernel_str(buf, BW_PATH_MAX, file->f_path.dentry->d_name.name) < 0)
		buf[0] = '\0';
}

/* `full_paths` is a constant: false removes every bpf_d_path call. */
static __always_inline int check_code(struct file *file, bool full_paths)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct bw_policy_set *set;
	__u32 slot = 0, flags = 0;
	struct bw_exec_event *e;
	struct mm_struct *mm;
	struct bw_outcome o;
	struct file *exe;
	__u64 in;

	set = bw_current_set(&slot);
	if (!set)
		return 0;
	in = bw_scope(slot, BW_KIND_EXEC);
	if (!in)
		return 0;
	mm = task->mm;
	if (!mm)
		return 0;
	exe = mm->exe_file;
	/* The program itself was decided when it was executed. */
	if (exe && exe->f_inode == file->f_inode)
		return 0;

	bw_decide_program(slot, in, file, bw_has_elf_interpreter() ? BW_COL_MAP : BW_COL_EXEC, &o, &flags);
	if (o.verdict == BW_VERDICT_ALLOW)
		return 0;

	e = bw_exec_event_reserve(&o, BW_ROUTE_MAP);
	if (e) {
		if (full_paths) {
			bw_fill_header(&e->h, BW_KIND_EXEC, &o, set->generation);
			bw_put_path(&file->f_path, e->path, &e->h.flags, BW_EVENT_PATH_TRUNCATED, BW_EVENT_PATH_UNKNOWN);
			if (exe)
				bw_put_path(&exe->f_path, e->via, &e->h.flags, 0, 0);
		} else {
			bw_fill_header_fields(&e->h, BW_KIND_EXEC, &o, set->generation);
			e->h.flags |= BW_EVENT_EXE_UNKNOWN | BW_EVENT_PATH_NAME_ONLY;
			put_name(file, e->path);
			if (exe)
				put_name(exe, e->via);
		}
		e->h.flags |= flags;
		bpf_ringbuf_submit(e, 0);
	}
	return bw_exec_verdict(&o, set->generation);
}

SEC("lsm/mmap_file")
int BPF_PROG(bulwark_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot, unsigned long mflags,
	     int ret)
{
	if (ret)
		return ret;
	if (!file || !(prot & BW_PROT_EXEC))
		return 0;
	return check_code(file, true);
}

SEC("lsm/file_mprotect")
int BPF_PROG(bulwark_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot, int ret)
{
	struct file *file;

	if (ret)
		return ret;
	if (!(prot & BW_PROT_EXEC) || (vma->vm_flags & BW_VM_EXEC))
		return 0;
	file = vma->vm_file;
	if (!file)
		return 0;
	return check_code(file, false);
}
