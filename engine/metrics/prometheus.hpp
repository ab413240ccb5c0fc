// Prometheus text exposition (format 0.0.4) of bulwark's counters, rendered
// from one snapshot value. Names and labels: docs/operations.md, "Metrics".
// Pure: tests render a snapshot and check it with promtool.
#pragma once

#include "events/decoder.hpp"
#include "events/verdict_count.hpp"
#include "events/sink_writer.hpp"
#include "util/fanotify_totals.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bulwark {

struct ProgramRunStats {
    std::string program;            // "file_open", "monitor_file_enter", ...
    uint64_t run_time_ns = 0;
    uint64_t run_count = 0;
};

struct MetricsSnapshot {
    std::vector<VerdictCount> verdicts;   // the kernel's per-rule counters, named (kernel/rule_hits.hpp)
    std::vector<uint64_t> kernel;         // enum bw_stat counters
    DecodeCounters decoded;
    SinkCounters sink;
    uint64_t reloads_ok = 0, reloads_failed = 0;
    uint32_t generation = 0;
    int64_t generation_since_ns = 0;      // Unix ns
    int64_t now_ns = 0;
    std::vector<std::string> attached;    // programs attached
    std::vector<std::string> missing;     // hooks this kernel lacks
    bool bpf_stats_enabled = false;
    std::vector<ProgramRunStats> run_stats;  // when bpf_stats_enabled
    std::optional<FanotifyTotals> fanotify;  // while the fanotify backend decides some kind
};

std::string render_prometheus(const MetricsSnapshot& s);

// A label value escaped for the text format (\\, \", \n).
std::string prometheus_label(std::string_view v);

}  // namespace bulwark
