// SPDX-License-Identifier: GPL-2.0
/*
 * Monitor-event generator for bench/monitors' pipeline benchmark: writes
 * copies of a template monitor record into a running bulwark's `events`
 * ring buffer (the driver hands this object bulwark's map fds), so that
 * the engine's decoder and JSON Lines writer can be driven at rates no
 * real syscall loop reaches. Run with BPF_PROG_TEST_RUN (a `syscall`
 * program); each run writes args->count records.
 *
 * Each record is reserved, copied from the template, stamped with the
 * time and submitted like a real monitor's (bw_mon_reserve/bw_mon_submit:
 * a full ring buffer counts BW_STAT_EVENTS_LOST, a record counts
 * BW_STAT_MON_REPORTED), so bulwark's `stats` line covers them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "common_maps.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Filled by the driver (the .bss is mmapped). */
struct bw_mon_file_event file_tmpl;
struct bw_mon_syscall_event sys_tmpl;

struct gen_args {
	__u32 count;                 /* records to write */
	__u32 kind;                  /* BW_MON_FILE or BW_MON_SYSCALLS */
	__u32 written;               /* out */
	__u32 lost;                  /* out: the ring buffer was full */
};

static long emit_file(__u32 i, struct gen_args *a)
{
	struct bw_mon_file_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		bw_count(BW_STAT_EVENTS_LOST);
		a->lost++;
		return 0;
	}
	bpf_probe_read_kernel(e, sizeof(*e), &file_tmpl);
	e->m.h.time_ns = bpf_ktime_get_boot_ns();
	bw_count(BW_STAT_MON_REPORTED);
	bpf_ringbuf_submit(e, 0);
	a->written++;
	return 0;
}

static long emit_syscall(__u32 i, struct gen_args *a)
{
	struct bw_mon_syscall_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		bw_count(BW_STAT_EVENTS_LOST);
		a->lost++;
		return 0;
	}
	bpf_probe_read_kernel(e, sizeof(*e), &sys_tmpl);
	e->m.h.time_ns = bpf_ktime_get_boot_ns();
	bw_count(BW_STAT_MON_REPORTED);
	bpf_ringbuf_submit(e, 0);
	a->written++;
	return 0;
}

SEC("syscall")
int generate(struct gen_args *ctx)
{
	struct gen_args a = { .count = ctx->count, .kind = ctx->kind };

	if (a.kind == BW_MON_SYSCALLS)
		bpf_loop(a.count, emit_syscall, &a, 0);
	else
		bpf_loop(a.count, emit_file, &a, 0);
	ctx->written = a.written;
	ctx->lost = a.lost;
	return 0;
}
