// `bulwark report`: a dry run's events (JSON Lines, as `bulwark run` writes
// them) summarised for the step from audit to enforce — would-deny events
// grouped by policy and rule, by program and by cgroup, with counts and
// first and last times; for every rule, what enforcing it would have broken.
// Monitor events ("type":"monitor") are counted apart, per policy and
// monitor rule: they report, they never deny, so they change nothing above.
// Pure: lines in, a Report out; printing is separate.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bulwark {

// One verdict event, or one monitor event.
struct ReportEvent {
    std::string kind;             // file | exec | connect; monitors: file | syscalls | process | connect
    std::string verdict;          // deny | would-deny | audit; monitors: the action (report | kill | would-kill)
    std::string policy, rule;     // rule: "web.toml:14"
    std::string time;             // RFC 3339, UTC: sorts as text
    std::string exe, comm, cgroup;
    int64_t uid = -1;
    std::string path, access;     // file, exec
    std::string addr, protocol;   // connect
    int64_t port = -1;
    bool monitor = false;         // a "type":"monitor" event
    std::string syscall;          // syscalls monitor
    std::string script;           // process monitor: the script, when it is the one not allowed
    uint64_t suppressed = 0;      // events the rule's rate limit dropped before this one
    bool unresolved = false;      // file monitor: a name that could not be made absolute
    // "open /etc/shadow (read)", "exec /tmp/x", "connect 10.0.0.1:443/tcp", "syscall ptrace"
    std::string what() const;
    // The process: "/usr/bin/cat" (or comm when exe is unknown).
    std::string program() const;
};

struct Tally {
    size_t count = 0;
    std::string first, last;
    std::map<std::string, size_t> verdicts;   // verdict → count
    std::map<std::string, size_t> programs;   // program → count
    std::map<std::string, size_t> objects;    // what → count
    std::map<std::string, size_t> cgroups;
    void add(const ReportEvent& e);
};

struct RuleKey {
    std::string policy, rule, kind;
    auto operator<=>(const RuleKey&) const = default;
};

struct Report {
    size_t lines = 0;             // lines read
    size_t malformed = 0;         // lines that are not JSON objects
    size_t other = 0;             // ready, stats, ... lines
    uint64_t lost = 0, deny_lost = 0;  // from stats lines
    std::vector<ReportEvent> events;   // every verdict event, in order
    Tally all;
    std::map<RuleKey, Tally> by_rule;
    std::map<std::string, Tally> by_program;
    std::map<std::string, Tally> by_cgroup;

    // Monitor events, per (policy, monitor rule, monitor kind); `verdicts`
    // of a Tally count actions here.
    std::vector<ReportEvent> monitor_events;
    Tally monitors;
    std::map<RuleKey, Tally> by_monitor;
    std::map<RuleKey, uint64_t> suppressed;  // per monitor rule: dropped by its rate limit
};

Report summarise(std::istream& in);

// What the report knows about a rule location, when the policies are given.
struct RuleLookup {
    virtual ~RuleLookup() = default;
    // The rule's text (its table), or the [defaults] line; empty if unknown.
    virtual std::vector<std::string> text(const std::string& policy, const std::string& rule) const = 0;
    // Whether the location is a policy's [defaults] value (an allowlist).
    virtual std::optional<bool> is_default(const std::string& policy, const std::string& rule) const = 0;
};

// The summary for people. `top`: how many programs, objects, cgroups to list.
void print_report(const Report& r, const RuleLookup* lookup, std::ostream& out, size_t top = 5);

}  // namespace bulwark
