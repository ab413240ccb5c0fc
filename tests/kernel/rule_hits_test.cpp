// Host kernel tests (root) of the per-rule hit counters (kernel/rule_hits.hpp):
// `bulwark status` and the metrics endpoint count every verdict of every
// rule exactly, from the kernel's per-CPU counters (connect: cgroup
// socket hooks, which load on this host) and from the fanotify backend,
// across a reload and across a SIGKILL and takeover. Rules are scoped to a
// cgroup the test creates; children of the test make the calls.
#include "harness.hpp"

#include "util/json_value.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

using namespace bulwark::test;
using bulwark::JsonValue;

namespace {

struct Hits {
    int64_t deny = -1, would_deny = -1, audit = -1;
    bool operator==(const Hits&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Hits& h)
{
    return os << "{deny " << h.deny << ", would_deny " << h.would_deny << ", audit " << h.audit << "}";
}

int64_t member(const JsonValue& v, const char* key)
{
    const JsonValue* m = v.get(key);
    return m && m->is_integer() ? m->integer() : -1;
}

Hits hits_of(const JsonValue& v)
{
    return {member(v, "deny"), member(v, "would_deny"), member(v, "audit")};
}

// `bulwark status --json` (of the daemon on `socket`, or from `pins`).
JsonValue status(const std::string& socket, const std::string& pins = "")
{
    int st = 0;
    std::string cmd = bulwark_binary() + " status --json --socket " + socket;
    if (!pins.empty()) cmd += " --pin-dir " + pins;
    const std::string out = command_output(cmd, &st);
    INFO("status said: " << out);
    REQUIRE(WIFEXITED(st));
    REQUIRE(WEXITSTATUS(st) == 0);
    auto v = JsonValue::parse(out.substr(0, out.find('\n')));
    REQUIRE(v);
    return *v;
}

// The hits status gives the rule `rule` of `policy`; all -1 when not listed.
Hits rule_hits(const JsonValue& status, const std::string& policy, const std::string& rule)
{
    const JsonValue* rules = status.get("rules");
    REQUIRE(rules);
    REQUIRE(rules->is_array());
    for (const auto& r : rules->array())
        if (r.str("policy") == policy && r.str("rule") == rule) return hits_of(r);
    return {};
}

Hits unnamed(const JsonValue& status)
{
    const JsonValue* u = status.get("rules_unnamed");
    REQUIRE(u);
    return hits_of(*u);
}

// A TCP port nothing listens on now (the kernel's pick for a bind to 0).
int free_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t len = sizeof a;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    ::close(fd);
    return ntohs(a.sin_port);
}

// GET /metrics from 127.0.0.1:port; the whole response.
std::string scrape(int port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    const std::string req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    REQUIRE(::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
}

int open_errno(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    ::close(fd);
    return 0;
}

}  // namespace

TEST_CASE("rule hits: status and metrics count every verdict of every rule exactly, zeros included, "
          "across a reload (connect, cgroup socket hooks)")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string net = scoped_policy("net", cg,
                                          "[[connect]]\ncidrs = [\"127.0.0.2/32\"]\naction = \"deny\"\n\n"
                                          "[[connect]]\ncidrs = [\"127.0.0.4/32\"]\naction = \"deny\"\n");
    const std::string watch =
        scoped_policy("watch", cg, "[[connect]]\ncidrs = [\"127.0.0.3/32\"]\naction = \"deny\"\n", "audit");
    const std::string net_file = tmp.write("net.toml", net), watch_file = tmp.write("watch.toml", watch);
    const std::string rule_a = "net.toml:" + std::to_string(line_of(net, "[[connect]]"));
    const std::string rule_b = "net.toml:" + std::to_string(line_of(net, "127.0.0.4") - 1);  // its [[connect]]
    const std::string rule_c = "watch.toml:" + std::to_string(line_of(watch, "[[connect]]"));
    const std::string socket = tmp.path() + "/control.sock";
    const int port = free_port();

