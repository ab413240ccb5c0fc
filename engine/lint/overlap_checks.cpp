// Policies whose scopes overlap and that decide the same object
// differently. Across policies nothing is "more specific": every policy in
// scope is evaluated and the strongest verdict wins, so an allow written in
// one policy never lifts another policy's deny — a common surprise.
#include "bulwark/abi.h"
#include "compile/scope_compiler.hpp"
#include "lint/checks.hpp"
#include "policy/value_checks.hpp"

#include <set>

namespace bulwark::lint {
namespace {

std::optional<uint32_t> uid_of(const UidSpec& u, const SystemView& system)
{
    if (const auto* n = std::get_if<uint32_t>(&u.value)) return *n;
    return system.uid_of_user(std::get<std::string>(u.value));
}

// Every cgroup of `inner` is at or below one of `outer`'s.
bool cgroups_within(const Policy& inner, const Policy& outer, const SystemView& system)
{
    const auto mount = system.cgroup2_mount();
    if (!mount) return false;
    for (const auto& x : inner.scope.cgroups) {
        bool in = false;
        auto dx = resolve_cgroup(x.value, *mount);
        for (const auto& y : outer.scope.cgroups) {
            auto dy = resolve_cgroup(y.value, *mount);
            in = in || (dx && dy && under(dx->path + "/", dy->path + "/"));
        }
        if (!in) return false;
    }
    return true;
}

// Every process in `inner`'s scope is in `outer`'s: each key `outer`
// constrains, `inner` constrains to values within it.
bool scope_within(const Policy& inner, const Policy& outer, const SystemView& system)
{
    if (!outer.scope.uids.empty()) {
        if (inner.scope.uids.empty()) return false;
        for (const auto& x : inner.scope.uids) {
            bool in = false;
            for (const auto& y : outer.scope.uids) {
                auto ux = uid_of(x, system), uy = uid_of(y, system);
                in = in || (ux && uy && *ux == *uy);
            }
            if (!in) return false;
        }
    }
    if (!outer.scope.cgroups.empty() && (inner.scope.cgroups.empty() || !cgroups_within(inner, outer, system)))
        return false;
    if (!outer.scope.executables.empty()) {
        if (inner.scope.executables.empty()) return false;
        for (const auto& x : inner.scope.executables) {
            bool in = false;
            for (const auto& y : outer.scope.executables)
                in = in || system.canonical(x.value).value_or(x.value) == system.canonical(y.value).value_or(y.value);
            if (!in) return false;
        }
    }
    return true;
}

// One policy applies to every process the other applies to. (Policies
// that constrain different keys — one a uid, the other a cgroup — could in
// principle meet in one process; warning about every such pair would bury
// the real mistakes, so they are left alone.)
bool scopes_nest(const Policy& a, const Policy& b, const SystemView& system)
{
    return scope_within(a, b, system) || scope_within(b, a, system);
}

// The verdict an action gives in a policy of this mode, as events name it.
std::string verdict(Action a, Mode m)
{
    if (a == Action::deny) return m == Mode::enforce ? "deny" : "would-deny";
    return action_name(a);
}

int rank(const std::string& v)
{
    return v == "deny" ? 3 : v == "would-deny" ? 2 : v == "audit" ? 1 : 0;
}

const Default& default_of(const Policy& p, uint32_t column)
{
    return column == BW_COL_EXEC ? p.defaults.exec : column == BW_COL_CONNECT ? p.defaults.connect : p.defaults.file;
}

// A decision that was written down: a rule, or a [defaults] value.
struct Said {
    Action action = Action::allow;
    SourcePos pos;
    std::string what;             // "the rule at line 12", "[defaults] exec"
};

std::optional<Said> said(const Policy& p, const void* rule, Action action, const SourcePos* rule_pos, uint32_t column)
{
    if (rule) return Said{action, *rule_pos, "its rule at " + basename_of(rule_pos->file) + ":" + std::to_string(rule_pos->line)};
    const Default& d = default_of(p, column);
    if (!d.given || column == BW_COL_MAP) return std::nullopt;
    return Said{d.action, d.pos, "its [defaults]"};
}

struct Reporter {
    Context& ctx;
    std::set<std::tuple<uint32_t, uint32_t, std::string>> seen;

