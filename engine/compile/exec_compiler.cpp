#include "compile/exec_compiler.hpp"

#include "compile/evaluator.hpp"

namespace bulwark {
namespace {

int strength(Action a)
{
    return a == Action::deny ? 2 : a == Action::audit ? 1 : 0;
}

}  // namespace

void add_exec_rules(const Policy& p, uint32_t index, MapImage& image, std::vector<PathRule>& path_rules,
                    std::vector<Decision>& fileless)
{
    auto& set = image.policy_set;
    const uint64_t bit = 1ull << index;
    int32_t fileless_rule = -1;
    for (const auto& r : p.execs) {
        const auto rule = static_cast<int32_t>(image.rules.size());
        image.rules.push_back({index, "exec", r.action, r.pos});
        for (uint32_t c : {BW_COL_EXEC, BW_COL_MAP}) {
            if (r.action == Action::deny) set.can_deny[c] |= bit;
            if (r.action == Action::audit) set.can_audit[c] |= bit;
        }
        for (const auto* list : {&r.paths, &r.prefixes})
            for (const auto& path : *list)
                path_rules.push_back({index, rule, path.value, path.pos, kExecColumns, r.action});
        if (r.fileless &&
            (fileless_rule < 0 || strength(r.action) > strength(image.rules[size_t(fileless_rule)].action)))
            fileless_rule = rule;
    }
    if (fileless_rule < 0) return;
    set.fileless |= bit;
    const Action a = image.rules[size_t(fileless_rule)].action;
    if (a == Action::deny) set.fileless_deny |= bit;
    if (a == Action::audit) set.fileless_audit |= bit;
    for (uint32_t c : {BW_COL_EXEC, BW_COL_MAP}) fileless.push_back({index, c, fileless_rule});
}

void finish_fileless(MapImage& image, std::vector<Decision> fileless)
{
    auto& set = image.policy_set;
    if (!set.fileless) {
        set.fileless_entry = BW_ENTRY_NONE;
        return;
    }
    EntryInfo info;
    info.path = "(fileless: memfd, deleted or unlinked programs)";
    info.key_kind = KeyKind::fileless;
    info.role = BW_ROLE_SELF;
    info.decisions = std::move(fileless);
    set.fileless_entry = static_cast<uint32_t>(image.entries.size());
    image.entries.push_back(std::move(info));
}

void warn_about_allowlists(const std::vector<Policy>& policies, const SystemView& system, const MapImage& image,
                           Diagnostics& diags)
{
    const char* shell = "/bin/sh";
    std::optional<FileObject> sh;
    std::optional<Evaluator> eval;  // indexes the whole image: only for an allowlist
    for (size_t i = 0; i < policies.size(); ++i) {
        const Policy& p = policies[i];
        if (!p.defaults.exec.given || p.defaults.exec.action != Action::deny) continue;
        if (!eval) {
            sh = describe_file(system, shell);
            eval.emplace(image);
        }
        if (!sh) return;  // no shell on this machine: nothing to compare with
        bool too_deep = false;
        const bw_path_rule* found = eval->walk(*sh, too_deep);
        const uint64_t deny = found ? found->deny[BW_COL_EXEC] : image.policy_set.default_deny[BW_COL_EXEC];
        if (!(deny & (1ull << i))) continue;
        const std::string real = system.canonical(shell).value_or(shell);
        diags.warning(p.defaults.exec.pos,
                      "with exec = \"deny\", policy " + p.name + " lets no process in its scope run " + shell +
                          (real != shell ? " (" + real + ")" : std::string()) +
                          ": only programs an [[exec]] rule allows can run, and no shell is among them; "
                          "allow the shells that should run, or narrow the policy's [scope]");
    }
}

}  // namespace bulwark
