// Which mechanism decides each kind of rule (docs/decisions/010-backends.md):
// BPF-LSM where the kernel enforces it, else the fallback that kind has —
// cgroup socket-address hooks for connect rules, fanotify permission
// events for file opens and exec — or none, and then the rules of that
// kind are refused, never enforced more weakly than written. Pure: the
// kernel's facts come in as BackendSupport (kernel/probe.cpp fills it).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace bulwark {

// The kinds of rule a backend decides (and the ready line's "backends" keys).
enum class RuleKind { file, exec, connect };
constexpr std::array<RuleKind, 3> kRuleKinds{RuleKind::file, RuleKind::exec, RuleKind::connect};
const char* to_string(RuleKind k);  // "file", "exec", "connect"

enum class Mechanism { none, bpf_lsm, fanotify, cgroup_sock_addr };
const char* to_string(Mechanism m);  // "none", "bpf-lsm", "fanotify", "cgroup-sock-addr"

// What this kernel (and build) offers; each `why_not` says, when false, why.
struct BackendSupport {
    bool bpf_lsm = false;
    std::string bpf_lsm_why_not;
    bool fanotify = false;
    std::string fanotify_why_not;
    bool cgroup_sock_addr = false;
    std::string cgroup_sock_addr_why_not;
};

// `--backend` (repeatable): "auto" (the default), "bpf-lsm" (every kind
// through BPF-LSM), "fallback" (every kind through its non-LSM backend), or
// KIND=MECHANISM with KIND file|exec|connect and MECHANISM auto|bpf-lsm|
// fanotify|cgroup-sock-addr. Later values override earlier ones per kind.
struct BackendRequest {
    std::array<std::optional<Mechanism>, 3> forced;  // by RuleKind; nullopt: auto
};
// Throws Error (exit_usage) naming the bad value and the valid ones.
BackendRequest parse_backend_request(const std::vector<std::string>& values);

struct Backends {
    std::array<Mechanism, 3> of{Mechanism::bpf_lsm, Mechanism::bpf_lsm, Mechanism::bpf_lsm};
    std::array<std::string, 3> why;  // why this one (or, for none, why no backend)
    Mechanism operator[](RuleKind k) const { return of[static_cast<size_t>(k)]; }
    // {"file":"bpf-lsm","exec":"fanotify","connect":"cgroup-sock-addr"}
    std::string json() const;
};

// The mechanisms a kind can use, preferred first.
std::vector<Mechanism> candidates(RuleKind k);

Backends choose_backends(const BackendSupport& support, const BackendRequest& request = {});

}  // namespace bulwark
