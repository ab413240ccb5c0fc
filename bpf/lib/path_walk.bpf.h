/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Find the key that decides a file: walk its dentries towards "/" and stop
 * at the first directory with a key (docs/decisions/001-file-matching.md).
 * The walk follows d_parent, so a bind mount, a symlink, "..", a relative
 * path or /proc/self/fd/N all lead to the same dentries; at a filesystem's
 * root it continues at the mount point. At most one hash lookup per level
 * (none where the policy set's directory filter rules a key out), no loop
 * over rules, no string compare.
 * Mirrored by Evaluator::walk (engine/compile/evaluator.cpp).
 */
#ifndef BULWARK_PATH_WALK_BPF_H
#define BULWARK_PATH_WALK_BPF_H

#include "policy_maps.bpf.h"

/* i_mode bits (include/uapi/linux/stat.h). */
#define BW_S_IFMT      00170000u
#define BW_S_IFDIR     0040000u

enum bw_walk_end {
	BW_WALK_FOUND,
	BW_WALK_ROOT,                /* reached "/" without a key */
	BW_WALK_TOO_DEEP,
};

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
 * neither the name nor the map. */
static __always_inline const struct bw_path_rule *
bw_lookup_level(void *inodes, void *names, __u32 dev, __u64 parent_ino, const unsigned char *child, bool self)
{
	struct bw_inode_key key = { .ino = parent_ino, .dev = dev, .role = BW_ROLE_ANCESTOR };
	const struct bw_path_rule *dir, *named;
	struct bw_name_key *nk;
	__u32 zero = 0;

	dir = bpf_map_lookup_elem(inodes, &key);
	if (!dir || !(dir->flags & BW_ENTRY_NAMED_CHILDREN))
		return dir;
	nk = bpf_map_lookup_elem(&name_scratch, &zero);
	if (!nk)
		return dir;
	__builtin_memset(nk, 0, sizeof(*nk));
	nk->parent_ino = parent_ino;
	nk->parent_dev = dev;
	nk->role = self ? BW_ROLE_SELF : BW_ROLE_ANCESTOR;
	bpf_probe_read_kernel_str(nk->name, sizeof(nk->name), child);
	named = bpf_map_lookup_elem(names, nk);
	return named ? named : dir;
}

/* struct mount embeds the vfsmount that f_path points to. */
static __always_inline __u64 bw_real_mount(struct vfsmount *mnt)
{
	return (__u64)mnt - bpf_core_field_offset(struct mount, mnt);
}

/* State of the walk above the file's own filesystem (bpf_loop context).
 * Pointers are plain numbers here: struct mount is only reachable by
 * arithmetic from the vfsmount, so these levels use probe reads. */
struct bw_mount_walk {
	__u64 mnt;                   /* struct mount * */
	__u64 d;                     /* struct dentry * of the current level */
	__u32 slot;
	__u32 dev;
	__u32 self;
	__u32 end;                   /* enum bw_walk_end */
	struct bw_path_rule found;   /* copied: a map value pointer cannot leave the callback */
};

static long bw_mount_step(__u32 i, struct bw_mount_walk *w)
{
	struct dentry *d = (struct dentry *)w->d, *parent;
	struct mount *mnt = (struct mount *)w->mnt;
	const struct bw_policy_set *set;
	const struct bw_path_rule *r;
	void *inodes, *names;
	__u64 ino;

	parent = BPF_CORE_READ(d, d_parent);
	if (!parent || parent == d) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (!up || up == mnt) {
			w->end = BW_WALK_ROOT;
			return 1;
		}
		d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->d = (__u64)d;
		w->mnt = (__u64)up;
		w->dev = BPF_CORE_READ(d, d_sb, s_dev);
		return 0;
	}
	set = bpf_map_lookup_elem(&policy_sets, &w->slot);
	inodes = bpf_map_lookup_elem(&inode_rules, &w->slot);
	names = bpf_map_lookup_elem(&name_rules, &w->slot);
	if (!set || !inodes || !names) {
		w->end = BW_WALK_ROOT;
		return 1;
	}
	ino = BPF_CORE_READ(parent, d_inode, i_ino);
	if (bw_dir_maybe(set, w->dev, ino)) {
		r = bw_lookup_level(inodes, names, w->dev, ino, BPF_CORE_READ(d, d_name.name), w->self);
		if (r) {
			__builtin_memcpy(&w->found, r, sizeof(w->found));
			w->end = BW_WALK_FOUND;
			return 1;
		}
	}
	w->self = 0;
	w->d = (__u64)parent;
	return 0;
}

