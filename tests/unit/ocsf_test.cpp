// --events-format ocsf: every event bulwark writes becomes an OCSF 1.4.0
// object that has every attribute the schema requires for its class, with
// the schema's type. The table below was written down by hand from the
// OCSF 1.4.0 definitions (base event, the System Activity and Network
// Activity categories, the classes 1001, 1007, 4001, 6002, the objects they
// require, and the security_control profile); the schema itself is not
// available to the build.
#include "events/ocsf.hpp"
#include "util/json_value.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

using namespace bulwark;

namespace {

enum class T { integer, string, object, array, boolean };

struct Attr {
    const char* path;  // "metadata.product", dotted into objects
    T type;
};

// Required by every class (base event, OCSF 1.4.0).
const std::vector<Attr> kBase = {
    {"activity_id", T::integer}, {"category_uid", T::integer}, {"class_uid", T::integer},
    {"severity_id", T::integer}, {"time", T::integer},          {"type_uid", T::integer},
    {"metadata", T::object},     {"metadata.version", T::string}, {"metadata.product", T::object},
};
// Required per class, with the required attributes of the objects used.
const std::map<int, std::vector<Attr>> kClass = {
    {1001, {{"actor", T::object}, {"device", T::object}, {"device.type_id", T::integer}, {"file", T::object},
            {"file.name", T::string}, {"file.type_id", T::integer}}},
    {1007, {{"actor", T::object}, {"device", T::object}, {"device.type_id", T::integer}, {"process", T::object}}},
    {4001, {}},
    {6002, {{"app", T::object}}},
};
// What bulwark promises beyond the minimum (docs/events.md): the names
// next to the ids, the security_control profile on decisions, the
// recommended network attributes, the original event.
const std::vector<Attr> kAlways = {{"class_name", T::string},     {"category_name", T::string},
                                   {"activity_name", T::string},  {"type_name", T::string},
                                   {"severity", T::string},       {"status_id", T::integer},
                                   {"message", T::string},        {"metadata.profiles", T::array},
                                   {"metadata.product.name", T::string}, {"unmapped", T::object}};
const std::vector<Attr> kDecision = {{"action_id", T::integer},      {"action", T::string},
                                     {"disposition_id", T::integer}, {"disposition", T::string},
                                     {"policy", T::object},          {"policy.name", T::string},
                                     {"firewall_rule", T::object},   {"firewall_rule.uid", T::string},
                                     {"actor.process", T::object},   {"actor.process.pid", T::integer},
                                     {"actor.user.uid", T::string}};
const std::vector<Attr> kNetworkRecommended = {{"dst_endpoint.ip", T::string}, {"dst_endpoint.port", T::integer},
                                               {"connection_info.direction_id", T::integer},
                                               {"connection_info.protocol_name", T::string}};

const JsonValue* find(const JsonValue& o, const std::string& path)
{
    const JsonValue* v = &o;
    size_t at = 0;
    while (v && at <= path.size()) {
        size_t dot = path.find('.', at);
        std::string key = path.substr(at, dot == std::string::npos ? std::string::npos : dot - at);
        v = v->is_object() ? v->get(key) : nullptr;
        if (dot == std::string::npos) break;
        at = dot + 1;
    }
    return v;
}

bool typed(const JsonValue& v, T t)
{
    switch (t) {
    case T::integer: return v.is_integer();
    case T::string: return v.is_string();
    case T::object: return v.is_object();
    case T::array: return v.is_array();
    case T::boolean: return v.is_bool();
    }
    return false;
}

void require_all(const JsonValue& o, const std::vector<Attr>& attrs, const std::string& line)
{
    for (const auto& a : attrs) {
        const JsonValue* v = find(o, a.path);
        CHECK_MESSAGE(v != nullptr, a.path << " missing in " << line);
        if (v) CHECK_MESSAGE(typed(*v, a.type), a.path << " has the wrong type in " << line);
    }
}

JsonValue translate(const std::string& line)
{
    OcsfTranslator t("host1");
    std::string out;
    t.translate(line + "\n", out);
    REQUIRE(!out.empty());
    REQUIRE(out.back() == '\n');
    REQUIRE(out.find('\n') == out.size() - 1);  // one object, one line
    auto v = JsonValue::parse(out);
    REQUIRE_MESSAGE(v, out);
    REQUIRE(v->is_object());
    return *v;
}

// Event lines exactly as bulwark writes them (README and docs/events.md samples).
const char* kFileDeny =
    R"({"type":"verdict","time":"2026-11-25T18:47:44.804490996Z","kind":"file","verdict":"deny","policy":"web","rule":"web.toml:5","pid":232,"tid":232,"ppid":145,"uid":0,"comm":"cat","exe":"/bin/busybox","cgroup":"/","path":"/etc/shadow","access":"read"})";
const char* kExecWould =
    R"({"type":"verdict","time":"2026-11-25T20:31:02.112233445Z","kind":"exec","verdict":"would-deny","policy":"web","rule":"web.toml:21","pid":301,"tid":301,"ppid":145,"uid":33,"comm":"ld-linux-x86-64","exe":"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2","cgroup":"/","path":"/usr/bin/nc","route":"loader","loader":"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"})";
const char* kConnectAudit =
    R"({"type":"verdict","time":"2026-11-25T20:31:03.001122334Z","kind":"connect","verdict":"audit","policy":"web","rule":"web.toml:27","pid":302,"tid":302,"ppid":145,"uid":0,"comm":"curl","exe":"/usr/bin/curl","cgroup":"/","addr":"::ffff:169.254.169.254","port":80,"protocol":"tcp","family":"inet6","call":"connect"})";
const char* kTamperSignal =
    R"({"type":"verdict","time":"2026-12-03T12:10:04.551203118Z","kind":"tamper","verdict":"deny","policy":"web","rule":"web.toml:2","pid":310,"tid":310,"ppid":145,"uid":0,"comm":"kill","exe":"/bin/busybox","cgroup":"/web","op":"signal","object":"process","target_pid":98,"signal":9,"signal_name":"SIGKILL"})";
const char* kTamperPtrace =
    R"({"type":"verdict","time":"2026-12-03T12:10:05.102938475Z","kind":"tamper","verdict":"would-deny","policy":"web","rule":"web.toml:2","pid":311,"tid":311,"ppid":145,"uid":0,"comm":"gdb","exe":"/usr/bin/gdb","cgroup":"/web","op":"ptrace","object":"process","target_pid":98,"mode":"attach","creds":"real"})";
const char* kTamperBpf =
    R"({"type":"verdict","time":"2026-12-03T12:10:06.000000001Z","kind":"tamper","verdict":"deny","policy":"web","rule":"web.toml:2","pid":312,"tid":312,"ppid":145,"uid":0,"comm":"bpftool","exe":"/usr/sbin/bpftool","cgroup":"/web","op":"bpf","call":"map-get-fd-by-id","object":"map","id":17,"target_pid":98})";
const char* kTamperFile =
    R"({"type":"verdict","time":"2026-12-06T12:10:07.000000001Z","kind":"tamper","verdict":"deny","policy":"web","rule":"web.toml:2","pid":313,"tid":313,"ppid":145,"uid":0,"comm":"mv","exe":"/usr/bin/mv","cgroup":"/web","op":"rename","call":"rename","object":"policy","path":"/tmp/decoy.toml","target":"/etc/bulwark/policies.d/web.toml"})";
const char* kMonitorFile =
    R"({"type":"monitor","time":"2026-11-25T21:24:21.330007079Z","monitor":"file","policy":"watch","rule":"watch.toml:7","action":"report","suppressed":0,"pid":20494,"tid":20494,"ppid":20493,"uid":0,"comm":"cat","exe":"/usr/bin/cat","cgroup":"/demo","syscall":"openat","path":"/etc/shadow","access":"read","given":"../etc/./shadow"})";
const char* kMonitorSyscallKill =
    R"({"type":"monitor","time":"2026-11-25T21:24:21.348181782Z","monitor":"syscalls","policy":"watch","rule":"watch.toml:12","action":"kill","suppressed":0,"pid":20497,"tid":20497,"ppid":20493,"uid":1000,"comm":"uname","exe":"/usr/bin/uname","cgroup":"/demo","syscall":"uname","nr":63,"abi":"x86_64"})";
const char* kMonitorConnectUdp =
    R"({"type":"monitor","time":"2026-11-25T21:24:21.356573433Z","monitor":"connect","policy":"watch","rule":"watch.toml:22","action":"report","suppressed":0,"pid":20499,"tid":20499,"ppid":20498,"uid":0,"comm":"bash","exe":"/usr/bin/bash","cgroup":"/demo","addr":"10.1.2.3","port":53,"protocol":"udp","family":"ipv4","call":"sendmsg"})";
const char* kReady =
    R"({"type":"ready","generation":1,"mode":"enforce","policies":["web"],"programs":["file_open"]})";
const char* kLost =
    R"({"type":"lost","time":"2026-12-02T10:00:03.000000000Z","where":"ring-buffer","since":"2026-12-02T10:00:02.000000000Z","lost":12,"deny_lost":12,"total_lost":12,"total_deny_lost":12})";
const char* kStats =
    R"({"type":"stats","time":"2026-12-02T10:00:00.000000000Z","generation":1,"events":4,"malformed":0,"lost":0,"deny_lost":0,"denied":4})";

}  // namespace

