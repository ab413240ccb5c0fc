// What loading the monitors (bpf/trace/) needs from the machine: tracefs
// for syscall tracepoints, the cgroup v2 root for the socket hooks, and
// bulwark's own mount namespace, which the paths in rules are relative to.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>

namespace bulwark {

// Syscall tracepoints are attached by their tracefs id: mount tracefs at
// /sys/kernel/tracing when neither it nor debugfs' copy is there (mounting
// it changes nothing else). Throws Error when that fails.
void ensure_tracefs();

// Attach a cgroup program (monitor_connect's sock_addr hooks) to the root
// of the cgroup v2 hierarchy, so it sees every process; a link, so other
// programs attached there stay. Throws Error without cgroup v2.
bpf_link* attach_to_cgroup_root(bpf_program* prog);

// The inode number of this process's mount namespace (/proc/self/ns/mnt).
uint32_t own_mount_namespace();

}  // namespace bulwark
