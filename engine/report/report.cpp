#include "report/report.hpp"

#include "util/json_value.hpp"

#include <algorithm>
#include <istream>
#include <ostream>

namespace bulwark {
namespace {

int64_t num(const JsonValue& o, std::string_view key)
{
    const JsonValue* v = o.get(key);
    return v && v->is_integer() ? v->integer() : -1;
}

// The `n` largest entries of a count map, largest first (ties by name).
std::vector<std::pair<std::string, size_t>> top_n(const std::map<std::string, size_t>& m, size_t n)
{
    std::vector<std::pair<std::string, size_t>> v(m.begin(), m.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    if (v.size() > n) v.resize(n);
    return v;
}

std::string plural(size_t n, const char* one, const char* many)
{
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string counts(const std::map<std::string, size_t>& verdicts)
{
    std::string out;
    for (const char* v : {"deny", "would-deny", "audit"}) {
        auto it = verdicts.find(v);
        if (it == verdicts.end()) continue;
        out += (out.empty() ? "" : ", ") + std::to_string(it->second) + " " + v;
    }
    return out;
}

std::string span(const Tally& t)
{
    return t.first == t.last ? "at " + t.first : "from " + t.first + " to " + t.last;
}

void list(std::ostream& out, const std::string& indent, const std::map<std::string, size_t>& m, size_t top)
{
    for (const auto& [name, n] : top_n(m, top)) out << indent << n << "  " << name << '\n';
    if (m.size() > top) out << indent << "... and " << (m.size() - top) << " more\n";
}

void add_monitor_event(Report& r, const JsonValue& v)
{
    ReportEvent e;
    e.monitor = true;
    e.kind = v.str("monitor");
    e.verdict = v.str("action");
    e.policy = v.str("policy");
    e.rule = v.str("rule");
    e.time = v.str("time");
    e.exe = v.str("exe");
    e.comm = v.str("comm");
    e.cgroup = v.str("cgroup");
    e.uid = num(v, "uid");
    e.path = v.str("path");
    e.access = v.str("access");
    e.addr = v.str("addr");
    e.protocol = v.str("protocol");
    e.port = num(v, "port");
    e.syscall = v.str("syscall");
    e.script = v.str("script");
    e.suppressed = static_cast<uint64_t>(std::max<int64_t>(0, num(v, "suppressed")));
    const JsonValue* unresolved = v.get("path_unresolved");
    e.unresolved = unresolved && unresolved->is_bool() && unresolved->boolean();
    if (e.unresolved && e.path.empty()) e.path = v.str("reason");
    if (e.kind.empty()) e.kind = "?";
    if (e.verdict.empty()) e.verdict = "report";
    const RuleKey key{e.policy, e.rule, e.kind};
    r.monitors.add(e);
    r.by_monitor[key].add(e);
    r.suppressed[key] += e.suppressed;
    r.monitor_events.push_back(std::move(e));
}

std::string actions(const std::map<std::string, size_t>& by_action)
{
    std::string out;
    for (const auto& [action, n] : by_action) out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + action;
    return out;
}

void print_monitors(const Report& r, const RuleLookup* lookup, std::ostream& out, size_t top)
{
    std::vector<const std::pair<const RuleKey, Tally>*> rules;
    for (const auto& e : r.by_monitor) rules.push_back(&e);
    std::stable_sort(rules.begin(), rules.end(), [](auto* a, auto* b) { return a->second.count > b->second.count; });
    out << "\nmonitor events by policy and rule — what the monitors reported (monitors deny nothing):\n";
    for (const auto* e : rules) {
        const RuleKey& k = e->first;
        const Tally& t = e->second;
        out << "  " << (k.policy.empty() ? "(unknown policy)" : k.policy) << "  " << (k.rule.empty() ? "?" : k.rule)
            << "  monitor." << k.kind << ": " << actions(t.verdicts) << ", " << span(t) << '\n';
        const uint64_t dropped = r.suppressed.count(k) ? r.suppressed.at(k) : 0;
        if (dropped)
            out << "      and " << dropped << " more suppressed by its rate_limit (counted in the events above)\n";
        if (lookup)
            for (const auto& l : lookup->text(k.policy, k.rule)) out << "      | " << l << '\n';
        out << "      programs:\n";
        list(out, "        ", t.programs, top);
        out << "      reported:\n";
        list(out, "        ", t.objects, top);
    }
}

}  // namespace

std::string ReportEvent::what() const
{
    if (monitor && kind == "syscalls") return "syscall " + (syscall.empty() ? "?" : syscall);
    if (monitor && kind == "process") return "exec " + path + (script.empty() ? "" : " (script " + script + ")");
    if (monitor && unresolved) return "open (a name that could not be made absolute: " + path + ")";
    if (kind == "connect")
        return "connect " + (addr.find(':') != std::string::npos ? "[" + addr + "]" : addr) + ":" +
               std::to_string(port) + "/" + protocol;
    if (kind == "exec" || kind == "process") return "exec " + path;
    return "open " + path + (access.empty() ? "" : " (" + access + ")");
}

std::string ReportEvent::program() const
{
    if (!exe.empty()) return exe;
    return comm.empty() ? "(unknown program)" : "(" + comm + ")";
}

void Tally::add(const ReportEvent& e)
{
    ++count;
    if (first.empty() || e.time < first) first = e.time;
    if (last.empty() || e.time > last) last = e.time;
    ++verdicts[e.verdict];
    ++programs[e.program()];
    ++objects[e.what()];
    ++cgroups[e.cgroup.empty() ? "(none)" : e.cgroup];
}

Report summarise(std::istream& in)
{
    Report r;
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        ++r.lines;
        auto v = JsonValue::parse(line);
        if (!v || !v->is_object()) {
            ++r.malformed;
            continue;
        }
        const std::string type = v->str("type");
        if (type == "stats") {
            r.lost += static_cast<uint64_t>(std::max<int64_t>(0, num(*v, "lost")));
            r.deny_lost += static_cast<uint64_t>(std::max<int64_t>(0, num(*v, "deny_lost")));
        }
        if (type == "monitor") {
            add_monitor_event(r, *v);
            continue;
        }
        if (type != "verdict") {
            ++r.other;
            continue;
        }
        ReportEvent e;
        e.kind = v->str("kind");
        e.verdict = v->str("verdict");
        e.policy = v->str("policy");
        e.rule = v->str("rule");
        e.time = v->str("time");
        e.exe = v->str("exe");
        e.comm = v->str("comm");
        e.cgroup = v->str("cgroup");
        e.uid = num(*v, "uid");
        e.path = v->str("path");
        e.access = v->str("access");
        e.addr = v->str("addr");
        e.protocol = v->str("protocol");
        e.port = num(*v, "port");
        r.all.add(e);
        r.by_rule[{e.policy, e.rule, e.kind}].add(e);
        r.by_program[e.program()].add(e);
        r.by_cgroup[e.cgroup.empty() ? "(none)" : e.cgroup].add(e);
        r.events.push_back(std::move(e));
    }
    return r;
}

void print_report(const Report& r, const RuleLookup* lookup, std::ostream& out, size_t top)
{
    out << "bulwark report: " << plural(r.lines, "line", "lines") << ", "
        << plural(r.events.size(), "verdict event", "verdict events");
    if (!r.events.empty()) out << " (" << counts(r.all.verdicts) << ") " << span(r.all);
    if (!r.monitor_events.empty())
        out << ", " << plural(r.monitor_events.size(), "monitor event", "monitor events") << " ("
            << actions(r.monitors.verdicts) << ") " << span(r.monitors);
    out << '\n';
    if (r.malformed) out << "warning: " << plural(r.malformed, "line is", "lines are") << " not JSON; skipped\n";
    if (r.lost)
        out << "warning: " << plural(r.lost, "event was", "events were") << " lost (ring buffer full; " << r.deny_lost
            << " of them denials): the counts below are lower bounds\n";
    if (r.events.empty()) {
        out << "nothing was denied, would have been denied, or audited\n";
        if (!r.monitor_events.empty()) print_monitors(r, lookup, out, top);
        return;
    }

    // Rules, most events first.
    std::vector<const std::pair<const RuleKey, Tally>*> rules;
    for (const auto& e : r.by_rule) rules.push_back(&e);
    std::stable_sort(rules.begin(), rules.end(), [](auto* a, auto* b) { return a->second.count > b->second.count; });
    out << "\nby policy and rule — what enforcing each would break:\n";
    for (const auto* e : rules) {
        const RuleKey& k = e->first;
        const Tally& t = e->second;
        out << "  " << (k.policy.empty() ? "(unknown policy)" : k.policy) << "  " << (k.rule.empty() ? "?" : k.rule)
            << "  " << k.kind << ": " << counts(t.verdicts) << ", " << span(t) << '\n';
        if (lookup) {
            const auto is_default = lookup->is_default(k.policy, k.rule);
            for (const auto& l : lookup->text(k.policy, k.rule))
                out << "      | " << (is_default && *is_default ? "[defaults] " : "") << l << '\n';
        }
        const size_t would = t.verdicts.count("would-deny") ? t.verdicts.at("would-deny") : 0;
        const size_t denied = t.verdicts.count("deny") ? t.verdicts.at("deny") : 0;
        if (would)
            out << "      enforcing it would have denied " << plural(would, "operation", "operations") << " of "
                << plural(t.programs.size(), "program", "programs") << " that ran:\n";
        else if (denied)
            out << "      enforced: it denied " << plural(denied, "operation", "operations") << " of "
                << plural(t.programs.size(), "program", "programs") << ":\n";
        else
            out << "      an audit rule: reported, nothing would be denied; programs:\n";
        list(out, "        ", t.programs, top);
        out << "      objects:\n";
        list(out, "        ", t.objects, top);
    }

    out << "\nby program:\n";
    std::vector<const std::pair<const std::string, Tally>*> programs;
    for (const auto& e : r.by_program) programs.push_back(&e);
    std::stable_sort(programs.begin(), programs.end(), [](auto* a, auto* b) { return a->second.count > b->second.count; });
    for (const auto* e : programs) {
        out << "  " << e->first << ": " << counts(e->second.verdicts) << ", " << span(e->second) << '\n';
        list(out, "        ", e->second.objects, top);
    }

    out << "\nby cgroup:\n";
    std::vector<const std::pair<const std::string, Tally>*> cgroups;
    for (const auto& e : r.by_cgroup) cgroups.push_back(&e);
    std::stable_sort(cgroups.begin(), cgroups.end(), [](auto* a, auto* b) { return a->second.count > b->second.count; });
    for (const auto* e : cgroups) {
        out << "  " << e->first << ": " << counts(e->second.verdicts) << ", " << span(e->second) << '\n';
        list(out, "        ", e->second.programs, top);
    }
    if (!r.monitor_events.empty()) print_monitors(r, lookup, out, top);
}

}  // namespace bulwark
