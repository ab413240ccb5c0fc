// bulwark as a service, with real enforcement: READY=1 to $NOTIFY_SOCKET
// only once denials hold, stats counters equal to the EPERMs caused, exact
// loss accounting with the smallest ring buffer and a reader that stalls,
// a full sink that changes nothing about enforcement, and OCSF verdicts.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

std::string deny_policy(const std::string& name, const std::string& path) {
    return cat("[policy]\nname = \"", name, "\"\n\n[[file]] # deny\npaths = [\"", path, "\"]\naction = \"deny\"\n");
}

// The port bulwark's stderr names ("metrics at http://127.0.0.1:PORT/metrics").
int metrics_port(const Bulwark& bw) {
    std::string err = bw.stderr_all();
    auto at = err.find("metrics at http://127.0.0.1:");
    if (at == std::string::npos) fail("no metrics address on stderr: ", bw.stderr_text());
    return std::atoi(err.c_str() + at + std::strlen("metrics at http://127.0.0.1:"));
}

// GET /metrics over loopback; the body.
std::string scrape(int port) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) fail("connect to metrics: ", errno_name(errno));
    write_all(s, "GET /metrics HTTP/1.1\r\nHost: guest\r\nConnection: close\r\n\r\n");
    std::string got;
    char buf[8192];
    pollfd p{s, POLLIN, 0};
    while (poll(&p, 1, kEventTimeoutMs) == 1) {
        ssize_t n = read(s, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
    }
    close(s);
    if (got.rfind("HTTP/1.1 200", 0) != 0) fail("metrics answered: ", got.substr(0, 200));
    return got.substr(got.find("\r\n\r\n") + 4);
}

// A sample's value from the exposition, -1 if absent.
long long sample(const std::string& text, const std::string& series) {
    auto at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::atoll(text.c_str() + at + series.size() + 2);
}

}  // namespace

TEST("service: READY=1 only once denials hold; stats denied equals the EPERMs caused, lost 0") {
    Fixture fx;
    const std::string secret = fx.data + "/secret";
    write_file(secret, "s\n");
    auto pol = write_policy(fx.pol + "/svc.toml", deny_policy("svc", secret));
    NotifySocket notify;
    Bulwark bw({{pol.path}, false, "-", {"--stats-interval", "1"}});
    // Readiness from the service manager's side: the datagram, not the line.
    std::string msg = notify.next(kReadyTimeoutMs);
    require(msg.rfind("READY=1", 0) == 0, "no READY=1 datagram (got '", msg, "'); stderr: ", bw.stderr_text());
    require(msg.find("STATUS=enforce, generation 1") != std::string::npos, "READY=1 without its STATUS: ", msg);
    // The very first open after READY=1 is already denied.
    expect_open(secret, O_RDONLY, EPERM, "the first open after READY=1");
    bw.wait_ready({"svc"});
    constexpr int kOpens = 20;
    for (int i = 1; i < kOpens; ++i) expect_open(secret, O_RDONLY, EPERM);
    for (int i = 0; i < kOpens; ++i) check_event(bw.next_verdict("denied open"), expect_self("deny", "svc", pol.rule("deny"), secret, "read"));
    // A periodic stats line (--stats-interval 1) that has seen all of them.
    std::optional<Json> periodic;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kEventTimeoutMs * 3);
    while (!periodic && std::chrono::steady_clock::now() < deadline) {
        auto line = bw.next_line(kEventTimeoutMs);
        if (!line) break;
        auto j = Json::parse(*line);
        if (j && j->str("type") == "stats" && j->num("denied") == kOpens) periodic = j;
    }
    require(periodic.has_value(), "no periodic stats line with denied = ", kOpens);
    require(periodic->num("lost") == 0 && periodic->num("deny_lost") == 0 && periodic->num("sink_lost") == 0,
            "losses in ", periodic->line());
    require(periodic->num("written") >= kOpens + 1, "written < ", kOpens + 1, " in ", periodic->line());
    bw.stop_and_check();
    const Json last = final_stats(bw);
    require(last.num("denied") == kOpens && last.num("lost") == 0, "final stats: ", last.line());
    // STOPPING=1 on the orderly stop.
    std::string stopping = notify.next(kEventTimeoutMs);
    require(stopping == "STOPPING=1", "after SIGTERM: '", stopping, "' (want STOPPING=1)");
}

