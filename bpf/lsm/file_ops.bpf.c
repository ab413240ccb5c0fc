// SPDX-License-Identifier: GPL-2.0
/*
 * Every operation that changes a tree besides opening a file: a [[file]]
 * rule's create, delete, rename, write (truncate) and metadata rights
 * (docs/decisions/009-file-rights.md). Each program names the entries its
 * hook is about and hands them to bw_file_change (bpf/lib/file_ops.bpf.h):
 * the same scope, walk and verdicts as file_open. The path_* hooks exist
 * with CONFIG_SECURITY_PATH (Debian's 6.1 and 6.12 have it); the loader
 * refuses a rule whose hook this kernel lacks. Each runs after DAC and the
 * other LSMs (ret), so an operation they refuse is never reported here.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "file_ops.bpf.h"

#define BW_RENAME_EXCHANGE (1u << 1) /* include/uapi/linux/fs.h */

/* struct iattr.ia_valid (include/linux/fs.h; the same bits since 2.6). */
#define BW_ATTR_MODE  (1u << 0)
#define BW_ATTR_UID   (1u << 1)
#define BW_ATTR_GID   (1u << 2)
#define BW_ATTR_SIZE  (1u << 3)
#define BW_ATTR_ATIME (1u << 4)
#define BW_ATTR_MTIME (1u << 5)

char LICENSE[] SEC("license") __weak = "GPL";  /* one per linked object */

/* ---- event paths (bw_path_of, file_ops.bpf.h) ------------------------ */

/* The walk towards "/" that collects names (bpf_loop context). */
struct bw_name_walk {
	__u64 d;                     /* struct dentry * */
	__u64 mnt;                   /* struct mount *, or 0: stop at the filesystem's root */
	__u32 n;
	__u32 complete;              /* reached "/" or the depth limit (not an unknown mount) */
};

static long bw_name_step(__u32 i, struct bw_name_walk *w)
{
	struct dentry *d = (struct dentry *)w->d, *parent = BPF_CORE_READ(d, d_parent);
	struct bw_path_scratch *s;
	__u32 zero = 0;

	if (!parent || parent == d) {
		struct mount *m = (struct mount *)w->mnt, *up;

		if (!m)
			return 1;
		up = BPF_CORE_READ(m, mnt_parent);
		if (!up || up == m) {
			w->complete = 1;
			return 1;
		}
		w->d = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
		w->mnt = (__u64)up;
		return 0;
	}
	s = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!s)
		return 1;
	if (w->n >= BW_NAME_DEPTH) {
		w->complete = 1;     /* the names nearest "/" are left out: truncated */
		return 1;
	}
	s->names[w->n & (BW_NAME_DEPTH - 1)] = (__u64)BPF_CORE_READ(d, d_name.name);
	w->n++;
	w->d = (__u64)parent;
	return 0;
}

/* Appending the collected names, root first (bpf_loop context). */
struct bw_name_join {
	__u32 n;                     /* names left, the next is names[n - 1] */
	__u32 off;                   /* bytes written */
};

static long bw_join_step(__u32 i, struct bw_name_join *j)
{
	struct bw_path_scratch *s;
	__u32 zero = 0;
	long len;

	s = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!s || !j->n || j->off >= BW_PATH_MAX - 1)
		return 1;
	j->n--;
	s->buf[j->off & (BW_PATH_MAX - 1)] = '/';
	j->off++;
	len = bpf_probe_read_kernel_str(&s->buf[j->off & (BW_PATH_MAX - 1)], BW_PATH_MAX,
					(const void *)s->names[j->n & (BW_NAME_DEPTH - 1)]);
	if (len > 1)
		j->off += len - 1;
	return 0;
}

/* bw_path_of (file_ops.bpf.h): collect the names leaf first, then
 * append them root first. */
__noinline __u32 bw_path_of(__u64 d, __u64 mnt)
{
	struct bw_name_walk w = { .d = d, .mnt = mnt ? bw_real_mount((struct vfsmount *)mnt) : 0 };
	struct bw_name_join j = {};
	struct bw_path_scratch *s;
	__u32 zero = 0, r = 0;

	s = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!s)
		return BW_PATH_OF_FAILED;
	bpf_loop(BW_WALK_MAX_DEPTH * 2, bw_name_step, &w, 0);
	j.n = w.n;
	bpf_loop(BW_NAME_DEPTH, bw_join_step, &j, 0);
	if (!w.complete)
		r |= BW_PATH_OF_UNKNOWN;
	else if (j.n || w.n >= BW_NAME_DEPTH)
		r |= BW_PATH_OF_TRUNCATED;
	if (j.off >= BW_PATH_MAX) {
		j.off = BW_PATH_MAX - 1;
		r |= BW_PATH_OF_TRUNCATED;
	}
	if (!j.off)
		s->buf[j.off++] = '/';
	s->buf[j.off & (BW_PATH_MAX - 1)] = '\0';
	return r;
}


