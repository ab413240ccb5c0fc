/* SPDX-License-Identifier: GPL-2.0 */
/*
 * From the deciding key's masks to one verdict: deny if an enforcing
 * policy in scope denies; else would-deny if an audit-mode policy does;
 * else audit if an audit rule matched. Mirrored by Evaluator::decide_file.
 */
#ifndef BULWARK_VERDICT_BPF_H
#define BULWARK_VERDICT_BPF_H

#include "common_maps.bpf.h"

struct bw_outcome {
	__u32 verdict;               /* enum bw_verdict */
	__u32 policy;
	__u32 column;
	__u32 entry;
};

/* Index of the lowest set bit (mask != 0). Six steps, no loop; clang 14
 * cannot lower __builtin_ctzll for BPF. */
static __always_inline __u32 bw_lowest_bit(__u64 mask)
{
	__u32 n = 0;

	if (!(mask & 0xffffffffull)) { n += 32; mask >>= 32; }
	if (!(mask & 0xffffull)) { n += 16; mask >>= 16; }
	if (!(mask & 0xffull)) { n += 8; mask >>= 8; }
	if (!(mask & 0xfull)) { n += 4; mask >>= 4; }
	if (!(mask & 0x3ull)) { n += 2; mask >>= 2; }
	if (!(mask & 0x1ull)) { n += 1; }
	return n;
}

/* When no key matched (or the walk was too deep): the policies' defaults
 * (or, failing closed, everything a policy in scope could deny). The
 * source chosen once: a choice per column compiles to a select per word. */
static __always_inline void bw_fallback_rule(const struct bw_policy_set *set, bool too_deep, struct bw_path_rule *out)
{
	const __u64 *deny = too_deep ? set->can_deny : set->default_deny;
	const __u64 *audit = too_deep ? set->can_audit : set->default_audit;

	for (int c = 0; c < BW_NR_COLUMNS; c++) {
		out->deny[c] = deny[c];
		out->audit[c] = audit[c];
	}
	out->entry = too_deep ? BW_ENTRY_TOO_DEEP : BW_ENTRY_NONE;
	out->flags = 0;
}

static __always_inline void bw_pick(struct bw_outcome *o, __u32 verdict, __u64 mask, __u32 column,
				    const struct bw_path_rule *w, const struct bw_path_rule *b, __u64 from_b)
{
	__u32 p = bw_lowest_bit(mask);

	o->verdict = verdict;
	o->policy = p;
	o->column = column;
	o->entry = (b && (from_b & (1ull << p))) ? b->entry : w->entry;
}

/* `w` decided by the walk, `b` the hardlink backstop (may be NULL). */
static __always_inline void bw_decide(const struct bw_policy_set *set, __u64 in, const struct bw_path_rule *w,
				      const struct bw_path_rule *b, __u32 access, struct bw_outcome *o)
{
	o->verdict = BW_VERDICT_ALLOW;
	o->policy = BW_POLICY_NONE;
	o->column = 0;
	o->entry = BW_ENTRY_NONE;

	for (__u32 c = 0; c < BW_NR_COLUMNS; c++) {
		__u64 bdeny, baudit, deny, audit;

		if (!(access & (1u << c)))      /* BW_ACCESS_* bit c is column c */
			continue;
		bdeny = b ? b->deny[c] : 0;
		baudit = b ? b->audit[c] : 0;
		deny = (w->deny[c] | bdeny) & in;
		audit = (w->audit[c] | baudit) & in;
		if (deny & set->enforcing) {
			bw_pick(o, BW_VERDICT_DENY, deny & set->enforcing, c, w, b, bdeny);
			return;
		}
		if ((deny & ~set->enforcing) && o->verdict < BW_VERDICT_WOULD_DENY)
			bw_pick(o, BW_VERDICT_WOULD_DENY, deny & ~set->enforcing, c, w, b, bdeny);
		else if (audit && o->verdict < BW_VERDICT_AUDIT)
			bw_pick(o, BW_VERDICT_AUDIT, audit, c, w, b, baudit);
	}
}

#endif /* BULWARK_VERDICT_BPF_H */
