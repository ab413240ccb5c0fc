// [[connect]] rules: the CIDR tries and port blocks the compiler writes, and
// the reference evaluator (which decides exactly as bpf/lib/connect.bpf.h
// does) checked against the language's rules — and, on random rule sets,
// against a direct reading of them that loops over every rule.
#include "compile/compiler.hpp"
#include "compile/connect_compiler.hpp"
#include "compile/dump.hpp"
#include "compile/evaluator.hpp"
#include "fake_system.hpp"
#include "policy/parser.hpp"
#include "policy_builder.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace bulwark;
using namespace bulwark::test;

namespace {

std::vector<Policy> policies(std::initializer_list<std::pair<std::string, std::string>> files)
{
    std::vector<Policy> out;
    for (const auto& [name, text] : files) {
        ParseResult r = parse_policy_text(text, "/etc/bulwark/" + name + ".toml");
        INFO("parse diagnostics:\n" << dump(r.diagnostics));
        REQUIRE_FALSE(r.diagnostics.has_errors());
        for (auto& p : r.policies) out.push_back(std::move(p));
    }
    return out;
}

Outcome to(const Compiled& c, const std::string& addr, uint16_t port, uint8_t protocol = BW_PROTO_TCP,
           const Subject& who = {})
{
    auto d = destination(addr, port, protocol);
    REQUIRE(d.has_value());
    return c.eval().decide_connect(who, *d);
}

std::string where(const Compiled& c, const Outcome& o)
{
    return c.image().rule_location(o.entry, o.policy, o.column);
}

constexpr uint8_t TCP = BW_PROTO_TCP;
constexpr uint8_t UDP = BW_PROTO_UDP;

}  // namespace

TEST_CASE("connect: networks as written and as matched")
{
    auto n = parse_network("10.1.2.3/8");
    REQUIRE(n);
    CHECK(n->v4);
    CHECK(to_string(*n) == "10.0.0.0/8");  // bits after the prefix cleared
    CHECK(to_string(*parse_network("192.0.2.1")) == "192.0.2.1/32");
    CHECK(to_string(*parse_network("fd00::1/8")) == "fd00::/8");
    auto mapped = parse_network("::ffff:10.0.0.0/104");  // an IPv4 network written as IPv6
    REQUIRE(mapped);
    CHECK(mapped->v4);
    CHECK(to_string(*mapped) == "10.0.0.0/8");
    CHECK_FALSE(parse_network("::/0")->v4);  // wider than the mapped range: IPv6 only
    CHECK_FALSE(parse_network("10.0.0.0/33"));
}

TEST_CASE("connect: port intervals cut into aligned blocks")
{
    auto total = [](const std::vector<PortBlock>& bs) {
        uint32_t n = 0;
        for (const auto& b : bs) n += 1u << (16 - b.bits);
        return n;
    };
    CHECK(port_blocks(80, 80).size() == 1);
    CHECK(port_blocks(80, 80)[0].bits == 16);
    CHECK(port_blocks(0, 65535).size() == 1);
    CHECK(port_blocks(0, 65535)[0].bits == 0);
    auto r = port_blocks(8000, 8100);
    CHECK(total(r) == 101);
    for (const auto& b : r) CHECK((b.first & ((1u << (16 - b.bits)) - 1)) == 0);
    CHECK(port_blocks(1, 65534).size() == 30);  // the worst case
    CHECK(total(port_blocks(1, 65534)) == 65534);
}

