// bulwark lint on [[monitor.*]] tables (engine/lint/monitor_checks.cpp):
// every diagnostic is triggered by a policy written to trigger it, and the
// clean policy next to it does not trigger it — on the fake Debian server.
#include "lint/lint.hpp"
#include "tool_support.hpp"

#include <doctest/doctest.h>

using namespace bulwark;
using namespace bulwark::test;

namespace {

Diagnostics lint1(const std::string& text, const FakeSystem& sys)
{
    return lint_policies(parse_all({{"m.toml", text}}), sys);
}

size_t count(const Diagnostics& d, Severity s)
{
    size_t n = 0;
    for (const Diagnostic& x : d.all()) n += x.severity == s;
    return n;
}

#define EXPECT_ONE(ds, sev, line_, col_, needle)                                    \
    do {                                                                            \
        INFO("diagnostics:\n" << text_of(ds));                                      \
        auto found_ = all_with((ds), (needle));                                     \
        REQUIRE_MESSAGE(found_.size() == 1, "want one diagnostic with: " << (needle)); \
        CHECK(found_[0]->severity == (sev));                                        \
        CHECK(found_[0]->pos.line == (line_));                                      \
        CHECK(found_[0]->pos.column == (col_));                                     \
    } while (0)

#define EXPECT_NONE(ds, needle)                          \
    do {                                                 \
        INFO("diagnostics:\n" << text_of(ds));           \
        CHECK(all_with((ds), (needle)).empty());         \
    } while (0)

#define HEAD "[policy]\nname = \"m\"\n"  // lines 1-2

}  // namespace

TEST_CASE("lint monitors: a clean policy with every monitor kind has no diagnostics at all")
{
    const FakeSystem sys = server();
    Diagnostics d = lint1(HEAD
                          "[scope]\ncgroup = \"system.slice/nginx.service\"\n"
                          "[[monitor.file]]\npaths = [\"/etc/shadow\", \"/etc/passwd\"]\nprefixes = [\"/etc/ssh/\"]\n"
                          "[[monitor.syscalls]]\nuid = [\"www-data\", 0]\nallow = [\"read\", \"write\"]\naction = \"kill\"\n"
                          "[monitor.process]\nallowed = [\"/usr/bin/\", \"/usr/sbin/nginx\"]\n"
                          "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [80, 443]\n"
                          "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [22]\n"
                          "[[monitor.connect]]\ncidrs = [\"10.1.0.0/16\"]\nports = [443]\n"
                          "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [8080]\nprotocols = [\"udp\"]\n"
                          "[[monitor.connect]]\ncidrs = [\"fd00::/8\"]\nprotocols = [\"tcp\"]\n",
                          sys);
    INFO(text_of(d));
    CHECK(d.all().empty());
}

TEST_CASE("lint monitors: a file monitor path through a symlink is a note, watched by both names")
{
    const FakeSystem sys = server();
    Diagnostics d = lint1(HEAD "[[monitor.file]]\npaths = [\"/bin/bash\"]\nprefixes = [\"/lib/systemd/\"]\n", sys);
    EXPECT_ONE(d, Severity::note, 4, 10, "monitored path /bin/bash goes through the symlink /bin → /usr/bin");
    EXPECT_ONE(d, Severity::note, 5, 13, "monitored prefix /lib/systemd/ goes through the symlink /lib → /usr/lib");
    CHECK(all_with(d, "/usr/lib/systemd/ is watched too").size() == 1);
    CHECK(d.error_count() == 0);
    EXPECT_NONE(d, "resolves to");  // the compiler's own note is replaced by lint's
    // Clean: the same files by their real names.
    Diagnostics clean = lint1(HEAD "[[monitor.file]]\npaths = [\"/usr/bin/bash\"]\nprefixes = [\"/usr/lib/systemd/\"]\n", sys);
    EXPECT_NONE(clean, "symlink");
}

TEST_CASE("lint monitors: a missing file monitor path is a note; it is watched all the same")
{
    const FakeSystem sys = server();
    Diagnostics d = lint1(HEAD "[[monitor.file]]\npaths = [\"/etc/shadwo\"]\nprefixes = [\"/opt/app/\"]\n", sys);
    EXPECT_ONE(d, Severity::note, 4, 10, "monitored path /etc/shadwo does not exist on this machine");
    EXPECT_ONE(d, Severity::note, 5, 13, "monitored prefix /opt/app/ does not exist on this machine");
    CHECK(count(d, Severity::warning) == 0);
    Diagnostics clean = lint1(HEAD "[[monitor.file]]\npaths = [\"/etc/shadow\"]\nprefixes = [\"/etc/ssh/\"]\n", sys);
    EXPECT_NONE(clean, "does not exist");
}

TEST_CASE("lint monitors: an exact path that is a directory, a prefix that is a file")
{
    const FakeSystem sys = server();
    Diagnostics d = lint1(HEAD "[[monitor.file]]\npaths = [\"/etc/ssh\"]\nprefixes = [\"/etc/shadow/\"]\n", sys);
    EXPECT_ONE(d, Severity::warning, 4, 10, "monitored path /etc/ssh is a directory");
    EXPECT_ONE(d, Severity::warning, 5, 13, "monitored prefix /etc/shadow/ names a file, not a directory");
    Diagnostics clean = lint1(HEAD "[[monitor.file]]\npaths = [\"/etc/shadow\"]\nprefixes = [\"/etc/ssh/\"]\n", sys);
    EXPECT_NONE(clean, "is a directory");
    EXPECT_NONE(clean, "names a file");
}

