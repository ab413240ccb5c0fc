// Host kernel tests (root) of the connect backend without BPF-LSM: cgroup
// socket-address hooks on the cgroup v2 root (bpf/cgroup/connect.bpf.c).
// `bulwark run` on this host (which refuses BPF-LSM) with [[connect]]
// rules scoped to a cgroup the test creates; children of the test, moved
// into it or left outside, make the calls and record each errno in shared
// memory; the test checks the errno, the verdict events and the counters.
// A child outside the cgroup makes the same calls and must be untouched.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

using namespace bulwark::test;

namespace {

constexpr int kOk = 0;

sockaddr_in v4(const char* a, uint16_t port)
{
    sockaddr_in s{};
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    inet_pton(AF_INET, a, &s.sin_addr);
    return s;
}

sockaddr_in6 v6(const char* a, uint16_t port)
{
    sockaddr_in6 s{};
    s.sin6_family = AF_INET6;
    s.sin6_port = htons(port);
    inet_pton(AF_INET6, a, &s.sin6_addr);
    return s;
}

// connect(2) or sendto(2) on a fresh socket: kOk or the errno. A refused
// TCP connection (nothing listens) is ECONNREFUSED: it was let through.
template <typename Addr>
int attempt(int family, int type, const Addr& a, bool send)
{
    const int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    const auto* sa = reinterpret_cast<const sockaddr*>(&a);
    const long r = send ? ::sendto(fd, "x", 1, 0, sa, sizeof a) : ::connect(fd, sa, sizeof a);
    const int err = r < 0 ? errno : kOk;
    ::close(fd);
    return err;
}

// The same after bind(2) to `source` (port 0): the kernel sends a
// connection to the unspecified address to that bound source.
template <typename Addr>
int attempt_bound(int family, int type, const Addr& source, const Addr& a, bool send)
{
    const int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0) {
        ::close(fd);
        return -2;
    }
    const auto* sa = reinterpret_cast<const sockaddr*>(&a);
    const long r = send ? ::sendto(fd, "x", 1, 0, sa, sizeof a) : ::connect(fd, sa, sizeof a);
    const int err = r < 0 ? errno : kOk;
    ::close(fd);
    return err;
}

// The keys of a connect verdict event, as the LSM backend writes them
// (engine/events/decoder.cpp decodes both backends' records).
const std::vector<std::string> kConnectKeys{"type", "time", "kind", "verdict", "policy", "rule", "pid", "tid",
                                            "ppid", "uid", "comm", "exe", "cgroup", "addr", "port", "protocol",
                                            "family", "call"};

}  // namespace

