// SPDX-License-Identifier: GPL-2.0
/*
 * monitor_file: report opens of watched files ([[monitor.file]]) — every
 * attempt, before the kernel resolves the name, so a failed attempt on a
 * sensitive file is reported too. Covers open, openat, openat2 and creat
 * (the chapter watched openat only).
 *
 * The name is made absolute (relative names against the cwd or the dirfd,
 * from the task's root) and normal (".", "..", "//" removed), then looked
 * up once in an LPM trie over path bytes that holds exact paths with their
 * NUL and trees without: one lookup whatever the number of rules, and
 * "/etc/passwd-" cannot match "/etc/passwd" (the chapter compared a prefix
 * of the name byte by byte, so it did). A name that cannot be made
 * absolute is reported as unresolved to the policies in scope rather than
 * dropped. Never blocks: a tracepoint's return value is ignored.
 *
 * A name in a page not yet faulted in cannot be read at syscall entry
 * (tracepoints cannot fault): the attempt is kept per thread and decided
 * at syscall exit, when the kernel has read the name and the page is in.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lib/monitor.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* x86_64 syscall numbers the event names, and open(2) flags for creat. */
#define BW_NR_OPEN    2
#define BW_NR_CREAT   85
#define BW_NR_OPENAT  257
#define BW_NR_OPENAT2 437
#define BW_O_WRONLY   01
#define BW_O_CREAT    0100
#define BW_O_TRUNC    01000
#define BW_EFAULT     14

/* An open whose name could not be read at entry, by thread id. LRU: a
 * thread killed inside the syscall never reaches its exit. */
struct bw_pending_open {
	__u64 name;
	__s32 dirfd;
	__u32 nr;
	__u32 open_flags;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct bw_pending_open);
} mon_pending_opens SEC(".maps");

/* An upper bound on the entries in mon_pending_opens: added to after an
 * insert, taken from after a delete, never for LRU evictions or threads
 * killed inside the syscall (so it only errs high). While it is 0 — nearly
 * always — the exit programs, which run for every open on the machine,
 * return without a hash lookup. */
__u64 pending_opens_bound;

static __always_inline int on_open(__u32 nr, int dirfd, const char *name, __u32 open_flags, bool at_exit)
{
	const struct bw_mon_match *m;
	struct bw_mon_file_event *e;
	struct bw_mon_scratch *s;
	enum bw_resolve_result res;
	struct bw_mon_ctx c;
	struct bw_mon_hit h;
	__u32 flags = 0, entry;
	__u64 in, hit;
	long len = 0;
	void *paths;

	in = bw_mon_applies(BW_MON_FILE, &c);
	if (!in)
		return 0;
	in = bw_mon_scope(&c, in);
	if (!in)
		return 0;
	s = bw_mon_scratch();
	if (!s)
		return 0;

	res = bw_resolve(s, dirfd, name, true, &len, &flags);
	if (res == BW_NO_ACCESS)
		return 0;
	if (res == BW_UNRESOLVED && (flags & BW_MON_EVENT_NAME_UNREADABLE) && !at_exit) {
		struct bw_pending_open p = { .name = (__u64)name, .dirfd = dirfd, .nr = nr, .open_flags = open_flags };
		__u32 tid = (__u32)bpf_get_current_pid_tgid();

		if (bpf_map_update_elem(&mon_pending_opens, &tid, &p, BPF_ANY) == 0) {
			__sync_fetch_and_add(&pending_opens_bound, 1);
			return 0;
		}
		/* No room: report it unresolved now rather than lose it. */
	}
	if (res == BW_UNRESOLVED) {
		bw_count(BW_STAT_MON_UNRESOLVED);
		hit = in;
		entry = BW_MON_ENTRY_UNRESOLVED;
	} else {
		paths = bpf_map_lookup_elem(&mon_file_paths, &c.slot);
		if (!paths) {
			bw_count(BW_STAT_MAP_MISSING);
			return 0;
		}
		s->prefixlen = BW_MON_PATH_KEY * 8;
		m = bpf_map_lookup_elem(paths, &s->prefixlen);
		if (!m)
			return 0;
		hit = m->policies & in;
		if (!hit)
			return 0;
		entry = m->entry;
	}

	if (!bw_mon_rule(&c, entry, bw_lowest_bit(hit), &h) || !bw_mon_admit(&c, &h))
		return 0;
	e = bw_mon_reserve(sizeof(*e));
	if (!e)
		return 0;
	if (len >= BW_PATH_MAX)
		flags |= BW_MON_EVENT_PATH_TRUNCATED;
	e->syscall = nr;
	e->open_flags = open_flags;
	e->dirfd = dirfd;
	e->reserved = 0;
	if (bpf_probe_read_user_str(e->given, sizeof(e->given), name) < 0)
		e->given[0] = '\0';
	if (res == BW_UNRESOLVED)            /* the name is all there is */
		bpf_probe_read_kernel_str(e->path, sizeof(e->path), e->given);
	else
		bpf_probe_read_kernel_str(e->path, sizeof(e->path), s->path);
	bw_mon_fill(&e->m, &c, &h, BW_MON_FILE, flags, s, true);
	bw_mon_submit(e);
	return 0;
}

/* At exit: decide an open kept at entry, now that its name is in memory.
 * EFAULT: the pointer was bad, nothing was opened. */
static __always_inline int on_exit(long ret)
{
	struct bw_pending_open *pending, p;
	__u32 tid;

	if (!*(volatile __u64 *)&pending_opens_bound)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	pending = bpf_map_lookup_elem(&mon_pending_opens, &tid);
	if (!pending)
		return 0;
	p = *pending;
	if (bpf_map_delete_elem(&mon_pending_opens, &tid) == 0)
		__sync_fetch_and_sub(&pending_opens_bound, 1);
	if (ret == -BW_EFAULT)
		return 0;
	return on_open(p.nr, p.dirfd, (const char *)p.name, p.open_flags, true);
}

SEC("tracepoint/syscalls/sys_enter_open")
int bw_mon_open(struct trace_event_raw_sys_enter *ctx)
{
	return on_open(BW_NR_OPEN, BW_AT_FDCWD, (const char *)ctx->args[0], (__u32)ctx->args[1], false);
}

SEC("tracepoint/syscalls/sys_enter_creat")
int bw_mon_creat(struct trace_event_raw_sys_enter *ctx)
{
	return on_open(BW_NR_CREAT, BW_AT_FDCWD, (const char *)ctx->args[0], BW_O_CREAT | BW_O_WRONLY | BW_O_TRUNC,
		       false);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int bw_mon_openat(struct trace_event_raw_sys_enter *ctx)
{
	return on_open(BW_NR_OPENAT, (int)ctx->args[0], (const char *)ctx->args[1], (__u32)ctx->args[2], false);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int bw_mon_openat2(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how how = {};

	/* Unreadable: the call fails with EFAULT; report the name anyway. */
	bpf_probe_read_user(&how, sizeof(how), (const void *)ctx->args[2]);
	return on_open(BW_NR_OPENAT2, (int)ctx->args[0], (const char *)ctx->args[1], (__u32)how.flags, false);
}

SEC("tracepoint/syscalls/sys_exit_open")
int bw_mon_open_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int bw_mon_creat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int bw_mon_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int bw_mon_openat2_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx->ret);
}
