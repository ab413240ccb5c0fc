#include "kernel/rule_hits.hpp"

#include "compile/evaluator.hpp"  // to_string(bw_verdict)
#include "events/decoder.hpp"     // kind_name

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <set>

namespace bulwark {
namespace {

size_t possible_cpus()
{
    const int n = libbpf_num_possible_cpus();
    return n > 0 ? static_cast<size_t>(n) : 1;
}

void add_to(RuleHits& r, uint32_t verdict, uint64_t n)
{
    if (verdict == BW_VERDICT_DENY)
        r.deny += n;
    else if (verdict == BW_VERDICT_WOULD_DENY)
        r.would_deny += n;
    else if (verdict == BW_VERDICT_AUDIT)
        r.audit += n;
}

std::string location_of(const RuleInfo& rule)
{
    return basename_of(rule.pos.file) + ":" + std::to_string(rule.pos.line);
}

}  // namespace

std::vector<RuleHitCount> read_rule_hits(int map_fd)
{
    std::vector<RuleHitCount> out;
    std::vector<uint64_t> per_cpu(possible_cpus());
    bw_rule_hit_key key{}, next{};
    const void* prev = nullptr;
    while (bpf_map_get_next_key(map_fd, prev, &next) == 0) {
        RuleHitCount c;
        c.key = next;
        if (bpf_map_lookup_elem(map_fd, &next, per_cpu.data()) == 0)
            for (uint64_t v : per_cpu) c.count += v;
        out.push_back(c);
        key = next;
        prev = &key;
    }
    return out;
}

void add_rule_hit(int map_fd, const bw_rule_hit_key& key)
{
    std::vector<uint64_t> per_cpu(possible_cpus(), 0);
    bpf_map_lookup_elem(map_fd, &key, per_cpu.data());  // absent: zeros
    per_cpu[0] += 1;
    bpf_map_update_elem(map_fd, &key, per_cpu.data(), BPF_ANY);
}

RuleHits unnamed_hits(const std::vector<RuleHitCount>& hits)
{
    RuleHits r;
    for (const auto& h : hits) add_to(r, h.key.verdict, h.count);
    return r;
}

void RuleLedger::add_generation(uint32_t generation, std::shared_ptr<const MapImage> image)
{
    images_[generation] = std::move(image);
    while (images_.size() > kKeptGenerations) {
        retire(images_.begin()->first, *images_.begin()->second);
        images_.erase(images_.begin());
    }
}

void RuleLedger::retire(uint32_t generation, const MapImage& image)
{
    // Eight generations on, no program decides from this one's slot: its
    // keys no longer change. Fold them by name, then make room.
    for (const auto& h : read_rule_hits(fd_)) {
        if (h.key.generation != generation) continue;
        if (h.key.policy < image.policies.size())
            retired_[{image.policies[h.key.policy].name, kind_name(h.key.kind),
                      to_string(static_cast<bw_verdict>(h.key.verdict)),
                      image.rule_location(h.key.entry, h.key.policy, h.key.column)}] += h.count;
        bpf_map_delete_elem(fd_, &h.key);
    }
}

void RuleLedger::hit(const bw_event_header& h)
{
    bw_rule_hit_key key{};
    key.generation = h.generation;
    key.policy = h.policy;
    key.entry = h.entry;
    key.column = static_cast<uint8_t>(h.column);
    key.kind = static_cast<uint8_t>(h.kind);
    key.verdict = static_cast<uint8_t>(h.verdict);
    add_rule_hit(fd_, key);
}

std::map<RuleLedger::Name, uint64_t> RuleLedger::named(const std::vector<RuleHitCount>& hits) const
{
    auto all = retired_;
    for (const auto& h : hits) {
        auto it = images_.find(h.key.generation);
        if (it == images_.end() || h.key.policy >= it->second->policies.size()) continue;
        const MapImage& image = *it->second;
        all[{image.policies[h.key.policy].name, kind_name(h.key.kind),
             to_string(static_cast<bw_verdict>(h.key.verdict)),
             image.rule_location(h.key.entry, h.key.policy, h.key.column)}] += h.count;
    }
    return all;
}

std::vector<VerdictCount> RuleLedger::verdicts() const
{
    std::vector<VerdictCount> out;
    for (const auto& [name, n] : named(read_rule_hits(fd_)))
        out.push_back({std::get<0>(name), std::get<1>(name), std::get<2>(name), std::get<3>(name), n});
    return out;
}

std::vector<RuleHits> RuleLedger::rules(uint32_t live_generation) const
{
    std::map<std::pair<std::string, std::string>, RuleHits> by_rule;  // (policy, rule)
    for (const auto& [name, n] : named(read_rule_hits(fd_))) {
        RuleHits& r = by_rule[{std::get<0>(name), std::get<3>(name)}];
        r.policy = std::get<0>(name);
        r.rule = std::get<3>(name);
        const std::string& v = std::get<2>(name);
        add_to(r, v == "deny" ? BW_VERDICT_DENY : v == "would-deny" ? BW_VERDICT_WOULD_DENY : BW_VERDICT_AUDIT, n);
    }
    std::vector<RuleHits> out;
    std::set<std::pair<std::string, std::string>> listed;
    if (auto it = images_.find(live_generation); it != images_.end()) {
        const MapImage& image = *it->second;
        for (const auto& rule : image.rules) {
            if (rule.policy >= image.policies.size()) continue;
            std::pair<std::string, std::string> id{image.policies[rule.policy].name, location_of(rule)};
            if (!listed.insert(id).second) continue;
            auto found = by_rule.find(id);
            out.push_back(found != by_rule.end() ? found->second : RuleHits{id.second, id.first, 0, 0, 0});
        }
    }
    for (const auto& [id, r] : by_rule)
        if (!listed.count(id)) out.push_back(r);
    return out;
}

RuleHits RuleLedger::unnamed() const
{
    RuleHits r;
    for (const auto& h : read_rule_hits(fd_))
        if (!images_.count(h.key.generation)) add_to(r, h.key.verdict, h.count);
    return r;
}

}  // namespace bulwark
