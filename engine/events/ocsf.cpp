#include "events/ocsf.hpp"

#include "util/json.hpp"
#include "util/json_value.hpp"

#include <cstdio>
#include <ctime>
#include <unistd.h>

namespace bulwark {

namespace {

// A JSON object under construction, nested into others by value.
class Obj {
public:
    Obj& str(std::string_view k, std::string_view v)
    {
        key(k);
        append_json_string(text_, v);
        return *this;
    }
    Obj& num(std::string_view k, int64_t v)
    {
        key(k);
        text_ += std::to_string(v);
        return *this;
    }
    Obj& obj(std::string_view k, const Obj& o)
    {
        key(k);
        text_ += o.text();
        return *this;
    }
    Obj& raw(std::string_view k, std::string_view json)
    {
        key(k);
        text_ += json;
        return *this;
    }
    Obj& strs(std::string_view k, std::initializer_list<std::string_view> values)
    {
        key(k);
        text_ += '[';
        bool first = true;
        for (auto v : values) {
            if (!first) text_ += ',';
            first = false;
            append_json_string(text_, v);
        }
        text_ += ']';
        return *this;
    }
    std::string text() const { return "{" + text_ + "}"; }

private:
    void key(std::string_view k)
    {
        if (!text_.empty()) text_ += ',';
        append_json_string(text_, k);
        text_ += ':';
    }
    std::string text_;
};

struct Class {
    int uid;
    const char* name;
    int category_uid;
    const char* category_name;
};
constexpr Class kFileSystem{1001, "File System Activity", 1, "System Activity"};
constexpr Class kProcess{1007, "Process Activity", 1, "System Activity"};
constexpr Class kNetwork{4001, "Network Activity", 4, "Network Activity"};
constexpr Class kLifecycle{6002, "Application Lifecycle", 6, "Application Activity"};

struct Activity {
    int id;
    const char* name;
};

// "2026-11-25T18:47:44.804490996Z" → ms since the epoch; -1 if malformed.
int64_t rfc3339_ms(const std::string& t)
{
    std::tm tm{};
    unsigned frac_digits = 0;
    int64_t frac = 0;
    int y, mo, d, h, mi, s;
    if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) return -1;
    size_t i = 19;
    if (i < t.size() && t[i] == '.') {
        for (++i; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i)
            if (frac_digits < 3) frac = frac * 10 + (t[i] - '0'), ++frac_digits;
    }
    while (frac_digits < 3) frac *= 10, ++frac_digits;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return int64_t(::timegm(&tm)) * 1000 + frac;
}

int64_t now_ms()
{
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::string basename_of(const std::string& path)
{
    auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

int64_t integer(const JsonValue& e, std::string_view key)
{
    const JsonValue* v = e.get(key);
    return v && v->is_integer() ? v->integer() : 0;
}

Obj file_object(const std::string& path, int type_id)
{
    Obj f;
    f.str("name", basename_of(path)).str("path", path).num("type_id", type_id).str(
        "type", type_id == 1 ? "Regular File" : "Unknown");
    return f;
}

Obj product()
{
    Obj p;
    p.str("name", "bulwark").str("vendor_name", "bulwark").str("version", BULWARK_VERSION);
    return p;
}

// The process that did it: OCSF's actor.process.
Obj actor_of(const JsonValue& e)
{
    Obj user;
    user.str("uid", std::to_string(integer(e, "uid")));
    Obj parent;
    parent.num("pid", integer(e, "ppid"));
    Obj process;
    process.num("pid", integer(e, "pid"))
        .num("tid", integer(e, "tid"))
        .str("name", e.str("comm"))
        .obj("user", user)
        .obj("parent_process", parent);
    if (const std::string exe = e.str("exe"); !exe.empty()) process.obj("file", file_object(exe, 1));
    Obj actor;
    actor.obj("process", process).obj("user", user);
    return actor;
}

struct Control {
    int action_id;
    const char* action;
    int disposition_id;
    const char* disposition;
    int severity_id;
    const char* severity;
};

Control control_of(const std::string& verdict)
{
    if (verdict == "deny") return {2, "Denied", 2, "Blocked", 4, "High"};
    if (verdict == "would-deny") return {1, "Allowed", 15, "Detected", 3, "Medium"};
    if (verdict == "audit") return {1, "Allowed", 17, "Logged", 2, "Low"};
    if (verdict == "kill") return {99, "Killed", 99, "Killed", 4, "High"};
    if (verdict == "would-kill") return {1, "Allowed", 15, "Detected", 3, "Medium"};
    return {1, "Allowed", 17, "Logged", 1, "Informational"};  // monitor "report"
}

Activity file_activity(const std::string& op)
{
    if (op == "create") return {1, "Create"};
    if (op == "delete") return {4, "Delete"};
    if (op == "rename") return {5, "Rename"};
    if (op == "truncate") return {3, "Update"};
    if (op == "metadata") return {6, "Set Attributes"};
    if (op == "link" || op == "mount") return {99, "Other"};
    return {14, "Open"};
}

}  // namespace

OcsfTranslator::OcsfTranslator()
{
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) == 0) hostname_ = host;
}

