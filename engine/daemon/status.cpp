#include "daemon/status.hpp"

#include "util/json.hpp"
#include "util/json_value.hpp"

#include <sstream>

namespace bulwark {
namespace {

std::string nested_reload(const ReloadStatus& r)
{
    std::string out;
    JsonLine line(out);
    line.field("result", r.result);
    if (r.result != "none") {
        line.field("time", rfc3339_utc(r.time_ns))
            .field("generation", r.generation)
            .field("reason", r.reason)
            .field("errors", r.errors);
    }
    line.close();
    return out;
}

std::string nested_array(const std::vector<std::string>& objects)
{
    std::string out = "[";
    for (size_t i = 0; i < objects.size(); ++i) out += (i ? "," : "") + objects[i];
    return out + "]";
}

std::string policy_file(const PolicyFileStatus& p)
{
    std::string out;
    JsonLine(out).field("policy", p.policy).field("file", p.file).field("sha256", p.sha256).field("mode", p.mode).close();
    return out;
}

std::string rule_totals(const RuleHits& r)
{
    std::string out;
    JsonLine(out).field("deny", r.deny).field("would_deny", r.would_deny).field("audit", r.audit).close();
    return out;
}

std::string rule_hits(const RuleHits& r)
{
    std::string out;
    JsonLine(out)
        .field("rule", r.rule)
        .field("policy", r.policy)
        .field("deny", r.deny)
        .field("would_deny", r.would_deny)
        .field("audit", r.audit)
        .close();
    return out;
}

std::string fanotify_totals(const FanotifyTotals& f)
{
    std::string out;
    JsonLine(out)
        .field("events", f.events)
        .field("ignored", f.ignored)
        .field("own", f.own)
        .field("cache_hits", f.cache_hits)
        .field("unknown_call", f.unknown_call)
        .field("failed", f.failed)
        .close();
    return out;
}

int64_t num(const JsonValue& v, std::string_view key)
{
    const JsonValue* m = v.get(key);
    return m && m->is_integer() ? m->integer() : 0;
}

std::string list(const JsonValue& v, std::string_view key, const char* none = "none")
{
    const JsonValue* a = v.get(key);
    std::string out;
    if (a && a->is_array())
        for (const auto& e : a->array())
            if (e.is_string()) out += (out.empty() ? "" : " ") + e.string();
    return out.empty() ? none : out;
}

std::string duration(int64_t s)
{
    std::ostringstream out;
    if (s >= 86400) out << s / 86400 << "d ";
    if (s >= 3600) out << (s % 86400) / 3600 << "h ";
    if (s >= 60) out << (s % 3600) / 60 << "m ";
    out << s % 60 << 's';
    return out.str();
}

const char* mode_words(const std::string& mode)
{
    return mode == "enforce" ? "enforcing" : mode == "audit" ? "auditing (nothing is blocked)"
                             : mode == "monitor"            ? "monitoring"
                                                             : "unknown mode";
}

}  // namespace

std::string status_json(const StatusSnapshot& s)
{
    std::vector<std::string> names, files, rules;
    for (const auto& p : s.policy_files) {
        names.push_back(p.policy);
        files.push_back(policy_file(p));
    }
    for (const auto& r : s.rules) rules.push_back(rule_hits(r));
    std::string out;
    JsonLine line(out);
    line.field("type", "status")
        .field("source", s.source)
        .field("pid", s.pid)
        .field("socket", s.socket)
        .field("generation", s.generation)
        .field("generation_since", rfc3339_utc(s.generation_since_ns))
        .field("mode", s.mode)
        .field("reason", s.reason)
        .field("policies", names)
        .raw("policy_files", nested_array(files))
        .field("programs", s.programs)
        .field("missing_hooks", s.missing_hooks);
    if (!s.backends.empty()) line.raw("backends", s.backends);
    line.field("started", rfc3339_utc(s.started_ns))
        .field("uptime_seconds", (s.now_ns - s.started_ns) / 1'000'000'000)
        .raw("last_reload", nested_reload(s.last_reload))
        .field("reloads_ok", s.reloads_ok)
        .field("reloads_failed", s.reloads_failed)
        .field("events", s.events)
        .field("written", s.written)
        .field("lost", s.lost)
        .field("deny_lost", s.deny_lost)
        .field("sink_lost", s.sink_lost)
        .field("sink_deny_lost", s.sink_deny_lost)
        .raw("rules", nested_array(rules))
        .raw("rules_unnamed", rule_totals(s.unnamed_hits));
    if (s.fanotify) line.raw("fanotify", fanotify_totals(*s.fanotify));
    if (s.adopted) line.field("adopted", *s.adopted);
    line.end();
    return out;
}

std::string status_text(const JsonValue& v)
{
    std::ostringstream out;
    if (v.str("source") == "pins")
        out << "bulwark: " << mode_words(v.str("mode")) << ", generation " << num(v, "generation") << " ("
            << v.str("reason") << ")\n";
    else
        out << "bulwark: " << mode_words(v.str("mode")) << ", generation " << num(v, "generation") << " (live since "
            << v.str("generation_since") << "; " << v.str("reason") << ")\n";
    if (v.str("source") == "pins")
        out << "engine:        none running (read from the pinned state)\n";
    else
        out << "engine:        pid " << num(v, "pid") << ", up " << duration(num(v, "uptime_seconds")) << ", control socket "
            << v.str("socket") << '\n';
    if (!v.str("adopted").empty()) out << "adopted:       " << v.str("adopted") << '\n';
    out << "policies:\n";
    if (const JsonValue* files = v.get("policy_files"); files && files->is_array())
        for (const auto& p : files->array())
            out << "  " << p.str("policy") << "  " << p.str("mode") << "  " << p.str("file") << "  sha256:"
                << p.str("sha256") << '\n';
    out << "programs:      " << list(v, "programs") << '\n';
    out << "missing hooks: " << list(v, "missing_hooks") << '\n';
    if (const JsonValue* b = v.get("backends"); b && b->is_object())
        out << "backends:      file " << b->str("file") << ", exec " << b->str("exec") << ", connect "
            << b->str("connect") << '\n';
    if (const JsonValue* r = v.get("last_reload"); r && r->is_object()) {
        out << "last reload:   " << r->str("result");
        if (r->str("result") != "none")
            out << " at " << r->str("time") << " (" << r->str("reason") << "), generation " << num(*r, "generation");
        out << "; " << num(v, "reloads_ok") << " ok, " << num(v, "reloads_failed") << " failed\n";
        if (const JsonValue* errors = r->get("errors"); errors && errors->is_array())
            for (const auto& e : errors->array()) out << "  " << e.string() << '\n';
    }
    out << "events:        " << num(v, "events") << " decoded, " << num(v, "written") << " lines written; lost: "
        << num(v, "lost") << " in the ring buffer (" << num(v, "deny_lost") << " denials), " << num(v, "sink_lost")
        << " in the events destination (" << num(v, "sink_deny_lost") << " denials)\n";
    if (const JsonValue* f = v.get("fanotify"); f && f->is_object())
        out << "fanotify:      " << num(*f, "events") << " permission events decided (and " << num(*f, "own")
            << " of bulwark's own let through unasked); " << num(*f, "ignored") << " files marked ignored, "
            << num(*f, "cache_hits") << " cache hits, " << num(*f, "unknown_call") << " opens of unknown flags, "
            << num(*f, "failed") << " failed decisions (let through)\n";
    if (const JsonValue* rules = v.get("rules"); rules && rules->is_array() && !rules->array().empty()) {
        out << "rule hits (deny / would-deny / audit):\n";
        for (const auto& r : rules->array())
            out << "  " << r.str("rule") << "  " << r.str("policy") << "  " << num(r, "deny") << " / "
                << num(r, "would_deny") << " / " << num(r, "audit") << '\n';
    }
    if (const JsonValue* u = v.get("rules_unnamed"); u && u->is_object() && num(*u, "deny") + num(*u, "would_deny") + num(*u, "audit") > 0)
        out << "rule hits of generations no engine here can name (deny / would-deny / audit): " << num(*u, "deny")
            << " / " << num(*u, "would_deny") << " / " << num(*u, "audit") << '\n';
    return out.str();
}

}  // namespace bulwark
