#include "backend/coverage.hpp"

namespace bulwark {
namespace {

CoverageRow row(const char* what, const Backends& b, RuleKind k)
{
    return {what, to_string(b[k]), b.why[static_cast<size_t>(k)]};
}

}  // namespace

std::vector<CoverageRow> coverage(const BackendSupport& s, const Backends& b)
{
    std::vector<CoverageRow> rows;
    const std::string lsm_only = "only BPF-LSM decides these, and it cannot enforce here";
    rows.push_back(row("file open", b, RuleKind::file));
    rows.push_back({"file operations", s.bpf_lsm ? "bpf-lsm" : "none",
                    s.bpf_lsm ? "available (create, delete, rename, link, truncate, metadata)"
                              : "fanotify permission events see opens only: enforcing rules that need these are "
                                "refused; " + lsm_only});
    rows.push_back(row("exec", b, RuleKind::exec));
    if (s.bpf_lsm)
        rows.push_back({"exec through the loader", "bpf-lsm", "available (mmap_file with PROT_EXEC)"});
    else if (b[RuleKind::exec] == Mechanism::fanotify)
        rows.push_back({"exec through the loader", "fanotify",
                        "fanotify cannot see mmap: an ELF file an [[exec]] rule denies cannot be opened at all "
                        "(stricter than BPF-LSM: reading it is denied too)"});
    else
        rows.push_back({"exec through the loader", "none", "only BPF-LSM or fanotify decide these; neither here"});
    rows.push_back(row("connect", b, RuleKind::connect));
    // Not a kind of rule: what every policy that decides something gives
    // (docs/decisions/011-self-protection.md). No fallback can refuse a
    // signal or a ptrace access.
    rows.push_back({"self-protection", s.bpf_lsm ? "bpf-lsm" : "none",
                    s.bpf_lsm ? "available (task_kill, ptrace_access_check: processes in scope cannot signal or "
                                "trace bulwark)"
                              : "processes in scope can signal and trace bulwark; " + lsm_only});
    rows.push_back({"monitors", s.cgroup_sock_addr ? "tracepoints+cgroup" : "tracepoints",
                    "no BPF-LSM needed" +
                        std::string(s.cgroup_sock_addr ? "" : "; [[monitor.connect]]: " + s.cgroup_sock_addr_why_not)});
    return rows;
}

}  // namespace bulwark