void OcsfTranslator::translate(std::string_view lines, std::string& out) const
{
    while (!lines.empty()) {
        size_t nl = lines.find('\n');
        std::string_view line = lines.substr(0, nl);
        if (!line.empty()) translate_line(line, out);
        if (nl == std::string_view::npos) break;
        lines.remove_prefix(nl + 1);
    }
}

void OcsfTranslator::translate_line(std::string_view line, std::string& out) const
{
    auto parsed = JsonValue::parse(line);
    if (!parsed || !parsed->is_object()) {
        out.append(line);
        out += '\n';
        return;
    }
    const JsonValue& e = *parsed;
    const std::string type = e.str("type");
    const bool decided = type == "verdict" || type == "monitor";

    Class cls = kLifecycle;
    Activity act{99, "Other"};
    Obj body;  // the class's own attributes
    std::string message;
    Control ctl = control_of("");

    if (decided) {
        const std::string kind = type == "verdict" ? e.str("kind") : e.str("monitor");
        const std::string verdict = type == "verdict" ? e.str("verdict") : e.str("action");
        ctl = control_of(verdict);
        const std::string path = e.str("path");
        if (kind == "file") {
            cls = kFileSystem;
            act = file_activity(e.str("op", "open"));
            body.obj("file", file_object(path, 0));
            message = verdict + " " + e.str("access", "open") + " " + path;
        } else if (kind == "exec" || kind == "process") {
            cls = kProcess;
            act = {1, "Launch"};
            Obj process;
            process.num("pid", integer(e, "pid")).str("name", basename_of(path)).obj("file", file_object(path, 1));
            body.obj("process", process);
            message = verdict + " exec " + path;
        } else if (kind == "syscalls") {
            cls = kProcess;
            act = {99, "Other"};
            Obj process;
            process.num("pid", integer(e, "pid")).str("name", e.str("comm"));
            body.obj("process", process);
            message = verdict + " syscall " + e.str("syscall");
        } else if (kind == "connect") {
            cls = kNetwork;
            act = e.str("call") == "sendmsg" ? Activity{6, "Traffic"} : Activity{1, "Open"};
            const std::string proto = e.str("protocol");
            const std::string addr = e.str("addr");
            Obj dst;
            dst.str("ip", addr).num("port", integer(e, "port"));
            Obj conn;
            conn.str("protocol_name", proto)
                .num("protocol_num", proto == "tcp" ? 6 : proto == "udp" ? 17 : 0)
                .num("protocol_ver_id", addr.find(':') != std::string::npos ? 6 : 4)
                .num("direction_id", 2)
                .str("direction", "Outbound");
            body.obj("dst_endpoint", dst).obj("connection_info", conn);
            message = verdict + " " + proto + " connect to " + addr + " port " + std::to_string(integer(e, "port"));
        } else if (kind == "tamper" && !path.empty()) {
            // A change to one of bulwark's own files: an activity on that file.
            cls = kFileSystem;
            act = file_activity(e.str("op"));
            body.obj("file", file_object(path, 0));
            message = verdict + " " + e.str("op") + " of bulwark's " + e.str("object") + " " + path;
        } else if (kind == "tamper") {
            // An attempt on bulwark itself: the process acted on is bulwark.
            cls = kProcess;
            const bool ptrace = e.str("op") == "ptrace", bpf = e.str("op") == "bpf";
            act = ptrace ? Activity{3, "Open"} : Activity{99, "Other"};
            Obj process;
            process.num("pid", integer(e, "target_pid")).str("name", "bulwark");
            body.obj("process", process);
            if (bpf)
                message = verdict + " bpf " + e.str("call") + " on bulwark's " + e.str("object") + " " +
                          std::to_string(integer(e, "id")) + " (bulwark pid " +
                          std::to_string(integer(e, "target_pid")) + ")";
            else
            message = verdict + " " +
                      (ptrace ? "ptrace " + e.str("mode") + " of"
                              : "signal " + e.str("signal_name", "#" + std::to_string(integer(e, "signal"))) + " to") +
                      " bulwark (pid " + std::to_string(integer(e, "target_pid")) + ")";
        } else {
            // A kind this translator does not know yet (a newer event):
            // still an OCSF object, of the file class with the path.
            cls = kFileSystem;
            act = {99, "Other"};
            body.obj("file", file_object(path, 0));
            message = verdict + " " + kind + " " + path;
        }
        body.obj("actor", actor_of(e));
        Obj policy, rule;
        policy.str("name", e.str("policy")).str("uid", e.str("policy"));
        rule.str("name", e.str("rule")).str("uid", e.str("rule"));
        body.num("action_id", ctl.action_id)
            .str("action", ctl.action)
            .num("disposition_id", ctl.disposition_id)
            .str("disposition", ctl.disposition)
            .obj("policy", policy)
            .obj("firewall_rule", rule);
    } else {
        body.obj("app", product());
        if (type == "ready") {
            act = {3, "Start"};
            message = "bulwark generation " + std::to_string(integer(e, "generation")) + " live, mode " +
                      e.str("mode");
        } else if (type == "lost") {
            const int64_t deny = integer(e, "deny_lost");
            ctl.severity_id = deny > 0 ? 4 : 3;
            ctl.severity = deny > 0 ? "High" : "Medium";
            message = std::to_string(integer(e, "lost")) + " events lost (" + std::to_string(deny) +
                      " denials) in the " + e.str("where") + " since " + e.str("since");
        } else if (type == "reload-failed") {
            ctl.severity_id = 4;
            ctl.severity = "High";
            message = "reload refused; generation " + std::to_string(integer(e, "generation")) + " stays live";
        } else {
            message = "bulwark " + type;
        }
    }

    int64_t time = rfc3339_ms(e.str("time"));
    if (time < 0) time = now_ms();
    const bool failed = type == "verdict" && e.str("verdict") == "deny";
    Obj metadata;
    metadata.str("version", kOcsfVersion)
        .obj("product", product())
        .strs("profiles", {"security_control", "host"})
        .str("log_name", "bulwark");
    Obj device;
    device.num("type_id", 1).str("type", "Server").str("hostname", hostname_);

    Obj o;
    o.num("class_uid", cls.uid)
        .str("class_name", cls.name)
        .num("category_uid", cls.category_uid)
        .str("category_name", cls.category_name)
        .num("activity_id", act.id)
        .str("activity_name", act.name)
        .num("type_uid", int64_t(cls.uid) * 100 + act.id)
        .str("type_name", std::string(cls.name) + ": " + act.name)
        .num("time", time)
        .num("severity_id", ctl.severity_id)
        .str("severity", ctl.severity)
        .num("status_id", failed ? 2 : 1)
        .str("status", failed ? "Failure" : "Success")
        .str("message", message)
        .obj("metadata", metadata)
        .obj("device", device);
    std::string text = o.text();
    // The class's attributes, then the bulwark event whole.
    std::string b = body.text();
    text.pop_back();
    text += ',';
    text.append(b, 1, b.size() - 2);
    text += ",\"unmapped\":";
    text.append(line);
    text += "}\n";
    out += text;
}

}  // namespace bulwark
