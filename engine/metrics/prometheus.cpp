#include "metrics/prometheus.hpp"

#include "bulwark/abi.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <tuple>

namespace bulwark {

std::string prometheus_label(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

namespace {

class Exposition {
public:
    void family(const char* name, const char* type, const char* help)
    {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }
    // labels: already `k="v",k="v"` (escaped), or empty.
    void sample(const char* name, const std::string& labels, uint64_t v)
    {
        start(name, labels);
        out_ += std::to_string(v);
        out_ += '\n';
    }
    void sample(const char* name, const std::string& labels, double v)
    {
        start(name, labels);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.9g", v);
        out_ += buf;
        out_ += '\n';
    }
    std::string take() { return std::move(out_); }

private:
    void start(const char* name, const std::string& labels)
    {
        out_ += name;
        if (!labels.empty()) {
            out_ += '{';
            out_ += labels;
            out_ += '}';
        }
        out_ += ' ';
    }
    std::string out_;
};

std::string label(const char* k, std::string_view v)
{
    return std::string(k) + "=\"" + prometheus_label(v) + "\"";
}

}  // namespace

std::string render_prometheus(const MetricsSnapshot& s)
{
    auto k = [&](uint32_t i) -> uint64_t { return i < s.kernel.size() ? s.kernel[i] : 0; };
    Exposition x;

    // Verdict events by kind, verdict and policy; the same per rule.
    std::map<std::tuple<std::string, std::string, std::string>, uint64_t> by_policy;
    for (const auto& v : s.verdicts) by_policy[{v.kind, v.verdict, v.policy}] += v.count;
    x.family("bulwark_verdicts_total", "counter", "Verdicts other than allow, by kind, verdict and deciding policy (per-rule counters).");
    for (const auto& [key, n] : by_policy)
        x.sample("bulwark_verdicts_total",
                 label("kind", std::get<0>(key)) + "," + label("verdict", std::get<1>(key)) + "," +
                     label("policy", std::get<2>(key)),
                 n);
    x.family("bulwark_rule_hits_total", "counter",
             "Verdicts other than allow per deciding rule (rule=\"file:line\"), by verdict.");
    std::map<std::tuple<std::string, std::string, std::string>, uint64_t> by_rule;
    for (const auto& v : s.verdicts) by_rule[{v.policy, v.rule, v.verdict}] += v.count;
    for (const auto& [key, n] : by_rule)
        x.sample("bulwark_rule_hits_total",
                 label("policy", std::get<0>(key)) + "," + label("rule", std::get<1>(key)) + "," +
                     label("verdict", std::get<2>(key)),
                 n);

    x.family("bulwark_kernel_verdicts_total", "counter",
             "Verdicts decided in the kernel, including those whose events were lost.");
    x.sample("bulwark_kernel_verdicts_total", label("verdict", "deny"), k(BW_STAT_DENIED));
    x.sample("bulwark_kernel_verdicts_total", label("verdict", "would-deny"), k(BW_STAT_WOULD_DENY));
    x.sample("bulwark_kernel_verdicts_total", label("verdict", "audit"), k(BW_STAT_AUDITED));

    x.family("bulwark_events_decoded_total", "counter", "Kernel records decoded.");
    x.sample("bulwark_events_decoded_total", "", s.decoded.events);
    x.family("bulwark_events_malformed_total", "counter", "Kernel records that could not be decoded.");
    x.sample("bulwark_events_malformed_total", "", s.decoded.malformed);
    x.family("bulwark_events_written_total", "counter", "Lines written to the events destination.");
    x.sample("bulwark_events_written_total", "", s.sink.written);
    x.family("bulwark_events_lost_total", "counter",
             "Events lost: the ring buffer was full (ring_buffer), or they could not be written (sink).");
    x.sample("bulwark_events_lost_total", label("where", "ring_buffer"), k(BW_STAT_EVENTS_LOST));
    x.sample("bulwark_events_lost_total", label("where", "sink"), s.sink.lost);
    x.family("bulwark_denials_lost_total", "counter", "Of the events lost, denials.");
    x.sample("bulwark_denials_lost_total", label("where", "ring_buffer"), k(BW_STAT_DENY_EVENTS_LOST));
    x.sample("bulwark_denials_lost_total", label("where", "sink"), s.sink.deny_lost);

    x.family("bulwark_reloads_total", "counter", "Policy reloads, by result.");
    x.sample("bulwark_reloads_total", label("result", "ok"), s.reloads_ok);
    x.sample("bulwark_reloads_total", label("result", "failed"), s.reloads_failed);
    x.family("bulwark_generation", "gauge", "The live policy generation.");
    x.sample("bulwark_generation", "", uint64_t(s.generation));
    x.family("bulwark_generation_timestamp_seconds", "gauge", "When the live generation went live, Unix time.");
    x.sample("bulwark_generation_timestamp_seconds", "", double(s.generation_since_ns) / 1e9);
    x.family("bulwark_generation_age_seconds", "gauge", "For how long the live generation has been live.");
    x.sample("bulwark_generation_age_seconds", "",
             s.now_ns > s.generation_since_ns ? double(s.now_ns - s.generation_since_ns) / 1e9 : 0.0);

    x.family("bulwark_monitor_events_total", "counter", "Monitor events reported by the kernel.");
    x.sample("bulwark_monitor_events_total", "", k(BW_STAT_MON_REPORTED));
    x.family("bulwark_monitor_suppressed_total", "counter", "Monitor events dropped by rate limits.");
    x.sample("bulwark_monitor_suppressed_total", "", k(BW_STAT_MON_SUPPRESSED));
    x.family("bulwark_monitor_unresolved_total", "counter", "Monitored file names that could not be made absolute.");
    x.sample("bulwark_monitor_unresolved_total", "", k(BW_STAT_MON_UNRESOLVED));
    x.family("bulwark_monitor_killed_total", "counter", "Processes sent SIGKILL by syscall monitors.");
    x.sample("bulwark_monitor_killed_total", "", k(BW_STAT_MON_KILLED));
    x.family("bulwark_monitor_kill_failed_total", "counter", "SIGKILLs the kernel refused to send.");
    x.sample("bulwark_monitor_kill_failed_total", "", k(BW_STAT_MON_KILL_FAILED));
    x.family("bulwark_fail_closed_total", "counter", "Operations denied because they could not be decided.");
    x.sample("bulwark_fail_closed_total", label("reason", "walk_too_deep"), k(BW_STAT_WALK_TOO_DEEP));
    x.sample("bulwark_fail_closed_total", label("reason", "walk_no_mount"), k(BW_STAT_WALK_NO_MOUNT));
    x.sample("bulwark_fail_closed_total", label("reason", "walk_disconnected"), k(BW_STAT_WALK_DISCONNECTED));
    x.family("bulwark_map_missing_total", "counter", "Hook runs that found no live policy map.");
    x.sample("bulwark_map_missing_total", "", k(BW_STAT_MAP_MISSING));
    x.family("bulwark_rule_hits_full_total", "counter",
             "Verdicts no per-rule counter had room for (bulwark_rule_hits_total misses them).");
    x.sample("bulwark_rule_hits_full_total", "", k(BW_STAT_RULE_HITS_FULL));

    if (s.fanotify) {
        const FanotifyTotals& f = *s.fanotify;
        x.family("bulwark_fanotify_events_total", "counter",
                 "Permission events the fanotify backend decided and answered (bulwark's own not included).");
        x.sample("bulwark_fanotify_events_total", "", f.events);
        x.family("bulwark_fanotify_own_total", "counter", "Permission events of bulwark's own opens, let through unasked.");
        x.sample("bulwark_fanotify_own_total", "", f.own);
        x.family("bulwark_fanotify_ignored_total", "counter",
                 "Files given an ignore mark: no policy can deny them to anyone, so they are not asked about again.");
        x.sample("bulwark_fanotify_ignored_total", "", f.ignored);
        x.family("bulwark_fanotify_cache_hits_total", "counter", "Decisions whose file's dentry chain was already known.");
        x.sample("bulwark_fanotify_cache_hits_total", "", f.cache_hits);
        x.family("bulwark_fanotify_unknown_call_total", "counter",
                 "Opens whose flags could not be read: decided as read and write.");
        x.sample("bulwark_fanotify_unknown_call_total", "", f.unknown_call);
        x.family("bulwark_fanotify_failed_total", "counter", "Decisions that failed (out of memory): let through.");
        x.sample("bulwark_fanotify_failed_total", "", f.failed);
    }

    // A hook may have several programs (and a name may repeat across
    // objects): one series per name, whose value is how many.
    std::map<std::string, uint64_t> attached, missing;
    for (const auto& p : s.attached) ++attached[p];
    for (const auto& h : s.missing) ++missing[h];
    x.family("bulwark_programs_attached", "gauge", "BPF programs attached.");
    x.sample("bulwark_programs_attached", "", uint64_t(s.attached.size()));
    x.family("bulwark_program_attached", "gauge", "Programs attached, per hook or tracepoint.");
    for (const auto& [p, n] : attached) x.sample("bulwark_program_attached", label("program", p), n);
    x.family("bulwark_hooks_missing", "gauge", "Programs not loaded because this kernel lacks their hook.");
    x.sample("bulwark_hooks_missing", "", uint64_t(s.missing.size()));
    x.family("bulwark_hook_missing", "gauge", "Programs not loaded, per missing hook.");
    for (const auto& [h, n] : missing) x.sample("bulwark_hook_missing", label("hook", h), n);

    x.family("bulwark_bpf_stats_enabled", "gauge", "1 while kernel.bpf_stats_enabled is on.");
    x.sample("bulwark_bpf_stats_enabled", "", uint64_t(s.bpf_stats_enabled ? 1 : 0));
    if (s.bpf_stats_enabled) {
        std::map<std::string, std::pair<uint64_t, uint64_t>> runs;
        for (const auto& r : s.run_stats) {
            runs[r.program].first += r.run_time_ns;
            runs[r.program].second += r.run_count;
        }
        x.family("bulwark_bpf_run_seconds_total", "counter",
                 "Time the kernel spent running each program (while kernel.bpf_stats_enabled is on).");
        for (const auto& [p, r] : runs)
            x.sample("bulwark_bpf_run_seconds_total", label("program", p), double(r.first) / 1e9);
        x.family("bulwark_bpf_runs_total", "counter", "Runs of each program (while kernel.bpf_stats_enabled is on).");
        for (const auto& [p, r] : runs) x.sample("bulwark_bpf_runs_total", label("program", p), r.second);
    }
    return x.take();
}

}  // namespace bulwark
