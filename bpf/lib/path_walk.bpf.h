/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Find the key that decides a file: walk its dentries towards "/" and stop
 * at the first directory with a key (docs/decisions/001-file-matching.md).
 * The walk follows d_parent, so a bind mount, a symlink, "..", a relative
 * path or /proc/self/fd/N all lead to the same dentries; at a filesystem's
 * root it continues at the mount point, consulting the key of the
 * directory the mount covers (docs/decisions/016-mounts-and-handles.md); a
 * root that is not its mount's (a file handle's dentry) fails closed. At
 * most one hash lookup per level (none where the policy set's directory
 * filter rules a key out), no loop over rules, no string compare.
 * Mirrored by Evaluator::walk (engine/compile/evaluator.cpp).
 */
#ifndef BULWARK_PATH_WALK_BPF_H
#define BULWARK_PATH_WALK_BPF_H

#include "policy_maps.bpf.h"
#include "verdict.bpf.h"  /* bw_fallback_rule */

/* i_mode bits (include/uapi/linux/stat.h). */
#define BW_S_IFMT      00170000u
#define BW_S_IFDIR     0040000u

enum bw_walk_end {
	BW_WALK_FOUND,
	BW_WALK_ROOT,                /* reached "/" without a key */
	BW_WALK_TOO_DEEP,
	BW_WALK_DISCONNECTED,        /* a dentry with no path to its mount's root */
};

/* DCACHE_DISCONNECTED (include/linux/dcache.h): BIT(5) in 6.1 and 6.12. A
 * dentry the kernel made from a file handle (open_by_handle_at, an NFS
 * export) before it knew the file's directory: its own root, though not
 * its filesystem's. d_alloc_pseudo's (pipes, memfds) do not carry it. */
#define BW_DCACHE_DISCONNECTED 0x20u

/* Could the directory (dev, ino) have an ANCESTOR key? "No" is certain
 * (the compiler sets both bits of every such key: abi.h), and costs a
 * multiplication and two loads instead of a hash lookup. */
static __always_inline bool bw_dir_maybe(const struct bw_policy_set *set, __u32 dev, __u64 ino)
{
	__u64 h = bw_dir_filter_hash(dev, ino);
	__u32 a = bw_dir_filter_bit1(h), b = bw_dir_filter_bit2(h);

	return (set->dir_filter[a / 64] >> (a % 64)) & (set->dir_filter[b / 64] >> (b % 64)) & 1;
}

/* One level: the directory `parent_ino` on `dev` holding `child`. Callers
 * test bw_dir_maybe first, so that a level the filter rules out reads
 * neither the name nor the map. A short name is looked up in `shorts`
 * (when the slot has that map), any other in `names`. */
static __always_inline const struct bw_path_rule *
bw_lookup_level(void *inodes, void *names, void *shorts, __u32 dev, __u64 parent_ino, const unsigned char *child,
		bool self)
{
	struct bw_inode_key key = { .ino = parent_ino, .dev = dev, .role = BW_ROLE_ANCESTOR };
	const struct bw_path_rule *dir, *named;
	__u32 role = self ? BW_ROLE_SELF : BW_ROLE_ANCESTOR;
	struct bw_short_name_key sk;
	struct bw_name_key *nk;
	__u32 zero = 0;
	long n;

	/* Only names of this level's role: a directory holding exact rules'
	 * files costs nothing to a walk passing through it. */
	dir = bpf_map_lookup_elem(inodes, &key);
	if (!dir || !child || !(dir->flags & (self ? BW_ENTRY_NAMED_FILES : BW_ENTRY_NAMED_TREES)))
		return dir;
	if (shorts) {
		__builtin_memset(&sk, 0, sizeof(sk));
		sk.parent_ino = parent_ino;
		sk.parent_dev = dev;
		sk.role = role;
		n = bpf_probe_read_kernel_str(sk.name, sizeof(sk.name), child);
		if (n > 0 && n < (long)sizeof(sk.name)) {
			named = bpf_map_lookup_elem(shorts, &sk);
			return named ? named : dir;
		}
	}
	nk = bpf_map_lookup_elem(&name_scratch, &zero);
	if (!nk)
		return dir;
	__builtin_memset(nk, 0, sizeof(*nk));
	nk->parent_ino = parent_ino;
	nk->parent_dev = dev;
	nk->role = role;
	bpf_probe_read_kernel_str(nk->name, sizeof(nk->name), child);
	named = bpf_map_lookup_elem(names, nk);
	return named ? named : dir;
}

/* struct mount embeds the vfsmount that f_path points to. */
static __always_inline __u64 bw_real_mount(struct vfsmount *mnt)
{
	return (__u64)mnt - bpf_core_field_offset(struct mount, mnt);
}