TEST_CASE("ocsf: every event has every attribute OCSF 1.4.0 requires for its class, typed as the schema says")
{
    for (const char* line : {kFileDeny, kExecWould, kConnectAudit, kTamperSignal, kTamperPtrace, kTamperBpf, kTamperFile, kMonitorFile, kMonitorSyscallKill,
                             kMonitorConnectUdp, kReady, kLost, kStats}) {
        const JsonValue o = translate(line);
        require_all(o, kBase, line);
        require_all(o, kAlways, line);
        const int64_t cls = o.get("class_uid")->integer();
        REQUIRE_MESSAGE(kClass.count(int(cls)), line);
        require_all(o, kClass.at(int(cls)), line);
        CHECK(o.get("type_uid")->integer() == cls * 100 + o.get("activity_id")->integer());
        CHECK(o.get("category_uid")->integer() == cls / 1000);
        CHECK(find(o, "metadata.version")->string() == "1.4.0");
        const std::string type = JsonValue::parse(line)->str("type");
        if (type == "verdict" || type == "monitor") require_all(o, kDecision, line);
        if (cls == 4001) require_all(o, kNetworkRecommended, line);
        // The original event rides along whole.
        CHECK(find(o, "unmapped.type")->string() == type);
    }
}

TEST_CASE("ocsf: classes, activities and the security_control verdict per bulwark event")
{
    auto deny = translate(kFileDeny);
    CHECK(deny.get("class_uid")->integer() == 1001);
    CHECK(deny.get("activity_id")->integer() == 14);  // Open
    CHECK(deny.get("action_id")->integer() == 2);     // Denied
    CHECK(deny.str("action") == "Denied");
    CHECK(deny.get("disposition_id")->integer() == 2);  // Blocked
    CHECK(deny.str("disposition") == "Blocked");
    CHECK(find(deny, "policy.name")->string() == "web");
    CHECK(find(deny, "firewall_rule.uid")->string() == "web.toml:5");
    CHECK(find(deny, "file.path")->string() == "/etc/shadow");
    CHECK(find(deny, "file.name")->string() == "shadow");
    CHECK(find(deny, "actor.process.pid")->integer() == 232);
    CHECK(find(deny, "actor.process.file.path")->string() == "/bin/busybox");
    CHECK(find(deny, "device.hostname")->string() == "host1");
    CHECK(deny.get("time")->integer() == 1795632464804);
    CHECK(deny.get("status_id")->integer() == 2);

    auto would = translate(kExecWould);
    CHECK(would.get("class_uid")->integer() == 1007);
    CHECK(would.get("activity_id")->integer() == 1);  // Launch
    CHECK(would.get("action_id")->integer() == 1);    // Allowed
    CHECK(would.get("disposition_id")->integer() == 15);
    CHECK(find(would, "process.file.path")->string() == "/usr/bin/nc");
    CHECK(find(would, "actor.user.uid")->string() == "33");

    auto conn = translate(kConnectAudit);
    CHECK(conn.get("class_uid")->integer() == 4001);
    CHECK(conn.get("activity_id")->integer() == 1);  // Open
    CHECK(find(conn, "dst_endpoint.ip")->string() == "::ffff:169.254.169.254");
    CHECK(find(conn, "dst_endpoint.port")->integer() == 80);
    CHECK(find(conn, "connection_info.protocol_num")->integer() == 6);
    CHECK(find(conn, "connection_info.direction_id")->integer() == 2);  // Outbound
    CHECK(conn.get("disposition_id")->integer() == 17);                 // Logged

    auto sig = translate(kTamperSignal);
    CHECK(sig.get("class_uid")->integer() == 1007);
    CHECK(sig.get("activity_id")->integer() == 99);  // Other
    CHECK(sig.get("action_id")->integer() == 2);     // Denied
    CHECK(find(sig, "process.pid")->integer() == 98);
    CHECK(find(sig, "process.name")->string() == "bulwark");
    CHECK(find(sig, "actor.process.pid")->integer() == 310);
    CHECK(sig.str("message") == "deny signal SIGKILL to bulwark (pid 98)");
    auto trace = translate(kTamperPtrace);
    CHECK(trace.get("activity_id")->integer() == 3);  // Open
    CHECK(trace.get("disposition_id")->integer() == 15);
    CHECK(trace.str("message") == "would-deny ptrace attach of bulwark (pid 98)");

    auto udp = translate(kMonitorConnectUdp);
    CHECK(udp.get("activity_id")->integer() == 6);  // Traffic
    CHECK(find(udp, "connection_info.protocol_num")->integer() == 17);
    CHECK(find(udp, "connection_info.protocol_ver_id")->integer() == 4);

    auto kill = translate(kMonitorSyscallKill);
    CHECK(kill.get("class_uid")->integer() == 1007);
    CHECK(kill.get("activity_id")->integer() == 99);
    CHECK(kill.get("action_id")->integer() == 99);

    auto ready = translate(kReady);
    CHECK(ready.get("class_uid")->integer() == 6002);
    CHECK(ready.get("activity_id")->integer() == 3);  // Start
    CHECK(find(ready, "app.name")->string() == "bulwark");
    auto lost = translate(kLost);
    CHECK(lost.get("severity_id")->integer() == 4);
    CHECK(lost.str("message").find("12 events lost (12 denials)") != std::string::npos);
}

