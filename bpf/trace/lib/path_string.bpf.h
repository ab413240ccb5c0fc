/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Paths as strings, for hooks where bpf_d_path is not allowed (tracepoints,
 * cgroup hooks): a dentry walk that writes the names backwards, and the
 * resolution of a name a process passed — relative to its cwd or to a
 * directory fd, with ".", ".." and "//" removed — into an absolute path
 * the monitors' LPM tries can be searched with.
 *
 * Both are bpf_loop callbacks: the verifier checks one iteration, however
 * long the path. Their state holds kernel pointers as numbers, so the
 * callbacks read through them with probe reads (BPF_CORE_READ).
 */
#ifndef BULWARK_PATH_STRING_BPF_H
#define BULWARK_PATH_STRING_BPF_H

#include "monitor_maps.bpf.h"

#define BW_AT_FDCWD (-100)
#define BW_WALK_STEPS (BW_WALK_MAX_DEPTH + 32)  /* levels plus mount crossings */
#define BW_NORM_DEPTH 64                         /* components normalization keeps */

/* ---- dentry walk ----------------------------------------------------- */

static __always_inline __u64 bw_mount_of(const struct vfsmount *v)
{
	return (__u64)v - bpf_core_field_offset(struct mount, mnt);
}

static long bw_walk_name_step(__u32 i, void *unused)
{
	__u32 zero = 0, len, off;
	struct bw_mon_scratch *s = bpf_map_lookup_elem(&mon_scratch, &zero);
	struct bw_walk_state *w;
	const unsigned char *name;
	struct dentry *d, *parent;
	struct mount *mnt;

	if (!s)
		return 1;
	w = &s->walk;
	d = (struct dentry *)w->d;
	mnt = (struct mount *)w->mnt;
	if (w->root_d && w->d == w->root_d && w->mnt == w->root_mnt) {
		w->done = 1;
		return 1;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (d == BPF_CORE_READ(mnt, mnt.mnt_root) || !parent || parent == d) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (!up || up == mnt) {
			w->top_mnt = (__u64)mnt;
			w->done = 1;
			return 1;
		}
		w->d = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = (__u64)up;
		return 0;
	}
	len = BPF_CORE_READ(d, d_name.len) & (BW_NAME_MAX - 1);
	name = BPF_CORE_READ(d, d_name.name);
	off = w->off & (BW_PATH_MAX - 1);
	if (len + 1 > off) {
		w->flags |= BW_MON_EVENT_PATH_TRUNCATED;
		return 1;
	}
	off -= len;
	bpf_probe_read_kernel(&s->tmp[off & (BW_PATH_MAX - 1)], len, name);
	off -= 1;
	s->tmp[off & (BW_PATH_MAX - 1)] = '/';
	w->off = off;
	w->d = (__u64)parent;
	return 0;
}

/*
 * The path of (mnt, dentry) into `out` (BW_PATH_MAX bytes), walking up to
 * the task's root (root_mnt/root_d) or, with root_d 0, to the top of the
 * mount tree. Returns its length, or -1 when the walk did not finish
 * (too deep, too long: `out` holds the tail that fitted, flagged).
 */
static __always_inline long bw_path_name(struct bw_mon_scratch *s, const struct vfsmount *vmnt,
					 const struct dentry *dentry, __u64 root_mnt, __u64 root_d, char *out,
					 __u32 *flags, __u64 *top_mnt)
{
	struct bw_walk_state *w = &s->walk;
	__u32 off, size;

	w->d = (__u64)dentry;
	w->mnt = bw_mount_of(vmnt);
	w->root_d = root_d;
	w->root_mnt = root_mnt;
	w->top_mnt = 0;
	w->off = BW_PATH_MAX - 1;
	w->flags = 0;
	w->done = 0;
	s->tmp[BW_PATH_MAX - 1] = '\0';
	bpf_loop(BW_WALK_STEPS, bw_walk_name_step, NULL, 0);
	off = w->off & (BW_PATH_MAX - 1);
	if (off == BW_PATH_MAX - 1) {            /* the root itself */
		off -= 1;
		s->tmp[BW_PATH_MAX - 2] = '/';
	}
	size = BW_PATH_MAX - off;                /* with the NUL */
	bpf_probe_read_kernel(out, size, &s->tmp[off]);
	*flags |= w->flags;
	if (top_mnt)
		*top_mnt = w->top_mnt;
	if (!w->done) {
		*flags |= BW_MON_EVENT_PATH_TRUNCATED;
		return -1;
	}
	return size - 1;
}

