/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * The bulwark ABI: every struct, enum and limit that crosses the boundary
 * between the BPF programs and the engine. Included by both sides; the C++
 * side pins the layout with static_assert (engine/abi_layout.cpp), so a
 * change here that is not mirrored in a compiled engine fails the build.
 *
 * Layout decisions are recorded in docs/decisions/001-file-matching.md,
 * 002-generations.md, 003-exec.md and 004-connect-maps.md.
 */
#ifndef BULWARK_ABI_H
#define BULWARK_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* ---- limits --------------------------------------------------------- */

enum bw_limits {
	BW_MAX_POLICIES = 64,        /* one bit per policy in every mask */
	BW_NAME_MAX = 256,           /* one path component, NUL included */
	BW_SHORT_NAME_MAX = 24,      /* name bytes of a short name key (bw_short_name_key) */
	BW_PATH_MAX = 512,           /* bytes of a path carried in an event */
	BW_COMM_LEN = 16,
	BW_WALK_MAX_DEPTH = 64,      /* dentries walked from a file to "/" */
	BW_CGROUP_MAX_LEVEL = 32,    /* deepest cgroup level a scope may name */
	BW_SLOTS = 2,                /* policy-set slots: live and next */
	BW_MAX_PATH_KEYS = 1 << 20,  /* inode_rules / name_rules entries */
	BW_MAX_SCOPE_KEYS = 1 << 16, /* uid / cgroup / executable scope keys */
	BW_MAX_CONNECT_KEYS = 1 << 20,/* entries of each connect trie */
	BW_MAX_OBJECTS = 4096,       /* bulwark_objects: bulwark's own programs, maps, links */
	BW_MAX_RULE_HITS = 1 << 16,  /* rule_hits: distinct (generation, rule, verdict) counted */
};

/* Entry numbers that do not index the map image. */
#define BW_ENTRY_NONE 0xffffffffu      /* no rule matched: the default decided */
#define BW_ENTRY_TOO_DEEP 0xfffffffeu  /* walk exceeded BW_WALK_MAX_DEPTH */
#define BW_ENTRY_NO_MOUNT 0xfffffffdu  /* an inode hook could not tell the file's mount (fail-closed) */
#define BW_ENTRY_DISCONNECTED 0xfffffffcu /* a dentry with no path to its mount's root (fail-closed) */
#define BW_POLICY_NONE 0xffffffffu

/* ---- what is being decided ------------------------------------------ */

/* A column is one kind of access that rules decide separately. Columns
 * READ..METADATA are the file rights of docs/policy-language.md ("access");
 * docs/decisions/008-file-rights.md says how `write` spans several. */
enum bw_column {
	BW_COL_READ = 0,             /* open for reading */
	BW_COL_WRITE = 1,            /* a file's content: open for writing, O_TRUNC, truncate, ftruncate */
	BW_COL_EXEC = 2,             /* running a program: execve, a script's interpreter */
	BW_COL_MAP = 3,              /* mapping a file as code (mmap/mprotect PROT_EXEC):
	                              * [[exec]] rules only, never the exec default, so
	                              * that allowed programs map their libraries */
	BW_COL_CREATE = 4,           /* a new name: file, directory, symlink, device, FIFO, socket */
	BW_COL_DELETE = 5,           /* unlink, rmdir, the name a rename takes away or replaces */
	BW_COL_RENAME = 6,           /* a name moving in, out or within a tree; link(2) */
	BW_COL_METADATA = 7,         /* chmod, chown, setxattr, removexattr, utimes */
	BW_NR_COLUMNS = 8,
};

/* Columns that are not path keys' (they index no mask array), carried in
 * events and in the map image's decisions: connect rules, and attempts on
 * bulwark itself (decided by scope alone). */
#define BW_COL_CONNECT 8u
#define BW_COL_TAMPER 9u

/* The hook family an event or a policy applies to. */
enum bw_kind {
	BW_KIND_FILE = 0,
	BW_KIND_EXEC = 1,
	BW_KIND_CONNECT = 2,
	BW_KIND_TAMPER = 3,          /* signals, ptrace, bpf(2), files of bulwark's own */
	BW_NR_ENFORCE_KINDS = 4,
	BW_KIND_MONITOR = 16,        /* monitors: see bulwark/monitor_abi.h */
};

