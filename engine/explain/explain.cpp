#include "explain/explain.hpp"

#include <algorithm>
#include <ostream>

namespace bulwark {
namespace {

constexpr uint32_t kExactSpecificity = 1u << 20;

int strength(Action a)
{
    return a == Action::deny ? 2 : a == Action::audit ? 1 : 0;
}

const char* action_name(Action a)
{
    return a == Action::deny ? "deny" : a == Action::audit ? "audit" : "allow";
}

// What a compiled entry stands for, and how specific it is.
RuleMatch key_of(const MapImage& image, uint32_t entry)
{
    RuleMatch m;
    if (entry >= image.entries.size()) return m;
    const EntryInfo& e = image.entries[entry];
    m.key = e.path;
    switch (e.key_kind) {
    case KeyKind::cidr:
    case KeyKind::ports: {
        // "10.0.0.0/8" or "10.0.0.0/8 tcp 80-443": the prefix length.
        const auto slash = e.path.find('/');
        const auto space = e.path.find(' ');
        m.key = e.path.substr(0, space);
        if (slash != std::string::npos) m.specificity = static_cast<uint32_t>(std::stoul(e.path.substr(slash + 1)));
        break;
    }
    case KeyKind::fileless: m.specificity = kExactSpecificity; break;
    default:
        m.specificity = e.role == BW_ROLE_SELF ? kExactSpecificity : static_cast<uint32_t>(e.path.size());
    }
    return m;
}

// A copy of `p` without rules, as a container for probes.
Policy bare(const Policy& p)
{
    Policy out;
    out.name = p.name;
    out.file = p.file;
    out.pos = p.pos;
    out.mode_pos = p.mode_pos;
    return out;
}

// Compiles `policies` and decides `op`; nullopt when the compiler refused.
struct Probe {
    std::optional<Outcome> outcome;
    std::optional<MapImage> image;
};

Probe probe(const std::vector<Policy>& policies, const SystemView& system, const ResolvedOp& op,
            const CompileOptions& options)
{
    Probe out;
    CompileResult r = compile(policies, system, options);
    if (!r.image) return out;
    out.image = std::move(r.image);
    Evaluator eval(*out.image);
    out.outcome = decide(eval, op);
    return out;
}

// Does rule `k` (the k-th rule of kind `op` in `p`) match `op`? Compiled
// alone as an enforcing deny with no scope, it denies exactly what it matches.
std::optional<RuleMatch> rule_matches(const Policy& p, size_t k, const SystemView& system, const ResolvedOp& op)
{
    Policy one = bare(p);
    switch (op.op) {
    case TestOp::open:
    case TestOp::create:
    case TestOp::remove:
    case TestOp::rename:
    case TestOp::link:
    case TestOp::truncate:
    case TestOp::metadata:
        one.files.push_back(p.files[k]);
        one.files.back().action = Action::deny;
        break;
    case TestOp::exec:
        one.execs.push_back(p.execs[k]);
        one.execs.back().action = Action::deny;
        break;
    case TestOp::connect:
        one.connects.push_back(p.connects[k]);
        one.connects.back().action = Action::deny;
        break;
    }
    Probe pr = probe({one}, system, op, {});
    if (!pr.outcome || pr.outcome->verdict != BW_VERDICT_DENY) return std::nullopt;
    return key_of(*pr.image, pr.outcome->entry);
}

size_t rule_count(const Policy& p, TestOp op)
{
    return op == TestOp::exec ? p.execs.size() : op == TestOp::connect ? p.connects.size() : p.files.size();
}

// Index in image.rules of the k-th rule of kind `op` of policy `index`.
int32_t full_index(const MapImage& image, uint32_t index, TestOp op, size_t k)
{
    const char* kind = op == TestOp::exec ? "exec" : op == TestOp::connect ? "connect" : "file";
    size_t seen = 0;
    for (size_t i = 0; i < image.rules.size(); ++i) {
        if (image.rules[i].policy != index || image.rules[i].kind != kind) continue;
        if (seen++ == k) return static_cast<int32_t>(i);
    }
    return -1;
}

PolicyExplanation explain_policy(const std::vector<Policy>& policies, uint32_t index, const MapImage& image,
                                 const SystemView& system, const ResolvedOp& op, const CompileOptions& options,
                                 uint32_t full)
{
    const Policy& p = policies[index];
    PolicyExplanation pe;
    pe.policy = index;
    uint64_t applies = image.policy_set.applies[kind_of(op.op)];
    if (op.op == TestOp::exec) applies |= image.policy_set.applies[BW_KIND_FILE];  // the program is read first
    pe.applies = (applies >> index) & 1;
    const ScopeHold hold = scope_hold(p, system, op.subject, full);
    pe.scope_why = hold.why;
    pe.scope_before = hold.before;
    pe.in_scope = pe.scope_why.empty();

    for (size_t k = 0; k < rule_count(p, op.op); ++k) {
        if (auto m = rule_matches(p, k, system, op)) {
            m->rule = full_index(image, index, op.op, k);
            pe.matched.push_back(std::move(*m));
        }
    }
    if (!pe.in_scope) return pe;

    // The policy alone decides exactly as its bit does in the whole set —
    // once the whole set's kinds out of room are carried over: alone, its
    // fewer scope keys would leave room for more marks.
    CompileOptions alone = options;
    ResolvedOp as_in_set = op;
    as_in_set.subject.history.full |= full;
    Probe pr = probe({p}, system, as_in_set, alone);
    if (pr.outcome && pr.outcome->verdict != BW_VERDICT_ALLOW) {
        pe.verdict = to_verdict(pr.outcome->verdict);
        pe.column = pr.outcome->column;
        const int32_t r = pr.image->deciding_rule(pr.outcome->entry, 0, pr.outcome->column);
        if (r >= 0) {
            // The same rule in the whole set: the same kind, at the same place.
            const RuleInfo& info = pr.image->rules[static_cast<size_t>(r)];
            for (size_t i = 0; i < image.rules.size(); ++i)
                if (image.rules[i].policy == index && image.rules[i].pos.line == info.pos.line &&
                    image.rules[i].kind == info.kind)
                    pe.rule = static_cast<int32_t>(i);
            pe.key = key_of(*pr.image, pr.outcome->entry).key;
        }
        return pe;
    }
    // Allowed: by the most specific matching rule (all of them allow, or
    // the verdict would not be allow), or by the default.
    pe.column = default_column(op.op, op.access);
    const RuleMatch* best = nullptr;
    for (const auto& m : pe.matched)
        if (!best || m.specificity > best->specificity) best = &m;
    if (best) {
        pe.rule = best->rule;
        pe.key = best->key;
    }
    return pe;
}

Verdict combine(const std::vector<PolicyExplanation>& ps)
{
    Verdict v = Verdict::allow;
    for (const auto& p : ps)
        if (p.in_scope && p.applies && static_cast<int>(p.verdict) > static_cast<int>(v)) v = p.verdict;
    return v;
}

std::string mode_name(const MapImage& image, uint32_t policy)
{
    return image.policies[policy].mode == Mode::enforce ? "enforce" : "audit";
}

}  // namespace

uint32_t default_column(TestOp op, uint32_t access)
{
    if (op == TestOp::exec) return BW_COL_EXEC;
    if (op == TestOp::connect) return BW_COL_CONNECT;
    if (op == TestOp::open) return (access & BW_ACCESS_READ) ? BW_COL_READ : BW_COL_WRITE;
    return access ? static_cast<uint32_t>(__builtin_ctz(access)) : static_cast<uint32_t>(BW_COL_READ);
}

std::string rule_location(const MapImage& image, uint32_t policy, int32_t rule, uint32_t column)
{
    if (rule >= 0) return location(image.rules[static_cast<size_t>(rule)].pos);
    const PolicyInfo& p = image.policies[policy];
    const char* kind = column_kind(column);
    const SourcePos& pos = p.default_pos[column < kDecisionColumns ? column : 0];
    if (pos.line > 0) return location(pos) + " ([defaults] " + kind + ")";
    return p.file + " (no rule matched: the default allows)";
}

Explanation explain(const std::vector<Policy>& policies, const MapImage& image, const SystemView& system,
                    const ResolvedOp& op, const CompileOptions& options)
{
    if (op.target) {
        // Two ends: explain the one that decides (operation.hpp: decide).
        Evaluator eval(image);
        const ResolvedOp from = source_end(op), to = target_end(op);
        const bool at_target = decide(eval, to).verdict > decide(eval, from).verdict;
        Explanation e = explain(policies, image, system, at_target ? to : from, options);
        e.end = at_target ? "target" : "source";
        e.end_path = at_target ? op.target_canonical : op.canonical;
        return e;
    }
    Explanation e;
    Evaluator eval(image);
    const Outcome o = decide(eval, op);
    e.verdict = to_verdict(o.verdict);
    if (o.verdict != BW_VERDICT_ALLOW) {
        e.policy = o.policy;
        e.column = o.column;
        e.rule = image.deciding_rule(o.entry, o.policy, o.column);
    }
    // The kinds the history fills up in the whole set (Evaluator::marks).
    const uint32_t full = eval.marks(op.subject).full;
    for (uint32_t i = 0; i < policies.size(); ++i)
        e.policies.push_back(explain_policy(policies, i, image, system, op, options, full));
    e.consistent = combine(e.policies) == e.verdict;
    if (e.policy != BW_POLICY_NONE) {
        const auto& pe = e.policies[e.policy];
        e.consistent = e.consistent && pe.in_scope && pe.verdict == e.verdict && pe.rule == e.rule;
    }

    // Every matching rule that did not decide its policy's verdict.
    for (const auto& pe : e.policies) {
        const std::string name = image.policies[pe.policy].name;
        const RuleMatch* deciding = nullptr;
        for (const auto& m : pe.matched)
            if (m.rule == pe.rule) deciding = &m;
        for (const auto& m : pe.matched) {
            if (m.rule == pe.rule && pe.in_scope) continue;
            LostRule lost{m.rule, m.key, ""};
            const Action a = image.rules[static_cast<size_t>(m.rule)].action;
            if (!pe.in_scope) {
                lost.why = "policy " + name + " does not apply to this process: " + pe.scope_why;
            } else if (!deciding) {
                lost.why = "matched, but policy " + name + "'s verdict comes from " +
                           rule_location(image, pe.policy, pe.rule, pe.column);
            } else if (m.specificity < deciding->specificity) {
                lost.why = "less specific than " + rule_location(image, pe.policy, pe.rule, pe.column) + " (" +
                           deciding->key + "), which decides policy " + name + " here";
            } else {
                const Action d = image.rules[static_cast<size_t>(pe.rule)].action;
                lost.why = strength(d) > strength(a)
                               ? rule_location(image, pe.policy, pe.rule, pe.column) + " matches as specifically (" +
                                     deciding->key + ") with a stronger action: " + action_name(d) + " beats " +
                                     action_name(a)
                               : rule_location(image, pe.policy, pe.rule, pe.column) +
                                     " matches as specifically with the same action; it decides instead of this one";
            }
            e.lost.push_back(std::move(lost));
        }
    }
    return e;
}

void print(const Explanation& e, const TestCase& tc, const MapImage& image, RuleTexts& texts, std::ostream& out)
{
    out << describe(tc) << '\n';
    out << "verdict: " << to_string(e.verdict) << '\n';
    if (!e.end.empty()) out << "decided at: the " << e.end << ", " << e.end_path << '\n';
    if (e.policy != BW_POLICY_NONE) {
        out << "decided by: " << rule_location(image, e.policy, e.rule, e.column) << " (policy "
            << image.policies[e.policy].name << ", " << mode_name(image, e.policy) << ")\n";
        if (e.rule >= 0) {
            for (const auto& l : texts.table(image.rules[static_cast<size_t>(e.rule)].pos)) out << "    " << l << '\n';
        } else {
            const std::string l = texts.line(image.policies[e.policy].default_pos[e.column]);
            if (!l.empty()) out << "    [defaults] " << l << '\n';
        }
    } else {
        out << "decided by: no policy denies or audits it\n";
    }

    out << "\npolicies:\n";
    for (const auto& pe : e.policies) {
        const auto& info = image.policies[pe.policy];
        out << "  " << info.name << " (" << mode_name(image, pe.policy) << "): ";
        if (!pe.in_scope) {
            out << "does not apply: " << pe.scope_why << '\n';
            continue;
        }
        if (!pe.applies && pe.matched.empty()) {
            out << "none of its rules or defaults can deny or audit this operation\n";
            continue;
        }
        out << to_string(pe.verdict) << " by " << rule_location(image, pe.policy, pe.rule, pe.column);
        if (!pe.key.empty()) out << " — matched " << pe.key;
        if (pe.policy != e.policy && pe.verdict != Verdict::allow && e.policy != BW_POLICY_NONE) {
            if (pe.verdict == e.verdict)
                out << "; policy " << image.policies[e.policy].name << " decides as well and is reported";
            else
                out << "; outweighed: policy " << image.policies[e.policy].name << "'s " << to_string(e.verdict)
                    << " decides";
        }
        if (pe.verdict == Verdict::allow && e.verdict != Verdict::allow && pe.rule >= 0)
            out << "; an allow in one policy does not override another policy's " << to_string(e.verdict);
        if (!pe.scope_before.empty()) out << "; in its [scope] by what the process was before: " << pe.scope_before;
        out << '\n';
    }
    if (!e.lost.empty()) {
        out << "\nmatched and lost:\n";
        for (const auto& l : e.lost) {
            const RuleInfo& r = image.rules[static_cast<size_t>(l.rule)];
            out << "  " << location(r.pos) << " [[" << r.kind << "]] " << action_name(r.action) << ' ' << l.key
                << " — " << l.why << '\n';
        }
    }
    if (!e.consistent)
        out << "\nnote: the per-policy explanation does not add up to the evaluator's verdict; the verdict above is "
               "the evaluator's (please report this)\n";
}

}  // namespace bulwark
