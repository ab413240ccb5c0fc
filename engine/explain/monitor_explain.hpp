// Which monitors ([[monitor.*]]) would report one operation, from the
// monitors' reference evaluator (monitor/monitor_eval.hpp): the event's
// policy and rule (the lowest-numbered policy in scope whose monitor
// matches, as the BPF side picks), every other policy whose monitor matches
// too, and those whose monitor matches but whose [scope] leaves the
// process out — as it is now: monitors' scope is not sticky, so the
// subject's history changes nothing here. Monitors never change a verdict;
// `explain` prints this after the verdict, and `explain syscall NAME`
// prints only this.
#pragma once

#include "compile/map_image.hpp"
#include "explain/operation.hpp"

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace bulwark {

// What a monitor is asked about: an operation `explain` describes, or a
// syscall (by x86_64 number) made by a process.
struct MonitoredOp {
    enum class Kind : uint8_t { open, exec, connect, syscall } kind = Kind::open;
    Subject subject;
    std::string path;        // open: the name as passed (absolute, normal); exec: the program's real path
    std::string addr;        // connect
    uint16_t port = 0;
    uint8_t protocol = 6;    // connect: IPPROTO_TCP or IPPROTO_UDP
    uint32_t nr = 0;         // syscall
};

struct MonitorMatch {
    uint32_t policy = 0;
    uint32_t rule = 0;            // index into image.monitors.rules
    std::string what;             // what the rule matched by: "/etc/ssh/", "10.0.0.0/8 tcp port 22", "uid 1000"
    bw_mon_action action = BW_MON_REPORT;
    bool in_scope = true;
    std::string scope_why;        // when !in_scope
};

struct MonitorExplanation {
    bw_monitor_kind kind = BW_MON_FILE;
    bool watched = false;                 // some policy has a monitor of this kind
    std::vector<MonitorMatch> matches;    // in policy order
    std::optional<size_t> event;          // index into matches: the one the event names
    std::vector<uint32_t> allowing;       // process: policies in scope whose allowlist holds the program
    uint32_t nr = 0;                      // syscall: the number asked about
};

// `op` from what `explain` resolved (open, exec, connect).
MonitoredOp monitored(const ResolvedOp& op, const TestCase& tc);

MonitorExplanation explain_monitors(const std::vector<Policy>& policies, const MapImage& image,
                                    const SystemView& system, const MonitoredOp& op);

// "monitors:" and a line per match; nothing when no monitor of the kind exists.
void print(const MonitorExplanation& m, const MapImage& image, std::ostream& out);

}  // namespace bulwark