enum bw_verdict {
	BW_VERDICT_ALLOW = 0,
	BW_VERDICT_AUDIT = 1,        /* an audit rule matched: allowed, reported */
	BW_VERDICT_WOULD_DENY = 2,   /* denied by an audit-mode policy: allowed */
	BW_VERDICT_DENY = 3,         /* the operation failed with EPERM */
};

/* ---- path rules ------------------------------------------------------ */

/*
 * A rule's path is anchored in the kernel by identity, not by string:
 * a directory by its (device, inode), a name that may be replaced or may
 * not exist yet by (parent directory, name). The BPF side walks the
 * opened file's dentries towards the root and stops at the deepest key.
 */
enum bw_role {
	BW_ROLE_SELF = 1,            /* the object itself (exact rules) */
	BW_ROLE_ANCESTOR = 2,        /* a directory above it (prefix rules) */
};

struct bw_inode_key {
	__u64 ino;
	__u32 dev;                   /* kernel dev_t: major << 20 | minor */
	__u32 role;                  /* enum bw_role */
};

struct bw_name_key {
	__u64 parent_ino;
	__u32 parent_dev;
	__u32 role;                  /* enum bw_role */
	char name[BW_NAME_MAX];      /* NUL-padded to the end */
};

/*
 * The key of short_name_rules, which holds the name_rules entries whose
 * name has at most BW_SHORT_NAME_MAX - 2 characters: a hash lookup hashes
 * the whole key, and most names are short (the 272-byte bw_name_key made a
 * named level cost ~760 guest instructions: decision 014). A read of
 * BW_SHORT_NAME_MAX bytes that returns less than BW_SHORT_NAME_MAX has the
 * whole name; one that fills the buffer may have been cut, and the walk
 * looks the name up in name_rules instead. BW_NAME_IS_SHORT(strlen) says
 * which map a name is in, on both sides.
 */
struct bw_short_name_key {
	__u64 parent_ino;
	__u32 parent_dev;
	__u32 role;                  /* enum bw_role */
	char name[BW_SHORT_NAME_MAX];/* NUL-padded to the end */
};

#define BW_NAME_IS_SHORT(len) ((len) <= BW_SHORT_NAME_MAX - 2)

/* bw_path_rule.flags */
#define BW_ENTRY_NAMED_FILES 0x1u    /* name keys of role SELF under this directory
                                      * (exact rules): looked up at a walk's first
                                      * level, the file's own name */
#define BW_ENTRY_NAMED_TREES 0x8u    /* name keys of role ANCESTOR under it (trees
                                      * not made yet): looked up at the other levels */
#define BW_ENTRY_NAMED (BW_ENTRY_NAMED_FILES | BW_ENTRY_NAMED_TREES)
#define BW_ENTRY_PROTECTED 0x2u      /* bulwark's own (policy files, binary, pins):
                                      * changing it is tampering (BW_KIND_TAMPER) */
#define BW_ENTRY_OWN_BINARY 0x4u     /* bulwark's executable (a SELF inode key): a
                                      * process running it may change bulwark's own */

/*
 * The decision every policy reaches for paths at or below this key, with
 * all less specific rules already folded in by the compiler: so the
 * deepest key found decides, and no rule is ever looped over.
 */
struct bw_path_rule {
	__u64 deny[BW_NR_COLUMNS];   /* policies whose verdict is deny */
	__u64 audit[BW_NR_COLUMNS];  /* policies whose verdict is audit */
	__u32 entry;                 /* map image entry, echoed in events */
	__u32 flags;                 /* BW_ENTRY_* */
};

/* ---- connect rules (docs/decisions/004-connect-maps.md) -------------- */

/* LPM trie keys: the destination address, most significant byte first.
 * IPv4-mapped IPv6 destinations (::ffff:a.b.c.d) are looked up as IPv4. */
struct bw_cidr4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct bw_cidr6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Protocols a connect rule decides (bw_port_key.protocol, events). */
enum bw_protocol {
	BW_PROTO_TCP = 1,            /* IPPROTO_TCP, IPPROTO_MPTCP */
	BW_PROTO_UDP = 2,            /* IPPROTO_UDP, IPPROTO_UDPLITE */
};

