/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * The monitor half of the bulwark ABI: everything the monitors under
 * bpf/trace/ and the engine share. Included at the end of abi.h (include
 * that, not this); pinned by static_assert in engine/util/abi_layout.cpp.
 * Choices (string keys, folding, buckets, event fields) are recorded in
 * docs/decisions/005-monitors.md.
 *
 * Monitors observe: they report operations matching [[monitor.*]] tables
 * and never make a syscall fail. The one exception is a syscalls monitor
 * with action = "kill", which sends SIGKILL after the syscall has begun.
 */
#ifndef BULWARK_MONITOR_ABI_H
#define BULWARK_MONITOR_ABI_H

#include "bulwark/abi.h"

/* ---- kinds and limits ------------------------------------------------ */

enum bw_monitor_kind {
	BW_MON_FILE = 0,             /* [[monitor.file]]: open, openat, openat2, creat */
	BW_MON_SYSCALLS = 1,         /* [[monitor.syscalls]]: any syscall, by uid */
	BW_MON_PROCESS = 2,          /* [monitor.process]: every exec */
	BW_MON_CONNECT = 3,          /* [[monitor.connect]]: connect and sendto */
	BW_MON_NR_KINDS = 4,
};

enum bw_mon_limits {
	BW_MON_PATH_KEY = 256,       /* path bytes in an LPM key: the kernel's LPM limit */
	BW_MON_BUF = 1024,           /* scratch for building a path (power of two) */
	BW_MON_MAX_RULES = 4096,     /* monitor rules in one policy set (rule_cfg, buckets) */
	BW_MON_MAX_KEYS = 1 << 18,   /* entries in any one monitor map */
	BW_SYSCALL_SEEN_MAX = 1024,  /* syscall numbers with their own "seen" bit */
	BW_SYSCALL_SEEN_WORDS = BW_SYSCALL_SEEN_MAX / 64,
};

/* Entries with a fixed meaning; the compiler numbers real keys from
 * BW_MON_ENTRY_FIRST. With a policy, an entry names a rule (mon_rule_refs). */
#define BW_MON_ENTRY_PROCESS    0u   /* the policy's [monitor.process] table */
#define BW_MON_ENTRY_UNRESOLVED 1u   /* a file path that could not be made absolute */
#define BW_MON_ENTRY_FIRST      2u

/* What a rule does when it matches. */
enum bw_mon_action {
	BW_MON_REPORT = 0,           /* an event (every monitor; syscalls "audit") */
	BW_MON_KILL = 1,             /* SIGKILL the process, then report */
	BW_MON_WOULD_KILL = 2,       /* kill in an audit-mode policy (or --audit): report only */
};

/* ---- keys and values ------------------------------------------------- */

/*
 * LPM trie key over path bytes (file and process monitors). An exact path
 * is stored with its terminating NUL inside the prefix, a prefix ("/etc/")
 * without: so "/etc/passwd-" cannot match "/etc/passwd", and one trie
 * holds both. Lookups use prefixlen = 8 * BW_MON_PATH_KEY; bytes after the
 * looked-up path's NUL never matter (no stored key extends past a NUL).
 */
struct bw_mon_path_key {
	__u32 prefixlen;
	char path[BW_MON_PATH_KEY];
};

/*
 * What a key matched. `policies` holds every policy with a rule covering
 * the key (less specific rules folded in by the compiler, as for file
 * rules), `act` those whose covering rule acts (syscalls: kill), and
 * `entry` names the rule of each policy through mon_rule_refs.
 * For the process monitor's trie, `policies` are the policies *allowing*.
 */
struct bw_mon_match {
	__u64 policies;
	__u64 act;
	__u32 entry;
	__u32 flags;                 /* reserved, 0 */
};

/* (entry, policy) → index of the deciding rule (__u32). */
struct bw_mon_rule_key {
	__u32 entry;
	__u32 policy;
};

/* Connect monitor, stage 1: LPM trie over (family, address). IPv4 rules
 * also match IPv4-mapped IPv6 addresses (looked up as family 4). */
#define BW_MON_FAMILY_IPV4 4u
#define BW_MON_FAMILY_IPV6 6u
struct bw_mon_addr_key {
	__u32 prefixlen;             /* 32 (family) + CIDR prefix length */
	__u32 family;                /* BW_MON_FAMILY_* */
	__u8 addr[16];               /* network byte order; IPv4 in the first 4 */
};

/* Connect monitor, stage 2: LPM trie over (network entry, protocol, port).
 * Port ranges are stored as prefix blocks, so a lookup is one more trie
 * walk whatever the number of ranges — no loop over rules. */
struct bw_mon_port_key {
	__u32 prefixlen;             /* 40 + port prefix length (0..16) */
	__u32 net;                   /* stage 1 entry */
	__u8 protocol;               /* IPPROTO_TCP (6) / IPPROTO_UDP (17) */
	__u8 port[2];                /* network byte order */
	__u8 pad;
};

/* Syscalls monitor: (uid, x86_64 syscall number) → policies allowing it. */
struct bw_mon_syscall_key {
	__u32 uid;
	__u32 nr;
};

/* One per rule and slot (mon_rule_cfg[slot * BW_MON_MAX_RULES + rule]). */
struct bw_mon_rule_cfg {
	__u64 interval_ns;           /* 1e9 / rate_limit: one event's worth of time */
	__u64 burst_ns;              /* (rate_limit - 1) * interval: how far ahead a bucket may run */
	__u32 kind;                  /* enum bw_monitor_kind */
	__u32 action;                /* enum bw_mon_action */
};

