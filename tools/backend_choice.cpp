#include "backend_choice.hpp"

#include "kernel/probe.hpp"
#include "util/error.hpp"

namespace bulwark {

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
    throw Error("no backend on this kernel can enforce these rules: " + rules + " (" + why + ")",
                std::string(plan.monitors ? "monitors run without BPF-LSM; " : "") +
                    "see bulwark probe for what this kernel offers; remove those rules, or run them where a "
                    "backend decides them",
                exit_unsupported);
}

}  // namespace bulwark
