// SPDX-License-Identifier: GPL-2.0
/*
 * The tutorial chapter's "Sensitive File Monitor" (the chapter on
 * security and enforcement bulwark grew from), for bench/monitors to measure against
 * bulwark's [[monitor.file]]. NOT part of bulwark: a faithful copy of the
 * chapter's logic, kept as written, mistakes included (it compares only a
 * prefix of the name, so "/etc/passwd-" matches; it sees openat only).
 *
 * Two programs, one attached at a time by bench/chapter_loader.cpp:
 *
 *   chapter_one   the chapter's program as written: one hard-coded path,
 *                 compared character by character.
 *   chapter_many  what the chapter's approach implies for N watched paths:
 *                 the same compare, once per path, over an array of paths
 *                 (a tracepoint takes at most 64 programs, so "one program
 *                 per path" cannot reach 1,000; a loop is what is left).
 *
 * Changes from the chapter, none affecting cost: vmlinux.h instead of
 * <linux/bpf.h> (the chapter's code does not compile without it), an (int)
 * cast in the loop bound (-Wsign-compare under -Werror), and __u32/__u64.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct file_access_event {
	__u32 pid;
	__u32 uid;
	char comm[16];
	char filename[256];
	__u64 timestamp;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} security_events SEC(".maps");

/* ---- the chapter's program, as written ------------------------------ */

SEC("tracepoint/syscalls/sys_enter_openat")
int chapter_one(struct trace_event_raw_sys_enter *ctx)
{
	struct file_access_event *event;
	char filename[256] = {};
	char sensitive[] = "/etc/passwd";

	if (ctx->args[1]) {
		bpf_probe_read_user_str(filename, sizeof(filename), (char *)ctx->args[1]);
		// Check for sensitive files
		for (int i = 0; i < (int)sizeof(sensitive) - 1; i++) {
			if (filename[i] != sensitive[i]) {
				return 0;
			}
		}
		// Log access to sensitive file
		event = bpf_ringbuf_reserve(&security_events, sizeof(*event), 0);
		if (event) {
			event->pid = bpf_get_current_pid_tgid() >> 32;
			event->uid = bpf_get_current_uid_gid() >> 32;
			event->timestamp = bpf_ktime_get_ns();
			bpf_get_current_comm(event->comm, sizeof(event->comm));
			__builtin_memcpy(event->filename, filename, sizeof(filename));
			bpf_ringbuf_submit(event, 0);
		}
	}
	return 0;
}

/* ---- the same compare, once per watched path ------------------------ */

#define CHAPTER_MAX_PATHS 4096

struct chapter_path {
	__u32 len;                   /* bytes compared: strlen of the watched path */
	char path[256];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CHAPTER_MAX_PATHS);
	__type(key, __u32);
	__type(value, struct chapter_path);
} watched_paths SEC(".maps");

const volatile __u32 nr_paths = 1;

struct compare_ctx {
	char filename[256];
	int matched;
};

/* The chapter's loop for the idx-th path: stop at the first difference. */
static long compare_one(__u32 idx, struct compare_ctx *c)
{
	const struct chapter_path *p = bpf_map_lookup_elem(&watched_paths, &idx);

	if (!p)
		return 1;
	for (int i = 0; i < 255; i++) {
		if (i >= (int)p->len)
			break;
		if (c->filename[i] != p->path[i])
			return 0;                /* not this one: next path */
	}
	c->matched = 1;
	return 1;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int chapter_many(struct trace_event_raw_sys_enter *ctx)
{
	struct file_access_event *event;
	struct compare_ctx c = {};

	if (ctx->args[1]) {
		bpf_probe_read_user_str(c.filename, sizeof(c.filename), (char *)ctx->args[1]);
		bpf_loop(nr_paths, compare_one, &c, 0);
		if (!c.matched)
			return 0;
		event = bpf_ringbuf_reserve(&security_events, sizeof(*event), 0);
		if (event) {
			event->pid = bpf_get_current_pid_tgid() >> 32;
			event->uid = bpf_get_current_uid_gid() >> 32;
			event->timestamp = bpf_ktime_get_ns();
			bpf_get_current_comm(event->comm, sizeof(event->comm));
			__builtin_memcpy(event->filename, c.filename, sizeof(c.filename));
			bpf_ringbuf_submit(event, 0);
		}
	}
	return 0;
}