TEST_CASE("ocsf: several lines in, as many objects out; a line that is not JSON passes through")
{
    OcsfTranslator t("h");
    std::string out;
    t.translate(std::string(kFileDeny) + "\n" + kReady + "\nnot json\n", out);
    std::vector<std::string> lines;
    for (size_t at = 0, nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1)
        lines.push_back(out.substr(at, nl - at));
    REQUIRE(lines.size() == 3);
    CHECK(JsonValue::parse(lines[0])->get("class_uid")->integer() == 1001);
    CHECK(JsonValue::parse(lines[1])->get("class_uid")->integer() == 6002);
    CHECK(lines[2] == "not json");
}

TEST_CASE("ocsf: a bpf(2) tamper verdict is a process activity on bulwark naming the command and the object")
{
    auto o = translate(kTamperBpf);
    CHECK(o.get("class_uid")->integer() == 1007);
    CHECK(o.get("activity_id")->integer() == 99);
    CHECK(find(o, "process.pid")->integer() == 98);
    CHECK(find(o, "process.name")->string() == "bulwark");
    CHECK(o.get("action_id")->integer() == 2);
    CHECK(o.str("message") == "deny bpf map-get-fd-by-id on bulwark's map 17 (bulwark pid 98)");
}

TEST_CASE("ocsf: a change to one of bulwark's files is a file system activity naming the file and what it is")
{
    auto o = translate(kTamperFile);
    CHECK(o.get("class_uid")->integer() == 1001);
    CHECK(o.get("activity_id")->integer() == translate(R"({"type":"verdict","time":"2026-12-06T12:10:07.000000001Z","kind":"file","verdict":"deny","policy":"web","rule":"web.toml:2","pid":1,"tid":1,"ppid":0,"uid":0,"comm":"mv","exe":"/usr/bin/mv","cgroup":"/","op":"rename","call":"rename","path":"/tmp/decoy.toml","target":"/x","access":"rename"})").get("activity_id")->integer());
    CHECK(find(o, "file.path")->string() == "/tmp/decoy.toml");
    CHECK(o.get("action_id")->integer() == 2);
    CHECK(o.str("message") == "deny rename of bulwark's policy /tmp/decoy.toml");
}
