#include "compile/compiler.hpp"

#include "compile/columns.hpp"
#include "compile/connect_compiler.hpp"
#include "compile/exec_compiler.hpp"
#include "compile/path_compiler.hpp"
#include "compile/scope_compiler.hpp"
#include "monitor/monitor_compiler.hpp"
#include "util/small_thread.hpp"

namespace bulwark {
namespace {

// AccessBits are column bits (policy/model.hpp), `write` already implying
// the other changes.
uint8_t file_columns(uint8_t access)
{
    return static_cast<uint8_t>(access & kFileColumnBits);
}

void set_default(PolicyInfo& info, bw_policy_set& set, uint64_t bit, uint32_t column, const Default& d)
{
    info.default_action[column] = d.action;
    info.default_pos[column] = d.pos;
    if (d.action == Action::deny) set.default_deny[column] |= bit;
    if (d.action == Action::audit) set.default_audit[column] |= bit;
}

void note_action(bw_policy_set& set, uint64_t bit, uint8_t columns, Action action)
{
    for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
        if (!(columns & (1u << c))) continue;
        if (action == Action::deny) set.can_deny[c] |= bit;
        if (action == Action::audit) set.can_audit[c] |= bit;
    }
}

}  // namespace

CompileResult compile(const std::vector<Policy>& policies, const SystemView& system, const CompileOptions& options)
{
    CompileResult result;
    Diagnostics& diags = result.diagnostics;
    MapImage image;
    auto& set = image.policy_set;
    set.generation = options.generation;

    if (policies.size() > BW_MAX_POLICIES) {
        diags.error(policies[BW_MAX_POLICIES].pos, "more than " + std::to_string(BW_MAX_POLICIES) +
                                                       " policies are loaded at once; merge some of them");
        return result;
    }

    std::vector<PathRule> path_rules;
    std::vector<Decision> fileless;
    std::vector<ConnectRuleRef> connect_rules;
    for (size_t i = 0; i < policies.size(); ++i) {
        const Policy& p = policies[i];
        const uint64_t bit = 1ull << i;
        const auto index = static_cast<uint32_t>(i);
        set.active |= bit;

        PolicyInfo info;
        info.name = p.name;
        info.file = p.file;
        info.mode = options.global_audit ? Mode::audit : p.mode;
        if (info.mode == Mode::enforce) set.enforcing |= bit;
        for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c)
            if (is_file_column(c)) set_default(info, set, bit, c, p.defaults.file);
        set_default(info, set, bit, BW_COL_EXEC, p.defaults.exec);
        // Attempts on bulwark itself are decided by the policy's scope alone.
        info.default_pos[BW_COL_TAMPER] = p.pos;
        // Mapping code never falls back to the exec default (exec_compiler.hpp).
        info.default_pos[BW_COL_MAP] = p.defaults.exec.pos;
        info.default_action[BW_COL_CONNECT] = p.defaults.connect.action;
        info.default_pos[BW_COL_CONNECT] = p.defaults.connect.pos;
        if (p.defaults.connect.action == Action::deny) set.connect_default_deny |= bit;
        if (p.defaults.connect.action == Action::audit) set.connect_default_audit |= bit;

        for (const auto& r : p.files) {
            const auto rule = static_cast<int32_t>(image.rules.size());
            image.rules.push_back({index, "file", r.action, r.pos});
            const uint8_t cols = file_columns(r.access);
            note_action(set, bit, cols, r.action);
            for (const auto* list : {&r.paths, &r.prefixes})
                for (const auto& path : *list) path_rules.push_back({index, rule, path.value, path.pos, cols, r.action});
        }
        add_exec_rules(p, index, image, path_rules, fileless);
        uint64_t connect_can = set.connect_default_deny | set.connect_default_audit;
        for (const auto& r : p.connects) {
            const auto rule = static_cast<int32_t>(image.rules.size());
            image.rules.push_back({index, "connect", r.action, r.pos});
            connect_rules.push_back({index, rule, &r});
            if (r.action != Action::allow) connect_can |= bit;
        }

        for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
            set.can_deny[c] |= set.default_deny[c] & bit;
            set.can_audit[c] |= set.default_audit[c] & bit;
        }
        // A policy that can neither deny nor audit a kind never changes a
        // verdict there: leave it out so its scope is never evaluated.
        uint64_t file_mask = 0;
        for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c)
            if (is_file_column(c)) file_mask |= set.can_deny[c] | set.can_audit[c];
        if (file_mask & bit) set.applies[BW_KIND_FILE] |= bit;
        if ((set.can_deny[BW_COL_EXEC] | set.can_audit[BW_COL_EXEC]) & bit) set.applies[BW_KIND_EXEC] |= bit;
        if (connect_can & bit) set.applies[BW_KIND_CONNECT] |= bit;
        // A policy that decides something also keeps the processes in its
        // scope from signalling or tracing bulwark (bpf/lsm/self_protect.bpf.c,
        // docs/decisions/011-self-protection.md): deny when it enforces,
        // would-deny when it audits. Monitors alone protect nothing.
        if ((set.applies[BW_KIND_FILE] | set.applies[BW_KIND_EXEC] | set.applies[BW_KIND_CONNECT]) & bit)
            set.applies[BW_KIND_TAMPER] |= bit;
        // The same processes may not change bulwark's own files: a deny of
        // every change right there, named by the [policy] table like the
        // policy's other attempts on bulwark. Not counted in can_deny: a
        // walk too deep to decide stays as the policy's own rules say.
        if ((set.applies[BW_KIND_TAMPER] & bit) && !options.own_paths.empty()) {
            const auto rule = static_cast<int32_t>(image.rules.size());
            image.rules.push_back({index, "tamper", Action::deny, p.pos});
            for (const auto& own : options.own_paths) {
                // The policy files and the options file only from a scoped
                // policy's processes: under a policy without [scope] the
                // operator's shell is in scope too, and must still be able
                // to edit them and reload (docs/decisions/011, "Files").
                if (!p.scope.narrows() && own.operators()) continue;
                path_rules.push_back(
                    {index, rule, own.path, p.pos, static_cast<uint8_t>(kChangeColumnBits), Action::deny, &own.as});
            }
            set.applies[BW_KIND_FILE] |= bit;
        }
        image.policies.push_back(std::move(info));
    }

    // The connect rules need nothing from the others but the policy set's
    // connect defaults, final by now: compiled on a second thread while the
    // paths are resolved (the longest part), into an image of their own,
    // then appended as if compiled last — the same image, entries and
    // diagnostics in the same order. On this thread when no thread can be
    // had.
    MapImage connect_part;
    connect_part.policy_set = set;
    Diagnostics connect_diags;
    auto connects = SmallThread::start_or_run(
        [&] { compile_connects(connect_rules, options, connect_part, connect_diags); }, 1024 * 1024);
    compile_scopes(policies, system, options, image, diags);
    compile_paths(path_rules, system, options, image, diags);
    compile_monitors(policies, system, options, image, diags);
    finish_fileless(image, std::move(fileless));
    if (connects) connects->join();
    append_connects(image, std::move(connect_part));
    diags.append(connect_diags);
    if (!diags.has_errors()) warn_about_allowlists(policies, system, image, diags);

    if (!diags.has_errors()) result.image = std::move(image);
    // What the connect thread freed stays in its malloc arena for the next
    // compile's thread (+11 MiB resident at 100,000 rules on the host).
    // malloc_trim(0) here gives it back but cost 40-60 ms at that size,
    // in faults when the next compile touches the pages again.
    return result;
}

}  // namespace bulwark
