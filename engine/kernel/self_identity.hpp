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

// The tgid of bulwark's parent in the initial PID namespace, for the
// kernel's check of who may change bulwark's own files: getppid() where
// that is the global number (the initial namespace), else 0 (nobody is
// exempt as the parent; PID 1 and bulwark's executable still are).
uint32_t learn_self_parent_tgid();

}  // namespace bulwark