TEST_CASE("connect backend: the ready line says cgroup-sock-addr; TCP, UDP, IPv4, IPv6 and IPv4-mapped denials "
          "fail with EPERM in the cgroup only")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string text = scoped_policy("net", cg, R"([[connect]]
cidrs = ["127.0.0.2/32", "::1/128"]
ports = [9]
action = "deny"
)");
    const std::string file = tmp.write("net.toml", text);
    const std::string rule = "net.toml:" + std::to_string(line_of(text, "[[connect]]"));
    Errnos* res = shared_errnos();

    auto ops = [res] {
        int* e = res->err;
        e[0] = attempt(AF_INET, SOCK_STREAM, v4("127.0.0.2", 9), false);         // deny
        e[1] = attempt(AF_INET, SOCK_STREAM, v4("127.0.0.2", 10), false);        // other port
        e[2] = attempt(AF_INET6, SOCK_STREAM, v6("::1", 9), false);              // deny, IPv6
        e[3] = attempt(AF_INET6, SOCK_STREAM, v6("::ffff:127.0.0.2", 9), false); // deny, mapped
        e[4] = attempt(AF_INET, SOCK_DGRAM, v4("127.0.0.2", 9), true);           // deny, UDP sendto
        e[5] = attempt(AF_INET6, SOCK_DGRAM, v6("::1", 9), true);                // deny, UDP6 sendto
        e[6] = attempt(AF_INET, SOCK_DGRAM, v4("127.0.0.4", 9), true);           // other address
        e[7] = attempt(AF_INET, SOCK_DGRAM, v4("127.0.0.2", 9), false);          // deny, UDP connect
        e[8] = attempt(AF_INET6, SOCK_DGRAM, v6("::ffff:127.0.0.2", 9), true);   // deny, mapped UDP sendto
        return 0;
    };
    const int want_inside[] = {EPERM, ECONNREFUSED, EPERM, EPERM, EPERM, EPERM, kOk, EPERM, EPERM};
    const int want_outside[] = {ECONNREFUSED, ECONNREFUSED, ECONNREFUSED, ECONNREFUSED, kOk, kOk, kOk, kOk, kOk};

    Bulwark bw({file});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);
    CHECK(ready->str("mode") == "enforce");
    CHECK(ready->str("backends.connect") == "cgroup-sock-addr");
    const auto programs = ready->list("programs");
    const std::set<std::string> got(programs.begin(), programs.end());
    for (const char* p : {"connect4", "connect6", "sendmsg4", "sendmsg6"}) CHECK_MESSAGE(got.count(p) == 1, p);
    CHECK(got.count("socket_connect") == 0);

    const pid_t inside = run_placed(&cg, ops);
    check_errnos(res, want_inside, std::size(want_inside));
    // The same calls from outside the cgroup: nothing denied, nothing reported.
    run_placed(nullptr, ops);
    check_errnos(res, want_outside, std::size(want_outside));

    int st = 0;
    auto events = bw.stop(&st);
    CHECK(exited_ok(st));
    const auto got_v = verdicts(events);
    struct Want {
        const char *addr, *family, *protocol, *call;
    };
    // The kernel hands a UDP send to a mapped address on an IPv6 socket to
    // the IPv4 hook, as the IPv4 address (docs/decisions/010-backends.md).
    const Want want[] = {
        {"127.0.0.2", "inet", "tcp", "connect"},  {"::1", "inet6", "tcp", "connect"},
        {"::ffff:127.0.0.2", "inet6", "tcp", "connect"}, {"127.0.0.2", "inet", "udp", "sendmsg"},
        {"::1", "inet6", "udp", "sendmsg"},       {"127.0.0.2", "inet", "udp", "connect"},
        {"127.0.0.2", "inet", "udp", "sendmsg"},
    };
    REQUIRE(got_v.size() == std::size(want));
    for (size_t i = 0; i < got_v.size(); ++i) {
        const Json& e = got_v[i];
        CAPTURE(e.text());
        CHECK(has_keys_in_order(e, kConnectKeys));
        CHECK(e.str("kind") == "connect");
        CHECK(e.str("verdict") == "deny");
        CHECK(e.str("policy") == "net");
        CHECK(e.str("rule") == rule);
        CHECK(e.num("pid") == inside);
        CHECK(e.num("tid") == inside);
        CHECK(e.num("ppid") == ::getpid());
        CHECK(e.num("uid") == 0);
        CHECK(e.str("cgroup") == cg.name());
        CHECK(e.str("exe") == self_exe());
        CHECK(e.str("addr") == want[i].addr);
        CHECK(e.num("port") == 9);
        CHECK(e.str("family") == want[i].family);
        CHECK(e.str("protocol") == want[i].protocol);
        CHECK(e.str("call") == want[i].call);
    }
    const Json* stats = stats_of(events);
    REQUIRE(stats);
    CHECK(stats->num("denied") == 7);
    CHECK(stats->num("connect_denied") == 7);
    CHECK(stats->num("lost") == 0);
}

