/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deciding a destination (docs/decisions/004-connect-maps.md): one LPM trie
 * lookup finds the narrowest CIDR with a rule, whose value already holds
 * every policy's verdict with wider CIDRs folded in; when that verdict
 * depends on protocol or port, one more LPM lookup on (entry, protocol,
 * port) gives it. No loop over rules. Mirrored by Evaluator::decide_connect.
 */
#ifndef BULWARK_CONNECT_BPF_H
#define BULWARK_CONNECT_BPF_H

#include "events.bpf.h"
#include "scope.bpf.h"
#include "verdict.bpf.h"

#define BW_AF_UNSPEC 0
#define BW_AF_INET 2
#define BW_AF_INET6 10
#define BW_IPPROTO_TCP 6
#define BW_IPPROTO_UDP 17
#define BW_IPPROTO_UDPLITE 136
#define BW_IPPROTO_MPTCP 262
#define BW_SIN6_LEN_RFC2133 24       /* shortest sockaddr_in6 the kernel accepts */

/* A destination as the caller gave it, and how it is matched. */
struct bw_dest {
	__u8 addr[16];               /* as given: 4 bytes for AF_INET */
	__u8 match[16];              /* as matched: 4 bytes when v4 */
	__u16 family;                /* AF_INET / AF_INET6 as given */
	__u16 port;                  /* host byte order */
	__u8 protocol;               /* enum bw_protocol */
	__u8 v4;                     /* match as IPv4: AF_INET, or IPv4-mapped IPv6 */
	__u8 pad[2];
} __attribute__((aligned(8)));

/* TCP (and MPTCP, which is TCP on the wire) or UDP (and UDP-Lite) from an
 * IPPROTO_* number; 0 for any other protocol (raw, ICMP, SCTP), which
 * connect rules do not decide. */
static __always_inline __u8 bw_protocol_of(__u32 p)
{
	if (p == BW_IPPROTO_TCP || p == BW_IPPROTO_MPTCP)
		return BW_PROTO_TCP;
	if (p == BW_IPPROTO_UDP || p == BW_IPPROTO_UDPLITE)
		return BW_PROTO_UDP;
	return 0;
}

static __always_inline __u8 bw_sock_protocol(struct sock *sk)
{
	return bw_protocol_of(sk->sk_protocol);
}

/*
 * With d->family, d->addr and d->port set: how the destination is matched.
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address it is,
 * so an IPv4 rule matches it. The unspecified address is matched as the
 * address the kernel really sends to: 0.0.0.0 goes to the socket's bound
 * IPv4 source address, `bound_v4`, when it has one, and to 127.0.0.1
 * otherwise (ip_route_output_key_hash_rcu: "daddr = saddr, or loopback"),
 * so bind(denied) + connect(0.0.0.0) is decided as the denied address;
 * :: always goes to ::1 (tcp_v6_connect, ip6_datagram_connect,
 * udpv6_sendmsg). Shared by the LSM and the cgroup hooks.
 */
static __always_inline void bw_dest_match(struct bw_dest *d, __u32 bound_v4)
{
	if (d->family == BW_AF_INET) {
		__builtin_memcpy(d->match, d->addr, 4);
		d->v4 = 1;
	} else if (((__u64 *)d->addr)[0] == 0 && ((__u32 *)d->addr)[2] == bpf_htonl(0xffff)) {
		__builtin_memcpy(d->match, d->addr + 12, 4);
		d->v4 = 1;
	} else {
		__builtin_memcpy(d->match, d->addr, 16);
		d->v4 = 0;
	}
	if (d->v4 && *(__u32 *)d->match == 0) {
		*(__u32 *)d->match = bound_v4 ? bound_v4 : bpf_htonl(0x7f000001);
	} else if (!d->v4 && ((__u64 *)d->match)[0] == 0 && ((__u64 *)d->match)[1] == 0) {
		d->match[15] = 1;
	}
}

/*
 * The IPv4 source address a socket is bound to (network order), 0 when it
 * has none: an AF_INET socket's bound address; for an AF_INET6 socket, the
 * IPv4 part of a bound IPv4-mapped address (what tcp_v4_connect uses when
 * it connects to a mapped destination). What bw_dest_match takes.
 */
static __always_inline __u32 bw_sock_bound_v4(struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;

	if (family == BW_AF_INET)
		return sk->__sk_common.skc_rcv_saddr;
	if (family == BW_AF_INET6) {
		__u32 a[4];

		if (bpf_core_read(a, sizeof(a), &sk->__sk_common.skc_v6_rcv_saddr))
			return 0;
		if (a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff))
			return a[3];
	}
	return 0;
}

