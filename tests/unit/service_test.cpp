// The service pieces that need no kernel: bulwark.toml reading, the sink
// writer (a pipe that stalls, /dev/full, a closed pipe, reopening), the
// stats and lost lines, the Prometheus exposition and its HTTP server, and
// the systemd notification datagram.
#include "config/config_file.hpp"
#include "events/service_lines.hpp"
#include "events/sink.hpp"
#include "events/sink_writer.hpp"
#include "metrics/http_server.hpp"
#include "metrics/prometheus.hpp"
#include "util/json_value.hpp"
#include "util/error.hpp"
#include "util/sd_notify.hpp"

#include "bulwark/abi.h"

#include <doctest/doctest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

using namespace bulwark;

namespace {

std::string slurp(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A sink that fails while `fail` is set, and records what it wrote.
class FlakySink final : public EventSink {
public:
    bool write(std::string_view lines) override
    {
        if (fail) {
            error_ = "No space left on device (ENOSPC)";
            return false;
        }
        std::lock_guard lock(m);
        text += lines;
        return true;
    }
    const std::string& error() const override { return error_; }
    std::string name() const override { return "flaky"; }
    std::atomic<bool> fail{false};
    std::mutex m;
    std::string text;

private:
    std::string error_;
};

std::string verdict_line(const char* verdict)
{
    return std::string("{\"type\":\"verdict\",\"kind\":\"file\",\"verdict\":\"") + verdict + "\",\"policy\":\"p\"}\n";
}

}  // namespace

TEST_CASE("config file: keys, tokens and positions; arrays; booleans")
{
    Diagnostics d;
    auto e = read_config("policy = [\"/a\", \"/b\"]\n# c\nevents = \"-\"\nstats-interval = 5\naudit = true\n",
                         "bulwark.toml", d);
    REQUIRE_FALSE(d.has_errors());
    REQUIRE(e.size() == 4);
    CHECK(e[0].key == "policy");
    CHECK(e[0].tokens == std::vector<std::string>{"/a", "/b"});
    CHECK(e[0].pos.line == 1);
    CHECK(e[0].pos.column == 1);
    CHECK(e[1].key == "events");
    CHECK(e[1].pos.line == 3);
    CHECK(e[2].tokens == std::vector<std::string>{"5"});
    CHECK(e[3].boolean);
    CHECK(e[3].enabled);
}

TEST_CASE("config file: tables, floats, empty lists and bad TOML are errors at file:line:col")
{
    Diagnostics d;
    read_config("[events]\npath = \"x\"\n", "b.toml", d);
    REQUIRE(d.error_count() == 1);
    CHECK(format(d.all()[0]).rfind("b.toml:1:1: error: events must be", 0) == 0);
    CHECK(format(d.all()[0]).find("no tables") != std::string::npos);

    Diagnostics f;
    read_config("stats-interval = 1.5\npolicy = []\npolicy2 = [[1]]\n", "b.toml", f);
    REQUIRE(f.error_count() == 3);
    CHECK(format(f.all()[0]).rfind("b.toml:1:18: error:", 0) == 0);
    CHECK(format(f.all()[1]).rfind("b.toml:2:10: error: policy is an empty list", 0) == 0);
    CHECK(format(f.all()[2]).rfind("b.toml:3:12: error: each element of policy2", 0) == 0);

    Diagnostics g;
    read_config("events = \n", "b.toml", g);
    REQUIRE(g.error_count() == 1);
    CHECK(format(g.all()[0]).rfind("b.toml:1:", 0) == 0);
}

TEST_CASE("sink writer: a failing sink is counted, said once, and recovers with a lost line first")
{
    FlakySink sink;
    SinkWriter w(sink, nullptr, 1 << 20, nullptr);
    w.submit(verdict_line("deny") + verdict_line("audit"));
    w.close();
    CHECK(w.counters().written == 2);
    CHECK(w.counters().lost == 0);

    FlakySink s2;
    SinkWriter w2(s2, nullptr, 1 << 20, nullptr);
    s2.fail = true;
    w2.submit(verdict_line("deny") + verdict_line("deny") + verdict_line("would-deny"));
    // Let the writer take that batch while failing.
    for (int i = 0; i < 2000 && w2.counters().lost < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK(w2.counters().lost == 3);
    CHECK(w2.counters().deny_lost == 2);
    CHECK(w2.ever_failed());
    s2.fail = false;
    w2.submit(verdict_line("audit"));
    w2.close();
    CHECK(w2.counters().lost == 3);
    // The lost line, then the line that could be written.
    auto first = s2.text.substr(0, s2.text.find('\n'));
    auto lost = JsonValue::parse(first);
    REQUIRE(lost);
    CHECK(lost->str("type") == "lost");
    CHECK(lost->str("where") == "sink");
    CHECK(lost->get("lost")->integer() == 3);
    CHECK(lost->get("deny_lost")->integer() == 2);
    CHECK(lost->get("total_lost")->integer() == 3);
    CHECK(s2.text.find("\"verdict\":\"audit\"") != std::string::npos);
    CHECK(w2.counters().written == 2);
}

TEST_CASE("sink writer: /dev/full counts every line; the writer never blocks the producer")
{
    FdSink full("/dev/full");
    SinkWriter w(full, nullptr, 1 << 20, nullptr);
    for (int i = 0; i < 100; ++i) w.submit(verdict_line(i % 2 ? "deny" : "would-deny"));
    w.close();
    CHECK(w.counters().written == 0);
    CHECK(w.counters().lost == 100);
    CHECK(w.counters().deny_lost == 50);
    CHECK(full.error().find("ENOSPC") != std::string::npos);
}

TEST_CASE("sink writer: a reader that does not read applies back-pressure, then on_room")
{
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    const std::string path = "/proc/self/fd/" + std::to_string(p[1]);
    auto sink = std::make_unique<FdSink>(path);  // opened anew: a second write end of the pipe
    ::close(p[1]);
    std::atomic<int> rooms{0};
    SinkWriter w(*sink, nullptr, 1 << 16, [&] { ++rooms; });
    const std::string line(1023, 'x');
    bool refused = false;
    int submitted = 0;
    // The pipe holds 64 KiB and the queue 64 KiB: within a few hundred
    // KiB submit() must say "full", because nobody reads.
    for (; submitted < 1000 && !refused; ++submitted) refused = !w.submit(line + "\n");
    CHECK(refused);
    CHECK(submitted < 400);
    // Read everything: the writer drains and says there is room.
    std::string got;
    char buf[65536];
    std::thread reader([&] {
        ssize_t n;
        while ((n = ::read(p[0], buf, sizeof buf)) > 0) got.append(buf, size_t(n));
    });
    for (int i = 0; i < 5000 && rooms == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK(rooms >= 1);
    w.close();
    sink.reset();  // closes the pipe's write end: the reader ends
    reader.join();
    ::close(p[0]);
    CHECK(got.size() == size_t(submitted) * 1024);
    CHECK(w.counters().written == uint64_t(submitted));
    CHECK(w.counters().lost == 0);
}

TEST_CASE("sink writer: reopen() writes to the file by its name again (log rotation)")
{
    char dir[] = "/tmp/bulwark-reopen.XXXXXX";
    REQUIRE(::mkdtemp(dir));
    const std::string file = std::string(dir) + "/events.jsonl";
    FdSink sink(file);
    SinkWriter w(sink, nullptr, 1 << 20, nullptr);
    w.submit(verdict_line("deny"));
    for (int i = 0; i < 2000 && w.counters().written < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::filesystem::rename(file, file + ".1");
    w.reopen();
    w.submit(verdict_line("audit"));
    w.close();
    CHECK(slurp(file + ".1") == verdict_line("deny"));
    CHECK(slurp(file) == verdict_line("audit"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("sink: a write cut by a failure never glues two lines together")
{
    // A pipe whose reader is gone fails every write; a file is the control.
    char dir[] = "/tmp/bulwark-sink.XXXXXX";
    REQUIRE(::mkdtemp(dir));
    FdSink sink(std::string(dir) + "/e");
    CHECK(sink.write("{\"a\":1}\n"));
    CHECK(slurp(std::string(dir) + "/e") == "{\"a\":1}\n");
    std::filesystem::remove_all(dir);

    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    FdSink closed("/proc/self/fd/" + std::to_string(p[1]));
    ::close(p[1]);
    ::close(p[0]);
    std::signal(SIGPIPE, SIG_IGN);
    CHECK_FALSE(closed.write("{\"a\":1}\n"));
    CHECK(closed.error().find("EPIPE") != std::string::npos);
}

TEST_CASE("stats and lost lines: every field, in order, valid JSON")
{
    StatsLine s;
    s.now_ns = 1'764'000'000'123'456'789;
    s.generation = 3;
    s.decoded = {10, 1};
    s.kernel.assign(BW_NR_STATS, 0);
    s.kernel[BW_STAT_EVENTS_LOST] = 7;
    s.kernel[BW_STAT_DENY_EVENTS_LOST] = 5;
    s.kernel[BW_STAT_DENIED] = 12;
    s.kernel[BW_STAT_TAMPER_DENIED] = 3;
    s.kernel[BW_STAT_MON_REPORTED] = 4;
    s.sink = {20, 2, 1};
    auto v = JsonValue::parse(stats_line(s));
    REQUIRE(v);
    std::vector<std::string> keys;
    for (const auto& [k, _] : v->members()) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"type", "time", "generation", "events", "malformed", "lost", "deny_lost",
                                           "denied", "would_deny", "audited", "exec_denied", "connect_denied",
                                           "tamper_denied", "walk_too_deep", "walk_no_mount", "walk_disconnected", "map_missing", "rule_hits_full", "monitor_events", "suppressed",
                                           "unresolved", "killed", "kill_failed", "written", "sink_lost",
                                           "sink_deny_lost"});
    CHECK(v->str("time") == "2025-11-24T16:00:00.123456789Z");
    CHECK(v->get("lost")->integer() == 7);
    CHECK(v->get("deny_lost")->integer() == 5);
    CHECK(v->get("denied")->integer() == 12);
    CHECK(v->get("tamper_denied")->integer() == 3);
    CHECK(v->get("sink_lost")->integer() == 2);

    auto l = JsonValue::parse(lost_line(LostLine{"ring-buffer", 1'000'000'000, 2'000'000'000, 3, 2, 9, 4}));
    REQUIRE(l);
    CHECK(l->str("type") == "lost");
    CHECK(l->str("where") == "ring-buffer");
    CHECK(l->str("since") == "1970-01-01T00:00:01.000000000Z");
    CHECK(l->str("time") == "1970-01-01T00:00:02.000000000Z");
    CHECK(l->get("lost")->integer() == 3);
    CHECK(l->get("total_deny_lost")->integer() == 4);
}

namespace {

MetricsSnapshot sample_metrics()
{
    MetricsSnapshot m;
    m.verdicts = {{"web", "file", "deny", "web.toml:5", 3}, {"web", "file", "deny", "web.toml:9", 1},
                  {"web", "connect", "would-deny", "web.toml:20", 2}, {"odd \"name\"", "exec", "audit", "x.toml:1", 1}};
    m.kernel.assign(BW_NR_STATS, 0);
    m.kernel[BW_STAT_DENIED] = 4;
    m.kernel[BW_STAT_EVENTS_LOST] = 6;
    m.decoded = {7, 0};
    m.sink = {9, 1, 1};
    m.reloads_ok = 2;
    m.generation = 3;
    m.generation_since_ns = 1'000'000'000;
    m.now_ns = 3'500'000'000;
    m.attached = {"file_open", "socket_connect", "file_open"};
    m.missing = {"file_truncate"};
    m.bpf_stats_enabled = true;
    m.run_stats = {{"file_open", 1500, 3}, {"file_open", 500, 1}};
    return m;
}

}  // namespace

TEST_CASE("prometheus: names, labels, values; one series per label set")
{
    const std::string t = render_prometheus(sample_metrics());
    CHECK(t.find("bulwark_verdicts_total{kind=\"file\",verdict=\"deny\",policy=\"web\"} 4\n") != std::string::npos);
    CHECK(t.find("bulwark_rule_hits_total{policy=\"web\",rule=\"web.toml:5\",verdict=\"deny\"} 3\n") != std::string::npos);
    CHECK(t.find("bulwark_verdicts_total{kind=\"exec\",verdict=\"audit\",policy=\"odd \\\"name\\\"\"} 1\n") !=
          std::string::npos);
    CHECK(t.find("bulwark_kernel_verdicts_total{verdict=\"deny\"} 4\n") != std::string::npos);
    CHECK(t.find("bulwark_events_lost_total{where=\"ring_buffer\"} 6\n") != std::string::npos);
    CHECK(t.find("bulwark_events_lost_total{where=\"sink\"} 1\n") != std::string::npos);
    CHECK(t.find("bulwark_events_written_total 9\n") != std::string::npos);
    CHECK(t.find("bulwark_reloads_total{result=\"ok\"} 2\n") != std::string::npos);
    CHECK(t.find("bulwark_generation 3\n") != std::string::npos);
    CHECK(t.find("bulwark_generation_age_seconds 2.5\n") != std::string::npos);
    CHECK(t.find("bulwark_program_attached{program=\"file_open\"} 2\n") != std::string::npos);
    CHECK(t.find("bulwark_hook_missing{hook=\"file_truncate\"} 1\n") != std::string::npos);
    CHECK(t.find("bulwark_bpf_run_seconds_total{program=\"file_open\"} 2e-06\n") != std::string::npos);
    CHECK(t.find("bulwark_bpf_runs_total{program=\"file_open\"} 4\n") != std::string::npos);
    // Every sample's family was declared with HELP and TYPE before it.
    std::istringstream in(t);
    std::string line, declared;
    while (std::getline(in, line)) {
        if (line.rfind("# TYPE ", 0) == 0) declared = line.substr(7, line.find(' ', 7) - 7);
        if (line.empty() || line[0] == '#') continue;
        std::string name = line.substr(0, line.find_first_of("{ "));
        CHECK_MESSAGE(name == declared, line);
    }
    auto off = sample_metrics();
    off.bpf_stats_enabled = false;
    CHECK(render_prometheus(off).find("bulwark_bpf_run_seconds_total") == std::string::npos);
    // The fanotify backend's counters, only while it runs.
    CHECK(t.find("bulwark_fanotify_") == std::string::npos);
    auto fan = sample_metrics();
    fan.fanotify = FanotifyTotals{11, 3, 2, 5, 1, 4};
    const std::string ft = render_prometheus(fan);
    CHECK(ft.find("bulwark_fanotify_events_total 11\n") != std::string::npos);
    CHECK(ft.find("bulwark_fanotify_ignored_total 3\n") != std::string::npos);
    CHECK(ft.find("bulwark_fanotify_own_total 2\n") != std::string::npos);
    CHECK(ft.find("bulwark_fanotify_cache_hits_total 5\n") != std::string::npos);
    CHECK(ft.find("bulwark_fanotify_unknown_call_total 1\n") != std::string::npos);
    CHECK(ft.find("bulwark_fanotify_failed_total 4\n") != std::string::npos);
}

TEST_CASE("metrics server: GET /metrics over loopback HTTP; 404 elsewhere")
{
    namespace asio = boost::asio;
    asio::io_context io;
    int renders = 0;
    MetricsServer server(io, parse_listen_address("127.0.0.1:0"), [&] {
        ++renders;
        return std::string("bulwark_generation 1\n");
    });
    server.start();
    const auto at = server.local_endpoint();
    CHECK(at.address().is_loopback());
    CHECK(at.port() != 0);
    std::string answers;
    std::thread client([&] {
        for (const char* target : {"/metrics", "/nope"}) {
            asio::io_context cio;
            asio::ip::tcp::socket s(cio);
            s.connect(at);
            std::string req = std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            asio::write(s, asio::buffer(req));
            boost::system::error_code ec;
            std::string got;
            char buf[4096];
            for (;;) {
                size_t n = s.read_some(asio::buffer(buf), ec);
                got.append(buf, n);
                if (ec) break;
            }
            answers += got + "\n=====\n";
        }
        asio::post(io, [&] {
            server.stop();
            io.stop();
        });
    });
    io.run_for(std::chrono::seconds(20));
    client.join();
    CHECK(renders == 1);
    CHECK(answers.find("HTTP/1.1 200 OK") != std::string::npos);
    CHECK(answers.find("Content-Type: text/plain; version=0.0.4; charset=utf-8") != std::string::npos);
    CHECK(answers.find("bulwark_generation 1\n") != std::string::npos);
    CHECK(answers.find("HTTP/1.1 404 Not Found") != std::string::npos);
}

TEST_CASE("metrics address: loopback and wildcard, IPv4 and IPv6; bad ones say what to write")
{
    CHECK(parse_listen_address("127.0.0.1:9464").port() == 9464);
    CHECK(parse_listen_address("[::1]:9464").address().is_v6());
    CHECK(parse_listen_address("0.0.0.0:1").address().is_unspecified());
    for (const char* bad : {"9464", "localhost:9464", "127.0.0.1:", "127.0.0.1:99999", "::1:9464", "[::1]9464"}) {
        try {
            parse_listen_address(bad);
            FAIL("accepted " << bad);
        } catch (const Error& e) {
            CHECK(std::string(e.hint()).find("127.0.0.1:9464") != std::string::npos);
        }
    }
}

TEST_CASE("sd_notify: one datagram to $NOTIFY_SOCKET (path and abstract); nothing without it")
{
    ::unsetenv("NOTIFY_SOCKET");
    CHECK_FALSE(sd_notify("READY=1"));
    for (bool abstract : {false, true}) {
        int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::string name = "/tmp/bulwark-notify-" + std::to_string(::getpid()) + (abstract ? "-a" : "");
        std::string env = abstract ? "@" + name.substr(1) : name;
        std::memcpy(a.sun_path, name.c_str(), name.size());
        if (abstract) a.sun_path[0] = '\0';
        ::unlink(name.c_str());
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), socklen_t(offsetof(sockaddr_un, sun_path) + name.size())) == 0);
        ::setenv("NOTIFY_SOCKET", env.c_str(), 1);
        CHECK(sd_notify("READY=1\nSTATUS=enforce, generation 1"));
        char buf[256] = {};
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        CHECK(std::string(buf, n > 0 ? size_t(n) : 0) == "READY=1\nSTATUS=enforce, generation 1");
        ::close(fd);
        if (!abstract) ::unlink(name.c_str());
    }
    ::unsetenv("NOTIFY_SOCKET");
}