    Bulwark bw({net_file, watch_file}, {"--socket", socket, "--metrics", "127.0.0.1:" + std::to_string(port)});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);

    for (int i = 0; i < 5; ++i) CHECK(connect_in(cg, "127.0.0.2") == EPERM);
    for (int i = 0; i < 3; ++i) CHECK(connect_in(cg, "127.0.0.3") == ECONNREFUSED);  // audit: let through
    CHECK(connect_in(cg, "127.0.0.5") == ECONNREFUSED);                                 // no rule
    {
        const JsonValue s = status(socket);
        INFO("rules: " << s.get("rules")->array().size());
        CHECK(rule_hits(s, "net", rule_a) == Hits{5, 0, 0});
        CHECK(rule_hits(s, "net", rule_b) == Hits{0, 0, 0});  // listed though it never fired
        CHECK(rule_hits(s, "watch", rule_c) == Hits{0, 3, 0});
        CHECK(unnamed(s) == Hits{0, 0, 0});
        CHECK(s.get("rules")->array().size() == 3);
    }
    // The status reply came from the engine's thread, so metrics listens.
    {
        const std::string m = scrape(port);
        INFO(m);
        CHECK(m.find("bulwark_rule_hits_total{policy=\"net\",rule=\"" + rule_a + "\",verdict=\"deny\"} 5\n") !=
              std::string::npos);
        CHECK(m.find("bulwark_rule_hits_total{policy=\"watch\",rule=\"" + rule_c + "\",verdict=\"would-deny\"} 3\n") !=
              std::string::npos);
        CHECK(m.find("bulwark_verdicts_total{kind=\"connect\",verdict=\"deny\",policy=\"net\"} 5\n") !=
              std::string::npos);
    }

    // A reload publishes a new generation: counts of the old one stay, by rule.
    int st = 0;
    command_output(bulwark_binary() + " reload --socket " + socket, &st);
    REQUIRE(WIFEXITED(st));
    REQUIRE(WEXITSTATUS(st) == 0);
    for (int i = 0; i < 2; ++i) CHECK(connect_in(cg, "127.0.0.2") == EPERM);
    CHECK(connect_in(cg, "127.0.0.4") == EPERM);
    {
        const JsonValue s = status(socket);
        CHECK(member(s, "generation") > ready->num("generation"));
        CHECK(rule_hits(s, "net", rule_a) == Hits{7, 0, 0});
        CHECK(rule_hits(s, "net", rule_b) == Hits{1, 0, 0});
        CHECK(rule_hits(s, "watch", rule_c) == Hits{0, 3, 0});
    }
    auto events = bw.stop(&st);
    CHECK(exited_ok(st));
    int denials = 0, would = 0;
    for (const auto& e : verdicts(events)) {
        denials += e.str("verdict") == "deny";
        would += e.str("verdict") == "would-deny";
    }
    CHECK(denials == 8);
    CHECK(would == 3);
}