/* bw_connect_rule.flags */
#define BW_CONNECT_BY_PORT 0x1u      /* verdicts differ by protocol or port: look up connect_ports */

/*
 * The decision every policy reaches for destinations in this CIDR, with
 * every wider CIDR folded in by the compiler: the longest prefix found
 * decides. When it differs by protocol or port, the entry only says so and
 * connect_ports holds one value per (entry, protocol, port block).
 */
struct bw_connect_rule {
	__u64 deny;                  /* policies whose verdict is deny */
	__u64 audit;
	__u32 entry;                 /* map image entry, echoed in events */
	__u32 flags;                 /* BW_CONNECT_* */
};

/* LPM trie key of connect_ports: an entry's port intervals, cut into
 * aligned blocks. Lookups use BW_PORT_KEY_BITS; the pad byte is zero. */
struct bw_port_key {
	__u32 prefixlen;             /* 40 + bits of the port block */
	__u32 entry;                 /* bw_connect_rule.entry of the CIDR */
	__u8 protocol;               /* enum bw_protocol */
	__u8 port[2];                /* big-endian */
	__u8 pad;
};
#define BW_PORT_KEY_BITS (32 + 8 + 16)

/* ---- the directory filter (docs/decisions/006-dir-filter.md) -------- */

/*
 * Two bits per ANCESTOR-role key of inode_rules, set by the compiler: a
 * level of the walk whose (dev, ino) finds either bit clear has no key and
 * skips its hash lookup. A Bloom filter: "clear" is certain, "set" only
 * means "look it up". It changes no verdict, only what a miss costs.
 */
#define BW_DIR_FILTER_SHIFT 16                                   /* 65,536 bits */
#define BW_DIR_FILTER_WORDS ((1u << BW_DIR_FILTER_SHIFT) / 64)   /* 8 KiB */
#define BW_DIR_FILTER_MASK ((1u << BW_DIR_FILTER_SHIFT) - 1)

/* Fibonacci hashing of the identity; the two bit numbers are the top 16
 * bits and bits 32..47 of the product. Shared, so both sides agree. */
static inline __u64 bw_dir_filter_hash(__u32 dev, __u64 ino)
{
	return (ino ^ ((__u64)dev << 32)) * 0x9e3779b97f4a7c15ull;
}

static inline __u32 bw_dir_filter_bit1(__u64 h)
{
	return (__u32)(h >> (64 - BW_DIR_FILTER_SHIFT));
}

static inline __u32 bw_dir_filter_bit2(__u64 h)
{
	return (__u32)(h >> 32) & BW_DIR_FILTER_MASK;
}

/* ---- the policy set ------------------------------------------------- */

/*
 * One per slot in the policy_sets array. Everything a hook needs before
 * it touches a rule map, so that a process out of scope pays for two
 * array lookups and at most a few hash lookups.
 */
struct bw_policy_set {
	__u64 active;                      /* policies loaded in this slot */
	__u64 enforcing;                   /* denials fail; others would-deny */
	__u64 applies[BW_NR_ENFORCE_KINDS];/* policies that can decide a kind */
	__u64 uid_free;                    /* policies without a uid scope */
	__u64 cgroup_free;                 /* ... without a cgroup scope */
	__u64 executable_free;             /* ... without an executable scope */
	__u64 default_deny[BW_NR_COLUMNS]; /* verdict when no key matches */
	__u64 default_audit[BW_NR_COLUMNS];
	__u64 can_deny[BW_NR_COLUMNS];     /* fail-closed set for too-deep walks */
	__u64 can_audit[BW_NR_COLUMNS];
	__u64 cgroup_levels;               /* bit L: a scoped cgroup at level L */
	__u64 connect_default_deny;        /* [defaults] connect, when no CIDR matches */
	__u64 connect_default_audit;
	__u64 fileless;                    /* policies with an [[exec]] fileless rule */
	__u64 fileless_deny;               /* ... whose verdict for such programs is deny */
	__u64 fileless_audit;
	__u64 dir_filter[BW_DIR_FILTER_WORDS]; /* ANCESTOR keys of inode_rules, see above */
	__u32 fileless_entry;              /* map image entry naming those rules */
	__u32 reserved;
	__u32 generation;                  /* reload counter, echoed in events */
	__u32 flags;
};