TEST_CASE("lint monitors: [monitor.process] allowed entries of the wrong type, or through a symlink")
{
    const FakeSystem sys = server();
    Diagnostics d =
        lint1(HEAD "[monitor.process]\nallowed = [\"/usr/sbin\", \"/usr/bin/ls/\", \"/sbin/\", \"/opt/tool\"]\n", sys);
    EXPECT_ONE(d, Severity::warning, 4, 12, "allowed /usr/sbin is a directory");
    EXPECT_ONE(d, Severity::warning, 4, 25, "allowed /usr/bin/ls/ names a file, not a directory");
    EXPECT_ONE(d, Severity::note, 4, 41, "allowed /sbin/ goes through the symlink /sbin → /usr/sbin");
    EXPECT_ONE(d, Severity::note, 4, 51, "allowed /opt/tool does not exist on this machine");
    Diagnostics clean = lint1(HEAD "[monitor.process]\nallowed = [\"/usr/sbin/\", \"/usr/bin/ls\"]\n", sys);
    INFO(text_of(clean));
    CHECK(clean.all().empty());
}

TEST_CASE("lint monitors: a syscalls monitor user unknown here is a warning, not an error")
{
    const FakeSystem sys = server();
    Diagnostics d = lint1(HEAD "[[monitor.syscalls]]\nuid = [1000, \"deploy\"]\nallow = [\"read\"]\n", sys);
    EXPECT_ONE(d, Severity::warning, 4, 14, "user \"deploy\" is unknown on this machine");
    CHECK(d.error_count() == 0);
    Diagnostics clean = lint1(HEAD "[[monitor.syscalls]]\nuid = [1000, \"alice\"]\nallow = [\"read\"]\n", sys);
    EXPECT_NONE(clean, "unknown");
}

TEST_CASE("lint monitors: kill for root in a policy that reaches administrators is a lockout risk")
{
    const FakeSystem sys = server();
    const std::string table = "[[monitor.syscalls]]\nuid = [0]\nallow = [\"read\"]\naction = \"kill\"\n";
    Diagnostics d = lint1(HEAD + table, sys);
    EXPECT_ONE(d, Severity::warning, 6, 10, "action = \"kill\" for uid 0 in a policy that applies to administrators");
    // Clean: scoped to a service, or audit only, or an audit-mode policy, or not root.
    EXPECT_NONE(lint1(HEAD "[scope]\ncgroup = \"system.slice/nginx.service\"\n" + table, sys), "kill");
    EXPECT_NONE(lint1(HEAD "[[monitor.syscalls]]\nuid = [0]\nallow = [\"read\"]\naction = \"audit\"\n", sys), "kill");
    EXPECT_NONE(lint1("[policy]\nname = \"m\"\nmode = \"audit\"\n" + table, sys), "kill");
    EXPECT_NONE(lint1(HEAD "[[monitor.syscalls]]\nuid = [1000]\nallow = [\"read\"]\naction = \"kill\"\n", sys), "kill");
}

TEST_CASE("lint monitors: overlapping port ranges in one connect monitor")
{
    const FakeSystem sys = server();
    Diagnostics d = lint1(HEAD "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [443, \"1-1024\"]\n", sys);
    EXPECT_ONE(d, Severity::warning, 5, 15, "ports 1-1024 overlap 443 (column 10) in the same [[monitor.connect]]");
    Diagnostics clean = lint1(HEAD "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [443, \"1-442\"]\n", sys);
    EXPECT_NONE(clean, "overlap");
}

TEST_CASE("lint monitors: two connect monitors of one policy watching the same ports of one CIDR")
{
    const FakeSystem sys = server();
    Diagnostics d = lint1(HEAD "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [\"1-1024\"]\n"   // 3
                               "[[monitor.connect]]\ncidrs = [\"192.0.2.0/24\", \"10.0.0.0/8\"]\nrate_limit = 5\n",  // 6
                          sys);
    EXPECT_ONE(d, Severity::warning, 7, 26,
               "ports 1-1024 (tcp and udp) of 10.0.0.0/8 are also watched by the [[monitor.connect]] at line 3");
    // Clean: disjoint ports, disjoint protocols, another policy, another (narrower) CIDR.
    auto none = [&](const std::string& text) {
        Diagnostics c = lint1(text, sys);
        INFO(text_of(c));
        CHECK(count(c, Severity::warning) == 0);
    };
    none(HEAD "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [22]\n"
              "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [443]\n");
    none(HEAD "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\nprotocols = [\"tcp\"]\n"
              "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\nprotocols = [\"udp\"]\n");
    none(HEAD "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\n"
              "[[monitor.connect]]\ncidrs = [\"10.1.0.0/16\"]\n");
    Diagnostics two = lint_policies(parse_all({{"a.toml", "[policy]\nname = \"a\"\n[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\n"},
                                               {"b.toml", "[policy]\nname = \"b\"\n[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\n"}}),
                                    sys);
    INFO(text_of(two));
    CHECK(count(two, Severity::warning) == 0);
}

TEST_CASE("lint monitors: a monitor CIDR with host bits set is a warning")
{
    // The parser says so (bulwark lint prints the parser's diagnostics first).
    ParseResult bad = parse_policy_text(HEAD "[[monitor.connect]]\ncidrs = [\"10.1.2.3/8\"]\n", "m.toml");
    EXPECT_ONE(bad.diagnostics, Severity::warning, 4, 10, "has address bits set after its first 8 bits");
    CHECK(!bad.diagnostics.has_errors());
    ParseResult good = parse_policy_text(HEAD "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\n", "m.toml");
    EXPECT_NONE(good.diagnostics, "address bits");
}