TEST_CASE("rule hits: the fanotify backend counts its verdicts in the same counters; status and metrics show "
          "its own counters")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    Tmpfs fs(tmp);
    const std::string secret = fs.write("secret", "s3cret\n");
    const std::string other = fs.write("other", "public\n");
    const std::string text = scoped_policy("secrets", cg,
                                           "[[file]]\npaths = [\"" + secret +
                                               "\"]\naccess = [\"read\"]\naction = \"deny\"\n");
    const std::string file = tmp.write("secrets.toml", text);
    const std::string rule = "secrets.toml:" + std::to_string(line_of(text, "[[file]]"));
    const std::string socket = tmp.path() + "/control.sock";
    const int port = free_port();
    Bulwark bw({file}, {"--socket", socket, "--metrics", "127.0.0.1:" + std::to_string(port)});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);
    REQUIRE(ready->str("backends.file") == "fanotify");

    Errnos* res = shared_errnos();
    const int st_child = in_child(&cg, [res, &secret, &other] {
        for (int i = 0; i < 4; ++i) res->err[i] = open_errno(secret);
        res->err[4] = open_errno(other);
        return 0;
    });
    CHECK(exited_ok(st_child));
    const int want[] = {EPERM, EPERM, EPERM, EPERM, 0};
    check_errnos(res, want, 5);
    CHECK(open_errno(secret) == 0);  // the test, outside the cgroup
    const JsonValue s = status(socket);
    CHECK(rule_hits(s, "secrets", rule) == Hits{4, 0, 0});
    // The backend's own counters: six opens on the tmpfs it marks, each
    // asked once; `other` no policy can deny to anyone: marked ignored
    // after its first open; the secret's dentry chain is known after the
    // first of its five opens.
    const JsonValue* backends = s.get("backends");
    REQUIRE(backends);
    CHECK(backends->str("file") == "fanotify");
    const JsonValue* fan = s.get("fanotify");
    REQUIRE(fan);
    INFO("fanotify: events " << member(*fan, "events") << " ignored " << member(*fan, "ignored") << " own "
                              << member(*fan, "own") << " cache_hits " << member(*fan, "cache_hits"));
    CHECK(member(*fan, "events") == 6);
    CHECK(member(*fan, "ignored") == 1);
    CHECK(member(*fan, "own") == 0);
    CHECK(member(*fan, "cache_hits") == 4);
    CHECK(member(*fan, "unknown_call") == 0);
    CHECK(member(*fan, "failed") == 0);
    const std::string metrics = scrape(port);
    CHECK(metrics.find("\nbulwark_fanotify_events_total 6\n") != std::string::npos);
    CHECK(metrics.find("\nbulwark_fanotify_ignored_total 1\n") != std::string::npos);
    CHECK(metrics.find("\nbulwark_fanotify_cache_hits_total 4\n") != std::string::npos);
    int st = 0;
    bw.stop(&st);
    CHECK(exited_ok(st));
}

TEST_CASE("rule hits: counted while no engine runs, read from the pins, and reported after a takeover")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    Bpffs bpf(tmp);
    const std::string pins = bpf.path() + "/bulwark";
    const std::string text = scoped_policy("net", cg, "[[connect]]\ncidrs = [\"127.0.0.2/32\"]\naction = \"deny\"\n");
    const std::string file = tmp.write("net.toml", text);
    const std::string rule = "net.toml:" + std::to_string(line_of(text, "[[connect]]"));
    const std::string socket = tmp.path() + "/control.sock";
    {
        Bulwark a({file}, {"--pin-dir", pins, "--socket", socket});
        INFO("bulwark stderr: " << a.errors());
        REQUIRE(a.wait_ready());
        for (int i = 0; i < 3; ++i) CHECK(connect_in(cg) == EPERM);
        CHECK(rule_hits(status(socket), "net", rule) == Hits{3, 0, 0});
        REQUIRE(::kill(a.pid(), SIGKILL) == 0);
        a.wait_exit();
    }
    for (int i = 0; i < 2; ++i) CHECK(connect_in(cg) == EPERM);  // no engine runs
    {
        // No image names the dead engine's rules here: totals by verdict.
        const JsonValue s = status(tmp.path() + "/none.sock", pins);
        CHECK(s.str("source") == "pins");
        CHECK(unnamed(s) == Hits{5, 0, 0});
    }
    Bulwark b({file}, {"--pin-dir", pins, "--socket", socket});
    INFO("bulwark stderr: " << b.errors());
    REQUIRE(b.wait_ready());
    CHECK(connect_in(cg) == EPERM);
    const JsonValue s = status(socket);
    CHECK(rule_hits(s, "net", rule) == Hits{1, 0, 0});  // this engine's generation
    CHECK(unnamed(s) == Hits{5, 0, 0});                 // the earlier engine's
    int st = 0;
    b.stop(&st);
    CHECK(exited_ok(st));
}
