/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The decisions every enforcing program shares, as global functions
 * (defined once, in bpf/lsm/decide.bpf.c, linked into the enforce object).
 * The verifier checks a global function once per program, with its
 * arguments unknown, instead of once for every path that reaches the call
 * with different known values (access bits, walk ends, verdicts): most of
 * what start-up used to verify (issue 14). Their arguments are scalars and
 * pointers to plain memory; the kernel pointers stay with the callers.
 */
#ifndef BULWARK_DECIDE_BPF_H
#define BULWARK_DECIDE_BPF_H

#include "path_walk.bpf.h"
#include "scope.bpf.h"
#include "verdict.bpf.h"

/* What bw_decide_path decides on, besides the walk's key. */
struct bw_path_query {
	__u64 in;                    /* policies in scope (bw_scope) */
	struct bw_inode_facts inode; /* the file itself: the hardlink backstop */
	__u32 slot;                  /* the live slot */
	__u32 access;                /* BW_ACCESS_* bits: bit c decides column c */
	__u32 end;                   /* enum bw_walk_end of the walk */
	__u32 fileless;              /* a program without a name: fileless rules decide (exec.bpf.h) */
};

/* The policies of `kind` in scope for the current task (scope.bpf.h), in
 * the policy set of `slot`. */
extern __u64 bw_scope(__u32 slot, __u32 kind);

/* The verdict on a file: `found` is the walk's key (the policies' defaults
 * are put there when the walk found none), then the hardlink backstop or
 * the fileless rules, then bw_decide. Fills `o`, returns o->verdict. */
extern int bw_decide_path(const struct bw_path_query *q, struct bw_path_rule *found, struct bw_outcome *o);

static __always_inline void bw_path_query_init(struct bw_path_query *q, __u64 in, __u32 slot, __u32 access,
					       enum bw_walk_end end, struct inode *inode)
{
	q->in = in;
	bw_inode_facts(inode, &q->inode);
	q->slot = slot;
	q->access = access;
	q->end = end;
	q->fileless = 0;
}

#endif /* BULWARK_DECIDE_BPF_H */
