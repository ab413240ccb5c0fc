#include "events/service_lines.hpp"

#include "bulwark/abi.h"
#include "util/json.hpp"

#include <ctime>

namespace bulwark {

int64_t unix_now_ns()
{
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string ready_line(const ReadyLine& r)
{
    std::string out;
    JsonLine line(out);
    line.field("type", "ready")
        .field("generation", r.generation)
        .field("mode", r.mode)
        .field("reason", r.reason)
        .field("policies", r.policies)
        .field("programs", r.programs)
        .field("missing_hooks", r.missing_hooks);
    if (!r.backends.empty()) line.raw("backends", r.backends);
    line.end();
    return out;
}

std::string reload_failed_line(const ReloadFailedLine& r)
{
    std::string out;
    JsonLine(out)
        .field("type", "reload-failed")
        .field("time", rfc3339_utc(r.now_ns))
        .field("generation", r.generation)
        .field("reason", r.reason)
        .field("errors", r.errors)
        .end();
    return out;
}

std::string lost_line(const LostLine& l)
{
    std::string out;
    JsonLine(out)
        .field("type", "lost")
        .field("time", rfc3339_utc(l.now_ns))
        .field("where", l.where)
        .field("since", rfc3339_utc(l.since_ns))
        .field("lost", l.lost)
        .field("deny_lost", l.deny_lost)
        .field("total_lost", l.total_lost)
        .field("total_deny_lost", l.total_deny_lost)
        .end();
    return out;
}

std::string stats_line(const StatsLine& s)
{
    auto k = [&](uint32_t i) -> uint64_t { return i < s.kernel.size() ? s.kernel[i] : 0; };
    std::string out;
    JsonLine(out)
        .field("type", "stats")
        .field("time", rfc3339_utc(s.now_ns))
        .field("generation", s.generation)
        .field("events", s.decoded.events)
        .field("malformed", s.decoded.malformed)
        .field("lost", k(BW_STAT_EVENTS_LOST))
        .field("deny_lost", k(BW_STAT_DENY_EVENTS_LOST))
        .field("denied", k(BW_STAT_DENIED))
        .field("would_deny", k(BW_STAT_WOULD_DENY))
        .field("audited", k(BW_STAT_AUDITED))
        .field("exec_denied", k(BW_STAT_EXEC_DENIED))
        .field("connect_denied", k(BW_STAT_CONNECT_DENIED))
        .field("tamper_denied", k(BW_STAT_TAMPER_DENIED))
        .field("walk_too_deep", k(BW_STAT_WALK_TOO_DEEP))
        .field("walk_no_mount", k(BW_STAT_WALK_NO_MOUNT))
        .field("walk_disconnected", k(BW_STAT_WALK_DISCONNECTED))
        .field("map_missing", k(BW_STAT_MAP_MISSING))
        .field("rule_hits_full", k(BW_STAT_RULE_HITS_FULL))
        .field("monitor_events", k(BW_STAT_MON_REPORTED))
        .field("suppressed", k(BW_STAT_MON_SUPPRESSED))
        .field("unresolved", k(BW_STAT_MON_UNRESOLVED))
        .field("killed", k(BW_STAT_MON_KILLED))
        .field("kill_failed", k(BW_STAT_MON_KILL_FAILED))
        .field("written", s.sink.written)
        .field("sink_lost", s.sink.lost)
        .field("sink_deny_lost", s.sink.deny_lost)
        .end();
    return out;
}

}  // namespace bulwark
