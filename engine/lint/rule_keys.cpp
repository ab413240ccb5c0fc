#include "lint/rule_keys.hpp"

#include "bulwark/abi.h"

#include <algorithm>
#include <set>

namespace bulwark::lint {

const char* to_string(RuleKind k)
{
    return k == RuleKind::file ? "file" : k == RuleKind::exec ? "exec" : "connect";
}

int strength(Action a)
{
    return a == Action::deny ? 2 : a == Action::audit ? 1 : 0;
}

const char* action_name(Action a)
{
    return a == Action::deny ? "deny" : a == Action::audit ? "audit" : "allow";
}

std::optional<std::string> canonical_key(const std::string& written, const SystemView& system)
{
    const bool tree = written.size() > 1 && written.back() == '/';
    const std::string path = tree ? written.substr(0, written.size() - 1) : written;
    auto c = system.canonical(path);
    if (!c) return std::nullopt;
    if (!tree) return c;
    return *c == "/" ? *c : *c + "/";
}

bool under(const std::string& key, const std::string& tree)
{
    return key.size() >= tree.size() && key.compare(0, tree.size(), tree) == 0;
}

bool covers(const NetKey& k, uint8_t proto, uint16_t port)
{
    if (!(k.protocols & proto)) return false;
    if (k.ports.empty()) return true;
    for (const auto& [a, b] : k.ports)
        if (a <= port && port <= b) return true;
    return false;
}

bool same_rule(const PathKey& a, const PathKey& b)
{
    return a.policy == b.policy && a.kind == b.kind && a.rule == b.rule;
}

bool same_rule(const NetKey& a, const NetKey& b)
{
    return a.policy == b.policy && a.rule == b.rule;
}

bool contains(const Network& outer, const Network& inner)
{
    if (outer.v4 != inner.v4 || outer.len > inner.len) return false;
    for (uint32_t bit = 0; bit < outer.len; ++bit) {
        const uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
        if ((outer.addr[bit / 8] & mask) != (inner.addr[bit / 8] & mask)) return false;
    }
    return true;
}

RuleKeys rule_keys(const std::vector<Policy>& policies, const SystemView& system)
{
    RuleKeys out;
    for (uint32_t i = 0; i < policies.size(); ++i) {
        const Policy& p = policies[i];
        auto add = [&](RuleKind kind, size_t k, const std::vector<Located>& list, bool exact, uint8_t columns,
                       Action action) {
            for (const auto& l : list) {
                auto key = canonical_key(l.value, system);
                if (!key) continue;
                out.paths.push_back({i, kind, k, *key, exact, columns, action, &l});
            }
        };
        for (size_t k = 0; k < p.files.size(); ++k) {
            const auto& r = p.files[k];
            const uint8_t cols = r.access;  // AccessBits are column bits
            add(RuleKind::file, k, r.paths, true, cols, r.action);
            add(RuleKind::file, k, r.prefixes, false, cols, r.action);
        }
        for (size_t k = 0; k < p.execs.size(); ++k) {
            const auto& r = p.execs[k];
            const uint8_t cols = (1u << BW_COL_EXEC) | (1u << BW_COL_MAP);
            add(RuleKind::exec, k, r.paths, true, cols, r.action);
            add(RuleKind::exec, k, r.prefixes, false, cols, r.action);
        }
        for (size_t k = 0; k < p.connects.size(); ++k) {
            const auto& r = p.connects[k];
            for (const auto& c : r.cidrs) {
                auto net = parse_network(c.value);
                if (!net) continue;
                NetKey nk{i, k, *net, r.protocols, {}, r.action, &c};
                for (const auto& pr : r.ports) nk.ports.emplace_back(pr.first, pr.last);
                out.nets.push_back(std::move(nk));
            }
        }
    }
    for (size_t i = 0; i < out.paths.size(); ++i) out.by_key[{out.paths[i].key, out.paths[i].exact}].push_back(i);
    return out;
}

namespace {

Action default_for(const Policy& p, uint32_t column)
{
    switch (column) {
    case BW_COL_READ:
    case BW_COL_WRITE:
    case BW_COL_CREATE:
    case BW_COL_DELETE:
    case BW_COL_RENAME:
    case BW_COL_METADATA: return p.defaults.file.action;
    case BW_COL_EXEC: return p.defaults.exec.action;
    default: return Action::allow;  // BW_COL_MAP: rules only
    }
}

}  // namespace

// Mirrors PathCompiler::fold (compile/path_compiler.cpp): the exact key,
// then every tree from the deepest up; at the first level with a rule of
// the policy for the column, the strongest action (the first written among
// equals) decides.
PathDecision decide_path(const RuleKeys& keys, const Policy& p, uint32_t policy, RuleKind kind,
                         const std::string& key, bool exact, uint32_t column, const PathKey* skip)
{
    std::vector<std::pair<std::string, bool>> levels;  // (key, exact)
    if (exact) levels.emplace_back(key, true);
    for (size_t i = key.size(); i-- > 0;)
        if (key[i] == '/') levels.emplace_back(key.substr(0, i + 1), false);
    for (const auto& [k, ex] : levels) {
        const PathKey* best = nullptr;
        auto at = keys.by_key.find({k, ex});
        if (at == keys.by_key.end()) continue;
        for (size_t i : at->second) {
            const PathKey& pk = keys.paths[i];
            if ((skip && same_rule(pk, *skip)) || pk.policy != policy || pk.kind != kind ||
                !(pk.columns & (1u << column)))
                continue;
            if (!best || strength(pk.action) > strength(best->action)) best = &pk;
        }
        if (best) return {best, best->action};
    }
    return {nullptr, default_for(p, column)};
}

NetDecision decide_net(const RuleKeys& keys, const Policy& p, uint32_t policy, const Network& net, uint8_t proto,
                       uint16_t port, const NetKey* skip)
{
    // The longest prefix holding `net` wins, as compile/connect_compiler.cpp
    // folds; at equal prefixes the strongest action, the first among equals.
    const NetKey* best = nullptr;
    for (const NetKey& nk : keys.nets) {
        if ((skip && same_rule(nk, *skip)) || nk.policy != policy || !contains(nk.net, net) || !covers(nk, proto, port))
            continue;
        if (!best || nk.net.len > best->net.len ||
            (nk.net.len == best->net.len && strength(nk.action) > strength(best->action)))
            best = &nk;
    }
    if (best) return {best, best->action};
    return {nullptr, p.defaults.connect.action};
}

std::vector<uint16_t> port_cuts(const RuleKeys& keys, uint32_t policy)
{
    std::set<uint32_t> cuts{0};
    for (const NetKey& nk : keys.nets) {
        if (nk.policy != policy) continue;
        for (const auto& [a, b] : nk.ports) {
            cuts.insert(a);
            cuts.insert(uint32_t(b) + 1);
        }
    }
    std::vector<uint16_t> out;
    for (uint32_t c : cuts)
        if (c <= 65535) out.push_back(static_cast<uint16_t>(c));
    return out;
}

}  // namespace bulwark::lint
