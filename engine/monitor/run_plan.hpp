// What `bulwark run` loads for a policy set: the enforcing (BPF-LSM)
// programs only of the kinds some rule needs, and the monitor objects of
// the monitor kinds present. Monitors need no BPF-LSM, so a set of monitors
// alone runs on kernels that refuse LSM programs.
#pragma once

#include "backend/backends.hpp"
#include "compile/map_image.hpp"
#include "policy/model.hpp"

#include <functional>
#include <string>
#include <vector>

namespace bulwark {

struct RunPlan {
    std::vector<std::string> objects;    // registry names (kernel/object_registry.cpp), to load
    // The LSM programs to load from the "enforce" object, by attach point
    // ("file_open", "bprm_check_security", ...): only the hooks the set's
    // rules need, since verifying programs is most of start-up.
    std::vector<std::string> programs;
    bool enforcement = false;            // rules (or an empty set): some backend enforces
    bool needs_lsm = false;              // LSM objects among `objects`: the kernel must enforce them
    bool monitors = false;               // monitor objects among `objects`
    std::vector<std::string> lsm_rules;  // what needs BPF-LSM: "web.toml:5 [[file]]", ...
    std::vector<RuleKind> fanotify;      // kinds the fanotify backend decides
    // Rules the fanotify backend decides that need what it cannot see
    // (file operations other than open, fileless programs), each with
    // what it misses: refused when they enforce, reported at start when
    // they only audit (docs/decisions/010-backends.md).
    std::vector<std::string> unseen_enforced;
    std::vector<std::string> unseen_audited;
    std::vector<std::string> refused;    // rules of kinds no backend here decides
    std::vector<RuleKind> refused_kinds; // ... and their kinds (Backends::why says why)
    // What the set really does (the ready line's "mode"): "enforce" when a
    // policy with rules enforces, "audit" when every policy with rules only
    // reports (its mode, or --audit; with no rules at all: every policy),
    // "monitor" when there are monitors and no rules.
    std::string mode;
};

// The hooks of [[file]] rights beyond opening (bpf/lsm/file_ops.bpf.c,
// bpf/lsm/mounts.bpf.c), by the columns they decide (BW_ACCESS_* bits: a
// hook is loaded when a policy can decide any of them). `required`: a set
// whose policies decide the column is refused on a kernel without the
// hook; file_truncate is not (6.1 has none, and path_truncate decides
// ftruncate and O_TRUNC there). inode_setattr (utimes) is required: every
// kernel with BPF-LSM has it, and without it a set that denies metadata
// would let times change. The mount hooks decide every right that keeps a
// tree as it is (docs/decisions/016-mounts-and-handles.md).
struct FileHook {
    uint32_t access;
    const char* hook;
    bool required;
};
extern const FileHook kFileHooks[17];

// The LSM hooks that mark what a process has been, for sticky scope
// (bpf/lsm/sticky_scope.bpf.c; its cgroup-move tracepoint is not an LSM
// hook and loads with the enforce object).
extern const char* const kStickyScopeHooks[3];

// The LSM hooks that keep processes in scope from signalling bulwark or
// looking into it (bpf/lsm/self_protect.bpf.c, docs/decisions/011): loaded
// with the enforce object always, as the sticky scope hooks are.
extern const char* const kSelfProtectHooks[5];

// The programs of `plan` this kernel lacks (`exists`: has the LSM hook)
// that are not optional: the set cannot be enforced as written.
std::vector<std::string> required_missing(const RunPlan& plan, const std::function<bool(const std::string&)>& exists);

// `image` after --audit: its policies' modes are the effective ones.
// `backends`: which mechanism decides each kind (default: BPF-LSM for all).
RunPlan plan_run(const std::vector<Policy>& policies, const MapImage& image, const Backends& backends = {});

}  // namespace bulwark
