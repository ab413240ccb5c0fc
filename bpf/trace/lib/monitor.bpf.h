/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every monitor does around its own match: find the policies whose
 * monitors of a kind apply to the current task (scope), find the rule a
 * policy reports through, ask the rule's rate limit, and fill the common
 * part of the event. Mirrored by MonitorEvaluator
 * (engine/monitor/monitor_eval.cpp).
 */
#ifndef BULWARK_MONITOR_BPF_H
#define BULWARK_MONITOR_BPF_H

#include "events.bpf.h"
#include "monitor_maps.bpf.h"
#include "path_string.bpf.h"
#include "scope.bpf.h"
#include "verdict.bpf.h"

/* The policy set in force, as a monitor sees it. */
struct bw_mon_ctx {
	const struct bw_policy_set *set;
	const struct bw_monitor_set *ms;
	__u32 slot;
	__u32 generation;
};

/* A match about to be reported: the policy, the entry, the rule. */
struct bw_mon_hit {
	__u32 policy;
	__u32 entry;
	__u32 rule;
	__u32 action;                /* enum bw_mon_action */
	__u64 interval_ns, burst_ns;
	__u32 suppressed;            /* set by bw_mon_admit */
	__u32 pad;
};

/* Policies with monitors of `kind` (scope not yet checked), or 0 for
 * bulwark itself and when nothing is loaded. Three array lookups. */
static __always_inline __u64 bw_mon_applies(__u32 kind, struct bw_mon_ctx *c)
{
	c->set = bw_current_set(&c->slot);
	if (!c->set)
		return 0;
	c->ms = bpf_map_lookup_elem(&monitor_sets, &c->slot);
	if (!c->ms || kind >= BW_MON_NR_KINDS)
		return 0;
	c->generation = c->set->generation;
	return c->ms->applies[kind];
}

/* Of `in`, the policies whose every [scope] key holds for the current
 * task — the same test as for rules (scope.bpf.h). */
static __always_inline __u64 bw_mon_scope(const struct bw_mon_ctx *c, __u64 in)
{
	const struct bw_policy_set *set = c->set;

	if (in & ~set->uid_free) {
		in &= bw_uid_scope(set, c->slot);
		if (!in)
			return 0;
	}
	if (in & ~set->cgroup_free) {
		in &= bw_cgroup_scope(set, c->slot);
		if (!in)
			return 0;
	}
	if (in & ~set->executable_free)
		in &= bw_executable_scope(set, c->slot);
	return in;
}

/* The rule `policy` reports `entry` through, and its configuration. */
static __always_inline bool bw_mon_rule(const struct bw_mon_ctx *c, __u32 entry, __u32 policy, struct bw_mon_hit *h)
{
	struct bw_mon_rule_key k = { .entry = entry, .policy = policy };
	const struct bw_mon_rule_cfg *cfg;
	const __u32 *rule;
	void *refs;
	__u32 idx;

	refs = bpf_map_lookup_elem(&mon_rule_refs, (void *)&c->slot);
	if (!refs) {
		bw_count(BW_STAT_MAP_MISSING);
		return false;
	}
	rule = bpf_map_lookup_elem(refs, &k);
	if (!rule || *rule >= BW_MON_MAX_RULES) {
		bw_count(BW_STAT_MON_NO_RULE);
		return false;
	}
	idx = (c->slot & 1) * BW_MON_MAX_RULES + *rule;
	cfg = bpf_map_lookup_elem(&mon_rule_cfg, &idx);
	if (!cfg) {
		bw_count(BW_STAT_MON_NO_RULE);
		return false;
	}
	h->policy = policy;
	h->entry = entry;
	h->rule = *rule;
	h->action = cfg->action;
	h->interval_ns = cfg->interval_ns;
	h->burst_ns = cfg->burst_ns;
	h->suppressed = 0;
	return true;
}

/*
 * The rule's rate limit: a generic cell rate algorithm (a token bucket
 * kept as one timestamp). An event is admitted when the bucket's
 * theoretical arrival time is at most burst_ns ahead of now; each admitted
 * event moves it interval_ns further. Refused events are counted in the
 * bucket and reported by the next admitted one (h->suppressed).
 */
static __always_inline bool bw_mon_admit(const struct bw_mon_ctx *c, struct bw_mon_hit *h)
{
	__u32 rule = h->rule;
	struct bw_mon_bucket *b = bpf_map_lookup_elem(&mon_buckets, &rule);
	__u64 now = bpf_ktime_get_ns();

	if (!b) {
		bw_count(BW_STAT_MAP_MISSING);
		return true;
	}
	if (b->generation != c->generation) {
		/* Rule numbers are per policy set: a new one starts afresh.
		 * CPUs racing here at worst let a few extra events through. */
		b->tat = 0;
		b->suppressed = 0;
		b->generation = c->generation;
	}
	for (int attempt = 0; attempt < 4; attempt++) {
		__u64 seen = b->tat;
		__u64 tat = seen > now ? seen : now;

		if (tat - now > h->burst_ns) {
			__sync_fetch_and_add(&b->suppressed, 1);
			bw_count(BW_STAT_MON_SUPPRESSED);
			return false;
		}
		if (__sync_val_compare_and_swap(&b->tat, seen, tat + h->interval_ns) == seen)
			break;
		/* Another CPU took this slot of time: look again. After four
		 * tries, admit anyway rather than spin. */
	}
	h->suppressed = __sync_lock_test_and_set(&b->suppressed, 0);
	return true;
}

/* A record of `size` bytes, counting a full ring buffer. */
static __always_inline void *bw_mon_reserve(__u64 size)
{
	return bw_reserve(size, BW_VERDICT_AUDIT);
}

/* The common part of a monitor record. `exe`: walk the task's program
 * (the process monitor fills it itself). */
static __always_inline void bw_mon_fill(struct bw_monitor_event *e, const struct bw_mon_ctx *c,
					const struct bw_mon_hit *h, __u32 monitor, __u32 flags, struct bw_mon_scratch *s,
					bool exe)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct mm_struct *mm;
	struct file *f;

	e->h.time_ns = bpf_ktime_get_boot_ns();
	e->h.cgroup_id = bpf_get_current_cgroup_id();
	e->h.kind = BW_KIND_MONITOR;
	e->h.verdict = BW_VERDICT_AUDIT;
	e->h.generation = c->generation;
	e->h.policy = h->policy;
	e->h.entry = h->entry;
	e->h.column = 0;
	e->h.pid = pid_tgid >> 32;
	e->h.tid = (__u32)pid_tgid;
	e->h.ppid = task->real_parent->tgid;
	e->h.uid = (__u32)bpf_get_current_uid_gid();
	e->h.flags = 0;
	e->h.suppressed = h->suppressed;
	bpf_get_current_comm(e->h.comm, sizeof(e->h.comm));
	e->monitor = monitor;
	e->rule = h->rule;
	e->action = h->action;
	e->flags = flags;
	e->h.exe[0] = '\0';
	if (!exe)
		return;
	mm = task->mm;
	f = mm ? mm->exe_file : NULL;
	if (!f || !s || bw_file_name(s, f, e->h.exe, &flags, NULL) < 0)
		e->h.flags |= BW_EVENT_EXE_UNKNOWN;
}

static __always_inline void bw_mon_submit(void *e)
{
	bw_count(BW_STAT_MON_REPORTED);
	bpf_ringbuf_submit(e, 0);
}

static __always_inline struct bw_mon_scratch *bw_mon_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&mon_scratch, &zero);
}

#endif /* BULWARK_MONITOR_BPF_H */