/* live_slot map value: which policy_sets slot is in force. */
struct bw_live {
	__u32 slot;                  /* 0 .. BW_SLOTS-1 */
	__u32 generation;
};

/* ---- sticky scope ------------------------------------------------------ */

/*
 * What a process has been, for [scope] (docs/decisions/012-sticky-scope.md):
 * the scope keys — cgroups, uids, programs — it has matched since bulwark
 * first saw it, kept in task local storage on its thread-group leader and
 * copied to every child. A hook ORs them into what the task is now, so a
 * process can enter scopes and never leave them. Only the kernel writes it.
 */
#define BW_MARK_CGROUPS 4
#define BW_MARK_UIDS 4
#define BW_MARK_EXES 2

/* bw_task_marks.full: a dimension that ran out of room counts as matching
 * every policy that constrains it (in scope rather than out). */
#define BW_MARK_FULL_CGROUP 1u
#define BW_MARK_FULL_UID 2u
#define BW_MARK_FULL_EXE 4u

struct bw_task_marks {
	__u64 cgroups[BW_MARK_CGROUPS];           /* scope_cgroups keys (cgroup ids); 0 = empty */
	struct bw_inode_key exes[BW_MARK_EXES];   /* scope_exe_inodes keys; ino 0 = empty */
	__u32 uids[BW_MARK_UIDS];                 /* scope_uids keys plus one; 0 = empty */
	__u32 full;                               /* BW_MARK_FULL_* */
	__u32 seen;                               /* generation + 1 a hook last marked it under */
};

/* ---- events --------------------------------------------------------- */

/* bw_event_header.flags */
#define BW_EVENT_PATH_TRUNCATED 0x1u
#define BW_EVENT_EXE_UNKNOWN    0x2u
#define BW_EVENT_PATH_UNKNOWN   0x4u
#define BW_EVENT_FILELESS       0x8u  /* exec: the program has no name (memfd, deleted) */
#define BW_EVENT_PATH_NAME_ONLY 0x10u /* exec: path holds the file's last component only */
#define BW_EVENT_REFER          0x20u /* file rename/link: the file would leave a denial behind */
#define BW_EVENT_TARGET_TRUNCATED 0x40u /* file rename/link: target did not fit */

/* Access bits: bit c is column c (bw_file_event.access, bw_decide). */
#define BW_ACCESS_READ     0x01u
#define BW_ACCESS_WRITE    0x02u
#define BW_ACCESS_EXEC     0x04u
#define BW_ACCESS_MAP      0x08u
#define BW_ACCESS_CREATE   0x10u
#define BW_ACCESS_DELETE   0x20u
#define BW_ACCESS_RENAME   0x40u
#define BW_ACCESS_METADATA 0x80u
/* What a mount on, a move of or an unmount of a path decides there: every
 * right that keeps a tree as it is (docs/decisions/016-mounts-and-handles.md). */
#define BW_ACCESS_TREE_CHANGE (BW_ACCESS_WRITE | BW_ACCESS_CREATE | BW_ACCESS_DELETE | BW_ACCESS_RENAME | \
			       BW_ACCESS_METADATA)

/* What a file event is about (bw_file_event.op): the "op" field. */
enum bw_file_op {
	BW_OP_OPEN = 0,
	BW_OP_CREATE = 1,
	BW_OP_DELETE = 2,
	BW_OP_RENAME = 3,
	BW_OP_LINK = 4,
	BW_OP_TRUNCATE = 5,
	BW_OP_METADATA = 6,
	BW_OP_MOUNT = 7,             /* a mount on, a move of or an unmount of the path */
};

