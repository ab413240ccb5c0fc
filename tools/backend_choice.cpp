#include "backend_choice.hpp"

#include "kernel/bpf_handles.hpp"
#include "kernel/probe.hpp"
#include "util/error.hpp"

namespace bulwark {

namespace {

std::string joined(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : "; ") + i;
    return out;
}

std::string lsm_boot_hint()
{
    if (const auto arg = lsm_argument(probe_kernel()))
        return "BPF-LSM would decide them after a boot with " + *arg + " on the kernel command line; ";
    return "";
}

}  // namespace

Backends choose_run_backends(const std::vector<std::string>& values)
{
    const BackendRequest request = parse_backend_request(values);
    return choose_backends(backend_support(probe_kernel()), request);
}

void require_backends(const RunPlan& plan, const Backends& backends)
{
    if (plan.refused.empty()) return;
    std::string why;
    for (RuleKind k : plan.refused_kinds)
        why += std::string(why.empty() ? "" : "; ") + to_string(k) + " rules: " +
               backends.why[static_cast<size_t>(k)];
    std::string rules;
    for (const auto& r : plan.refused) rules += (rules.empty() ? "" : ", ") + r;
    // Where BPF-LSM is built but not listed, a boot argument is all it takes:
    // say which one, as `bulwark probe` does.
    const std::string boot = lsm_boot_hint();
    throw Error("no backend on this kernel can enforce these rules: " + rules + (why.empty() ? "" : " (" + why + ")"),
                std::string(plan.monitors ? "monitors run without BPF-LSM; " : "") + boot +
                    "see bulwark probe for what this kernel offers; remove those rules, or run them where a "
                    "backend decides them",
                exit_unsupported);
}

std::string unsticky_scope_warning(const std::vector<Policy>& policies, const Backends& backends)
{
    std::string names;
    for (const Policy& p : policies) {
        if (p.mode != Mode::enforce || !p.scope.present) continue;
        const bool elsewhere = (!p.files.empty() && backends[RuleKind::file] != Mechanism::bpf_lsm) ||
                               (!p.execs.empty() && backends[RuleKind::exec] != Mechanism::bpf_lsm) ||
                               (!p.connects.empty() && backends[RuleKind::connect] != Mechanism::bpf_lsm);
        if (elsewhere) names += (names.empty() ? "" : ", ") + p.name;
    }
    if (names.empty()) return {};
    return "bulwark: warning: the scope of " + names +
           " is decided from what a process is now where fanotify or cgroup socket hooks decide its rules: "
           "a process that leaves the cgroup, changes its uid or runs another program leaves the scope "
           "(scopes stick only with BPF-LSM; see bulwark probe)\n";
}

void require_fanotify_coverage(const RunPlan& plan)
{
    if (plan.unseen_enforced.empty()) return;
    throw Error("the fanotify backend sees opens and program runs only, so it cannot enforce these rules as "
                    "written: " + joined(plan.unseen_enforced),
                std::string(plan.monitors ? "monitors run without BPF-LSM; " : "") + lsm_boot_hint() +
                    "narrow the rules to what fanotify sees (e.g. access = [\"read\"]), make them "
                                  "action = \"audit\", or run them where BPF-LSM decides (bulwark probe)",
                exit_unsupported);
}

std::string fanotify_unseen_warning(const RunPlan& plan)
{
    if (plan.unseen_audited.empty()) return {};
    return "bulwark: warning: fanotify reports only the opens and program runs of these auditing rules: " +
           joined(plan.unseen_audited) + "\n";
}

void require_lsm_hooks(const RunPlan& plan)
{
    BtfPtr vmlinux(btf__load_vmlinux_btf());
    if (!vmlinux) return;  // require_enforcement has said why nothing can load
    const auto missing =
        required_missing(plan, [&](const std::string& hook) { return lsm_hook_exists(vmlinux.get(), hook); });
    if (missing.empty()) return;
    std::string hooks, rules;
    for (const auto& h : missing) hooks += (hooks.empty() ? "" : ", ") + h;
    for (const auto& r : plan.lsm_rules)
        if (r.find("[[file]]") != std::string::npos || r.find("[defaults] file") != std::string::npos)
            rules += (rules.empty() ? "" : ", ") + r;
    throw Error("this kernel has no LSM hook " + hooks + ", which these rules need: " + rules,
                "the path_* hooks come with CONFIG_SECURITY_PATH=y; narrow the rules' access to rights this "
                "kernel can decide (e.g. access = [\"read\"]), or run on a kernel that has the hooks",
                exit_unsupported);
}

}  // namespace bulwark