/* The path of an open file, from the top of its mount tree. */
static __always_inline long bw_file_name(struct bw_mon_scratch *s, struct file *f, char *out, __u32 *flags,
					 __u64 *top_mnt)
{
	return bw_path_name(s, BPF_CORE_READ(f, f_path.mnt), BPF_CORE_READ(f, f_path.dentry), 0, 0, out, flags,
			    top_mnt);
}

/* ---- normalization --------------------------------------------------- */

/* Bytes of `v` equal to `c`, as 0x80 in each such byte (exact, no carries). */
static __always_inline __u64 bw_bytes_eq(__u64 v, __u64 c)
{
	__u64 x = v ^ (0x0101010101010101ull * c);

	return ~(((x & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full) | x | 0x7f7f7f7f7f7f7f7full);
}

static long bw_scan_step(__u32 i, void *unused)
{
	__u32 zero = 0, at = (i * 8) & (BW_MON_BUF - 8), len;
	struct bw_mon_scratch *s = bpf_map_lookup_elem(&mon_scratch, &zero);
	struct bw_norm_state *n;
	__u64 v, slash, next;

	if (!s)
		return 1;
	n = &s->norm;
	len = n->len;
	if (at >= len)
		return 1;
	v = *(__u64 *)&s->path[at];
	if (len - at < 8)                            /* bytes after the NUL are stale */
		v &= (1ull << (((len - at) & 7) * 8)) - 1;
	slash = bw_bytes_eq(v, '/');
	next = slash | bw_bytes_eq(v, '.');
	if ((slash & (next >> 8)) || (n->carry & next & 0x80)) {
		n->done = 1;
		return 1;
	}
	n->carry = (slash >> 56) & 0x80;
	return 0;
}

/*
 * Does path[0..len) hold "//" or "/." (so "/./" or "/../") — anything
 * normalization would change? Eight bytes at a time: most paths are
 * normal and skip the byte-by-byte pass entirely.
 */
static __always_inline bool bw_needs_normalizing(struct bw_mon_scratch *s, __u32 len)
{
	s->norm.len = len;
	s->norm.carry = 0;
	s->norm.done = 0;
	bpf_loop(BW_MON_BUF / 8, bw_scan_step, NULL, 0);
	return s->norm.done;
}

static long bw_normalize_step(__u32 i, void *unused)
{
	__u32 zero = 0, r, w;
	struct bw_mon_scratch *s = bpf_map_lookup_elem(&mon_scratch, &zero);
	struct bw_norm_state *n;
	char c, c1, c2;

	if (!s)
		return 1;
	n = &s->norm;
	r = n->r & (BW_MON_BUF - 1);
	w = n->w & (BW_MON_BUF - 1);
	c = s->path[r];
	if (c == '\0' || r >= BW_MON_BUF - 3) {
		s->path[w] = '\0';
		n->done = 1;
		return 1;
	}
	if (!n->in_component) {
		c1 = s->path[(r + 1) & (BW_MON_BUF - 1)];
		c2 = s->path[(r + 2) & (BW_MON_BUF - 1)];
		if (c == '/') {                                          /* "//" */
			n->r = r + 1;
			return 0;
		}
		if (c == '.' && (c1 == '/' || c1 == '\0')) {             /* "." */
			n->r = r + 1;
			return 0;
		}
		if (c == '.' && c1 == '.' && (c2 == '/' || c2 == '\0')) { /* ".." */
			if (n->depth > 0) {
				n->depth -= 1;
				n->w = s->starts[n->depth & (BW_NORM_DEPTH - 1)];
			}
			n->r = r + 2;
			return 0;
		}
		if (n->depth >= BW_NORM_DEPTH) {
			n->done = 2;
			return 1;
		}
		s->starts[n->depth & (BW_NORM_DEPTH - 1)] = w;
		n->depth += 1;
		if (w > 1) {
			s->path[w] = '/';
			w = (w + 1) & (BW_MON_BUF - 1);
		}
		n->in_component = 1;
	}
	if (c == '/') {
		n->in_component = 0;
	} else {
		s->path[w] = c;
		w += 1;
	}
	n->w = w;
	n->r = r + 1;
	return 0;
}

/* Normalize the absolute path in s->path in place; its new length, or -1. */
static __always_inline long bw_normalize(struct bw_mon_scratch *s)
{
	struct bw_norm_state *n = &s->norm;

	n->r = 1;
	n->w = 1;
	n->depth = 0;
	n->in_component = 0;
	n->done = 0;
	bpf_loop(BW_MON_BUF, bw_normalize_step, NULL, 0);
	return n->done == 1 ? (long)(n->w & (BW_MON_BUF - 1)) : -1;
}

/* ---- resolving a name a process passed ------------------------------- */

enum bw_resolve_result {
	BW_RESOLVED = 0,
	BW_UNRESOLVED = 1,           /* could not be made absolute: report as such */
	BW_NO_ACCESS = 2,            /* the call will fail before any lookup (bad dirfd) */
};

/* The open file behind `fd` of the current task, or NULL. */
static __always_inline struct file *bw_fd_file(struct task_struct *task, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;

	if (fd < 0 || !fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/*
 * `name` (user memory when `user`, else kernel) as an absolute, normal
 * path in s->path, of length *len. A relative name is appended to the
 * path of `dirfd` (or the cwd) from the task's root, so a chrooted or
 * containerized process's paths read as it names them.
 */
static __always_inline enum bw_resolve_result bw_resolve(struct bw_mon_scratch *s, int dirfd, const char *name,
							 bool user, long *len, __u32 *flags)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct vfsmount *vmnt;
	const struct dentry *dentry;
	__u64 root_mnt, root_d;
	long n, dirlen, pos;

	n = user ? bpf_probe_read_user_str(s->path, BW_PATH_MAX, name)
		 : bpf_probe_read_kernel_str(s->path, BW_PATH_MAX, name);
	if (n <= 1) {
		if (n == 1)              /* "": only AT_EMPTY_PATH uses it, not open */
			return BW_NO_ACCESS;
		*flags |= BW_MON_EVENT_NAME_UNREADABLE | BW_MON_EVENT_UNRESOLVED;
		s->path[0] = '\0';
		return BW_UNRESOLVED;
	}
	if (n >= BW_PATH_MAX)
		*flags |= BW_MON_EVENT_PATH_TRUNCATED;
	*len = n - 1;
	if (s->path[0] != '/') {
		/* The directory it is relative to. */
		if (dirfd == BW_AT_FDCWD) {
			vmnt = BPF_CORE_READ(task, fs, pwd.mnt);
			dentry = BPF_CORE_READ(task, fs, pwd.dentry);
		} else {
			struct file *dir = bw_fd_file(task, dirfd);

			if (!dir)
				return BW_NO_ACCESS;
			vmnt = BPF_CORE_READ(dir, f_path.mnt);
			dentry = BPF_CORE_READ(dir, f_path.dentry);
		}
		bpf_probe_read_kernel_str(s->given, BW_PATH_MAX, s->path);
		root_mnt = bw_mount_of(BPF_CORE_READ(task, fs, root.mnt));
		root_d = (__u64)BPF_CORE_READ(task, fs, root.dentry);
		dirlen = bw_path_name(s, vmnt, dentry, root_mnt, root_d, s->path, flags, NULL);
		if (dirlen < 0) {
			*flags |= BW_MON_EVENT_UNRESOLVED;
			return BW_UNRESOLVED;
		}
		pos = dirlen;
		if (dirlen > 1) {
			s->path[dirlen & (BW_PATH_MAX - 1)] = '/';
			pos = dirlen + 1;
		}
		n = bpf_probe_read_kernel_str(&s->path[pos & (BW_PATH_MAX - 1)], BW_PATH_MAX, s->given);
		if (n <= 0) {
			*flags |= BW_MON_EVENT_UNRESOLVED;
			return BW_UNRESOLVED;
		}
		*len = pos + n - 1;
	}
	if (bw_needs_normalizing(s, *len)) {
		n = bw_normalize(s);
		if (n < 0) {
			*flags |= BW_MON_EVENT_UNRESOLVED;
			return BW_UNRESOLVED;
		}
		*len = n;
	}
	return BW_RESOLVED;
}

#endif /* BULWARK_PATH_STRING_BPF_H */
