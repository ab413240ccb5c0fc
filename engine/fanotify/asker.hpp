// The process behind a fanotify permission event, read from /proc/TID while
// it waits in open(2) or execve(2): who it is (the Subject the reference
// evaluator decides for, and the header fields of its event), and what the
// waiting system call asked for. The kernel backend reads the same facts
// from the task; here they come from procfs, so they are what the process
// is now (docs/decisions/010-backends.md, "The fanotify backend").
#pragma once

#include "compile/evaluator.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark {

struct Asker {
    Subject subject;           // tgid, real uid, cgroup ancestors, program
    uint32_t tid = 0, ppid = 0;
    uint64_t cgroup_id = 0;    // the innermost cgroup v2 (0: none)
    std::string comm;          // /proc/TID/comm
    std::string exe_path;      // readlink /proc/TID/exe ("" for a kernel thread)
};

// Reads what deciding the scope takes: /proc/TID/status and cgroup, and
// exe with `with_exe` (some policy is scoped by executable); nullopt when
// the thread is gone. `cgroup2_mount`: where cgroup v2 is mounted ("" when
// it is not).
// What the symbolic link `path` points at (a /proc link: exe, fd/N).
std::optional<std::string> link_of(const std::string& path);

std::optional<Asker> read_asker(uint32_t tid, const std::string& cgroup2_mount, bool with_exe);
// The rest an event reports: comm, and exe when it was not read.
void complete_asker(Asker& asker);

// A line of /proc/TID/syscall: the number and six arguments of the system
// call a blocked thread is in; nullopt for "running" or a thread outside
// any system call ("-1 ...").
struct SyscallArgs {
    long nr = -1;
    std::array<uint64_t, 6> args{};
};
std::optional<SyscallArgs> parse_syscall_line(std::string_view line);
std::optional<SyscallArgs> read_syscall(uint32_t tid);

// BW_ACCESS_* bits an open with `flags` asks for: O_RDONLY reads, O_WRONLY
// writes, O_RDWR both; O_TRUNC writes.
uint32_t access_of_open_flags(uint64_t flags);

// What the open a thread waits in asks for, from its system call (open,
// openat, openat2, creat, open_by_handle_at; execve reads); nullopt when the call is not
// one of those (io_uring, a kernel-internal open): then the caller must
// assume read and write.
std::optional<uint32_t> open_access(const SyscallArgs& call, uint32_t tid);

// execve/execveat: the file name the thread asked to run, read from its
// memory (nullopt for another call or an unreadable name). Relative names
// are resolved against /proc/TID/cwd (execve) or the dirfd (execveat).
std::optional<std::string> exec_target(const SyscallArgs& call, uint32_t tid);

// Whether the process runs with no ELF interpreter (AT_BASE 0 in
// /proc/TID/auxv): the loader run as a program, or a static program.
bool runs_without_interpreter(uint32_t tid);

}  // namespace bulwark