TEST("service: smallest ring buffer, a reader that stalls: exact lost and deny_lost, every denial still EPERM") {
    Fixture fx;
    const std::string secret = fx.data + "/secret";
    write_file(secret, "s\n");
    auto pol = write_policy(fx.pol + "/svc.toml", deny_policy("svc", secret));
    Bulwark bw({{pol.path}, false, "-", {"--ring-buffer-mb", "1", "--stats-interval", "0"}});
    bw.wait_ready({"svc"});
    // Nobody reads bulwark's output while these happen: the pipe fills,
    // then the writer's queue, then the ring buffer; the kernel counts the rest.
    constexpr int kOpens = 30000;
    for (int i = 0; i < kOpens; ++i) {
        int e = open_errno(secret, O_RDONLY);
        if (e != EPERM) fail("open #", i, " gave ", errno_name(e), " (want EPERM: denials must hold while events are lost)");
    }
    int st = bw.stop();
    require(WIFEXITED(st) && WEXITSTATUS(st) == 0, "bulwark ", bw.describe_exit(), "; stderr: ", bw.stderr_text());
    long long denies = 0, lost_lines = 0, lost = 0, deny_lost = 0;
    std::vector<std::string> all = bw.others();
    all.insert(all.end(), bw.tail_lines().begin(), bw.tail_lines().end());
    for (const auto& l : all) {
        auto j = Json::parse(l);
        if (!j) fail("not a JSON line: ", l.substr(0, 200));
        if (j->str("type") == "verdict" && j->str("verdict") == "deny") ++denies;
        if (j->str("type") == "lost") {
            require(j->str("where") == "ring-buffer", "lost line from ", j->str("where"), ": ", l);
            ++lost_lines;
            lost += j->num("lost");
            deny_lost += j->num("deny_lost");
        }
    }
    const Json stats = final_stats(bw);
    require(stats.num("denied") == kOpens, "stats denied ", stats.num("denied"), " (want ", kOpens, ")");
    require(stats.num("deny_lost") > 0, "nothing was lost: the test did not overflow the ring buffer (", stats.line(), ")");
    require(denies + stats.num("deny_lost") == kOpens, denies, " deny events + ", stats.num("deny_lost"),
            " deny_lost != ", kOpens, " EPERMs");
    require(stats.num("lost") == stats.num("deny_lost"), "lost ", stats.num("lost"), " != deny_lost ",
            stats.num("deny_lost"), " (every event here is a denial)");
    require(lost_lines > 0 && lost == stats.num("lost") && deny_lost == stats.num("deny_lost"),
            "lost lines (", lost_lines, ") add up to ", lost, "/", deny_lost, ", stats say ", stats.num("lost"), "/",
            stats.num("deny_lost"));
    require(stats.num("sink_lost") == 0, "sink_lost in ", stats.line());
    std::printf("# ring buffer 1 MiB, reader stalled: %d EPERMs, %lld deny events delivered, %lld lost in %lld lost lines\n",
                kOpens, denies, deny_lost, lost_lines);
    std::fflush(stdout);
}

TEST("service: a full sink (/dev/full): enforcement holds, every line counted, metrics say so") {
    Fixture fx;
    const std::string secret = fx.data + "/secret";
    write_file(secret, "s\n");
    auto pol = write_policy(fx.pol + "/svc.toml", deny_policy("svc", secret));
    NotifySocket notify;
    Bulwark bw({{pol.path}, false, "/dev/full", {"--metrics", "127.0.0.1:0", "--stats-interval", "0"}});
    std::string msg = notify.next(kReadyTimeoutMs);
    require(msg.rfind("READY=1", 0) == 0, "no READY=1 (got '", msg, "'); stderr: ", bw.stderr_text());
    constexpr int kOpens = 50;
    for (int i = 0; i < kOpens; ++i) expect_open(secret, O_RDONLY, EPERM, "with a full sink");
    const int port = metrics_port(bw);
    std::string m;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kEventTimeoutMs * 3);
    do {
        m = scrape(port);
    } while (sample(m, "bulwark_events_lost_total{where=\"sink\"}") < kOpens + 1 &&
             std::chrono::steady_clock::now() < deadline && (usleep(50000), true));
    require(sample(m, "bulwark_kernel_verdicts_total{verdict=\"deny\"}") == kOpens, "kernel denials: ",
            sample(m, "bulwark_kernel_verdicts_total{verdict=\"deny\"}"));
    require(sample(m, "bulwark_events_lost_total{where=\"sink\"}") == kOpens + 1, "sink lost ",
            sample(m, "bulwark_events_lost_total{where=\"sink\"}"), " (want the ready line + ", kOpens, ")");
    require(sample(m, "bulwark_denials_lost_total{where=\"sink\"}") == kOpens, "sink denials lost ",
            sample(m, "bulwark_denials_lost_total{where=\"sink\"}"));
    require(sample(m, "bulwark_events_lost_total{where=\"ring_buffer\"}") == 0, "ring buffer losses with a full sink");
    require(sample(m, "bulwark_verdicts_total{kind=\"file\",verdict=\"deny\",policy=\"svc\"}") == kOpens,
            "verdicts_total: ", sample(m, "bulwark_verdicts_total{kind=\"file\",verdict=\"deny\",policy=\"svc\"}"));
    require(sample(m, "bulwark_rule_hits_total{policy=\"svc\",rule=\"" + pol.rule("deny") + "\",verdict=\"deny\"}") ==
                kOpens,
            "rule hits for ", pol.rule("deny"));
    std::string err = bw.stderr_all();
    require(err.find("cannot write events to /dev/full") != std::string::npos, "stderr did not say: ", bw.stderr_text());
    int st = bw.stop();
    require(WIFEXITED(st) && WEXITSTATUS(st) == 4, "after SIGTERM bulwark ", bw.describe_exit(), " (want exit 4: events were lost)");
    // Detached: nothing is denied any more.
    expect_open(secret, O_RDONLY, 0, "after bulwark stopped");
}