TEST_CASE("connect backend: scope by uid within the cgroup; the unspecified address is loopback")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string text = scoped_policy("nobody-net", cg, R"([[connect]]
cidrs = ["127.0.0.1/32"]
action = "deny"
)",
                                    "enforce", "uid = [65534]\n");
    const std::string file = tmp.write("uid.toml", text);
    Errnos* res = shared_errnos();
    auto ops = [res] {
        res->err[0] = attempt(AF_INET, SOCK_STREAM, v4("127.0.0.1", 9), false);
        res->err[1] = attempt(AF_INET, SOCK_STREAM, v4("0.0.0.0", 9), false);  // reaches 127.0.0.1
        res->err[2] = attempt(AF_INET6, SOCK_STREAM, v6("::ffff:0.0.0.0", 9), false);
        return 0;
    };
    Bulwark bw({file});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);

    pid_t nobody = 0;
    {
        Child c([res, ops] { return ::syscall(SYS_setresuid, 65534, 65534, 65534) == 0 ? ops() : 100; });
        nobody = c.pid();
        cg.add(c.pid());
        c.release();
        CHECK(exited_ok(c.wait()));
    }
    CHECK(res->err[0] == EPERM);
    CHECK(res->err[1] == EPERM);
    CHECK(res->err[2] == EPERM);
    CHECK(exited_ok(in_child(&cg, ops)));      // root in the cgroup: another uid
    CHECK(res->err[0] == ECONNREFUSED);
    CHECK(res->err[1] == ECONNREFUSED);
    CHECK(exited_ok(in_child(nullptr, ops, 65534)));  // uid 65534 outside the cgroup
    CHECK(res->err[0] == ECONNREFUSED);

    auto events = verdicts(bw.stop());
    REQUIRE(events.size() == 3);
    for (const auto& e : events) {
        CAPTURE(e.text());
        CHECK(e.num("pid") == nobody);
        CHECK(e.num("uid") == 65534);
        CHECK(e.str("verdict") == "deny");
    }
    CHECK(events[1].str("addr") == "0.0.0.0");  // as given; matched as 127.0.0.1
    CHECK(events[2].str("addr") == "::ffff:0.0.0.0");
}

TEST_CASE("connect backend: bind(denied) + connect(0.0.0.0) is decided as the bound source it reaches")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string text = scoped_policy("bound", cg, R"([[connect]]
cidrs = ["127.0.0.9/32"]
action = "deny"
)");
    const std::string file = tmp.write("bound.toml", text);
    Errnos* res = shared_errnos();
    auto ops = [res] {
        int* e = res->err;
        e[0] = attempt_bound(AF_INET, SOCK_STREAM, v4("127.0.0.9", 0), v4("0.0.0.0", 9), false);  // reaches .9
        e[1] = attempt_bound(AF_INET, SOCK_DGRAM, v4("127.0.0.9", 0), v4("0.0.0.0", 9), true);    // UDP sendto
        e[2] = attempt_bound(AF_INET6, SOCK_STREAM, v6("::ffff:127.0.0.9", 0), v6("::ffff:0.0.0.0", 9), false);
        e[3] = attempt_bound(AF_INET, SOCK_STREAM, v4("127.0.0.10", 0), v4("0.0.0.0", 9), false);  // reaches .10
        e[4] = attempt(AF_INET, SOCK_STREAM, v4("0.0.0.0", 9), false);                            // unbound: .1
        return 0;
    };
    Bulwark bw({file});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);

    pid_t inside = 0;
    {
        Child c(ops);
        inside = c.pid();
        cg.add(c.pid());
        c.release();
        CHECK(exited_ok(c.wait()));
    }
    CHECK(res->err[0] == EPERM);
    CHECK(res->err[1] == EPERM);
    CHECK(res->err[2] == EPERM);
    CHECK(res->err[3] == ECONNREFUSED);  // let through: nothing listens on 127.0.0.10:9
    CHECK(res->err[4] == ECONNREFUSED);
    CHECK(exited_ok(in_child(nullptr, ops)));  // outside the cgroup: nothing denied
    CHECK(res->err[0] == ECONNREFUSED);
    CHECK(res->err[1] == kOk);
    CHECK(res->err[2] == ECONNREFUSED);

    auto events = verdicts(bw.stop());
    REQUIRE(events.size() == 3);
    const char* addr[] = {"0.0.0.0", "0.0.0.0", "::ffff:0.0.0.0"};
    const char* protocol[] = {"tcp", "udp", "tcp"};
    for (size_t i = 0; i < events.size(); ++i) {
        CAPTURE(events[i].text());
        CHECK(events[i].num("pid") == inside);
        CHECK(events[i].str("verdict") == "deny");
        CHECK(events[i].str("addr") == addr[i]);  // as given; matched as the bound 127.0.0.9
        CHECK(events[i].str("protocol") == protocol[i]);
    }
}