/* The call behind it (bw_file_event.call): the "call" field. */
enum bw_file_call {
	BW_FCALL_OPEN = 0,
	BW_FCALL_MKNOD = 1,          /* a regular file (open O_CREAT, mknod), device, FIFO, socket */
	BW_FCALL_MKDIR = 2,
	BW_FCALL_SYMLINK = 3,
	BW_FCALL_UNLINK = 4,
	BW_FCALL_RMDIR = 5,
	BW_FCALL_RENAME = 6,
	BW_FCALL_EXCHANGE = 7,       /* renameat2 RENAME_EXCHANGE */
	BW_FCALL_LINK = 8,
	BW_FCALL_TRUNCATE = 9,       /* truncate(2), O_TRUNC, ftruncate(2) */
	BW_FCALL_CHMOD = 10,
	BW_FCALL_CHOWN = 11,
	BW_FCALL_SETXATTR = 12,
	BW_FCALL_REMOVEXATTR = 13,
	BW_FCALL_UTIMES = 14,
	BW_FCALL_MOUNT = 15,         /* mount(2): a new mount, MS_BIND or MS_MOVE onto the path */
	BW_FCALL_MOVE_MOUNT = 16,    /* move_mount(2): both ends (fsmount, open_tree clones) */
	BW_FCALL_UMOUNT = 17,        /* umount2(2) */
	BW_NR_FCALLS = 18,
};

/* Common to every ring buffer record; `kind` says which record follows. */
struct bw_event_header {
	__u64 time_ns;               /* CLOCK_BOOTTIME */
	__u64 cgroup_id;             /* cgroup v2 id (inode of its directory) */
	__u32 kind;                  /* enum bw_kind */
	__u32 verdict;               /* enum bw_verdict */
	__u32 generation;            /* policy set that decided */
	__u32 policy;                /* deciding policy index or BW_POLICY_NONE */
	__u32 entry;                 /* deciding map image entry or BW_ENTRY_* */
	__u32 column;                /* enum bw_column that decided */
	__u32 pid;                   /* thread group id */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 flags;                 /* BW_EVENT_* */
	__u32 suppressed;            /* events dropped by rate limits since the last */
	char comm[BW_COMM_LEN];
	char exe[BW_PATH_MAX];
};

struct bw_file_event {
	struct bw_event_header h;
	__u32 access;                /* BW_ACCESS_* requested (open), or the column that decided */
	__u8 op;                     /* enum bw_file_op */
	__u8 call;                   /* enum bw_file_call */
	__u16 reserved;
	char path[BW_PATH_MAX];      /* the object; for a create, the new name */
	char target[BW_PATH_MAX];    /* rename, link: the new name; else empty */
};

/* ---- bulwark protecting itself (BW_KIND_TAMPER) ----------------------- */

/* What was tried (bw_tamper_event.op). */
enum bw_tamper_op {
	BW_TAMPER_SIGNAL = 0,        /* kill(2), tgkill, pidfd_send_signal to bulwark */
	BW_TAMPER_PTRACE = 1,        /* ptrace, /proc/PID/mem, process_vm_*, pidfd_getfd */
	BW_TAMPER_BPF = 2,           /* an fd of one of bulwark's BPF objects, or using one */
	BW_TAMPER_FILE = 3,          /* changing a file of bulwark's (bw_tamper_event.file_op) */
	BW_TAMPER_BPF_LOAD = 4,      /* loading a program that can override LSM verdicts (fmod_ret) */
};

/* Kinds of BPF object bulwark owns (bw_object_key.type). */
enum bw_object_type {
	BW_OBJ_PROG = 1,
	BW_OBJ_MAP = 2,
	BW_OBJ_LINK = 3,
};

/* bpf(2) commands a tamper event can name (bw_tamper_event.call), as the
 * kernel numbers them (enum bpf_cmd, uapi: stable). */
#define BW_BPF_MAP_GET_FD_BY_ID 14
#define BW_BPF_PROG_GET_FD_BY_ID 13
#define BW_BPF_OBJ_GET 7
#define BW_BPF_PROG_LOAD 5
#define BW_BPF_LINK_UPDATE 29
#define BW_BPF_LINK_GET_FD_BY_ID 30
#define BW_BPF_LINK_DETACH 34

/* bulwark_objects map key: one of bulwark's programs, maps or links by id. */
struct bw_object_key {
	__u32 type;                  /* enum bw_object_type */
	__u32 id;
};