/* One per slot (monitor_sets[slot]); written before the live slot flips. */
struct bw_monitor_set {
	__u64 applies[BW_MON_NR_KINDS];  /* policies with monitors of each kind */
	__u32 generation;
	__u32 rules;                     /* rules in this slot's rule_cfg */
};

/*
 * Rate limiting: one generic cell rate (token bucket) state per rule,
 * shared by all CPUs (mon_buckets[rule]). A bucket of an older generation
 * is reset on first use: rule numbers are per policy set.
 */
struct bw_mon_bucket {
	__u64 tat;                   /* theoretical arrival time, bpf_ktime_get_ns() */
	__u32 generation;
	__u32 suppressed;            /* events dropped since the last one sent */
};

/* Per process (task storage on the thread group leader): the syscalls
 * already reported, so an audit reports each disallowed one once. */
struct bw_mon_seen {
	__u32 generation;
	__u32 reserved;
	__u64 bits[BW_SYSCALL_SEEN_WORDS]; /* numbers >= BW_SYSCALL_SEEN_MAX share the last bit */
};

/* ---- statistics ------------------------------------------------------ */

/* Monitor counters in the shared `stats` map, after room for the
 * enforcing side's (enum bw_stat). */
enum bw_mon_stat {
	BW_STAT_MON_REPORTED = 16,   /* monitor events written */
	BW_STAT_MON_SUPPRESSED,      /* dropped by a rule's rate limit */
	BW_STAT_MON_UNRESOLVED,      /* file paths that could not be made absolute */
	BW_STAT_MON_KILLED,          /* SIGKILL sent by a syscalls monitor */
	BW_STAT_MON_KILL_FAILED,     /* bpf_send_signal refused */
	BW_STAT_MON_NO_RULE,         /* a match without a rule reference (compiler bug) */
	BW_STAT_MON_END,
};

/* ---- events ---------------------------------------------------------- */

/* bw_monitor_event.flags */
#define BW_MON_EVENT_UNRESOLVED      0x01u /* file: the path could not be made absolute */
#define BW_MON_EVENT_NAME_UNREADABLE 0x02u /* file: the name could not be read from user memory */
#define BW_MON_EVENT_PATH_TRUNCATED  0x04u /* path longer than the event carries */
#define BW_MON_EVENT_DELETED         0x08u /* process: the program file was unlinked */
#define BW_MON_EVENT_OTHER_ROOT      0x10u /* process: path relative to another mount namespace's root */
#define BW_MON_EVENT_PROGRAM         0x20u /* process: the program is not allowed */
#define BW_MON_EVENT_SCRIPT          0x40u /* process: the script is not allowed */
#define BW_MON_EVENT_MAPPED          0x80u /* connect: an IPv4-mapped IPv6 address */

/* Common to every monitor record: h.kind = BW_KIND_MONITOR, h.policy the
 * reporting policy, h.entry the matched entry, h.suppressed the events of
 * this rule dropped by its rate limit since its previous event. */
struct bw_monitor_event {
	struct bw_event_header h;
	__u32 monitor;               /* enum bw_monitor_kind */
	__u32 rule;                  /* index into the map image's monitor rules */
	__u32 action;                /* enum bw_mon_action taken */
	__u32 flags;                 /* BW_MON_EVENT_* */
};

struct bw_mon_file_event {
	struct bw_monitor_event m;
	__u32 syscall;               /* x86_64 number: open, openat, openat2 or creat */
	__u32 open_flags;            /* O_* as passed (creat: O_CREAT|O_WRONLY|O_TRUNC) */
	__s32 dirfd;                 /* as passed; AT_FDCWD for open and creat */
	__u32 reserved;
	char path[BW_PATH_MAX];      /* absolute and normalized, or as given when unresolved */
	char given[BW_PATH_MAX];     /* the name exactly as the process passed it */
};

/* bw_mon_syscall_event.abi: a task's syscall numbers follow its ABI. */
enum bw_syscall_abi {
	BW_ABI_X86_64 = 0,
	BW_ABI_IA32 = 1,             /* 32-bit compat task: numbers are i386's */
	BW_ABI_X32 = 2,              /* __X32_SYSCALL_BIT set */
};

struct bw_mon_syscall_event {
	struct bw_monitor_event m;
	__u32 nr;                    /* as the task issued it */
	__u32 abi;                   /* enum bw_syscall_abi */
};

struct bw_mon_process_event {
	struct bw_monitor_event m;   /* h.exe: the program just executed */
	char script[BW_PATH_MAX];    /* the script, when the program is its interpreter */
	char filename[BW_PATH_MAX];  /* the name passed to execve */
	char parent_exe[BW_PATH_MAX];
};

/* bw_mon_connect_event.hook */
enum bw_mon_connect_hook {
	BW_MON_HOOK_CONNECT = 0,
	BW_MON_HOOK_SENDMSG = 1,     /* unconnected UDP sendto/sendmsg */
};

struct bw_mon_connect_event {
	struct bw_monitor_event m;
	__u32 family;                /* BW_MON_FAMILY_* as the socket was given it */
	__u16 port;                  /* host byte order */
	__u8 protocol;               /* IPPROTO_* */
	__u8 hook;                   /* enum bw_mon_connect_hook */
	__u8 addr[16];               /* network byte order; IPv4 in the first 4 */
};

#endif /* BULWARK_MONITOR_ABI_H */
