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

/* Index of the lowest set bit (mask != 0; 64 for 0). No branch: the
 * population count of the bits below it. Every branch here used to fork
 * the verifier's state, in each of up to three calls per column: most of
 * what a file program cost to verify (issue 14). clang 14 cannot lower
 * __builtin_ctzll for BPF. */
static __always_inline __u32 bw_lowest_bit(__u64 mask)
{
	__u64 x = (mask & -mask) - 1;

	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (__u32)((x * 0x0101010101010101ull) >> 56);
}

/* All ones when x is not zero, else zero: a condition as a mask. The
 * value passes through barrier_var so that clang cannot fold the shift
 * back into a comparison, which BPF (no set-on-condition instruction)
 * compiles to a branch: the branches of a fold over columns, made precise
 * by the tests at its end, multiplied the verifier's paths. */
static __always_inline __u64 bw_mask_if(__u64 x)
{
	__u64 t = x | -x;

	barrier_var(t);
	return (__u64)((__s64)t >> 63);
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

/* The first column (in column order) where a class of verdict occurs,
 * and its policies there. */
struct bw_first {
	__u64 mask;
	__u32 column;
};

/* Take `mask` at `column` unless an earlier column was taken. */
static __always_inline void bw_first_take(struct bw_first *f, __u64 mask, __u32 column)
{
	__u64 take = bw_mask_if(mask) & ~bw_mask_if(f->mask);

	f->mask |= mask & take;
	f->column |= column & (__u32)take;
}

/* `verdict` by the lowest policy of `f`; its entry is the backstop's when
 * that policy's bit came from `b_masks` (the backstop's deny or audit
 * columns), else the walk's. */
static __always_inline void bw_pick(struct bw_outcome *o, __u32 verdict, const struct bw_first *f,
				    const struct bw_path_rule *w, const struct bw_path_rule *b, const __u64 *b_masks)
{
	__u32 p = bw_lowest_bit(f->mask), c = f->column & (BW_NR_COLUMNS - 1);

	o->verdict = verdict;
	o->policy = p;
	o->column = c;
	o->entry = (b && ((b_masks[c] >> (p & 63)) & 1)) ? b->entry : w->entry;
}

/* `w` decided by the walk, `b` the hardlink backstop (may be NULL). Deny
 * at the first column an enforcing policy denies; else would-deny at the
 * first an audit-mode one denies; else audit at the first audit match.
 * The asked columns are folded with masks, not branches: a branch per
 * column and class multiplied the verifier's paths (issue 14); the
 * branches left choose among the outcomes once, at the end. */
static __always_inline void bw_decide(const struct bw_policy_set *set, __u64 in, const struct bw_path_rule *w,
				      const struct bw_path_rule *b, __u32 access, struct bw_outcome *o)
{
	struct bw_first deny = {}, would = {}, audit = {};
	__u64 enforcing = set->enforcing;

#pragma nounroll
	for (__u32 c = 0; c < BW_NR_COLUMNS; c++) {
		__u64 d, a;

		/* BW_ACCESS_* bit c is column c. Most operations ask one or two:
		 * the others cost a test each (a branch the verifier prunes:
		 * nothing it decides depends on the masks' values). */
		if (!(access & (1u << c)))
			continue;
		d = w->deny[c];
		a = w->audit[c];
		if (b) {
			d |= b->deny[c];
			a |= b->audit[c];
		}
		d &= in;
		bw_first_take(&deny, d & enforcing, c);
		bw_first_take(&would, d & ~enforcing, c);
		bw_first_take(&audit, a & in, c);
	}
	if (deny.mask) {
		bw_pick(o, BW_VERDICT_DENY, &deny, w, b, b ? b->deny : NULL);
	} else if (would.mask) {
		bw_pick(o, BW_VERDICT_WOULD_DENY, &would, w, b, b ? b->deny : NULL);
	} else if (audit.mask) {
		bw_pick(o, BW_VERDICT_AUDIT, &audit, w, b, b ? b->audit : NULL);
	} else {
		o->verdict = BW_VERDICT_ALLOW;
		o->policy = BW_POLICY_NONE;
		o->column = 0;
		o->entry = BW_ENTRY_NONE;
	}
}

#endif /* BULWARK_VERDICT_BPF_H */
