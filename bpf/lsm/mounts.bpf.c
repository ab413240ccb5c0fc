// SPDX-License-Identifier: GPL-2.0
/*
 * Mounts that would change what a protected path leads to (issue 15,
 * docs/decisions/016-mounts-and-handles.md): a mount on a path, a bind
 * mount over it, a mount moved onto it or away from it, and an unmount of
 * it replace everything below the path at once, for every process that
 * sees the mount. Each is decided at the path with every right that keeps
 * a tree as it is (BW_ACCESS_TREE_CHANGE), as the directory itself and as
 * the root of its tree (BW_ACCESS_AS_TREE): a rule naming the path, a tree
 * rule on it and a tree rule above it all decide. The same scope, walk,
 * verdicts and events as the other file changes (bw_file_change).
 * Changes of a mount's options or propagation (remount, MS_SHARED...,
 * mount_setattr) leave what the path leads to as it is: not decided.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "file_ops.bpf.h"

/* mount(2) flags (include/uapi/linux/mount.h), stable since 2.6. */
#define BW_MS_REMOUNT 32ul
#define BW_MS_BIND 4096ul
#define BW_MS_PROPAGATION ((1ul << 17) | (1ul << 18) | (1ul << 19) | (1ul << 20)) /* UNBINDABLE PRIVATE SLAVE SHARED */

char LICENSE[] SEC("license") __weak = "GPL";  /* one per linked object */

/* mount(2) onto `path`: a new mount, MS_BIND (the source is decided where
 * it is opened: the walk follows its dentries, whatever mounts show it)
 * or MS_MOVE (its source is a string here, not a path: decided at the
 * target only; move_mount(2) is decided at both ends). The order of
 * path_mount() (fs/namespace.c) says which flags win. */
SEC("lsm/sb_mount")
int BPF_PROG(bulwark_sb_mount, const char *dev_name, const struct path *path, const char *type, unsigned long flags,
	     void *data, int ret)
{
	struct bw_end e;

	if (ret)
		return ret;
	if (flags & BW_MS_REMOUNT)
		return 0;
	if (!(flags & BW_MS_BIND) && (flags & BW_MS_PROPAGATION))
		return 0;
	e = (struct bw_end){ .d = path->dentry, .mnt = path->mnt };
	return bw_file_change(&e, NULL, BW_ACCESS_TREE_CHANGE | BW_ACCESS_AS_TREE, BW_OP_MOUNT, BW_FCALL_MOUNT);
}

/* move_mount(2): the new mount API's only way to attach (fsmount(2),
 * open_tree(2) clones) and its way to move one. A detached mount (its own
 * parent) comes from nowhere a rule names: only its target is decided. */
SEC("lsm/move_mount")
int BPF_PROG(bulwark_move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	struct mount *from_mnt;
	struct bw_end from, to;

	if (ret)
		return ret;
	to = (struct bw_end){ .d = to_path->dentry, .mnt = to_path->mnt };
	from_mnt = (struct mount *)bw_real_mount(from_path->mnt);
	if (BPF_CORE_READ(from_mnt, mnt_parent) == from_mnt)
		return bw_file_change(&to, NULL, BW_ACCESS_TREE_CHANGE | BW_ACCESS_AS_TREE, BW_OP_MOUNT,
				      BW_FCALL_MOVE_MOUNT);
	from = (struct bw_end){ .d = from_path->dentry, .mnt = from_path->mnt };
	return bw_file_change(&from, &to, BW_ACCESS_TREE_CHANGE | BW_ACCESS_AS_TREE, BW_OP_MOUNT,
			      BW_FCALL_MOVE_MOUNT);
}

/* umount2(2): what the mount covered comes back in place of its tree. */
SEC("lsm/sb_umount")
int BPF_PROG(bulwark_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	struct bw_end e;

	if (ret)
		return ret;
	e = (struct bw_end){ .d = mnt->mnt_root, .mnt = mnt };
	return bw_file_change(&e, NULL, BW_ACCESS_TREE_CHANGE | BW_ACCESS_AS_TREE, BW_OP_MOUNT, BW_FCALL_UMOUNT);
}
