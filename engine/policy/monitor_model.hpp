// Monitors in the policy model: [[monitor.file]], [[monitor.syscalls]],
// [monitor.process] and [[monitor.connect]] as the parser validated them.
// Monitors observe and report; only a syscalls monitor with action = "kill"
// acts, and that after the syscall began. Included by policy/model.hpp
// (include that one): these types use its SourcePos, Located, UidSpec and
// PortRange.
#pragma once

#include "policy/model.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bulwark {

// Events per second a monitor rule may produce (and bursts of as many)
// when it does not say; the rest are counted as suppressed.
inline constexpr uint32_t kDefaultMonitorRate = 100;
inline constexpr uint32_t kMaxMonitorRate = 1000000;

struct FileMonitor {
    std::vector<Located> paths;        // absolute, normalized
    std::vector<Located> prefixes;     // absolute, normalized, ending in '/'
    uint32_t rate_limit = kDefaultMonitorRate;
    SourcePos pos;                     // of the [[monitor.file]] header
};

enum class SyscallAction : uint8_t { audit, kill };

// A syscall as written, resolved to its x86_64 number by the parser.
struct SyscallName {
    std::string name;
    uint32_t nr = 0;
    SourcePos pos;
};

struct SyscallMonitor {
    std::vector<UidSpec> uids;         // the users the allowlist applies to
    std::vector<SyscallName> allow;    // everything else is reported (or killed)
    SyscallAction action = SyscallAction::audit;
    uint32_t rate_limit = kDefaultMonitorRate;
    SourcePos pos;
    SourcePos action_pos;              // of the action value, or of the header
};

struct ProcessMonitor {
    std::vector<Located> allowed;      // exact programs, or trees ending in '/'
    uint32_t rate_limit = kDefaultMonitorRate;
    SourcePos pos;
};

struct ConnectMonitor {
    std::vector<Located> cidrs;        // as written; parsed by the compiler
    std::vector<PortRange> ports;      // empty: all ports
    uint8_t protocols = proto_any;     // ProtocolBits
    uint32_t rate_limit = kDefaultMonitorRate;
    SourcePos pos;
};

struct Monitors {
    std::vector<FileMonitor> files;
    std::vector<SyscallMonitor> syscalls;
    std::optional<ProcessMonitor> process;
    std::vector<ConnectMonitor> connects;

    bool empty() const { return files.empty() && syscalls.empty() && !process && connects.empty(); }
};

}  // namespace bulwark