/* The event of a decided change: a global function, verified once per
 * program rather than at every call (the paths are walked by probe reads,
 * so plain numbers suffice). Fails closed on nothing: it only reports. */
/* The two ends' paths, into an event's `path` and `target` (BW_PATH_MAX each). */
static __always_inline void put_ends(const struct bw_change_report *r, char *path, char *target, __u32 *flags)
{
	bw_put_end_path(r->from_d, r->from_mnt, path, flags, BW_EVENT_PATH_TRUNCATED, BW_EVENT_PATH_UNKNOWN);
	target[0] = '\0';
	if (r->to_d)
		bw_put_end_path(r->to_d, r->to_mnt, target, flags, BW_EVENT_TARGET_TRUNCATED, BW_EVENT_PATH_UNKNOWN);
}

/* A change to one of bulwark's own files: what was tried, on what. */
static __always_inline int report_tamper(const struct bw_change_report *r)
{
	struct bw_tamper_event *e = bw_reserve(sizeof(*e), r->o.verdict);

	if (!e)
		return 0;
	bw_fill_header_fields(&e->h, BW_KIND_TAMPER, &r->o, r->generation);
	bw_put_exe(&e->h);
	bw_tamper_file_fields(e, r->op, r->call);
	put_ends(r, e->path, e->target, &e->h.flags);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

__noinline int bw_report_change(const struct bw_change_report *r)
{
	struct bw_file_event *e;

	if (!r)
		return 0;
	if (r->tamper)
		return report_tamper(r);
	e = bw_reserve(sizeof(*e), r->o.verdict);
	if (!e)
		return 0;
	bw_fill_header_fields(&e->h, BW_KIND_FILE, &r->o, r->generation);
	bw_put_exe(&e->h);
	e->access = 1u << (r->o.column & 31);
	e->op = r->op;
	e->call = r->call;
	e->reserved = 0;
	put_ends(r, e->path, e->target, &e->h.flags);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * Who may change bulwark's own files although a policy scopes them: PID 1
 * and bulwark's parent (as for signals, bpf/lsm/self_protect.bpf.c: the
 * service manager, or whoever ran `bulwark run`, keeps the control it
 * had), and a process running bulwark's executable — a `bulwark run`
 * taking over unlinks the previous one's link pins. The executable by
 * identity: its SELF key in inode_rules, flagged BW_ENTRY_OWN_BINARY by
 * the compiler. Looked up only once a change was decided at one of them.
 */
__noinline int bw_may_change_own(__u32 slot)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	struct bw_inode_key key = { .role = BW_ROLE_SELF };
	const struct bw_path_rule *own;
	struct mm_struct *mm;
	struct file *exe;
	void *inodes;

	if (tgid == 1 || (self_parent_tgid && tgid == self_parent_tgid))
		return 1;
	mm = task->mm;
	exe = mm ? mm->exe_file : NULL;
	if (!exe)
		return 0;
	inodes = bpf_map_lookup_elem(&inode_rules, &slot);
	if (!inodes)
		return 0;
	key.ino = exe->f_inode->i_ino;
	key.dev = exe->f_inode->i_sb->s_dev;
	own = bpf_map_lookup_elem(inodes, &key);
	return own && (own->flags & BW_ENTRY_OWN_BINARY);
}

/* A new name in a directory: a regular file (mknod(2), and open(O_CREAT)
 * through may_o_create, before the file exists: a denied create leaves
 * nothing behind), a device node, a FIFO, a socket. */
SEC("lsm/path_mknod")
int BPF_PROG(bulwark_path_mknod, const struct path *dir, struct dentry *dentry, umode_t mode, unsigned int dev,
	     int ret)
{
	struct bw_end e;

	if (ret)
		return ret;
	e = (struct bw_end){ .d = dentry, .mnt = dir->mnt };
	return bw_file_change(&e, NULL, BW_ACCESS_CREATE, BW_OP_CREATE, BW_FCALL_MKNOD);
}