/*
 * Read the sockaddr of `len` bytes at kernel address `sa` (already copied
 * from user space by the kernel). False when it names no IPv4/IPv6
 * destination, or is too short for the kernel to accept anyway.
 * `unspec_is_inet`: the caller treats AF_UNSPEC as AF_INET (udp_sendmsg);
 * `bound_v4`: see bw_dest_match.
 */
static __always_inline bool bw_read_dest(const void *sa, int len, bool unspec_is_inet, __u32 bound_v4,
					 struct bw_dest *d)
{
	struct {
		__u16 family;
		__u16 port;
		__u32 flowinfo_or_addr;
		__u8 addr6[16];
	} __attribute__((aligned(8))) raw;
	__u16 family;

	if (len < (int)sizeof(family) || bpf_probe_read_kernel(&family, sizeof(family), sa))
		return false;
	if (family == BW_AF_UNSPEC && unspec_is_inet)
		family = BW_AF_INET;
	__builtin_memset(d, 0, sizeof(*d));
	if (family == BW_AF_INET) {
		if (len < 16 || bpf_probe_read_kernel(&raw, 8, sa))
			return false;
		__builtin_memcpy(d->addr, &raw.flowinfo_or_addr, 4);
	} else if (family == BW_AF_INET6) {
		if (len < BW_SIN6_LEN_RFC2133 || bpf_probe_read_kernel(&raw, sizeof(raw), sa))
			return false;
		__builtin_memcpy(d->addr, raw.addr6, 16);
	} else {
		return false;
	}
	d->family = family;
	d->port = bpf_ntohs(raw.port);
	bw_dest_match(d, bound_v4);
	return true;
}

/* The verdict of the policies `in` on destination `d`. */
static __always_inline void bw_decide_connect(const struct bw_policy_set *set, __u32 slot, __u64 in,
					      const struct bw_dest *d, struct bw_outcome *o)
{
	const struct bw_connect_rule *r = NULL;
	__u64 deny = set->connect_default_deny, audit = set->connect_default_audit;
	__u32 entry = BW_ENTRY_NONE;
	void *trie;

	if (d->v4) {
		struct bw_cidr4_key k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, d->match, 4);
		trie = bpf_map_lookup_elem(&connect_v4, &slot);
		if (trie)
			r = bpf_map_lookup_elem(trie, &k);
	} else {
		struct bw_cidr6_key k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, d->match, 16);
		trie = bpf_map_lookup_elem(&connect_v6, &slot);
		if (trie)
			r = bpf_map_lookup_elem(trie, &k);
	}
	if (!trie)
		bw_count(BW_STAT_MAP_MISSING);
	if (r && (r->flags & BW_CONNECT_BY_PORT)) {
		struct bw_port_key pk = {
			.prefixlen = BW_PORT_KEY_BITS,
			.entry = r->entry,
			.protocol = d->protocol,
			.port = { d->port >> 8, d->port & 0xff },
		};
		void *ports = bpf_map_lookup_elem(&connect_ports, &slot);

		/* The compiler covers every port of both protocols. */
		r = ports ? bpf_map_lookup_elem(ports, &pk) : NULL;
		if (!r)
			bw_count(BW_STAT_MAP_MISSING);
	}
	if (r) {
		deny = r->deny;
		audit = r->audit;
		entry = r->entry;
	}

	deny &= in;
	audit &= in;
	o->column = BW_COL_CONNECT;
	o->entry = entry;
	if (deny & set->enforcing) {
		o->verdict = BW_VERDICT_DENY;
		o->policy = bw_lowest_bit(deny & set->enforcing);
	} else if (deny) {
		o->verdict = BW_VERDICT_WOULD_DENY;
		o->policy = bw_lowest_bit(deny);
	} else if (audit) {
		o->verdict = BW_VERDICT_AUDIT;
		o->policy = bw_lowest_bit(audit);
	} else {
		o->verdict = BW_VERDICT_ALLOW;
		o->policy = BW_POLICY_NONE;
	}
}

/* The connect-specific part of a verdict record. */
static __always_inline void bw_connect_event_fill(struct bw_connect_event *e, const struct bw_dest *d, __u32 call)
{
	e->family = d->family;
	e->port = d->port;
	e->protocol = d->protocol;
	e->call = call;
	e->reserved = 0;
	__builtin_memcpy(e->addr, d->addr, sizeof(e->addr));
}

/* After a verdict other than allow: count it; true when it denies. */
static __always_inline bool bw_connect_count(const struct bw_outcome *o, __u32 generation)
{
	bw_count_verdict(BW_KIND_CONNECT, o, generation);
	if (o->verdict != BW_VERDICT_DENY)
		return false;
	bw_count(BW_STAT_CONNECT_DENIED);
	return true;
}

#endif /* BULWARK_CONNECT_BPF_H */
