// Enforcement of [[connect]] rules: every test runs bulwark, makes the real
// connect(2) / sendto(2) to a loopback address, checks the exact errno, then
// the event bulwark wrote for it — and proves silence where nothing may be
// reported (Fixture::no_event_for). Allowed TCP connections go to a real
// listener, so they succeed rather than being refused.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

const std::vector<std::string> kConnectPrograms = {"socket_connect", "socket_sendmsg"};

void require_connect_hooks(const Json& ready) {
    auto programs = ready.list("programs");
    for (const auto& want : kConnectPrograms) {
        bool found = false;
        for (const auto& p : programs) found = found || p == want;
        if (!found) fail("ready line lacks program ", want, ": ", ready.line());
    }
}

// A socket address from text: "127.0.0.1" (AF_INET) or "::1", "::ffff:127.0.0.2" (AF_INET6).
struct Addr {
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family = AF_INET;
};

Addr addr_of(const std::string& text, uint16_t port) {
    Addr a;
    if (text.find(':') == std::string::npos) {
        auto* in = reinterpret_cast<sockaddr_in*>(&a.ss);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        if (inet_pton(AF_INET, text.c_str(), &in->sin_addr) != 1) fail("test bug: bad address ", text);
        a.len = sizeof(sockaddr_in);
        a.family = AF_INET;
    } else {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, text.c_str(), &in6->sin6_addr) != 1) fail("test bug: bad address ", text);
        a.len = sizeof(sockaddr_in6);
        a.family = AF_INET6;
    }
    return a;
}

struct Socket {
    int fd = -1;
    Socket(int family, int type, int protocol = 0) {
        fd = socket(family, type | SOCK_CLOEXEC, protocol);
        if (fd < 0) fail("socket(", family, ", ", type, "): ", errno_name(errno));
    }
    ~Socket() {
        if (fd >= 0) close(fd);
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
};

// A TCP listener (connections wait in its backlog; nobody accepts them).
struct Listener {
    Socket s;
    Listener(const std::string& text, uint16_t port) : s(addr_of(text, port).family, SOCK_STREAM) {
        int one = 1;
        setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        Addr a = addr_of(text, port);
        if (bind(s.fd, reinterpret_cast<sockaddr*>(&a.ss), a.len) != 0)
            fail("setup: bind ", text, ":", port, ": ", errno_name(errno));
        if (listen(s.fd, 64) != 0) fail("setup: listen: ", errno_name(errno));
    }
};

// bind(2) to `source` (any port) unless it is empty.
void bind_source(const Socket& s, const std::string& source) {
    if (source.empty()) return;
    Addr b = addr_of(source, 0);
    if (bind(s.fd, reinterpret_cast<sockaddr*>(&b.ss), b.len) != 0)
        fail("setup: bind ", source, ": ", errno_name(errno));
}

// connect(2) on a fresh socket of `family` (the address's own by default),
// bound to `source` first if given: 0 or errno.
int connect_errno(int type, const std::string& text, uint16_t port, int family = 0, const std::string& source = "") {
    Addr a = addr_of(text, port);
    Socket s(family ? family : a.family, type);
    bind_source(s, source);
    return connect(s.fd, reinterpret_cast<sockaddr*>(&a.ss), a.len) == 0 ? 0 : errno;
}

// sendto(2) of one byte on a fresh, unconnected socket.
int sendto_errno(int type, const std::string& text, uint16_t port, int flags = 0, int family = 0,
                 const std::string& source = "") {
    Addr a = addr_of(text, port);
    Socket s(family ? family : a.family, type);
    bind_source(s, source);
    return sendto(s.fd, "x", 1, flags | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&a.ss), a.len) >= 0 ? 0 : errno;
}

void expect_errno(int got, int want, const std::string& what) {
    if (got != want) fail(what, " gave ", errno_name(got), ", want ", errno_name(want));
}

using Fields = std::vector<std::pair<std::string, std::string>>;
void check_fields(const Json& ev, const Fields& want) {
    std::string why;
    for (const auto& [k, v] : want)
        if (ev.str(k) != v) why += cat(k, "='", ev.str(k), "' want '", v, "'; ");
    std::string time = ev.str("time");
    if (time.size() < 20 || time.back() != 'Z') why += cat("time='", time, "' is not an RFC 3339 UTC time; ");
    if (!why.empty()) fail("event: ", why, "line: ", ev.line());
}

