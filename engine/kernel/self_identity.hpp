// bulwark's tgid in the initial PID namespace, from the kernel itself: the
// whoami program (bpf/probe/whoami.bpf.c) test-run once in this process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace bulwark {

// The calling process's tgid as BPF programs see it, or nullopt with
// `why` set when the program cannot load or run.
std::optional<uint32_t> kernel_self_tgid(std::string& why);

// The self_tgid for every BPF object: kernel_self_tgid() checked against
// getpid() and the PID namespace (util/pid_namespace.hpp). Throws Error
// when neither can be trusted.
uint32_t learn_self_tgid();

}  // namespace bulwark
