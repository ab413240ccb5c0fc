// bulwark's own identity for the kernel's self check (self_tgid): the tgid
// in the initial PID namespace, which is what bpf_get_current_pid_tgid()
// and task->tgid give every BPF program. getpid() is that number only when
// bulwark runs in the initial PID namespace; in a container's namespace it
// is another process's global pid, or none
// (docs/decisions/011-self-protection.md, "Identity").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark {

// PROC_PID_INIT_INO (include/linux/proc_ns.h): the inode number of the
// initial PID namespace, the same on every kernel since 3.8 and whatever
// procfs instance shows the link.
inline constexpr unsigned long long kInitialPidNamespaceInode = 0xEFFFFFFCull;  // 4026531836

enum class PidNamespace { initial, nested, unknown };

// From the text of readlink("/proc/self/ns/pid"), "pid:[4026531836]".
// Not NSpid in /proc/self/status: that lists the pids from the namespace
// of the procfs mount down, so a container's own /proc shows one field.
PidNamespace pid_namespace_of_link(std::string_view link);
// This process's (readlink /proc/self/ns/pid; unknown if unreadable).
PidNamespace own_pid_namespace();
const char* pid_namespace_name(PidNamespace ns);  // "initial" | "nested" | "unknown"

// The self_tgid to give the BPF objects. `probed`: what the kernel said
// (kernel/self_identity.hpp), nullopt when the probe could not load or
// run (`why` says what failed). Without a probe, getpid() only where it is
// provably the same number (the initial namespace); otherwise throws Error
// rather than exempt the wrong process. A probe that contradicts getpid()
// in the initial namespace throws too.
uint32_t choose_self_tgid(std::optional<uint32_t> probed, const std::string& why, PidNamespace ns,
                          uint32_t own_pid);

}  // namespace bulwark
