// Rules that never decide anything, and allow rules that change nothing.
//
// Within a policy the most specific rule wins and, at the same key, the
// strongest action (deny > audit > allow), the first written among equals.
// So a rule whose every path is also named by a stronger (or an earlier,
// equally strong) rule of the same policy never decides; and an allow rule
// decides nothing that the policy would not allow anyway when, without it,
// the policy's default and broader rules already allow its objects.
#include "bulwark/abi.h"
#include "lint/checks.hpp"
#include "policy/value_checks.hpp"

namespace bulwark::lint {
namespace {

const SourcePos& rule_pos(const Policy& p, RuleKind kind, size_t rule)
{
    return kind == RuleKind::file ? p.files[rule].pos : kind == RuleKind::exec ? p.execs[rule].pos
                                                                              : p.connects[rule].pos;
}

std::string header(RuleKind kind)
{
    return std::string("[[") + to_string(kind) + "]]";
}

// Why `winner` decides where `loser` is written.
std::string beaten_by(const Policy& p, RuleKind kind, size_t winner_rule, Action winner, Action loser)
{
    const std::string where = "the rule at line " + std::to_string(rule_pos(p, kind, winner_rule).line);
    if (strength(winner) > strength(loser))
        return where + " names it too with a stronger action (" + action_name(winner) + " beats " +
               action_name(loser) + " at the same " + (kind == RuleKind::connect ? "CIDR" : "path") + ")";
    return where + " names it too with the same action and comes first";
}

const char* default_key(RuleKind kind)
{
    return kind == RuleKind::file ? "file" : kind == RuleKind::exec ? "exec" : "connect";
}

void path_rules(Context& ctx, uint32_t pi, RuleKind kind, size_t count)
{
    const Policy& p = ctx.policies[pi];
    for (size_t r = 0; r < count; ++r) {
        std::vector<const PathKey*> mine;
        for (const PathKey& pk : ctx.keys.paths)
            if (pk.policy == pi && pk.kind == kind && pk.rule == r) mine.push_back(&pk);
        const bool fileless = kind == RuleKind::exec && p.execs[r].fileless;
        if (mine.empty() && !fileless) continue;

        // Dead paths: every column decided by another rule at the same key.
        std::vector<std::pair<const PathKey*, const PathKey*>> dead;  // (path, winner)
        for (const PathKey* pk : mine) {
            const PathKey* winner = nullptr;
            bool decides = false;
            for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
                if (!(pk->columns & (1u << c))) continue;
                PathDecision d = decide_path(ctx.keys, p, pi, kind, pk->key, pk->exact, c);
                if (d.rule && same_rule(*d.rule, *pk)) decides = true;
                else if (d.rule && !winner) winner = d.rule;
            }
            if (!decides && winner) dead.emplace_back(pk, winner);
        }
        // A fileless rule decides only when it is the policy's strongest
        // (the first written among equals).
        bool fileless_decides = false;
        size_t fileless_winner = r;
        if (fileless) {
            fileless_winner = SIZE_MAX;
            for (size_t k = 0; k < p.execs.size(); ++k) {
                if (!p.execs[k].fileless) continue;
                if (fileless_winner == SIZE_MAX ||
                    strength(p.execs[k].action) > strength(p.execs[fileless_winner].action))
                    fileless_winner = k;
            }
            fileless_decides = fileless_winner == r;
        }

        const SourcePos& pos = rule_pos(p, kind, r);
        const Action action = kind == RuleKind::file ? p.files[r].action : p.execs[r].action;
        if (dead.size() == mine.size() && !fileless_decides) {
            std::string why;
            if (!dead.empty()) {
                why = dead[0].first->written->value + ": " +
                      beaten_by(p, kind, dead[0].second->rule, dead[0].second->action, action);
                if (dead.size() > 1) why += "; likewise its other " + std::to_string(dead.size() - 1) + " path(s)";
            } else {
                why = "fileless programs: " + beaten_by(p, kind, fileless_winner, p.execs[fileless_winner].action,
                                                        action);
            }
            ctx.out.warning(pos, "this " + header(kind) + " rule never decides anything, so it can be removed: " + why);
            continue;
        }
        for (const auto& [pk, winner] : dead)
            ctx.out.warning(pk->written->pos, (pk->exact ? "path " : "prefix ") + quote_value(pk->written->value) +
                                                  " never decides in this rule: " +
                                                  beaten_by(p, kind, winner->rule, winner->action, action));

        // An allow that changes nothing.
        if (action != Action::allow || mine.empty() || !dead.empty()) continue;
        bool matters = false;
        for (const PathKey* pk : mine)
            for (uint32_t c = 0; c < BW_NR_COLUMNS && !matters; ++c)
                if ((pk->columns & (1u << c)) &&
                    decide_path(ctx.keys, p, pi, kind, pk->key, pk->exact, c, pk).action != Action::allow)
                    matters = true;
        if (!matters)
            ctx.out.warning(pos, "this allow rule changes nothing: without it policy " + p.name +
                                     " already allows what it names (its [defaults] " + default_key(kind) +
                                     " is allow and no broader rule of the policy denies or audits there); "
                                     "remove it, or add the deny it was meant to carve an exception from");
    }
}

void connect_rules(Context& ctx, uint32_t pi)
{
    const Policy& p = ctx.policies[pi];
    const auto cuts = port_cuts(ctx.keys, pi);
    for (size_t r = 0; r < p.connects.size(); ++r) {
        std::vector<const NetKey*> mine;
        for (const NetKey& nk : ctx.keys.nets)
            if (nk.policy == pi && nk.rule == r) mine.push_back(&nk);
        if (mine.empty()) continue;
        const Action action = p.connects[r].action;
        bool decides = false, matters = false;
        const NetKey* winner = nullptr;
        for (const NetKey* nk : mine) {
            for (uint8_t proto : {uint8_t(proto_tcp), uint8_t(proto_udp)}) {
                for (uint16_t port : cuts) {
                    if (!covers(*nk, proto, port)) continue;
                    NetDecision d = decide_net(ctx.keys, p, pi, nk->net, proto, port);
                    if (d.rule && same_rule(*d.rule, *nk)) decides = true;
                    else if (d.rule && !winner) winner = d.rule;
                    if (action == Action::allow &&
                        decide_net(ctx.keys, p, pi, nk->net, proto, port, nk).action != Action::allow)
                        matters = true;
                }
            }
        }
        const SourcePos& pos = p.connects[r].pos;
        if (!decides && winner) {
            ctx.out.warning(pos, "this [[connect]] rule never decides anything, so it can be removed: for every "
                                 "address, protocol and port it names, " +
                                     beaten_by(p, RuleKind::connect, winner->rule, winner->action, action) +
                                     " (a narrower port range does not win; only a narrower CIDR does)");
        } else if (action == Action::allow && !matters) {
            ctx.out.warning(pos, "this allow rule changes nothing: without it policy " + p.name +
                                     " already allows what it names (its [defaults] connect is allow and no "
                                     "wider CIDR of the policy denies or audits there); remove it, or add the "
                                     "deny it was meant to carve an exception from");
        }
    }
}

}  // namespace

void shadow_checks(Context& ctx)
{
    for (uint32_t pi = 0; pi < ctx.policies.size(); ++pi) {
        const Policy& p = ctx.policies[pi];
        path_rules(ctx, pi, RuleKind::file, p.files.size());
        path_rules(ctx, pi, RuleKind::exec, p.execs.size());
        connect_rules(ctx, pi);
    }
}

}  // namespace bulwark::lint