// A connect event from this process.
Fields connect_event(const std::string& verdict, const std::string& policy, const std::string& rule,
                     const std::string& addr, uint16_t port, const std::string& protocol, const std::string& family,
                     const std::string& call) {
    return {{"type", "verdict"},       {"kind", "connect"},
            {"verdict", verdict},      {"policy", policy},
            {"rule", rule},            {"addr", addr},
            {"port", std::to_string(port)}, {"protocol", protocol},
            {"family", family},        {"call", call},
            {"pid", std::to_string(getpid())}, {"uid", std::to_string(getuid())},
            {"comm", comm_self()}};
}

// Ports of this test: away from the ephemeral range and from other tests.
uint16_t base_port() { return static_cast<uint16_t>(20000 + (getpid() % 500) * 40); }

PolicyFile connect_policy(const Fixture& fx, const std::string& header, const std::string& rules) {
    return write_policy(fx.pol + "/t.toml", cat("[policy]\nname = \"t\"\n", header, "\n", rules));
}

}  // namespace

TEST("connect: TCP over IPv4 denied") {
    Fixture fx;
    const uint16_t port = base_port();
    Listener ok("127.0.0.1", port), no("127.0.0.2", port);
    auto p = connect_policy(fx, "", "[[connect]] # deny\ncidrs = [\"127.0.0.2/32\"]\nprotocols = [\"tcp\"]\n"
                                    "action = \"deny\"\n");
    Bulwark bw({{fx.pol}});
    require_connect_hooks(bw.wait_ready({"marker", "t"}));

    expect_errno(connect_errno(SOCK_STREAM, "127.0.0.2", port), EPERM, "connect(127.0.0.2)");
    check_fields(bw.next_verdict("connect(127.0.0.2)"),
                 connect_event("deny", "t", p.rule("deny"), "127.0.0.2", port, "tcp", "inet", "connect"));
    expect_errno(connect_errno(SOCK_STREAM, "127.0.0.1", port), 0, "connect(127.0.0.1)");
    fx.no_event_for(bw, "connect(127.0.0.1)");
    bw.stop_and_check();
}

