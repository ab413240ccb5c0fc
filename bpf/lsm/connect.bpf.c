// SPDX-License-Identifier: GPL-2.0
/*
 * socket_connect and socket_sendmsg: deny reaching a destination when an
 * enforcing policy in scope says so ([[connect]] rules, [defaults]
 * connect), for TCP and UDP over IPv4 and IPv6. connect(2) covers TCP,
 * connected UDP and TCP_FASTOPEN_CONNECT; an unconnected UDP sendto/sendmsg
 * never calls connect, and neither does a TCP sendto(MSG_FASTOPEN), so
 * sendmsg with an address is decided too. The destination's own family
 * decides (an AF_INET6 UDP socket may send to an AF_INET address), and an
 * IPv4-mapped IPv6 address is matched as the IPv4 address it is. Other
 * families (AF_UNIX, AF_NETLINK, ...) and protocols (raw, ICMP, SCTP) are
 * not looked at.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "connect.bpf.h"
#include "decide.bpf.h"

#define BW_MSG_FASTOPEN 0x20000000u  /* include/linux/socket.h */

char LICENSE[] SEC("license") __weak = "GPL";  /* one per linked object */

static __always_inline void report(const struct bw_dest *d, __u32 call, const struct bw_outcome *o,
				   const struct bw_policy_set *set)
{
	struct bw_connect_event *e = bw_reserve(sizeof(*e), o->verdict);

	if (!e)
		return;
	bw_fill_header(&e->h, BW_KIND_CONNECT, o, set->generation);
	bw_connect_event_fill(e, d, call);
	bpf_ringbuf_submit(e, 0);
}

/* The policies that may decide a connection of the current task. */
static __always_inline __u64 in_scope(const struct bw_policy_set **set, __u32 *slot)
{
	*set = bw_current_set(slot);
	if (!*set)
		return 0;
	return bw_scope(*slot, BW_KIND_CONNECT);
}

/* Decide, report, and return what the hook returns. */
static __always_inline int check(const struct bw_policy_set *set, __u32 slot, __u64 in, const struct bw_dest *d,
				 __u32 call)
{
	struct bw_outcome o;

	bw_decide_connect(set, slot, in, d, &o);
	if (o.verdict == BW_VERDICT_ALLOW)
		return 0;
	report(d, call, &o, set);
	return bw_connect_count(&o, set->generation) ? -1 /* -EPERM */ : 0;
}

static __always_inline __u16 sock_family(struct sock *sk)
{
	return sk ? sk->__sk_common.skc_family : 0;
}

SEC("lsm/socket_connect")
int BPF_PROG(bulwark_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	const struct bw_policy_set *set;
	struct sock *sk = sock->sk;
	__u16 family = sock_family(sk);
	struct bw_dest d;
	__u32 slot = 0;
	__u8 protocol;
	__u64 in;

	if (ret)
		return ret;
	if (family != BW_AF_INET && family != BW_AF_INET6)
		return 0;
	protocol = bw_sock_protocol(sk);
	if (!protocol)
		return 0;
	in = in_scope(&set, &slot);
	if (!in)
		return 0;
	/* AF_UNSPEC disconnects a datagram socket: no destination. */
	if (!bw_read_dest(address, addrlen, false, bw_sock_bound_v4(sk), &d))
		return 0;
	d.protocol = protocol;
	return check(set, slot, in, &d, BW_CALL_CONNECT);
}

SEC("lsm/socket_sendmsg")
int BPF_PROG(bulwark_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	const struct bw_policy_set *set;
	struct sock *sk;
	struct bw_dest d;
	__u32 slot = 0;
	__u16 family;
	__u8 protocol;
	void *name;
	__u64 in;

	if (ret)
		return ret;
	/* Most sends name no address: they go where connect() decided. */
	name = msg->msg_name;
	if (!name)
		return 0;
	sk = sock->sk;
	family = sock_family(sk);
	if (family != BW_AF_INET && family != BW_AF_INET6)
		return 0;
	protocol = bw_sock_protocol(sk);
	if (!protocol)
		return 0;
	/* TCP ignores the address except to open a connection with data. */
	if (protocol == BW_PROTO_TCP && !(msg->msg_flags & BW_MSG_FASTOPEN))
		return 0;
	in = in_scope(&set, &slot);
	if (!in)
		return 0;
	/* udp_sendmsg (IPv4 sockets) takes AF_UNSPEC as AF_INET; udpv6_sendmsg
	 * takes it as "no address": the connected one. */
	if (!bw_read_dest(name, msg->msg_namelen, protocol == BW_PROTO_UDP && family == BW_AF_INET,
			  bw_sock_bound_v4(sk), &d))
		return 0;
	d.protocol = protocol;
	return check(set, slot, in, &d, BW_CALL_SENDMSG);
}
