// SPDX-License-Identifier: GPL-2.0
/*
 * The connect backend for kernels without BPF-LSM (docs/decisions/
 * 010-backends.md): cgroup socket-address hooks on the cgroup v2 root.
 * connect4/connect6 see every connect(2) of a TCP or UDP socket (and TCP
 * fast open, which connects through the same path); sendmsg4/sendmsg6
 * every UDP sendto/sendmsg that names an address. Returning 0 makes the
 * call fail with EPERM, as the LSM hook's -EPERM does.
 *
 * Same maps, same scope test, same destination matching (IPv4-mapped
 * IPv6 as IPv4, the unspecified address as the bound source or loopback
 * it reaches) and the same verdict
 * record as lsm/connect.bpf.c: both decide through bpf/lib/connect.bpf.h.
 * Differences the hook imposes: the kernel hands a UDP send to an
 * IPv4-mapped address on an IPv6 socket to sendmsg4 as the IPv4 address
 * (the record says family inet), and bpf_d_path is not allowed here, so
 * the record's exe is a dentry walk (bpf/trace/lib/path_string.bpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "connect.bpf.h"
#include "../trace/lib/path_string.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define BW_SOCK_ALLOW 1
#define BW_SOCK_DENY 0              /* the call fails with EPERM */

static __always_inline void report(const struct bw_dest *d, __u32 call, const struct bw_outcome *o,
				   const struct bw_policy_set *set)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_connect_event *e = bw_reserve(sizeof(*e), o->verdict);
	struct bw_mon_scratch *s;
	struct mm_struct *mm;
	struct file *exe;
	__u32 zero = 0, walk = 0;

	if (!e)
		return;
	bw_fill_header_fields(&e->h, BW_KIND_CONNECT, o, set->generation);
	mm = task->mm;
	exe = mm ? mm->exe_file : NULL;
	s = bpf_map_lookup_elem(&mon_scratch, &zero);
	if (!exe || !s || bw_file_name(s, exe, e->h.exe, &walk, NULL) < 0) {
		e->h.exe[0] = '\0';
		e->h.flags |= BW_EVENT_EXE_UNKNOWN;
	}
	bw_connect_event_fill(e, d, call);
	bpf_ringbuf_submit(e, 0);
}

/* bw_sock_bound_v4 from the hook's view of the socket (struct bpf_sock). */
static __always_inline __u32 bound_v4(struct bpf_sock_addr *ctx, bool v6)
{
	struct bpf_sock *sk = ctx->sk;

	if (!sk)
		return 0;
	if (!v6)
		return sk->src_ip4;
	if (sk->src_ip6[0] == 0 && sk->src_ip6[1] == 0 && sk->src_ip6[2] == bpf_htonl(0xffff))
		return sk->src_ip6[3];
	return 0;
}

static __always_inline int decide(struct bpf_sock_addr *ctx, bool v6, __u32 call)
{
	const struct bw_policy_set *set;
	struct bw_outcome o;
	struct bw_dest d;
	__u32 slot = 0;
	__u8 protocol;
	__u64 in;

	protocol = bw_protocol_of(ctx->protocol);
	if (!protocol)
		return BW_SOCK_ALLOW;
	set = bw_current_set(&slot);
	if (!set)
		return BW_SOCK_ALLOW;
	in = bw_policies_in_scope(set, slot, BW_KIND_CONNECT);
	if (!in)
		return BW_SOCK_ALLOW;
	__builtin_memset(&d, 0, sizeof(d));
	if (v6) {
		/* 4-byte loads: the only width the context allows here. */
		__u32 a[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

		__builtin_memcpy(d.addr, a, 16);
		d.family = BW_AF_INET6;
	} else {
		__u32 a = ctx->user_ip4;

		__builtin_memcpy(d.addr, &a, 4);
		d.family = BW_AF_INET;
	}
	d.port = bpf_ntohs((__u16)ctx->user_port);
	d.protocol = protocol;
	bw_dest_match(&d, bound_v4(ctx, v6));

	bw_decide_connect(set, slot, in, &d, &o);
	if (o.verdict == BW_VERDICT_ALLOW)
		return BW_SOCK_ALLOW;
	report(&d, call, &o, set);
	return bw_connect_count(&o, set->generation) ? BW_SOCK_DENY : BW_SOCK_ALLOW;
}

SEC("cgroup/connect4")
int bulwark_connect4(struct bpf_sock_addr *ctx)
{
	return decide(ctx, false, BW_CALL_CONNECT);
}

SEC("cgroup/connect6")
int bulwark_connect6(struct bpf_sock_addr *ctx)
{
	return decide(ctx, true, BW_CALL_CONNECT);
}

SEC("cgroup/sendmsg4")
int bulwark_sendmsg4(struct bpf_sock_addr *ctx)
{
	return decide(ctx, false, BW_CALL_SENDMSG);
}

SEC("cgroup/sendmsg6")
int bulwark_sendmsg6(struct bpf_sock_addr *ctx)
{
	return decide(ctx, true, BW_CALL_SENDMSG);
}