TEST("connect: TCP over IPv6 denied") {
    Fixture fx;
    const uint16_t port = base_port();
    Listener other("::1", port + 1);
    auto p = connect_policy(fx, "", cat("[[connect]] # deny\ncidrs = [\"::1/128\"]\nports = [", port,
                                        "]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    require_connect_hooks(bw.wait_ready({"marker", "t"}));

    expect_errno(connect_errno(SOCK_STREAM, "::1", port), EPERM, "connect([::1]:port)");
    check_fields(bw.next_verdict("connect([::1])"),
                 connect_event("deny", "t", p.rule("deny"), "::1", port, "tcp", "inet6", "connect"));
    expect_errno(connect_errno(SOCK_STREAM, "::1", port + 1), 0, "connect([::1]:port+1)");
    fx.no_event_for(bw, "connect([::1]:port+1)");
    bw.stop_and_check();
}

TEST("connect: IPv4-mapped IPv6 address denied by the IPv4 rule") {
    Fixture fx;
    const uint16_t port = base_port();
    Listener ok("127.0.0.1", port);
    auto p = connect_policy(fx, "", "[[connect]] # deny\ncidrs = [\"127.0.0.2\"]\naction = \"deny\"\n");
    Bulwark bw({{fx.pol}});
    require_connect_hooks(bw.wait_ready({"marker", "t"}));

    expect_errno(connect_errno(SOCK_STREAM, "::ffff:127.0.0.2", port), EPERM, "connect([::ffff:127.0.0.2])");
    check_fields(bw.next_verdict("connect([::ffff:127.0.0.2])"),
                 connect_event("deny", "t", p.rule("deny"), "::ffff:127.0.0.2", port, "tcp", "inet6", "connect"));
    expect_errno(sendto_errno(SOCK_DGRAM, "::ffff:127.0.0.2", port), EPERM, "sendto([::ffff:127.0.0.2]) over UDP");
    check_fields(bw.next_verdict("sendto([::ffff:127.0.0.2])"),
                 connect_event("deny", "t", p.rule("deny"), "::ffff:127.0.0.2", port, "udp", "inet6", "sendmsg"));
    expect_errno(connect_errno(SOCK_STREAM, "::ffff:127.0.0.1", port), 0, "connect([::ffff:127.0.0.1])");
    fx.no_event_for(bw, "connect([::ffff:127.0.0.1])");
    bw.stop_and_check();
}

TEST("connect: UDP connect and unconnected sendto denied (and TCP fast open)") {
    Fixture fx;
    const uint16_t port = base_port();
    auto p = connect_policy(fx, "", "[[connect]] # deny\ncidrs = [\"127.0.0.2/32\"]\naction = \"deny\"\n");
    Bulwark bw({{fx.pol}});
    require_connect_hooks(bw.wait_ready({"marker", "t"}));
    auto want = [&](const std::string& protocol, const std::string& call, const std::string& family = "inet",
                    const std::string& addr = "127.0.0.2") {
        return connect_event("deny", "t", p.rule("deny"), addr, port, protocol, family, call);
    };

    expect_errno(connect_errno(SOCK_DGRAM, "127.0.0.2", port), EPERM, "UDP connect(127.0.0.2)");
    check_fields(bw.next_verdict("UDP connect"), want("udp", "connect"));
    expect_errno(sendto_errno(SOCK_DGRAM, "127.0.0.2", port), EPERM, "UDP sendto(127.0.0.2)");
    check_fields(bw.next_verdict("UDP sendto"), want("udp", "sendmsg"));

    {  // A connected UDP socket may still name another destination per datagram.
        Addr ok = addr_of("127.0.0.1", port), no = addr_of("127.0.0.2", port);
        Socket s(AF_INET, SOCK_DGRAM);
        require(connect(s.fd, reinterpret_cast<sockaddr*>(&ok.ss), ok.len) == 0, "UDP connect(127.0.0.1): ",
                errno_name(errno));
        require(send(s.fd, "x", 1, 0) == 1, "send on the connected socket: ", errno_name(errno));
        int e = sendto(s.fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&no.ss), no.len) >= 0 ? 0 : errno;
        expect_errno(e, EPERM, "sendto(127.0.0.2) on a socket connected to 127.0.0.1");
        check_fields(bw.next_verdict("sendto on a connected UDP socket"), want("udp", "sendmsg"));
    }
    {  // udp_sendmsg reads an AF_UNSPEC address as AF_INET.
        Addr no = addr_of("127.0.0.2", port);
        reinterpret_cast<sockaddr_in*>(&no.ss)->sin_family = AF_UNSPEC;
        Socket s(AF_INET, SOCK_DGRAM);
        int e = sendto(s.fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&no.ss), no.len) >= 0 ? 0 : errno;
        expect_errno(e, EPERM, "sendto(AF_UNSPEC 127.0.0.2)");
        Json ev = bw.next_verdict("sendto(AF_UNSPEC)");
        check_fields(ev, want("udp", "sendmsg"));
    }
    // TCP fast open carries data in the SYN: sendto, no connect.
    expect_errno(sendto_errno(SOCK_STREAM, "127.0.0.2", port, MSG_FASTOPEN), EPERM, "sendto(MSG_FASTOPEN)");
    check_fields(bw.next_verdict("TCP fast open"), want("tcp", "sendmsg"));

    expect_errno(sendto_errno(SOCK_DGRAM, "127.0.0.1", port), 0, "UDP sendto(127.0.0.1)");
    fx.no_event_for(bw, "UDP sendto(127.0.0.1)");
    bw.stop_and_check();
}

