#include "kernel/pinned_status.hpp"

#include "kernel/bpf_handles.hpp"
#include "kernel/event_stream.hpp"
#include "kernel/pinned_state.hpp"
#include "kernel/rule_hits.hpp"

#include "bulwark/abi.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <time.h>

namespace bulwark {
namespace {

UniqueFd pinned(const std::string& path)
{
    return UniqueFd(bpf_obj_get(path.c_str()));
}

int64_t realtime_ns()
{
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

std::optional<StatusSnapshot> status_from_pins(const std::string& dir)
{
    const UniqueFd live_slot = pinned(dir + "/maps/live_slot");
    if (!live_slot) return std::nullopt;
    const uint32_t zero = 0;
    bw_live live{};
    if (bpf_map_lookup_elem(live_slot.get(), &zero, &live) != 0 || live.generation == 0) return std::nullopt;

    StatusSnapshot s;
    s.source = "pins";
    s.generation = live.generation;
    s.reason = "read from the pins in " + dir + "; no engine reads events";
    s.now_ns = s.started_ns = realtime_ns();
    s.mode = "monitor";
    if (const UniqueFd sets = pinned(dir + "/maps/policy_sets")) {
        bw_policy_set set{};
        if (bpf_map_lookup_elem(sets.get(), &live.slot, &set) == 0) {
            uint64_t deciding = 0;
            for (uint64_t m : set.applies) deciding |= m;
            s.mode = (deciding & set.enforcing) || !deciding ? "enforce" : "audit";
        }
    }
    if (DIR* d = ::opendir((dir + "/links").c_str())) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') s.programs.push_back(hook_of_link_pin(e->d_name));
        ::closedir(d);
    }
    if (const UniqueFd stats = pinned(dir + "/maps/stats")) {
        const auto k = read_stats(stats.get());
        if (k.size() > BW_STAT_DENY_EVENTS_LOST) {
            s.lost = k[BW_STAT_EVENTS_LOST];
            s.deny_lost = k[BW_STAT_DENY_EVENTS_LOST];
        }
    }
    // No image names these generations' rules here: totals by verdict.
    if (const UniqueFd hits = pinned(dir + "/maps/rule_hits")) s.unnamed_hits = unnamed_hits(read_rule_hits(hits.get()));
    return s;
}

}  // namespace bulwark