struct bw_tamper_event {
	struct bw_event_header h;
	__u32 op;                    /* enum bw_tamper_op */
	__u32 target_pid;            /* signal, ptrace: bulwark's thread group (initial PID namespace) */
	__u32 signal;                /* signal: its number */
	__u32 mode;                  /* ptrace: PTRACE_MODE_* bits */
	__u32 object_type;           /* bpf: enum bw_object_type (0: unknown) */
	__u32 object_id;             /* bpf: its id */
	__u32 call;                  /* bpf: the bpf(2) command, or 0; file: enum bw_file_call */
	__u8 file_op;                /* file: enum bw_file_op */
	__u8 reserved[3];
	char path[BW_PATH_MAX];      /* file: the object */
	char target[BW_PATH_MAX];    /* file rename/link: the new name */
};

/* How a program came to be decided (bw_exec_event.route). */
enum bw_exec_route {
	BW_ROUTE_EXEC = 0,           /* execve(2) of the program itself */
	BW_ROUTE_INTERPRETER = 1,    /* the interpreter of a script's #! line */
	BW_ROUTE_MAP = 2,            /* its code mapped by a running process (a loader) */
};

struct bw_exec_event {
	struct bw_event_header h;
	__u32 route;                 /* enum bw_exec_route */
	__u32 reserved;
	char path[BW_PATH_MAX];      /* the program decided */
	char via[BW_PATH_MAX];       /* interpreter: the script as executed; map: the loader */
};

/* Which call a connect event is about (bw_connect_event.call). */
enum bw_connect_call {
	BW_CALL_CONNECT = 0,         /* connect(2) */
	BW_CALL_SENDMSG = 1,         /* sendto/sendmsg with an address (UDP, TCP fast open) */
};

struct bw_connect_event {
	struct bw_event_header h;
	__u16 family;                /* AF_INET / AF_INET6, as the caller gave it */
	__u16 port;                  /* host byte order */
	__u8 protocol;               /* enum bw_protocol */
	__u8 call;                   /* enum bw_connect_call */
	__u16 reserved;
	__u8 addr[16];               /* as given: 4 bytes for AF_INET */
};

/* ---- statistics ------------------------------------------------------ */

/* Per-CPU counters in the `stats` array map, summed by the engine. */
enum bw_stat {
	BW_STAT_EVENTS_LOST = 0,     /* ring buffer full: any event */
	BW_STAT_DENY_EVENTS_LOST,    /* ... of which denials */
	BW_STAT_WALK_TOO_DEEP,       /* fail-closed: path deeper than the walk */
	BW_STAT_MAP_MISSING,         /* a slot's inner map was absent */
	BW_STAT_DENIED,              /* operations failed with EPERM */
	BW_STAT_WOULD_DENY,
	BW_STAT_AUDITED,
	BW_STAT_EXEC_DENIED,         /* of BW_STAT_DENIED: programs */
	BW_STAT_CONNECT_DENIED,      /* of BW_STAT_DENIED: connections */
	BW_STAT_TAMPER_DENIED,       /* of BW_STAT_DENIED: attempts on bulwark itself */
	BW_STAT_WALK_NO_MOUNT,       /* fail-closed: an inode hook's file on a filesystem mounted
	                              * more than once, above whose root a rule could decide */
	BW_STAT_RULE_HITS_FULL,      /* a verdict rule_hits had no room for (BW_MAX_RULE_HITS) */
	BW_STAT_WALK_DISCONNECTED,   /* fail-closed: a dentry with no path to its mount's root
	                              * (open_by_handle_at, NFS exports) */
	BW_NR_STATS = 32,            /* room for later counters (monitors) */
};

/* ---- per-rule hit counters ------------------------------------------- */

/* rule_hits key: one deciding (policy, map image entry, column) of one
 * generation, for one kind and verdict; the value is a per-CPU __u64.
 * The engine names the rule from the generation's map image
 * (MapImage::rule_location), exactly as it names an event's rule. Only
 * verdicts other than allow are counted: an allowed operation pays nothing. */
struct bw_rule_hit_key {
	__u32 generation;
	__u32 policy;
	__u32 entry;                 /* bw_event_header.entry */
	__u8 column;                 /* enum bw_column that decided */
	__u8 kind;                   /* enum bw_kind */
	__u8 verdict;                /* enum bw_verdict, never ALLOW */
	__u8 reserved;
};

#include "bulwark/monitor_abi.h" /* the monitors' half (bpf/trace/) */

#endif /* BULWARK_ABI_H */