    void disagree(uint32_t i, uint32_t j, const std::string& object, const Said& si, const Said& sj, const SourcePos& at)
    {
        if (si.action == sj.action || !seen.emplace(i, j, object).second) return;
        const Policy& a = ctx.policies[i];
        const Policy& b = ctx.policies[j];
        const std::string va = verdict(si.action, a.mode), vb = verdict(sj.action, b.mode);
        const std::string both = rank(va) >= rank(vb) ? va : vb;
        std::string msg = "policies " + a.name + " and " + b.name + " both apply to the processes of " + (scope_within(a, b, ctx.imagined) ? a.name : b.name) + " and disagree on " +
                          object + ": " + a.name + " says " + va + " (" + si.what + "), " + b.name + " says " + vb +
                          "; where both apply the result is " + both;
        if (si.action == Action::allow || sj.action == Action::allow)
            msg += " — an allow in one policy never lifts another policy's " +
                   std::string(si.action == Action::allow ? action_name(sj.action) : action_name(si.action)) +
                   "; narrow one policy's [scope], or put both rules in one policy";
        ctx.out.warning(at, msg);
        ctx.out.note(si.pos, "policy " + a.name + " decides " + object + " here");
    }
};

}  // namespace

void overlap_checks(Context& ctx)
{
    Reporter rep{ctx, {}};
    const auto& ps = ctx.policies;
    for (uint32_t j = 0; j < ps.size(); ++j) {
        for (uint32_t i = 0; i < j; ++i) {
            if (!scopes_nest(ps[i], ps[j], ctx.imagined)) continue;
            // Every key either policy names, decided by both.
            for (const PathKey& k : ctx.keys.paths) {
                if (k.policy != i && k.policy != j) continue;
                for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
                    if (!(k.columns & (1u << c))) continue;
                    const PathDecision di = decide_path(ctx.keys, ps[i], i, k.kind, k.key, k.exact, c);
                    const PathDecision dj = decide_path(ctx.keys, ps[j], j, k.kind, k.key, k.exact, c);
                    auto si = said(ps[i], di.rule, di.action, di.rule ? &di.rule->written->pos : nullptr, c);
                    auto sj = said(ps[j], dj.rule, dj.action, dj.rule ? &dj.rule->written->pos : nullptr, c);
                    if (!si || !sj) continue;
                    const std::string object = std::string(k.kind == RuleKind::exec ? "running " : "") + k.key;
                    rep.disagree(i, j, object, *si, *sj, k.policy == j ? k.written->pos : sj->pos);
                }
            }
            const auto cuts_i = port_cuts(ctx.keys, i), cuts_j = port_cuts(ctx.keys, j);
            std::set<uint16_t> cuts(cuts_i.begin(), cuts_i.end());
            cuts.insert(cuts_j.begin(), cuts_j.end());
            for (const NetKey& k : ctx.keys.nets) {
                if (k.policy != i && k.policy != j) continue;
                for (uint8_t proto : {uint8_t(proto_tcp), uint8_t(proto_udp)}) {
                    for (uint16_t port : cuts) {
                        if (!covers(k, proto, port)) continue;
                        const NetDecision di = decide_net(ctx.keys, ps[i], i, k.net, proto, port);
                        const NetDecision dj = decide_net(ctx.keys, ps[j], j, k.net, proto, port);
                        auto si = said(ps[i], di.rule, di.action, di.rule ? &di.rule->written->pos : nullptr, BW_COL_CONNECT);
                        auto sj = said(ps[j], dj.rule, dj.action, dj.rule ? &dj.rule->written->pos : nullptr, BW_COL_CONNECT);
                        if (!si || !sj) continue;
                        rep.disagree(i, j, "connections to " + to_string(k.net), *si, *sj,
                                     k.policy == j ? k.written->pos : sj->pos);
                    }
                }
            }
        }
    }
}

}  // namespace bulwark::lint
