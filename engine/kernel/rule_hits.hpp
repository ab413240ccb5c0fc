// Per-rule hit counters: the `rule_hits` map (bulwark/abi.h,
// bw_rule_hit_key), a per-CPU counter per (generation, deciding rule,
// kind, verdict) that the BPF programs add to on every verdict other than
// allow, and that the fanotify backend adds to from user space. The map is
// pinned with the others, so counts survive a takeover.
//
// The ledger names the keys' rules from the map images of the generations
// it published (MapImage::rule_location, as the decoder names an event's
// rule). It keeps the images of the last kKeptGenerations; an older
// generation's keys are folded into totals by name and removed from the
// map, so the map holds at most that many generations' worth of keys.
// Keys of generations it never published (counted before a takeover) are
// reported without a name.
#pragma once

#include "bulwark/abi.h"
#include "compile/map_image.hpp"
#include "daemon/status.hpp"
#include "events/verdict_count.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace bulwark {

struct RuleHitCount {
    bw_rule_hit_key key{};
    uint64_t count = 0;  // summed over CPUs
};

// Every key of the map and its count. Reads the map once.
std::vector<RuleHitCount> read_rule_hits(int map_fd);
// One hit of `key`, from user space: added to CPU 0's value. Not atomic
// against another user-space writer: callers serialize (one thread).
void add_rule_hit(int map_fd, const bw_rule_hit_key& key);
// The counts of keys no generation image names, by verdict.
RuleHits unnamed_hits(const std::vector<RuleHitCount>& hits);

class RuleLedger {
public:
    static constexpr size_t kKeptGenerations = 8;

    explicit RuleLedger(int map_fd) : fd_(map_fd) {}

    // Before `generation` can be counted (as EventDecoder::add_generation).
    void add_generation(uint32_t generation, std::shared_ptr<const MapImage> image);
    // A verdict decided in user space (fanotify), from its record's header.
    void hit(const bw_event_header& h);

    // Every (policy, kind, verdict, rule) counted so far, sorted; keys no
    // image names are left out (unnamed()).
    std::vector<VerdictCount> verdicts() const;
    // Per rule of the live generation, in the order of its policies and
    // rules, zeros included; then any other rule (a default, a rule of an
    // earlier generation) that was hit.
    std::vector<RuleHits> rules(uint32_t live_generation) const;
    RuleHits unnamed() const;

private:
    using Name = std::tuple<std::string, std::string, std::string, std::string>;  // policy, kind, verdict, rule
    std::map<Name, uint64_t> named(const std::vector<RuleHitCount>& hits) const;
    void retire(uint32_t generation, const MapImage& image);

    int fd_;
    std::map<uint32_t, std::shared_ptr<const MapImage>> images_;
    std::map<Name, uint64_t> retired_;  // counts of generations no longer kept
};

}  // namespace bulwark
