// Probe before enabling: is `bpf` an active LSM, does the kernel accept
// LSM programs, which hooks exist in its BTF. Without `bpf` in the active
// list, LSM programs load and attach without error and deny nothing, so
// bulwark refuses to claim enforcement instead of failing open silently.
#pragma once

#include "backend/backends.hpp"

#include <optional>
#include <string>

struct btf;

namespace bulwark {

struct KernelSupport {
    std::optional<std::string> lsm_list;  // /sys/kernel/security/lsm, when readable
    bool bpf_lsm_active = false;
    bool lsm_programs_load = false;       // BPF_PROG_TYPE_LSM accepted
    std::string kernel_release;
};

KernelSupport probe_kernel();

// Throws Error (exit_unsupported) saying why and what to do, unless the
// kernel will really enforce LSM programs.
void require_lsm_enforcement(const KernelSupport& support);

// The backends this kernel offers, each with why not when it does not.
BackendSupport backend_support(const KernelSupport& support);

// Where BPF-LSM is built (its hooks are in the BTF) but `bpf` is not an
// active LSM: the kernel argument that makes it one, "lsm=<active>,bpf"
// (lsm= replaces the list, so it repeats the active ones).
std::optional<std::string> lsm_argument(const KernelSupport& support);

// Does this kernel have LSM hook `hook` (e.g. "file_open")? Parses the
// kernel's BTF each call; the second form looks in an already loaded one.
bool lsm_hook_exists(const std::string& hook);
bool lsm_hook_exists(const btf* vmlinux, const std::string& hook);

// How many arguments LSM hook `hook` takes in `vmlinux` (bpf_lsm_<hook>'s
// prototype), or -1 when it has no such hook.
int lsm_hook_arity(const btf* vmlinux, const std::string& hook);

}  // namespace bulwark
