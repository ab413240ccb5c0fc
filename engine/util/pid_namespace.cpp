#include "util/pid_namespace.hpp"

#include "util/error.hpp"

#include <charconv>
#include <climits>
#include <unistd.h>

namespace bulwark {

PidNamespace pid_namespace_of_link(std::string_view link)
{
    constexpr std::string_view head = "pid:[";
    if (link.size() <= head.size() + 1 || link.substr(0, head.size()) != head || link.back() != ']')
        return PidNamespace::unknown;
    const std::string_view digits = link.substr(head.size(), link.size() - head.size() - 1);
    unsigned long long ino = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ino);
    if (ec != std::errc() || end != digits.data() + digits.size()) return PidNamespace::unknown;
    return ino == kInitialPidNamespaceInode ? PidNamespace::initial : PidNamespace::nested;
}

PidNamespace own_pid_namespace()
{
    char buf[64];
    const ssize_t n = ::readlink("/proc/self/ns/pid", buf, sizeof buf);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return PidNamespace::unknown;
    return pid_namespace_of_link(std::string_view(buf, static_cast<size_t>(n)));
}

const char* pid_namespace_name(PidNamespace ns)
{
    switch (ns) {
    case PidNamespace::initial: return "initial";
    case PidNamespace::nested: return "nested";
    case PidNamespace::unknown: break;
    }
    return "unknown";
}

uint32_t choose_self_tgid(std::optional<uint32_t> probed, const std::string& why, PidNamespace ns,
                          uint32_t own_pid)
{
    if (probed) {
        if (*probed == 0) throw Error("the kernel gave bulwark's own tgid as 0 (the self-identity probe is broken)");
        if (ns == PidNamespace::initial && *probed != own_pid)
            throw Error("the kernel gives bulwark's tgid as " + std::to_string(*probed) + ", getpid() as " +
                        std::to_string(own_pid) + ", in the initial PID namespace: refusing to guess which one "
                        "the programs must exempt");
        return *probed;
    }
    if (ns == PidNamespace::initial) return own_pid;
    throw Error("cannot learn bulwark's own pid as the kernel sees it (" + why + "), and bulwark runs in " +
                    (ns == PidNamespace::nested ? std::string("a PID namespace other than the initial one")
                                                : std::string("a PID namespace it cannot identify "
                                                              "(/proc/self/ns/pid unreadable)")) +
                    ", where getpid() (" + std::to_string(own_pid) +
                    ") is not that number: the programs would exempt another process and not bulwark",
                "run bulwark in the initial PID namespace (a container with the host's PID namespace, "
                "e.g. --pid=host), or make raw tracepoint programs loadable and runnable (BPF_PROG_TEST_RUN)");
}

}  // namespace bulwark