/*
 * State of a walk, the context of its bpf_loop callbacks. Each callback is
 * verified once (a few times on kernels that check a callback until its
 * state converges), however many levels it runs: a loop unrolled by the
 * verifier costs it every level of every path, in every program that
 * walks (issue 14: most of start-up on 6.12).
 */
struct bw_walk {
	union {
		struct dentry *d;    /* the current level, within the file's filesystem */
		__u64 md;            /* above it: struct dentry * of the current level */
	};
	__u64 mnt;                   /* within it: struct vfsmount *; above: struct mount * (probe reads) */
	/* The slot's policy set (its directory filter), looked up once per
	 * walk: the verifier tracks a pointer spilled to the caller's stack,
	 * which the callbacks read through their context. The rule maps are
	 * looked up at the levels the filter lets through. The struct is on
	 * every file hook's stack (path_rename: two ends, and 6.1's limit of
	 * 512 bytes for the frames of a call chain): keep it small. */
	const struct bw_policy_set *set;
	__u32 slot;
	__u32 dev;
	__u32 self;                  /* the first level: the file's own name */
	__u32 end;                   /* enum bw_walk_end */
	struct bw_path_rule found;   /* copied: a map value pointer cannot leave a callback */
};

/* bw_level_key's `at`: the slot, and whether the level is the walk's
 * first (the entry itself: names of role self). Five arguments at most. */
#define BW_LEVEL_SLOT 0xffu
#define BW_LEVEL_SELF 0x100u
#define BW_LEVEL_DIR_ONLY 0x200u     /* the directory's own key only, no name below it */

/* The key of the directory `parent_ino` on `dev` holding the entry at
 * `name` (a kernel address), in the rule maps of the slot `at` names, copied into
 * `found`: 1 when a key decides, else 0. A global function (decide.bpf.c),
 * called only at levels the directory filter lets through: the lookups
 * and the copy are verified once per program, not once per pass of the
 * verifier over each walk callback (issue 14). */
extern int bw_level_key(__u32 at, __u32 dev, __u64 parent_ino, __u64 name, struct bw_path_rule *found);

/* One level: true (and w->found set) when a key decides. */
static __always_inline bool bw_level(struct bw_walk *w, __u64 parent_ino, const unsigned char *name)
{
	/* Most levels end here: no key can exist for this directory. */
	if (!bw_dir_maybe(w->set, w->dev, parent_ino))
		return false;
	return bw_level_key(w->slot | (w->self ? BW_LEVEL_SELF : 0), w->dev, parent_ino, (__u64)name, &w->found);
}

/* One level within the file's own filesystem: BTF loads, no helper call
 * but the lookups. Stops (end = ROOT) at the filesystem's root. */
static long bw_dentry_step(__u32 i, struct bw_walk *w)
{
	struct dentry *d = w->d, *parent = d->d_parent;

	if (!parent || parent == d) {
		/* A root that is not its mount's (w->mnt, until the walk leaves
		 * the file's filesystem): a dentry the kernel made from a file
		 * handle (open_by_handle_at, an NFS export) before it knew the
		 * file's directory. No rule can be found for it. Kernel threads
		 * (no mm: nfsd) decide as before: no process asked, and failing
		 * closed there would stop an NFS server. */
		w->end = BW_WALK_ROOT;
		if ((d->d_flags & BW_DCACHE_DISCONNECTED) && bpf_get_current_task_btf()->mm) {
			struct vfsmount *m = (struct vfsmount *)w->mnt;

			if ((__u64)d != (__u64)BPF_CORE_READ(m, mnt_root))
				w->end = BW_WALK_DISCONNECTED;
		}
		return 1;
	}
	if (bw_level(w, parent->d_inode->i_ino, d->d_name.name)) {
		w->end = BW_WALK_FOUND;
		return 1;
	}
	w->self = 0;
	w->d = parent;
	return 0;
}

/* One level above the file's filesystem, mount by mount. Pointers are
 * plain numbers here: struct mount is only reachable by arithmetic from
 * the vfsmount, so these levels use probe reads. */