TEST("connect: port range edges (first, last, one past)") {
    Fixture fx;
    const uint16_t first = base_port() + 1, last = first + 10;
    Listener before("127.0.0.1", first - 1), after("127.0.0.1", last + 1);
    auto p = connect_policy(fx, "", cat("[[connect]] # deny\ncidrs = [\"127.0.0.1\"]\nports = [\"", first, "-", last,
                                        "\"]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    require_connect_hooks(bw.wait_ready({"marker", "t"}));

    expect_errno(connect_errno(SOCK_STREAM, "127.0.0.1", first - 1), 0, "one before the range");
    fx.no_event_for(bw, "connect(first - 1)");
    for (uint16_t port : {first, last}) {
        expect_errno(connect_errno(SOCK_STREAM, "127.0.0.1", port), EPERM, cat("connect(:", port, ")"));
        check_fields(bw.next_verdict(cat("connect(:", port, ")")),
                     connect_event("deny", "t", p.rule("deny"), "127.0.0.1", port, "tcp", "inet", "connect"));
    }
    expect_errno(connect_errno(SOCK_STREAM, "127.0.0.1", last + 1), 0, "one past the range");
    fx.no_event_for(bw, "connect(last + 1)");
    bw.stop_and_check();
}

TEST("connect: a narrower allow CIDR inside a denied wider one") {
    Fixture fx;
    const uint16_t port = base_port();
    Listener ok("127.0.0.1", port);
    auto p = connect_policy(fx, "",
                            "[[connect]] # deny\ncidrs = [\"127.0.0.0/8\"]\naction = \"deny\"\n\n"
                            "[[connect]] # allow\ncidrs = [\"127.0.0.0/30\"]\naction = \"allow\"\n");
    Bulwark bw({{fx.pol}});
    require_connect_hooks(bw.wait_ready({"marker", "t"}));

    expect_errno(connect_errno(SOCK_STREAM, "127.0.0.1", port), 0, "connect(127.0.0.1) inside the allowed /30");
    expect_errno(sendto_errno(SOCK_DGRAM, "127.0.0.3", port), 0, "sendto(127.0.0.3) inside the allowed /30");
    fx.no_event_for(bw, "traffic inside the allowed /30");
    expect_errno(connect_errno(SOCK_STREAM, "127.0.0.4", port), EPERM, "connect(127.0.0.4) just outside it");
    check_fields(bw.next_verdict("connect(127.0.0.4)"),
                 connect_event("deny", "t", p.rule("deny"), "127.0.0.4", port, "tcp", "inet", "connect"));
    expect_errno(connect_errno(SOCK_STREAM, "127.200.0.1", port), EPERM, "connect(127.200.0.1)");
    check_fields(bw.next_verdict("connect(127.200.0.1)"),
                 connect_event("deny", "t", p.rule("deny"), "127.200.0.1", port, "tcp", "inet", "connect"));
    bw.stop_and_check();
}

TEST("connect: the unspecified address (0.0.0.0, ::) is matched as the loopback it reaches") {
    Fixture fx;
    const uint16_t port = base_port();
    auto p = connect_policy(fx, "", "[[connect]] # deny\ncidrs = [\"127.0.0.1\", \"::1\"]\naction = \"deny\"\n");
    Bulwark bw({{fx.pol}});
    require_connect_hooks(bw.wait_ready({"marker", "t"}));

    expect_errno(connect_errno(SOCK_STREAM, "0.0.0.0", port), EPERM, "connect(0.0.0.0)");
    check_fields(bw.next_verdict("connect(0.0.0.0)"),
                 connect_event("deny", "t", p.rule("deny"), "0.0.0.0", port, "tcp", "inet", "connect"));
    expect_errno(connect_errno(SOCK_STREAM, "::", port), EPERM, "connect([::])");
    check_fields(bw.next_verdict("connect([::])"),
                 connect_event("deny", "t", p.rule("deny"), "::", port, "tcp", "inet6", "connect"));
    bw.stop_and_check();
}

TEST("connect: bind(denied) + connect(0.0.0.0) is decided as the bound source the kernel sends to") {
    Fixture fx;
    const uint16_t port = base_port();
    Listener no("127.0.0.9", port), ok("127.0.0.10", port);
    auto p = connect_policy(fx, "", "[[connect]] # deny\ncidrs = [\"127.0.0.9\"]\naction = \"deny\"\n");
    Bulwark bw({{fx.pol}});
    require_connect_hooks(bw.wait_ready({"marker", "t"}));

    expect_errno(connect_errno(SOCK_STREAM, "0.0.0.0", port, 0, "127.0.0.9"), EPERM,
                 "bind(127.0.0.9) + connect(0.0.0.0)");
    check_fields(bw.next_verdict("bind(127.0.0.9) + connect(0.0.0.0)"),
                 connect_event("deny", "t", p.rule("deny"), "0.0.0.0", port, "tcp", "inet", "connect"));
    expect_errno(sendto_errno(SOCK_DGRAM, "0.0.0.0", port, 0, 0, "127.0.0.9"), EPERM,
                 "bind(127.0.0.9) + sendto(0.0.0.0) over UDP");
    check_fields(bw.next_verdict("bind(127.0.0.9) + sendto(0.0.0.0)"),
                 connect_event("deny", "t", p.rule("deny"), "0.0.0.0", port, "udp", "inet", "sendmsg"));
    expect_errno(connect_errno(SOCK_STREAM, "::ffff:0.0.0.0", port, 0, "::ffff:127.0.0.9"), EPERM,
                 "bind([::ffff:127.0.0.9]) + connect([::ffff:0.0.0.0])");
    check_fields(bw.next_verdict("bind([::ffff:127.0.0.9]) + connect([::ffff:0.0.0.0])"),
                 connect_event("deny", "t", p.rule("deny"), "::ffff:0.0.0.0", port, "tcp", "inet6", "connect"));
    // Controls: bound elsewhere, the same call reaches the listener there.
    expect_errno(connect_errno(SOCK_STREAM, "0.0.0.0", port, 0, "127.0.0.10"), 0,
                 "bind(127.0.0.10) + connect(0.0.0.0)");
    fx.no_event_for(bw, "bind(127.0.0.10) + connect(0.0.0.0)");
    bw.stop_and_check();
}

TEST("connect: mode = audit reports would-deny, action = audit reports audit; both connect") {
    Fixture fx;
    const uint16_t port = base_port();
    Listener a("127.0.0.2", port), b("127.0.0.3", port);
    auto pa = write_policy(fx.pol + "/a.toml", "[policy]\nname = \"a\"\nmode = \"audit\"\n\n[[connect]] # deny\n"
                                               "cidrs = [\"127.0.0.2\"]\naction = \"deny\"\n");
    auto pb = write_policy(fx.pol + "/b.toml", "[policy]\nname = \"b\"\n\n[[connect]] # audit\n"
                                               "cidrs = [\"127.0.0.3\"]\naction = \"audit\"\n");
    Bulwark bw({{fx.pol}});
    require_connect_hooks(bw.wait_ready({"marker", "a", "b"}));

    expect_errno(connect_errno(SOCK_STREAM, "127.0.0.2", port), 0, "an audit-mode policy never blocks");
    check_fields(bw.next_verdict("connect(127.0.0.2)"),
                 connect_event("would-deny", "a", pa.rule("deny"), "127.0.0.2", port, "tcp", "inet", "connect"));
    expect_errno(connect_errno(SOCK_STREAM, "127.0.0.3", port), 0, "an audit rule never blocks");
    check_fields(bw.next_verdict("connect(127.0.0.3)"),
                 connect_event("audit", "b", pb.rule("audit"), "127.0.0.3", port, "tcp", "inet", "connect"));
    fx.no_event_for(bw, "the two connects beyond their one event each");
    bw.stop_and_check();
}

TEST("connect: outside the scope untouched; AF_UNIX never looked at") {
    Fixture fx;
    const uint16_t port = base_port();
    Listener ok("127.0.0.1", port);
    std::string unix_path = fx.dir + "/sock";
    Socket unix_listener(AF_UNIX, SOCK_STREAM);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::strncpy(un.sun_path, unix_path.c_str(), sizeof un.sun_path - 1);
    require(bind(unix_listener.fd, reinterpret_cast<sockaddr*>(&un), sizeof un) == 0, "bind AF_UNIX: ",
            errno_name(errno));
    require(listen(unix_listener.fd, 8) == 0, "listen AF_UNIX");
    chmod(unix_path.c_str(), 0777);
    auto p = connect_policy(fx, "\n[scope]\nuid = [1000]\n\n[defaults]\nconnect = \"deny\" # default\n",
                            "[[connect]] # deny\ncidrs = [\"0.0.0.0/0\", \"::/0\"]\naction = \"deny\"\n");
    Bulwark bw({{fx.pol}});
    require_connect_hooks(bw.wait_ready({"marker", "t"}));

    expect_errno(connect_errno(SOCK_STREAM, "127.0.0.1", port), 0, "root, outside the uid scope");
    fx.no_event_for(bw, "root's connect");

    auto r = run_child([&] {
        if (setgid(1000) != 0 || setuid(1000) != 0) fail("setuid(1000): ", errno_name(errno));
        int e = connect_errno(SOCK_STREAM, "127.0.0.1", port);
        if (e != EPERM) fail("uid 1000: connect(127.0.0.1) gave ", errno_name(e), ", want EPERM");
        Socket s(AF_UNIX, SOCK_STREAM);
        if (connect(s.fd, reinterpret_cast<const sockaddr*>(&un), sizeof un) != 0)
            fail("uid 1000: AF_UNIX connect gave ", errno_name(errno), ", want success");
        return 0;
    });
    require(r.code == 0, "child exited ", r.code);
    Fields f = {{"kind", "connect"}, {"verdict", "deny"}, {"policy", "t"}, {"rule", p.rule("deny")},
                {"addr", "127.0.0.1"}, {"port", std::to_string(port)}, {"protocol", "tcp"}, {"family", "inet"},
                {"call", "connect"}, {"pid", std::to_string(r.pid)}, {"uid", "1000"}, {"comm", "bwt-child"}};
    check_fields(bw.next_verdict("uid 1000 connect"), f);
    fx.no_event_for(bw, "the AF_UNIX connect");
    bw.stop_and_check();
}
