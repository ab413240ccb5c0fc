// SPDX-License-Identifier: GPL-2.0
/*
 * monitor_connect: report outbound connection attempts to watched
 * destinations ([[monitor.connect]]: CIDRs, ports, protocols).
 *
 * The chapter used kprobe/tcp_v4_connect: no kprobes on kernels built
 * without them (like the development hosts), TCP over IPv4 only, and no
 * UDP. These are cgroup sock_addr hooks on the cgroup v2 root: connect4/6
 * see every connect(2) (TCP and UDP, IPv4 and IPv6), sendmsg4/6 every
 * unconnected UDP sendto/sendmsg. They always return 1: a monitor never
 * refuses. An IPv4-mapped IPv6 destination (::ffff:a.b.c.d) is looked up
 * as the IPv4 address first, so an IPv4 rule covers it.
 *
 * Two LPM lookups and no loop: (family, address) finds the most specific
 * network, then (network, protocol, port) its port block.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lib/monitor.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define BW_IPPROTO_TCP     6
#define BW_IPPROTO_UDP     17
#define BW_IPPROTO_UDPLITE 136
#define BW_IPPROTO_MPTCP   262

/* The monitored protocols' keys: MPTCP counts as TCP, UDP-Lite as UDP. */
static __always_inline __u8 key_protocol(__u32 protocol)
{
	if (protocol == BW_IPPROTO_TCP || protocol == BW_IPPROTO_MPTCP)
		return BW_IPPROTO_TCP;
	if (protocol == BW_IPPROTO_UDP || protocol == BW_IPPROTO_UDPLITE)
		return BW_IPPROTO_UDP;
	return 0;
}

/* The match for (family, addr, protocol, port), or NULL. */
static __always_inline const struct bw_mon_match *lookup(void *nets, void *ports, __u32 family, const __u8 *addr,
							 __u8 protocol, __u16 port)
{
	struct bw_mon_addr_key ak = { .prefixlen = 32 + 128, .family = family };
	struct bw_mon_port_key pk = { .prefixlen = 40 + 16, .protocol = protocol };
	const struct bw_mon_match *net;

	__builtin_memcpy(ak.addr, addr, 16);
	net = bpf_map_lookup_elem(nets, &ak);
	if (!net)
		return NULL;
	pk.net = net->entry;
	pk.port[0] = port >> 8;
	pk.port[1] = port & 0xff;
	return bpf_map_lookup_elem(ports, &pk);
}

static __always_inline void on_connect(struct bpf_sock_addr *ctx, __u32 family, __u8 hook)
{
	const struct bw_mon_match *m = NULL;
	struct bw_mon_connect_event *e;
	__u8 addr[16] = {}, v4[16] = {};
	__u32 flags = 0, ip6[4];
	void *nets, *ports;
	struct bw_mon_ctx c;
	struct bw_mon_hit h;
	__u8 protocol;
	__u16 port;
	__u64 in;

	in = bw_mon_applies(BW_MON_CONNECT, &c);
	if (!in)
		return;
	protocol = key_protocol(ctx->protocol);
	if (!protocol)
		return;
	in = bw_mon_scope(&c, in);
	if (!in)
		return;
	nets = bpf_map_lookup_elem(&mon_connect_nets, &c.slot);
	ports = bpf_map_lookup_elem(&mon_connect_ports, &c.slot);
	if (!nets || !ports) {
		bw_count(BW_STAT_MAP_MISSING);
		return;
	}
	port = bpf_ntohs((__u16)ctx->user_port);
	if (family == BW_MON_FAMILY_IPV4) {
		__u32 ip4 = ctx->user_ip4;

		__builtin_memcpy(addr, &ip4, 4);
		m = lookup(nets, ports, BW_MON_FAMILY_IPV4, addr, protocol, port);
	} else {
		ip6[0] = ctx->user_ip6[0];
		ip6[1] = ctx->user_ip6[1];
		ip6[2] = ctx->user_ip6[2];
		ip6[3] = ctx->user_ip6[3];
		__builtin_memcpy(addr, ip6, 16);
		if (ip6[0] == 0 && ip6[1] == 0 && ip6[2] == bpf_htonl(0xffff)) {
			flags |= BW_MON_EVENT_MAPPED;
			__builtin_memcpy(v4, &ip6[3], 4);
			m = lookup(nets, ports, BW_MON_FAMILY_IPV4, v4, protocol, port);
		}
		if (!m)
			m = lookup(nets, ports, BW_MON_FAMILY_IPV6, addr, protocol, port);
	}
	if (!m || !(m->policies & in))
		return;

	if (!bw_mon_rule(&c, m->entry, bw_lowest_bit(m->policies & in), &h) || !bw_mon_admit(&c, &h))
		return;
	e = bw_mon_reserve(sizeof(*e));
	if (!e)
		return;
	e->family = family;
	e->port = port;
	e->protocol = protocol;
	e->hook = hook;
	__builtin_memcpy(e->addr, addr, 16);
	bw_mon_fill(&e->m, &c, &h, BW_MON_CONNECT, flags, bw_mon_scratch(), true);
	bw_mon_submit(e);
}

SEC("cgroup/connect4")
int bw_mon_connect4(struct bpf_sock_addr *ctx)
{
	on_connect(ctx, BW_MON_FAMILY_IPV4, BW_MON_HOOK_CONNECT);
	return 1;
}

SEC("cgroup/connect6")
int bw_mon_connect6(struct bpf_sock_addr *ctx)
{
	on_connect(ctx, BW_MON_FAMILY_IPV6, BW_MON_HOOK_CONNECT);
	return 1;
}

SEC("cgroup/sendmsg4")
int bw_mon_sendmsg4(struct bpf_sock_addr *ctx)
{
	on_connect(ctx, BW_MON_FAMILY_IPV4, BW_MON_HOOK_SENDMSG);
	return 1;
}

SEC("cgroup/sendmsg6")
int bw_mon_sendmsg6(struct bpf_sock_addr *ctx)
{
	on_connect(ctx, BW_MON_FAMILY_IPV6, BW_MON_HOOK_SENDMSG);
	return 1;
}
