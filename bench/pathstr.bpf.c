// SPDX-License-Identifier: GPL-2.0
/*
 * bench/pathstr.bpf.c — NOT part of bulwark: the reference "path-string"
 * design that bench/run compares bulwark with (issue 6, system 5). It is
 * what the main peers do: the full path of the opened (or executed) file
 * from bpf_d_path, looked up in a hash map of 256-byte keys for exact
 * rules, then one lookup per path component ("/", "/srv/", "/srv/x/", …)
 * in a second hash map for prefix rules. A cgroup-id hash decides scope
 * first, as the peers' cgroup filters do. Values are a kind mask (bit 0:
 * file rules, bit 1: exec rules), so one pair of maps serves both hooks.
 *
 * Loaded and attached by bench/compare.cpp (its own tiny loader).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define PS_PATH_MAX 256
#define PS_EPERM 1
#define PS_KIND_FILE 1u
#define PS_KIND_EXEC 2u

struct ps_path {
	char p[PS_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct ps_path);
} ps_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 17);
	__type(key, struct ps_path);
	__type(value, __u32);
} ps_exact SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 17);
	__type(key, struct ps_path);
	__type(value, __u32);
} ps_prefix SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u32);
} ps_scope SEC(".maps");

struct ps_walk {
	long len;      /* bytes of the path, without its NUL */
	__u32 kind;
	int deny;
};

/* Zero the bytes after the path (bpf_d_path leaves junk there). */
static long ps_zero_tail(__u64 i, struct ps_walk *w)
{
	__u32 one = 1;
	struct ps_path *path = bpf_map_lookup_elem(&ps_scratch, &one);

	if (!path)
		return 1;
	if ((long)i >= w->len)
		path->p[i & (PS_PATH_MAX - 1)] = 0;
	return 0;
}

/* Copy the path into the key byte by byte; at each '/', look the prefix up. */
static long ps_component(__u64 i, struct ps_walk *w)
{
	__u32 zero = 0, one = 1;
	struct ps_path *key = bpf_map_lookup_elem(&ps_scratch, &zero);
	struct ps_path *path = bpf_map_lookup_elem(&ps_scratch, &one);
	__u32 *v;
	char c;

	if (!key || !path || (long)i >= w->len)
		return 1;
	c = path->p[i & (PS_PATH_MAX - 1)];
	key->p[i & (PS_PATH_MAX - 1)] = c;
	if (c != '/')
		return 0;
	v = bpf_map_lookup_elem(&ps_prefix, key);
	if (v && (*v & w->kind)) {
		w->deny = 1;
		return 1;
	}
	return 0;
}

static int ps_decide(struct file *file, __u32 kind)
{
	__u64 cg = bpf_get_current_cgroup_id();
	__u32 zero = 0, one = 1;
	struct ps_path *key, *path;
	struct ps_walk w = { .kind = kind };
	__u32 *v;
	long n;

	if (!bpf_map_lookup_elem(&ps_scope, &cg))
		return 0;
	key = bpf_map_lookup_elem(&ps_scratch, &zero);
	path = bpf_map_lookup_elem(&ps_scratch, &one);
	if (!key || !path)
		return 0;
	n = bpf_d_path((struct path *)&file->f_path, path->p, sizeof(path->p));
	if (n <= 0 || n > PS_PATH_MAX)
		return 0;
	w.len = n - 1;
	bpf_loop(PS_PATH_MAX, ps_zero_tail, &w, 0);
	v = bpf_map_lookup_elem(&ps_exact, path);
	if (v && (*v & kind))
		return -PS_EPERM;
	__builtin_memset(key->p, 0, sizeof(key->p));
	bpf_loop(PS_PATH_MAX, ps_component, &w, 0);
	return w.deny ? -PS_EPERM : 0;
}

SEC("lsm/file_open")
int BPF_PROG(pathstr_file, struct file *file)
{
	return ps_decide(file, PS_KIND_FILE);
}

SEC("lsm/bprm_check_security")
int BPF_PROG(pathstr_exec, struct linux_binprm *bprm)
{
	return ps_decide(bprm->file, PS_KIND_EXEC);
}