/* A new directory. */
SEC("lsm/path_mkdir")
int BPF_PROG(bulwark_path_mkdir, const struct path *dir, struct dentry *dentry, umode_t mode, int ret)
{
	struct bw_end e;

	if (ret)
		return ret;
	e = (struct bw_end){ .d = dentry, .mnt = dir->mnt };
	return bw_file_change(&e, NULL, BW_ACCESS_CREATE, BW_OP_CREATE, BW_FCALL_MKDIR);
}

/* A new symlink: the name is decided, not what it points to (opening
 * through it is decided at the file it leads to). */
SEC("lsm/path_symlink")
int BPF_PROG(bulwark_path_symlink, const struct path *dir, struct dentry *dentry, const char *old_name, int ret)
{
	struct bw_end e;

	if (ret)
		return ret;
	e = (struct bw_end){ .d = dentry, .mnt = dir->mnt };
	return bw_file_change(&e, NULL, BW_ACCESS_CREATE, BW_OP_CREATE, BW_FCALL_SYMLINK);
}

/* A name taken away: unlink(2) of any non-directory. */
SEC("lsm/path_unlink")
int BPF_PROG(bulwark_path_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	struct bw_end e;

	if (ret)
		return ret;
	e = (struct bw_end){ .d = dentry, .mnt = dir->mnt };
	return bw_file_change(&e, NULL, BW_ACCESS_DELETE, BW_OP_DELETE, BW_FCALL_UNLINK);
}

/* A directory taken away. */
SEC("lsm/path_rmdir")
int BPF_PROG(bulwark_path_rmdir, const struct path *dir, struct dentry *dentry, int ret)
{
	struct bw_end e;

	if (ret)
		return ret;
	e = (struct bw_end){ .d = dentry, .mnt = dir->mnt };
	return bw_file_change(&e, NULL, BW_ACCESS_DELETE, BW_OP_DELETE, BW_FCALL_RMDIR);
}

/* A name moving: decided at both ends (a file moved into a protected tree,
 * out of it, or over a protected file). RENAME_EXCHANGE moves both names,
 * and both ends are decided alike. link(2) needs one mount, so rename
 * does: old_dir->mnt == new_dir->mnt. */
SEC("lsm/path_rename")
int BPF_PROG(bulwark_path_rename, const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, unsigned int flags, int ret)
{
	struct bw_end from, to;

	if (ret)
		return ret;
	from = (struct bw_end){ .d = old_dentry, .mnt = old_dir->mnt };
	to = (struct bw_end){ .d = new_dentry, .mnt = new_dir->mnt };
	return bw_file_change(&from, &to, BW_ACCESS_RENAME, BW_OP_RENAME,
			      (flags & BW_RENAME_EXCHANGE) ? BW_FCALL_EXCHANGE : BW_FCALL_RENAME);
}

/* A second name for a file: decided at the file (a protected file linked
 * out of its tree would be reachable by a name no rule names) and at the
 * new name. link(2) refuses to cross mounts: both ends are on new_dir's. */
SEC("lsm/path_link")
int BPF_PROG(bulwark_path_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry,
	     int ret)
{
	struct bw_end from, to;

	if (ret)
		return ret;
	from = (struct bw_end){ .d = old_dentry, .mnt = new_dir->mnt };
	to = (struct bw_end){ .d = new_dentry, .mnt = new_dir->mnt };
	return bw_file_change(&from, &to, BW_ACCESS_RENAME, BW_OP_LINK, BW_FCALL_LINK);
}

/* A file's content cut: truncate(2), and on kernels without file_truncate
 * (6.1) also ftruncate(2) and O_TRUNC. Write access. */
SEC("lsm/path_truncate")
int BPF_PROG(bulwark_path_truncate, const struct path *path, int ret)
{
	struct bw_end e;

	if (ret)
		return ret;
	e = (struct bw_end){ .d = path->dentry, .mnt = path->mnt };
	return bw_file_change(&e, NULL, BW_ACCESS_WRITE, BW_OP_TRUNCATE, BW_FCALL_TRUNCATE);
}

/* ftruncate(2) and O_TRUNC on kernels that have the hook (6.2 and later):
 * also an fd opened for writing before the policy was loaded. */
SEC("lsm/file_truncate")
int BPF_PROG(bulwark_file_truncate, struct file *file, int ret)
{
	struct bw_end e;

	if (ret)
		return ret;
	e = (struct bw_end){ .d = file->f_path.dentry, .mnt = file->f_path.mnt };
	return bw_file_change(&e, NULL, BW_ACCESS_WRITE, BW_OP_TRUNCATE, BW_FCALL_TRUNCATE);
}

