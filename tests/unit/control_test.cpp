// The live engine's pieces that need no kernel: the control socket's
// protocol, server and client (a real UNIX socket in a temporary
// directory), the status JSON and its text, the ready and reload-failed
// lines, and SHA-256.
#include "daemon/control_client.hpp"
#include "daemon/control_protocol.hpp"
#include "daemon/control_server.hpp"
#include "daemon/path_watch.hpp"
#include "daemon/status.hpp"
#include "events/service_lines.hpp"
#include "util/json_value.hpp"
#include "util/sha256.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

using namespace bulwark;

namespace {

JsonValue parsed(const std::string& line)
{
    REQUIRE(!line.empty());
    CHECK(line.back() == '\n');
    std::string error;
    auto v = JsonValue::parse(line.substr(0, line.size() - 1), &error);
    INFO(line << error);
    REQUIRE(v);
    return *v;
}

std::vector<std::string> strings(const JsonValue& v, const char* key)
{
    std::vector<std::string> out;
    if (const JsonValue* a = v.get(key))
        for (const auto& e : a->array()) out.push_back(e.string());
    return out;
}

struct TempDir {
    std::string path;
    TempDir()
    {
        char tmpl[] = "/tmp/bulwark-control-test.XXXXXX";
        REQUIRE(::mkdtemp(tmpl));
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

StatusSnapshot sample_status()
{
    StatusSnapshot s;
    s.pid = 4242;
    s.socket = "/run/bulwark/control.sock";
    s.generation = 3;
    s.generation_since_ns = 1'700'000'100'000'000'000;
    s.mode = "audit";
    s.reason = "SIGHUP";
    s.policy_files = {{"web", "/etc/bulwark/policies.d/web.toml", std::string(64, 'a'), "audit"}};
    s.programs = {"file_open"};
    s.missing_hooks = {"file_mprotect"};
    s.started_ns = 1'700'000'000'000'000'000;
    s.now_ns = s.started_ns + 3725'000'000'000;
    s.last_reload = {"failed", s.now_ns, 3, "bulwark reload", {"web.toml:3:1: error: unknown key \"x\""}};
    s.reloads_ok = 2;
    s.reloads_failed = 1;
    s.events = 10;
    s.written = 12;
    s.lost = 1;
    s.deny_lost = 1;
    return s;
}

}  // namespace

TEST_CASE("sha256: the FIPS 180-4 test vectors")
{
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("control protocol: requests and their errors")
{
    std::string error;
    for (auto c : {ControlCommand::status, ControlCommand::reload, ControlCommand::stop}) {
        std::string line = control_request(c);
        CHECK(line == std::string("{\"command\":\"") + to_string(c) + "\"}\n");
        CHECK(parse_control_request(line.substr(0, line.size() - 1), error) == c);
    }
    CHECK(!parse_control_request("status", error));
    CHECK(error.find("not a JSON object") != std::string::npos);
    CHECK(!parse_control_request(R"({"cmd":"status"})", error));
    CHECK(error.find("no \"command\"") != std::string::npos);
    CHECK(!parse_control_request(R"({"command":"restart"})", error));
    CHECK(error == "unknown command \"restart\"; commands: reload, status, stop");
    CHECK(parsed(control_error("no")).str("type") == "error");
    CHECK(parsed(stopping_line(7)).get("generation")->integer() == 7);
    CHECK(!refuse_peer(0));
    REQUIRE(refuse_peer(1000));
    CHECK(refuse_peer(1000)->find("root only") != std::string::npos);
    CHECK(refuse_peer(1000)->find("uid 1000") != std::string::npos);
}

TEST_CASE("ready and reload-failed lines")
{
    JsonValue r = parsed(ready_line({2, "enforce", "bulwark reload", {"web"}, {"file_open"}, {"file_mprotect"},
                                     R"({"file":"bpf-lsm","exec":"bpf-lsm","connect":"bpf-lsm"})"}));
    CHECK(r.members().front().first == "type");
    CHECK(r.str("type") == "ready");
    CHECK(r.get("generation")->integer() == 2);
    CHECK(r.str("mode") == "enforce");
    CHECK(r.str("reason") == "bulwark reload");
    CHECK(strings(r, "policies") == std::vector<std::string>{"web"});
    CHECK(strings(r, "missing_hooks") == std::vector<std::string>{"file_mprotect"});
    CHECK(r.get("backends")->str("connect") == "bpf-lsm");
    JsonValue f = parsed(reload_failed_line({0, 1, "SIGHUP", {"a.toml:1:1: error: x", "a.toml:2:1: error: y"}}));
    CHECK(f.str("type") == "reload-failed");
    CHECK(f.get("generation")->integer() == 1);
    CHECK(f.str("reason") == "SIGHUP");
    CHECK(strings(f, "errors").size() == 2);
}

TEST_CASE("status: JSON fields named as in the ready and stats lines, and its text")
{
    const StatusSnapshot s = sample_status();
    JsonValue v = parsed(status_json(s));
    CHECK(v.str("type") == "status");
    CHECK(v.str("source") == "engine");
    CHECK(v.get("generation")->integer() == 3);
    CHECK(v.str("generation_since") == "2023-11-14T22:15:00.000000000Z");
    CHECK(v.str("mode") == "audit");
    CHECK(v.str("reason") == "SIGHUP");
    CHECK(strings(v, "policies") == std::vector<std::string>{"web"});
    const JsonValue& file = v.get("policy_files")->array().at(0);
    CHECK(file.str("policy") == "web");
    CHECK(file.str("file") == "/etc/bulwark/policies.d/web.toml");
    CHECK(file.str("sha256") == std::string(64, 'a'));
    CHECK(file.str("mode") == "audit");
    CHECK(strings(v, "programs") == std::vector<std::string>{"file_open"});
    CHECK(strings(v, "missing_hooks") == std::vector<std::string>{"file_mprotect"});
    CHECK(v.get("uptime_seconds")->integer() == 3725);
    const JsonValue* reload = v.get("last_reload");
    REQUIRE(reload);
    CHECK(reload->str("result") == "failed");
    CHECK(reload->get("errors")->array().size() == 1);
    for (const char* key : {"events", "written", "lost", "deny_lost", "sink_lost", "sink_deny_lost", "reloads_ok",
                            "reloads_failed", "pid"})
        CHECK_MESSAGE(v.get(key), key);
    CHECK(v.get("rules")->array().empty());
    CHECK(!v.get("adopted"));
    CHECK(!v.get("backends"));  // unknown (the sample's): left out
    CHECK(!v.get("fanotify"));  // no fanotify backend: left out

    const std::string text = status_text(v);
    CHECK(text.find("bulwark: auditing (nothing is blocked), generation 3") == 0);
    CHECK(text.find("up 1h 2m 5s") != std::string::npos);
    CHECK(text.find("missing hooks: file_mprotect") != std::string::npos);
    CHECK(text.find("last reload:   failed") != std::string::npos);
    CHECK(text.find("  web.toml:3:1: error: unknown key \"x\"") != std::string::npos);
    CHECK(text.find("1 in the ring buffer (1 denials)") != std::string::npos);

    StatusSnapshot pins = s;
    pins.source = "pins";
    pins.rules = {{"web.toml:4", "web", 5, 0, 1}};
    pins.adopted = "adopted from the pins of pid 12";
    JsonValue p = parsed(status_json(pins));
    CHECK(p.get("rules")->array().at(0).get("deny")->integer() == 5);
    CHECK(status_text(p).find("none running") != std::string::npos);
    CHECK(status_text(p).find("web.toml:4  web  5 / 0 / 1") != std::string::npos);
    CHECK(status_text(p).find("can name") == std::string::npos);  // nothing unnamed: no line

    pins.unnamed_hits = {"", "", 7, 2, 0};
    JsonValue u = parsed(status_json(pins));
    REQUIRE(u.get("rules_unnamed"));
    CHECK(u.get("rules_unnamed")->get("deny")->integer() == 7);
    CHECK(u.get("rules_unnamed")->get("would_deny")->integer() == 2);
    CHECK(status_text(u).find("no engine here can name (deny / would-deny / audit): 7 / 2 / 0") != std::string::npos);

    // The fanotify backend: the ready line's backends, and its counters.
    StatusSnapshot fan = s;
    fan.backends = R"({"file":"fanotify","exec":"fanotify","connect":"cgroup-sock-addr"})";
    fan.fanotify = FanotifyTotals{11, 3, 2, 5, 1, 0};
    JsonValue f = parsed(status_json(fan));
    REQUIRE(f.get("backends"));
    CHECK(f.get("backends")->str("file") == "fanotify");
    CHECK(f.get("backends")->str("connect") == "cgroup-sock-addr");
    const JsonValue* counters = f.get("fanotify");
    REQUIRE(counters);
    std::vector<std::string> keys;
    for (const auto& [k, value] : counters->members()) {
        keys.push_back(k);
        CHECK(value.is_integer());
    }
    CHECK(keys == std::vector<std::string>{"events", "ignored", "own", "cache_hits", "unknown_call", "failed"});
    CHECK(counters->get("events")->integer() == 11);
    CHECK(counters->get("ignored")->integer() == 3);
    CHECK(counters->get("own")->integer() == 2);
    CHECK(counters->get("cache_hits")->integer() == 5);
    CHECK(counters->get("unknown_call")->integer() == 1);
    const std::string ftext = status_text(f);
    CHECK(ftext.find("backends:      file fanotify, exec fanotify, connect cgroup-sock-addr\n") != std::string::npos);
    CHECK(ftext.find("fanotify:      11 permission events decided (and 2 of bulwark's own let through unasked); 3 "
                     "files marked ignored, 5 cache hits, 1 opens of unknown flags, 0 failed decisions") !=
          std::string::npos);
}

TEST_CASE("control socket: a request and its answer over a real socket; modes; a second daemon refused")
{
    TempDir dir;
    const std::string path = dir.path + "/run/control.sock";  // the directory does not exist yet
    boost::asio::io_context io;
    ControlServer server(io, path);
    struct stat st{};
    REQUIRE(::stat((dir.path + "/run").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);

    int handled = 0;
    server.start([&](ControlCommand c) -> ControlReply {
        ++handled;
        if (c == ControlCommand::stop) return {stopping_line(1), true, [&] { io.stop(); }};
        return {status_json(sample_status())};
    });
    std::thread loop([&] { io.run(); });
    {
        // Another server on the same path: refused, the first keeps its socket.
        boost::asio::io_context other;
        CHECK_THROWS_WITH_AS(ControlServer(other, path), doctest::Contains("another bulwark is running"), Error);
    }
    ControlClient client(path);
    const std::string answer = client.call(ControlCommand::status, 5000);
    ControlClient stopper(path);
    const std::string stopped = stopper.call(ControlCommand::stop, 5000);
    if (::getuid() != 0) io.stop();  // refused: the stop handler never ran
    loop.join();
    if (::getuid() == 0) {
        CHECK(parsed(answer + "\n").get("generation")->integer() == 3);
        CHECK(parsed(stopped + "\n").str("type") == "stopping");
        CHECK(handled == 2);
        // The stop answer's connection stays open until the daemon closes it.
        CHECK(!stopper.wait_closed(100));
        server.close_held();
        CHECK(stopper.wait_closed(5000));
    } else {
        CHECK(parsed(answer + "\n").str("error").find("root only") != std::string::npos);
        CHECK(handled == 0);
    }
    server.stop();
    CHECK(::lstat(path.c_str(), &st) != 0);  // removed
    CHECK_THROWS_AS(ControlClient{path}, NoDaemon);
}

TEST_CASE("control socket: a stale socket is replaced; a bad request answered with an error")
{
    TempDir dir;
    const std::string path = dir.path + "/control.sock";
    {
        // A socket file nobody listens on: what a killed bulwark leaves.
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        path.copy(a.sun_path, sizeof(a.sun_path) - 1);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
        ::close(fd);
    }
    CHECK_THROWS_AS(ControlClient{path}, NoDaemon);
    boost::asio::io_context io;
    ControlServer server(io, path);
    server.start([&](ControlCommand) -> ControlReply { return {control_error("unused")}; });
    std::thread loop([&] { io.run(); });
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof(a.sun_path) - 1);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    const std::string bad = "{\"command\":\"restart\"}\n";
    REQUIRE(::write(fd, bad.data(), bad.size()) == ssize_t(bad.size()));
    char buf[512] = {};
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    io.stop();
    loop.join();
    REQUIRE(n > 0);
    JsonValue v = parsed(std::string(buf, size_t(n)));
    CHECK(v.str("type") == "error");
    if (::getuid() == 0) CHECK(v.str("error").find("unknown command \"restart\"") != std::string::npos);
}

TEST_CASE("path watch: the directory to watch for each rule path")
{
    TempDir dir;
    std::filesystem::create_directories(dir.path + "/etc/cron.d");
    const WatchPoints w = watch_points(
        {dir.path + "/etc/cron.d/", dir.path + "/etc/shadow", dir.path + "/missing/deeper/file", "/", "relative"});
    CHECK(w.at(dir.path + "/etc").at("cron.d") == dir.path + "/etc/cron.d/");
    CHECK(w.at(dir.path + "/etc").at("shadow") == dir.path + "/etc/shadow");
    // Directories that do not exist yet: the nearest ancestor, for the next name.
    CHECK(w.at(dir.path).at("missing") == dir.path + "/missing/deeper/file");
    CHECK(w.size() == 2);
}

TEST_CASE("path watch: a rule directory deleted and recreated calls back once; other names do not")
{
    TempDir dir;
    const std::string d = dir.path + "/d";
    std::filesystem::create_directories(d);
    boost::asio::io_context io;
    std::vector<std::string> calls;
    PathWatcher watcher(io, [&](const std::string& p) { calls.push_back(p); }, std::chrono::milliseconds(50));
    watcher.watch({d + "/"});
    CHECK(watcher.directories() == 1);
    std::filesystem::create_directories(dir.path + "/unrelated");
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    auto run_for = [&](int ms) {
        io.restart();
        io.run_for(std::chrono::milliseconds(ms));
    };
    run_for(500);
    CHECK(calls == std::vector<std::string>{d + "/"});  // the delete and the create: one burst
    std::filesystem::create_directories(dir.path + "/unrelated2");
    run_for(200);
    CHECK(calls.size() == 1);
    watcher.stop();
}