TEST_CASE("connect backend: audit mode and audit rules let the call through and report it")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string dry = scoped_policy("dry", cg, R"([[connect]]
cidrs = ["127.0.0.2/32"]
action = "deny"
)",
                                   "audit");
    const std::string watch = scoped_policy("watch", cg, R"([[connect]]
cidrs = ["127.0.0.3/32"]
protocols = ["udp"]
action = "audit"
)");
    const std::string f1 = tmp.write("dry.toml", dry), f2 = tmp.write("watch.toml", watch);
    Errnos* res = shared_errnos();
    auto ops = [res] {
        res->err[0] = attempt(AF_INET, SOCK_STREAM, v4("127.0.0.2", 9), false);
        res->err[1] = attempt(AF_INET, SOCK_DGRAM, v4("127.0.0.3", 53), true);
        res->err[2] = attempt(AF_INET, SOCK_STREAM, v4("127.0.0.3", 53), false);  // tcp: no rule
        return 0;
    };
    Bulwark bw({f1, f2});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);
    CHECK(exited_ok(in_child(&cg, ops)));
    CHECK(res->err[0] == ECONNREFUSED);
    CHECK(res->err[1] == kOk);
    CHECK(res->err[2] == ECONNREFUSED);
    CHECK(exited_ok(in_child(nullptr, ops)));

    int st = 0;
    auto events = bw.stop(&st);
    const auto v = verdicts(events);
    REQUIRE(v.size() == 2);
    CHECK(v[0].str("verdict") == "would-deny");
    CHECK(v[0].str("policy") == "dry");
    CHECK(v[0].str("rule") == "dry.toml:" + std::to_string(line_of(dry, "[[connect]]")));
    CHECK(v[1].str("verdict") == "audit");
    CHECK(v[1].str("policy") == "watch");
    CHECK(v[1].str("protocol") == "udp");
    CHECK(v[1].str("call") == "sendmsg");
    for (const auto& e : v) CHECK(has_keys_in_order(e, kConnectKeys));
    const Json* stats = stats_of(events);
    REQUIRE(stats);
    CHECK(stats->num("denied") == 0);
    CHECK(stats->num("would_deny") == 1);
    CHECK(stats->num("audited") == 1);
}

TEST_CASE("--backend: forcing BPF-LSM here refuses the rules by name; a backend a kind cannot use is a usage error")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string text = scoped_policy("net", cg, R"([[connect]]
cidrs = ["127.0.0.2/32"]
action = "deny"
)");
    const std::string file = tmp.write("net.toml", text);
    const std::string rule = "net.toml:" + std::to_string(line_of(text, "[[connect]]")) + " [[connect]]";
    {
        Bulwark bw({file}, {"--backend", "connect=bpf-lsm"});
        const int st = bw.wait_exit();
        CHECK(WIFEXITED(st));
        CHECK(WEXITSTATUS(st) == 3);
        INFO(bw.errors());
        CHECK(bw.errors().find("these rules need BPF-LSM: " + rule) != std::string::npos);
    }
    {
        Bulwark bw({file}, {"--backend", "connect=fanotify"});
        const int st = bw.wait_exit();
        CHECK(WEXITSTATUS(st) == 2);
        CHECK(bw.errors().find("connect rules cannot be decided by \"fanotify\"") != std::string::npos);
    }
    {
        Bulwark bw({file}, {"--backend", "fallback"});
        auto ready = bw.wait_ready();
        INFO(bw.errors());
        REQUIRE(ready);
        CHECK(ready->str("backends.connect") == "cgroup-sock-addr");
    }
}