TEST("service: --events-format ocsf: denials as File System and Network Activity with security_control") {
    Fixture fx;
    const std::string secret = fx.data + "/secret";
    write_file(secret, "s\n");
    auto pol = write_policy(fx.pol + "/svc.toml",
                            deny_policy("svc", secret) + "\n[[connect]] # net\ncidrs = [\"127.0.0.77/32\"]\nports = [9]\naction = \"deny\"\n");
    const std::string out = fx.dir + "/ocsf.jsonl";
    NotifySocket notify;
    Bulwark bw({{pol.path}, false, out, {"--events-format", "ocsf", "--stats-interval", "0"}});
    std::string msg = notify.next(kReadyTimeoutMs);
    require(msg.rfind("READY=1", 0) == 0, "no READY=1 (got '", msg, "'); stderr: ", bw.stderr_text());
    expect_open(secret, O_RDONLY, EPERM);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(9);
    a.sin_addr.s_addr = htonl(0x7f00004d);
    int rc = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    int e = rc == 0 ? 0 : errno;
    close(s);
    require(e == EPERM, "connect to 127.0.0.77:9 gave ", errno_name(e), " (want EPERM)");
    int st = bw.stop();
    require(WIFEXITED(st) && WEXITSTATUS(st) == 0, "bulwark ", bw.describe_exit());
    std::string text = read_file(out);
    std::vector<std::string> lines;
    for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) lines.push_back(text.substr(at, nl - at));
    std::string file_line, net_line;
    for (const auto& l : lines) {
        require(l.rfind("{\"class_uid\":", 0) == 0, "not an OCSF object: ", l.substr(0, 200));
        if (l.find("\"class_uid\":1001,") != std::string::npos) file_line = l;
        if (l.find("\"class_uid\":4001,") != std::string::npos) net_line = l;
    }
    require(!file_line.empty(), "no File System Activity object in ", lines.size(), " lines");
    require(!net_line.empty(), "no Network Activity object in ", lines.size(), " lines");
    for (const char* want : {"\"activity_id\":14,", "\"type_uid\":100114,", "\"action_id\":2,", "\"disposition_id\":2,",
                             "\"severity_id\":4,", "\"metadata\":{\"version\":\"1.4.0\"", "\"device\":{\"type_id\":1,"})
        require(file_line.find(want) != std::string::npos, "file object lacks ", want, ": ", file_line);
    require(file_line.find("\"file\":{\"name\":\"secret\",\"path\":\"" + secret + "\",\"type_id\":") != std::string::npos,
            "file object: ", file_line);
    require(file_line.find("\"firewall_rule\":{\"name\":\"" + pol.rule("deny") + "\"") != std::string::npos,
            "file object names not the rule ", pol.rule("deny"), ": ", file_line);
    require(file_line.find("\"policy\":{\"name\":\"svc\"") != std::string::npos, "no policy: ", file_line);
    require(file_line.find(cat("\"actor\":{\"process\":{\"pid\":", getpid(), ",")) != std::string::npos,
            "actor is not this process: ", file_line);
    for (const char* want : {"\"activity_id\":1,", "\"action_id\":2,", "\"disposition_id\":2,",
                             "\"dst_endpoint\":{\"ip\":\"127.0.0.77\",\"port\":9}", "\"protocol_num\":6,", "\"direction_id\":2,"})
        require(net_line.find(want) != std::string::npos, "network object lacks ", want, ": ", net_line);
    require(net_line.find("\"firewall_rule\":{\"name\":\"" + pol.rule("net") + "\"") != std::string::npos,
            "network object names not the rule ", pol.rule("net"), ": ", net_line);
}
