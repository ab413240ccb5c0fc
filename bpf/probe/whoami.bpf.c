// SPDX-License-Identifier: GPL-2.0
/*
 * Who is bulwark, as the kernel's hooks see it? Run once with
 * BPF_PROG_TEST_RUN before anything else is loaded
 * (engine/kernel/self_identity.cpp): a raw tracepoint program's test run
 * runs synchronously in the calling task's context, so this returns the
 * caller's tgid in the initial PID namespace — the number every other
 * program compares with `self_tgid` — whatever PID namespace bulwark runs
 * in. getpid() would give the number in bulwark's own namespace
 * (docs/decisions/011-self-protection.md, "Identity").
 *
 * No attach target: the program is only ever test-run, never attached.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("raw_tp")
int bulwark_whoami(void *ctx)
{
	return (int)(bpf_get_current_pid_tgid() >> 32);
}
