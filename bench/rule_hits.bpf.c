// SPDX-License-Identifier: GPL-2.0
/*
 * What a per-rule hit counter adds to a verdict (bench/rule_hits.cpp).
 * NOT part of bulwark: three socket-filter programs run by
 * BPF_PROG_TEST_RUN, each doing once per run what a hook does after it has
 * decided a verdict other than allow, with bulwark's own helpers:
 *
 *   verdict_only    the verdict's stats counter (what hooks did before)
 *   verdict_rule    the same plus the rule's counter: bw_count_verdict,
 *                   exactly as the hooks call it
 *   verdict_event   the stats counter plus a ring buffer record the size of
 *                   a connect event, reserved and discarded: the part of a
 *                   reported verdict the counter sits beside
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "events.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The outcome a hook passes (on its stack, as the hooks do). */
#define DENIED_OUTCOME { .verdict = BW_VERDICT_DENY, .policy = 0, .column = BW_COL_CONNECT, .entry = 7 }

SEC("socket")
int verdict_only(struct __sk_buff *skb)
{
	bw_count(BW_STAT_DENIED);
	return 0;
}

SEC("socket")
int verdict_rule(struct __sk_buff *skb)
{
	struct bw_outcome o = DENIED_OUTCOME;

	bw_count_verdict(BW_KIND_CONNECT, &o, 1);
	return 0;
}

SEC("socket")
int verdict_event(struct __sk_buff *skb)
{
	struct bw_connect_event *e;

	bw_count(BW_STAT_DENIED);
	e = bw_reserve(sizeof(*e), BW_VERDICT_DENY);
	if (e)
		bpf_ringbuf_discard(e, 0);
	return 0;
}
