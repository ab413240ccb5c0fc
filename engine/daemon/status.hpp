// What is in force, as one value: the engine fills a StatusSnapshot on
// request, `bulwark status --json` prints status_json() of it, and
// `bulwark status` prints status_text() of that JSON. Field names are the
// ready line's where the same thing appears (generation, mode, reason,
// policies, programs, missing_hooks) and the stats line's for counters
// (events, written, lost, deny_lost, sink_lost, sink_deny_lost);
// docs/operations.md, "Status", lists every field.
#pragma once

#include "util/fanotify_totals.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bulwark {

class JsonValue;

struct PolicyFileStatus {
    std::string policy;   // its name
    std::string file;     // the file it was read from, as found under --policy
    std::string sha256;   // of the file's content when the generation was compiled
    std::string mode;     // "enforce" | "audit" (--audit makes every policy "audit")
};

struct ReloadStatus {
    std::string result = "none";  // "ok" | "failed" | "none" (no reload yet)
    int64_t time_ns = 0;          // Unix ns, when it finished
    uint32_t generation = 0;      // live after it (the new one, or the one kept)
    std::string reason;           // "SIGHUP", "bulwark reload", ...
    std::vector<std::string> errors;  // "file:line:col: error: ...", when failed
};

// Per-rule counts kept in the kernel (a per-CPU counter per rule:
// kernel/rule_hits.hpp), or for the fanotify backend by the engine in the
// same map.
struct RuleHits {
    std::string rule;     // "file.toml:12"
    std::string policy;
    uint64_t deny = 0, would_deny = 0, audit = 0;
};

struct StatusSnapshot {
    // "engine": a running bulwark answered on its control socket; "pins":
    // read from the pinned state with no engine running.
    std::string source = "engine";
    int64_t pid = 0;
    std::string socket;
    uint32_t generation = 0;
    int64_t generation_since_ns = 0;  // Unix ns
    std::string mode;                 // as the ready line: enforce | audit | monitor
    std::string reason;               // why the live generation was published
    std::vector<PolicyFileStatus> policy_files;
    std::vector<std::string> programs;       // attached
    std::vector<std::string> missing_hooks;  // not loaded: this kernel lacks the hook
    std::string backends;                    // the ready line's {"file":...,"exec":...,"connect":...}; empty: unknown
    int64_t started_ns = 0;
    int64_t now_ns = 0;
    ReloadStatus last_reload;
    uint64_t reloads_ok = 0, reloads_failed = 0;
    uint64_t events = 0;                     // kernel records decoded
    uint64_t written = 0, sink_lost = 0, sink_deny_lost = 0;  // lines of the events destination
    uint64_t lost = 0, deny_lost = 0;        // records the ring buffer could not take
    // Filled by the pinned-state readers (kernel/pin_*): per-rule kernel
    // counters, and how this engine came to own the pins.
    std::vector<RuleHits> rules;
    // Counted in generations this reader cannot name (before a takeover,
    // or read from the pins): totals by verdict; rule and policy empty.
    RuleHits unnamed_hits;
    std::optional<std::string> adopted;      // e.g. "adopted from pins of pid 123"
    std::optional<FanotifyTotals> fanotify;  // while the fanotify backend decides some kind
};

// {"type":"status",...}\n
std::string status_json(const StatusSnapshot& s);
// The human form, from the JSON (what the client received).
std::string status_text(const JsonValue& status);

}  // namespace bulwark
