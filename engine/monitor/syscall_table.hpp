// x86_64 system call names and numbers: what [[monitor.syscalls]] allow
// lists are written in and what syscall events are decoded with.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace bulwark {

struct SyscallEntry {
    uint32_t nr;
    std::string_view name;
};

// Every x86_64 syscall, sorted by number.
std::span<const SyscallEntry> x86_64_syscalls();
std::optional<uint32_t> syscall_number(std::string_view name);
std::string_view syscall_name(uint32_t nr);  // "" when unknown

}  // namespace bulwark