/* The deciding key for `file` copied into `w->found`, or the reason there
 * is none. `set` is the policy set of `slot`. */
static __always_inline enum bw_walk_end bw_walk(const struct bw_policy_set *set, struct file *file, __u32 slot,
						struct bw_mount_walk *w)
{
	void *inodes = bpf_map_lookup_elem(&inode_rules, &slot);
	void *names = bpf_map_lookup_elem(&name_rules, &slot);
	struct dentry *d = file->f_path.dentry;
	const struct bw_path_rule *r;
	__u32 dev = file->f_inode->i_sb->s_dev;
	bool self = true;
	__u32 step = 0;

	if (!inodes || !names) {
		bw_count(BW_STAT_MAP_MISSING);
		return BW_WALK_ROOT;
	}

	/* Within the file's own filesystem: BTF loads, no helper calls. */
	for (; step < BW_WALK_MAX_DEPTH; step++) {
		struct dentry *parent = d->d_parent;
		__u64 ino;

		if (!parent || parent == d)
			break;
		ino = parent->d_inode->i_ino;
		/* Most levels end here: no key can exist for this directory. */
		if (bw_dir_maybe(set, dev, ino)) {
			r = bw_lookup_level(inodes, names, dev, ino, d->d_name.name, self);
			if (r) {
				__builtin_memcpy(&w->found, r, sizeof(w->found));
				return BW_WALK_FOUND;
			}
		}
		self = false;
		d = parent;
	}
	if (step >= BW_WALK_MAX_DEPTH)
		return BW_WALK_TOO_DEEP;

	/* Above it, mount by mount, with what is left of the depth budget.
	 * Verified once as a callback, however many levels it runs. `d` is
	 * the filesystem's root here: when its mount is the topmost one, the
	 * walk has reached "/" (as bw_mount_step's first step would find). */
	w->mnt = bw_real_mount(file->f_path.mnt);
	{
		struct mount *mnt = (struct mount *)w->mnt, *up = BPF_CORE_READ(mnt, mnt_parent);

		if (!up || up == mnt)
			return BW_WALK_ROOT;
	}
	w->d = (__u64)d;
	w->slot = slot;
	w->dev = dev;
	w->self = self;
	w->end = BW_WALK_TOO_DEEP;
	bpf_loop(BW_WALK_MAX_DEPTH - step, bw_mount_step, w, 0);
	return w->end;
}

/* Another name of a file an exact rule names: a hardlink. Only files with
 * more than one link can have one, so others skip the lookup. */
static __always_inline const struct bw_path_rule *bw_hardlink_backstop(struct inode *inode, __u32 slot)
{
	struct bw_inode_key key = { .role = BW_ROLE_SELF };
	void *inodes;

	if (inode->i_nlink <= 1 || (inode->i_mode & BW_S_IFMT) == BW_S_IFDIR)
		return NULL;
	inodes = bpf_map_lookup_elem(&inode_rules, &slot);
	if (!inodes)
		return NULL;
	key.ino = inode->i_ino;
	key.dev = inode->i_sb->s_dev;
	return bpf_map_lookup_elem(inodes, &key);
}

#endif /* BULWARK_PATH_WALK_BPF_H */