TEST_CASE("connect: deny a CIDR for TCP and UDP, v4 and v6, and IPv4-mapped")
{
    FakeSystem sys;
    Compiled c(policies({{"net", R"([policy]
name = "net"

[[connect]]
cidrs = ["127.0.0.0/8", "::1/128"]
action = "deny"
)"}}),
               sys);
    const auto& img = c.image();
    CHECK(img.policy_set.applies[BW_KIND_CONNECT] == 1);
    CHECK(img.connect_v4.size() == 1);
    CHECK(img.connect_v6.size() == 1);
    CHECK(img.connect_ports.empty());  // the same verdict for every port: no second lookup

    auto o = to(c, "127.0.0.1", 80);
    CHECK(verdict(o) == "deny");
    CHECK(o.column == BW_COL_CONNECT);
    CHECK(where(c, o) == "net.toml:4");
    CHECK(verdict(to(c, "127.9.9.9", 53, UDP)) == "deny");
    CHECK(verdict(to(c, "10.0.0.1", 80)) == "allow");
    CHECK(verdict(to(c, "::1", 80)) == "deny");
    CHECK(verdict(to(c, "::2", 80)) == "allow");
    CHECK(verdict(to(c, "::ffff:127.0.0.1", 80)) == "deny");  // AF_INET6 socket, IPv4 destination
    CHECK(verdict(to(c, "::ffff:10.0.0.1", 80)) == "allow");
    SUBCASE("the unspecified address reaches loopback")
    {
        CHECK(verdict(to(c, "0.0.0.0", 80)) == "deny");
        CHECK(verdict(to(c, "::", 80)) == "deny");
    }
}

TEST_CASE("connect: IPv6 rules match IPv6 destinations only")
{
    FakeSystem sys;
    Compiled c(policies({{"v6", "[policy]\nname = \"v6\"\n[[connect]]\ncidrs = [\"::/0\"]\naction = \"deny\"\n"}}),
               sys);
    CHECK(verdict(to(c, "2001:db8::1", 443)) == "deny");
    CHECK(verdict(to(c, "127.0.0.1", 443)) == "allow");
    CHECK(verdict(to(c, "::ffff:127.0.0.1", 443)) == "allow");
}

TEST_CASE("connect: 0.0.0.0 is decided as the bound source address it really reaches")
{
    FakeSystem sys;
    Compiled c(policies({{"b", "[policy]\nname = \"b\"\n[[connect]]\ncidrs = [\"192.0.2.7\"]\naction = \"deny\"\n"}}),
               sys);
    auto d = destination("0.0.0.0", 80, TCP);
    REQUIRE(d.has_value());
    CHECK(verdict(c.eval().decide_connect({}, *d)) == "allow");  // unbound: loopback
    d->bound_v4 = {192, 0, 2, 7};                                 // bind(192.0.2.7) + connect(0.0.0.0)
    CHECK(verdict(c.eval().decide_connect({}, *d)) == "deny");
    d->bound_v4 = {192, 0, 2, 8};
    CHECK(verdict(c.eval().decide_connect({}, *d)) == "allow");
    auto mapped = destination("::ffff:0.0.0.0", 80, TCP);          // AF_INET6 socket bound to ::ffff:192.0.2.7
    REQUIRE(mapped.has_value());
    mapped->bound_v4 = {192, 0, 2, 7};
    CHECK(verdict(c.eval().decide_connect({}, *mapped)) == "deny");
    auto given = destination("192.0.2.9", 80, TCP);                 // a given address is never replaced
    REQUIRE(given.has_value());
    given->bound_v4 = {192, 0, 2, 7};
    CHECK(verdict(c.eval().decide_connect({}, *given)) == "allow");
}

TEST_CASE("connect: the narrowest CIDR wins; ties deny > audit > allow")
{
    FakeSystem sys;
    Compiled c(policies({{"n", R"([policy]
name = "n"

[[connect]]
cidrs = ["127.0.0.0/8"]
action = "deny"

[[connect]]
cidrs = ["127.0.0.0/24"]
action = "allow"

[[connect]]
cidrs = ["127.0.0.5/32"]
action = "audit"

[[connect]]
cidrs = ["127.0.0.6/32"]
action = "allow"

[[connect]]
cidrs = ["127.0.0.6/32"]
action = "deny"
)"}}),
               sys);
    CHECK(verdict(to(c, "127.0.0.1", 1)) == "allow");
    CHECK(verdict(to(c, "127.0.1.1", 1)) == "deny");
    auto a = to(c, "127.0.0.5", 1);
    CHECK(verdict(a) == "audit");
    CHECK(where(c, a) == "n.toml:12");
    auto t = to(c, "127.0.0.6", 1);
    CHECK(verdict(t) == "deny");
    CHECK(where(c, t) == "n.toml:20");
}

TEST_CASE("connect: ports, ranges and protocols fold in per CIDR entry")
{
    FakeSystem sys;
    Compiled c(policies({{"p", R"([policy]
name = "p"

[[connect]]
cidrs = ["127.0.0.0/8"]
ports = [80, "8000-8100"]
action = "deny"

[[connect]]
cidrs = ["127.0.0.0/16"]
ports = [443]
protocols = ["tcp"]
action = "allow"

[[connect]]
cidrs = ["127.0.0.0/16"]
ports = [8050]
action = "allow"

[[connect]]
cidrs = ["127.0.0.53/32"]
protocols = ["udp"]
action = "deny"
)"}}),
               sys);
    // Range edges: first, last, one past.
    CHECK(verdict(to(c, "127.1.0.1", 7999)) == "allow");
    CHECK(verdict(to(c, "127.1.0.1", 8000)) == "deny");
    CHECK(verdict(to(c, "127.1.0.1", 8100)) == "deny");
    CHECK(verdict(to(c, "127.1.0.1", 8101)) == "allow");
    CHECK(verdict(to(c, "127.1.0.1", 80, UDP)) == "deny");
    auto e = to(c, "127.1.0.1", 8100);
    CHECK(where(c, e) == "p.toml:4");
    // Inside the /16: 8050 allowed, the rest of the /8's ranges still denied.
    CHECK(verdict(to(c, "127.0.9.9", 8050)) == "allow");
    CHECK(verdict(to(c, "127.0.9.9", 8049)) == "deny");
    CHECK(verdict(to(c, "127.0.9.9", 80)) == "deny");  // the /16 has no rule for 80: the /8 decides
    CHECK(verdict(to(c, "127.0.9.9", 443)) == "allow");
    // A protocol-only rule: UDP denied, TCP falls through to the wider CIDRs.
    CHECK(verdict(to(c, "127.0.0.53", 53, UDP)) == "deny");
    CHECK(verdict(to(c, "127.0.0.53", 53, TCP)) == "allow");
    CHECK(verdict(to(c, "127.0.0.53", 8000, TCP)) == "deny");
    CHECK(verdict(to(c, "127.0.0.53", 8050, TCP)) == "allow");

    const auto& img = c.image();
    size_t by_port = 0;
    for (const auto& e4 : img.connect_v4) by_port += (e4.value.flags & BW_CONNECT_BY_PORT) != 0;
    CHECK(by_port == 3);
    CHECK_FALSE(img.connect_ports.empty());
}

TEST_CASE("connect: defaults, audit-mode policies, scope")
{
    FakeSystem sys;
    sys.add_user("alice", 1000);
    Compiled c(policies({{"strict", R"([policy]
name = "strict"

[scope]
uid = [1000]

[defaults]
connect = "deny"

[[connect]]
cidrs = ["127.0.0.1"]
ports = ["1024-65535"]
action = "allow"
)"},
                         {"watch", R"([policy]
name = "watch"
mode = "audit"

[[connect]]
cidrs = ["10.0.0.0/8"]
action = "deny"
)"}}),
               sys);
    const Subject alice{1, 1000, {}};
    const Subject root{1, 0, {}};
    CHECK(verdict(to(c, "127.0.0.1", 8080, TCP, alice)) == "allow");
    auto low = to(c, "127.0.0.1", 80, TCP, alice);
    CHECK(verdict(low) == "deny");
    CHECK(where(c, low) == "strict.toml:8");  // the default's line
    auto far = to(c, "192.0.2.1", 80, TCP, alice);
    CHECK(verdict(far) == "deny");
    CHECK(far.entry == BW_ENTRY_NONE);
    CHECK(verdict(to(c, "192.0.2.1", 80, TCP, root)) == "allow");
    auto w = to(c, "10.1.1.1", 80, UDP, root);
    CHECK(verdict(w) == "would-deny");
    CHECK(where(c, w) == "watch.toml:5");
    CHECK(verdict(to(c, "10.1.1.1", 80, UDP, alice)) == "deny");  // strict's default decides first
}

TEST_CASE("connect: compile --dump lists tries and port blocks")
{
    FakeSystem sys;
    Compiled c(policies({{"d", "[policy]\nname = \"d\"\n[[connect]]\ncidrs = [\"10.0.0.0/8\", \"fd00::/8\"]\n"
                                "ports = [\"8000-8003\"]\nprotocols = [\"udp\"]\naction = \"deny\"\n"}}),
               sys);
    std::ostringstream out;
    dump_image(c.image(), out);
    const std::string text = out.str();
    INFO(text);
    CHECK(text.find("connect_v4 (1 keys)") != std::string::npos);
    CHECK(text.find("connect_v6 (1 keys)") != std::string::npos);
    CHECK(text.find("udp ports 8000-8003  (10.0.0.0/8 udp 8000-8003)") != std::string::npos);
    CHECK(text.find("decided: d by d.toml:3") != std::string::npos);
}

TEST_CASE("connect: too many keys is an error")
{
    FakeSystem sys;
    CompileOptions o;
    o.max_connect_keys = 2;
    auto r = compile(policies({{"m", "[policy]\nname = \"m\"\n[[connect]]\ncidrs = [\"10.0.0.1\", \"10.0.0.2\", "
                                     "\"10.0.0.3\"]\naction = \"deny\"\n"}}),
                     sys, o);
    CHECK_FALSE(r.image.has_value());
    CHECK(find_diag(r.diagnostics, "keys in one connect map, more than it holds (2)") != nullptr);
}

// ---- random rule sets against a direct reading of the language -------------

namespace {

struct NaiveRule {
    uint32_t policy;
    Network net;
    std::vector<std::pair<uint16_t, uint16_t>> ports;
    uint8_t protocols;
    Action action;
};

bool contains(const Network& net, bool v4, const std::array<uint8_t, 16>& a)
{
    if (net.v4 != v4) return false;
    for (uint32_t bit = 0; bit < net.len; ++bit) {
        const uint8_t m = static_cast<uint8_t>(0x80 >> (bit % 8));
        if ((net.addr[bit / 8] & m) != (a[bit / 8] & m)) return false;
    }
    return true;
}

// The language: per policy, among the rules whose CIDR, protocol and port
// match, the longest prefix wins, deny > audit > allow at equal length; no
// match: the policy's default. Denied if an enforcing policy denies.
bw_verdict naive(const std::vector<NaiveRule>& rules, const std::vector<Action>& defaults,
                 const std::vector<bool>& enforcing, bool v4, const std::array<uint8_t, 16>& a, uint16_t port,
                 uint8_t protocol)
{
    bw_verdict out = BW_VERDICT_ALLOW;
    for (uint32_t p = 0; p < defaults.size(); ++p) {
        const NaiveRule* best = nullptr;
        for (const auto& r : rules) {
            if (r.policy != p || !contains(r.net, v4, a) || !(r.protocols & (1u << (protocol - 1)))) continue;
            bool port_ok = r.ports.empty();
            for (const auto& [f, l] : r.ports) port_ok = port_ok || (f <= port && port <= l);
            if (!port_ok) continue;
            auto rank = [](Action x) { return x == Action::deny ? 2 : x == Action::audit ? 1 : 0; };
            if (!best || r.net.len > best->net.len || (r.net.len == best->net.len && rank(r.action) > rank(best->action)))
                best = &r;
        }
        const Action act = best ? best->action : defaults[p];
        bw_verdict v = act == Action::deny ? (enforcing[p] ? BW_VERDICT_DENY : BW_VERDICT_WOULD_DENY)
                       : act == Action::audit ? BW_VERDICT_AUDIT
                                              : BW_VERDICT_ALLOW;
        if (v > out) out = v;
    }
    return out;
}

}  // namespace

TEST_CASE("connect: random rule sets decide as the language says")
{
    std::mt19937 rng(20261125);
    auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
    const std::vector<std::string> bases4 = {"10.0.0.0", "10.1.0.0", "10.1.2.0", "10.1.2.3", "127.0.0.1", "0.0.0.0"};
    const std::vector<std::string> bases6 = {"fd00::", "fd00:1::", "fd00:1::5", "::1", "::"};
    for (int round = 0; round < 60; ++round) {
        const uint32_t npolicies = 1 + pick(3);
        std::vector<Action> defaults;
        std::vector<bool> enforcing;
        std::vector<NaiveRule> rules;
        std::vector<Policy> set;
        for (uint32_t p = 0; p < npolicies; ++p) {
            const Action acts[] = {Action::allow, Action::deny, Action::audit};
            defaults.push_back(pick(3) == 0 ? acts[1 + pick(2)] : Action::allow);
            enforcing.push_back(pick(4) != 0);
            std::string text = "[policy]\nname = \"p" + std::to_string(p) + "\"\n";
            if (!enforcing.back()) text += "mode = \"audit\"\n";
            const char* dname = defaults.back() == Action::deny ? "deny" : defaults.back() == Action::audit ? "audit" : "allow";
            text += std::string("[defaults]\nconnect = \"") + dname + "\"\n";
            const uint32_t nrules = 1 + pick(5);
            for (uint32_t r = 0; r < nrules; ++r) {
                NaiveRule nr;
                nr.policy = p;
                const bool v4 = pick(3) != 0;
                const std::string base = v4 ? bases4[pick(uint32_t(bases4.size()))] : bases6[pick(uint32_t(bases6.size()))];
                const uint32_t len = v4 ? 8 * pick(5) : 16 * pick(9);
                const std::string cidr = base + "/" + std::to_string(len);
                nr.net = *parse_network(cidr);
                nr.action = acts[pick(3)];
                nr.protocols = static_cast<uint8_t>(1 + pick(3));
                text += "[[connect]]\ncidrs = [\"" + cidr + "\"]\naction = \"" +
                        (nr.action == Action::deny ? "deny" : nr.action == Action::audit ? "audit" : "allow") + "\"\n";
                if (nr.protocols != 3) text += nr.protocols == 1 ? "protocols = [\"tcp\"]\n" : "protocols = [\"udp\"]\n";
                if (pick(2)) {
                    text += "ports = [";
                    const uint32_t nports = 1 + pick(3);
                    for (uint32_t k = 0; k < nports; ++k) {
                        uint16_t f = static_cast<uint16_t>(pick(100)), l = static_cast<uint16_t>(f + pick(30));
                        if (pick(5) == 0) l = 65535;
                        nr.ports.emplace_back(f, l);
                        text += (k ? ", \"" : "\"") + std::to_string(f) + "-" + std::to_string(l) + "\"";
                    }
                    text += "]\n";
                }
                rules.push_back(nr);
            }
            ParseResult pr = parse_policy_text(text, "/p" + std::to_string(p) + ".toml");
            INFO(text << dump(pr.diagnostics));
            REQUIRE_FALSE(pr.diagnostics.has_errors());
            set.push_back(pr.policies.at(0));
        }
        FakeSystem sys;
        Compiled c(set, sys);
        for (int probe = 0; probe < 300; ++probe) {
            const bool v4 = pick(3) != 0;
            const std::string base = v4 ? bases4[pick(uint32_t(bases4.size()))] : bases6[pick(uint32_t(bases6.size()))];
            auto d = destination(base, static_cast<uint16_t>(pick(3) == 0 ? 65535 - pick(3) : pick(140)),
                                 static_cast<uint8_t>(1 + pick(2)));
            REQUIRE(d);
            // Perturb the low bytes so that some probes fall outside narrow rules.
            if (pick(2)) d->addr[v4 ? 3 : 15] ^= static_cast<uint8_t>(pick(4));
            // As the kernel side matches it: the unspecified address is loopback.
            std::array<uint8_t, 16> m = d->addr;
            if (v4 && m[0] == 0 && m[1] == 0 && m[2] == 0 && m[3] == 0) {
                m[0] = 127;
                m[3] = 1;
            } else if (!v4 && m == std::array<uint8_t, 16>{}) {
                m[15] = 1;
            }
            const bw_verdict want = naive(rules, defaults, enforcing, v4, m, d->port, d->protocol);
            const Outcome got = c.eval().decide_connect({}, *d);
            char text[64];
            inet_ntop(v4 ? AF_INET : AF_INET6, d->addr.data(), text, sizeof text);
            INFO("round " << round << " dest " << text << " port " << d->port << " proto " << int(d->protocol));
            CHECK(got.verdict == want);
        }
    }
}

// The connect rules compile on a thread of their own, into an image of
// their own, appended after the path entries (compiler.cpp): every connect
// key must still name a cidr or ports entry, and every rule its own line.
TEST_CASE("connect: with file rules in the same set, connect entries come after the path entries")
{
    FakeSystem sys;
    sys.mkdirs("/srv/data");
    sys.mkdirs("/etc");
    sys.touch("/etc/shadow");
    Compiled c(policies({{"p", R"([policy]
name = "p"

[[file]]
paths = ["/etc/shadow"]
prefixes = ["/srv/data/"]
action = "deny"

[[connect]]
cidrs = ["10.0.0.0/8", "fd00::/8"]
ports = [22]
action = "deny"

[[connect]]
cidrs = ["10.1.0.0/16"]
action = "audit"
)"}}),
               sys);
    const auto& img = c.image();
    REQUIRE(img.connect_v4.size() == 2);
    REQUIRE(img.connect_v6.size() == 1);
    REQUIRE_FALSE(img.connect_ports.empty());
    REQUIRE_FALSE(img.inode_rules.empty());
    size_t paths = 0;
    for (const auto& e : img.entries) paths += e.key_kind == KeyKind::inode || e.key_kind == KeyKind::name;
    CHECK(paths > 0);
    auto kind_of = [&](uint32_t entry) {
        REQUIRE(entry < img.entries.size());
        return img.entries[entry].key_kind;
    };
    for (const auto& e : img.connect_v4) CHECK(kind_of(e.value.entry) == KeyKind::cidr);
    for (const auto& e : img.connect_v6) CHECK(kind_of(e.value.entry) == KeyKind::cidr);
    for (const auto& e : img.connect_ports) {
        CHECK(kind_of(e.key.entry) == KeyKind::cidr);
        CHECK(kind_of(e.value.entry) == KeyKind::ports);
        CHECK(e.value.entry >= paths);
    }
    CHECK(where(c, to(c, "10.9.9.9", 22)) == "p.toml:9");
    CHECK(where(c, to(c, "10.1.2.3", 80)) == "p.toml:14");
    CHECK(verdict(to(c, "10.1.2.3", 22)) == "audit");
    CHECK(verdict(open_as(c, sys, "/etc/shadow", R)) == "deny");
}