static long bw_mount_step(__u32 i, struct bw_walk *w)
{
	struct dentry *d = (struct dentry *)w->md, *parent;
	struct mount *mnt = (struct mount *)w->mnt;

	parent = BPF_CORE_READ(d, d_parent);
	if (!parent || parent == d) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (!up || up == mnt) {
			w->end = BW_WALK_ROOT;
			return 1;
		}
		d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->md = (__u64)d;
		w->mnt = (__u64)up;
		w->dev = BPF_CORE_READ(d, d_sb, s_dev);
		/* The walk came from below the mount's root: the directory the
		 * mount covers holds it now, so that directory's own key
		 * decides too (a tree rule on a directory something was
		 * mounted over, since the rule was compiled: issue 15). Its
		 * names are not consulted: the mount's entries are not its.
		 * An entry that is the mount's root itself is decided by the
		 * mount point's name, at the next level, as before. */
		if (!w->self) {
			__u64 ino = BPF_CORE_READ(d, d_inode, i_ino);

			if (bw_dir_maybe(w->set, w->dev, ino) &&
			    bw_level_key(w->slot | BW_LEVEL_DIR_ONLY, w->dev, ino, 0, &w->found)) {
				w->end = BW_WALK_FOUND;
				return 1;
			}
		}
		return 0;
	}
	if (bw_level(w, BPF_CORE_READ(parent, d_inode, i_ino), BPF_CORE_READ(d, d_name.name))) {
		w->end = BW_WALK_FOUND;
		return 1;
	}
	w->self = 0;
	w->md = (__u64)parent;
	return 0;
}

/*
 * The deciding key for the entry `dentry` seen through `mnt` (it may be a
 * name not created yet: only its parent and name are read), copied into
 * `w->found`, or the reason there is none. `slot` is the live slot.
 */
static __always_inline enum bw_walk_end bw_walk_dentry(struct dentry *dentry, struct vfsmount *mnt, __u32 slot,
						       struct bw_walk *w)
{
	long levels;

	w->set = bpf_map_lookup_elem(&policy_sets, &slot);
	if (!w->set)
		return BW_WALK_TOO_DEEP;  /* slot is 0 or 1: cannot happen; fail closed */
	w->slot = slot;
	w->d = dentry;
	w->dev = dentry->d_sb->s_dev;
	w->self = 1;
	w->mnt = (__u64)mnt;  /* 0 when the mount is not known; read only for a flagged root */
	w->end = BW_WALK_TOO_DEEP;
	levels = bpf_loop(BW_WALK_MAX_DEPTH, bw_dentry_step, w, 0);
	if (w->end != BW_WALK_ROOT)
		return w->end;  /* found, disconnected, or too deep (or bpf_loop refused: fail closed) */

	/* At the filesystem's root (w->d): when its mount is the topmost one,
	 * the walk has reached "/" (as bw_mount_step's first step would find). */
	w->mnt = bw_real_mount(mnt);
	{
		struct mount *m = (struct mount *)w->mnt, *up = BPF_CORE_READ(m, mnt_parent);

		if (!up || up == m)
			return BW_WALK_ROOT;
	}
	/* `levels` counts the step that found the root, which walked no
	 * level: what is left of the depth budget is MAX + 1 - levels. */
	if (levels < 1 || levels > BW_WALK_MAX_DEPTH)
		return BW_WALK_TOO_DEEP;
	w->md = (__u64)w->d;
	w->end = BW_WALK_TOO_DEEP;
	bpf_loop(BW_WALK_MAX_DEPTH + 1 - levels, bw_mount_step, w, 0);
	return w->end;
}

/* The deciding key for an open file. */
static __always_inline enum bw_walk_end bw_walk(struct file *file, __u32 slot, struct bw_walk *w)
{
	return bw_walk_dentry(file->f_path.dentry, file->f_path.mnt, slot, w);
}

/* What a path decision needs of the file's inode, as plain numbers (the
 * decision is a global function: bw_decide_path, decide.bpf.h). */
struct bw_inode_facts {
	__u64 ino;
	__u32 dev;
	__u32 nlink;
	__u32 mode;
	__u32 pad;
};

static __always_inline void bw_inode_facts(struct inode *inode, struct bw_inode_facts *f)
{
	f->ino = inode->i_ino;
	f->dev = inode->i_sb->s_dev;
	f->nlink = inode->i_nlink;
	f->mode = inode->i_mode;
	f->pad = 0;
}

/* Another name of a file an exact rule names: a hardlink. Only files with
 * more than one link can have one, so others skip the lookup. */
static __always_inline const struct bw_path_rule *bw_hardlink_backstop(const struct bw_inode_facts *f, __u32 slot)
{
	struct bw_inode_key key = { .role = BW_ROLE_SELF };
	void *inodes;

	if (f->nlink <= 1 || (f->mode & BW_S_IFMT) == BW_S_IFDIR)
		return NULL;
	inodes = bpf_map_lookup_elem(&inode_rules, &slot);
	if (!inodes)
		return NULL;
	key.ino = f->ino;
	key.dev = f->dev;
	return bpf_map_lookup_elem(inodes, &key);
}

#endif /* BULWARK_PATH_WALK_BPF_H */
