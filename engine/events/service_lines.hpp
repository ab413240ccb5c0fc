// The lines bulwark writes about itself, beside the kernel's events:
// {"type":"ready"} (a policy set went live: at start, after each reload),
// {"type":"reload-failed"} (a reload was refused; the old set stays),
// {"type":"stats"} (every --stats-interval seconds and at exit) and
// {"type":"lost"} (events lost in the ring buffer or in the sink).
// docs/events.md lists every field; these are the only writers of them.
#pragma once

#include "events/decoder.hpp"
#include "events/sink_writer.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace bulwark {

struct ReadyLine {
    uint32_t generation = 0;
    std::string mode;                        // enforce | audit | monitor
    std::string reason;                      // "start", "SIGHUP", "bulwark reload", ...
    std::vector<std::string> policies;       // names
    std::vector<std::string> programs;       // attached
    std::vector<std::string> missing_hooks;  // this kernel lacks them
    std::string backends;                    // {"file":...,"exec":...,"connect":...} (Backends::json)
};
std::string ready_line(const ReadyLine& r);

struct ReloadFailedLine {
    int64_t now_ns = 0;
    uint32_t generation = 0;            // the one still live
    std::string reason;
    std::vector<std::string> errors;    // "file:line:col: error: ..."
};
std::string reload_failed_line(const ReloadFailedLine& r);

struct LostLine {
    const char* where = "ring-buffer";  // "ring-buffer" | "sink"
    int64_t since_ns = 0;               // Unix ns: the interval's start
    int64_t now_ns = 0;
    uint64_t lost = 0, deny_lost = 0;   // in the interval
    uint64_t total_lost = 0, total_deny_lost = 0;
};
std::string lost_line(const LostLine& l);

struct StatsLine {
    int64_t now_ns = 0;
    uint32_t generation = 0;
    DecodeCounters decoded;
    std::vector<uint64_t> kernel;       // enum bw_stat counters (read_stats)
    SinkCounters sink;
};
std::string stats_line(const StatsLine& s);

// Unix time now, in ns (CLOCK_REALTIME).
int64_t unix_now_ns();

}  // namespace bulwark
