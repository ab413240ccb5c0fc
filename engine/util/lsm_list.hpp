// The kernel's active LSMs, as /sys/kernel/security/lsm lists them
// ("lockdown,capability,landlock,bpf"): one reader and one test of the
// list, for the kernel probe (kernel/probe.hpp) and lint (SystemView).
#pragma once

#include <optional>
#include <string>

namespace bulwark {

inline constexpr const char* kLsmListPath = "/sys/kernel/security/lsm";

// The list's one line; nullopt when it cannot be read (securityfs not
// mounted: the probe mounts it, a reader that must change nothing does not).
std::optional<std::string> read_lsm_list();

// Is `name` one of the comma-separated list's entries?
bool lsm_list_has(const std::string& list, const std::string& name);

}  // namespace bulwark