/* chmod(2), fchmod(2): the mode of a file. */
SEC("lsm/path_chmod")
int BPF_PROG(bulwark_path_chmod, const struct path *path, umode_t mode, int ret)
{
	struct bw_end e;

	if (ret)
		return ret;
	e = (struct bw_end){ .d = path->dentry, .mnt = path->mnt };
	return bw_file_change(&e, NULL, BW_ACCESS_METADATA, BW_OP_METADATA, BW_FCALL_CHMOD);
}

/* chown(2) and friends: a file's owner or group (kuid_t, kgid_t by value). */
SEC("lsm/path_chown")
int BPF_PROG(bulwark_path_chown, const struct path *path, __u32 uid, __u32 gid, int ret)
{
	struct bw_end e;

	if (ret)
		return ret;
	e = (struct bw_end){ .d = path->dentry, .mnt = path->mnt };
	return bw_file_change(&e, NULL, BW_ACCESS_METADATA, BW_OP_METADATA, BW_FCALL_CHOWN);
}

/* utime(2), utimes(2), futimesat(2), utimensat(2), futimens(2): a file's
 * access and modification times. Their only hook is inode_setattr, which
 * every notify_change passes: chmod, chown and truncate too, after their
 * path_* hook has decided them (ATTR_MODE, ATTR_UID/ATTR_GID, ATTR_SIZE).
 * Those are left alone, so each operation is decided and reported once;
 * what is left with ATTR_ATIME or ATTR_MTIME is a change of times (the
 * _SET, TIMES_SET and TOUCH bits only say how they were given). It runs
 * before the filesystem's owner check (setattr_prepare), as path_chmod
 * does. An inode hook, as setxattr: the mount is the filesystem's only one. */
static __always_inline int bw_setattr_times(struct dentry *dentry, struct iattr *attr)
{
	unsigned int valid = attr->ia_valid;
	struct bw_end e;

	if (!(valid & (BW_ATTR_ATIME | BW_ATTR_MTIME)) ||
	    (valid & (BW_ATTR_MODE | BW_ATTR_UID | BW_ATTR_GID | BW_ATTR_SIZE)))
		return 0;
	e = (struct bw_end){ .d = dentry, .mnt = bw_sole_mount(dentry->d_sb) };
	return bw_file_change(&e, NULL, BW_ACCESS_METADATA, BW_OP_METADATA, BW_FCALL_UTIMES);
}

/* The hook gained an idmap as its first argument in 6.8 (6.1: dentry,
 * attr; 6.12: idmap, dentry, attr), and an LSM program reads its arguments
 * by position: one program per prototype. The loader keeps the one whose
 * "__<N>args" matches the kernel's bpf_lsm_inode_setattr
 * (select_lsm_programs, engine/kernel/object_registry.cpp). */
SEC("lsm/inode_setattr")
int BPF_PROG(bulwark_inode_setattr__2args, struct dentry *dentry, struct iattr *attr, int ret)
{
	if (ret)
		return ret;
	return bw_setattr_times(dentry, attr);
}

SEC("lsm/inode_setattr")
int BPF_PROG(bulwark_inode_setattr__3args, void *idmap, struct dentry *dentry, struct iattr *attr, int ret)
{
	if (ret)
		return ret;
	return bw_setattr_times(dentry, attr);
}

/* setxattr(2): an inode hook, with no mount: the filesystem's only mount
 * if it has one (bw_sole_mount), else the walk fails closed at its root.
 * The first argument is a user namespace on 6.1, an idmap later. */
SEC("lsm/inode_setxattr")
int BPF_PROG(bulwark_inode_setxattr, void *idmap, struct dentry *dentry, const char *name, const void *value,
	     __u64 size, int flags, int ret)
{
	struct bw_end e;

	if (ret)
		return ret;
	e = (struct bw_end){ .d = dentry, .mnt = bw_sole_mount(dentry->d_sb) };
	return bw_file_change(&e, NULL, BW_ACCESS_METADATA, BW_OP_METADATA, BW_FCALL_SETXATTR);
}

/* removexattr(2): as setxattr. */
SEC("lsm/inode_removexattr")
int BPF_PROG(bulwark_inode_removexattr, void *idmap, struct dentry *dentry, const char *name, int ret)
{
	struct bw_end e;

	if (ret)
		return ret;
	e = (struct bw_end){ .d = dentry, .mnt = bw_sole_mount(dentry->d_sb) };
	return bw_file_change(&e, NULL, BW_ACCESS_METADATA, BW_OP_METADATA, BW_FCALL_REMOVEXATTR);
}
