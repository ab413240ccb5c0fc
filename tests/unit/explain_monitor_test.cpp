// explain and monitors (engine/explain/monitor_explain.cpp): which monitor
// would report an operation — the rule the event names (the lowest policy
// in scope), the others that match, the ones whose scope leaves the process
// out — for open, exec, connect and syscall, on the fake Debian server.
#include "compile/compiler.hpp"
#include "explain/monitor_explain.hpp"
#include "monitor/syscall_table.hpp"
#include "tool_support.hpp"

#include <doctest/doctest.h>

#include <sstream>

using namespace bulwark;
using namespace bulwark::test;

namespace {


Subject as_uid(const SystemView& sys, uint32_t uid, const std::string& cgroup = "")
{
    TestCase tc;
    tc.uid = UidSpec{uid, {}};
    if (!cgroup.empty()) tc.cgroup = Located{cgroup, {}};
    auto s = resolve_subject(tc, sys);
    if (const auto* e = std::get_if<std::string>(&s)) FAIL("cannot resolve: " << *e);
    return std::get<Subject>(s);
}

std::string text(const MonitorExplanation& m, const MapImage& image)
{
    std::ostringstream out;
    print(m, image, out);
    return out.str();
}

const char* kWatch = "[policy]\nname = \"watch\"\n"
                     "[scope]\ncgroup = \"system.slice/nginx.service\"\n"
                     "[[monitor.file]]\nprefixes = [\"/etc/ssh/\"]\n"               // 5
                     "[[monitor.syscalls]]\nuid = 33\nallow = [\"read\", \"write\"]\n"  // 7
                     "[monitor.process]\nallowed = [\"/usr/sbin/\"]\n"              // 10
                     "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [22]\n";  // 12
const char* kAll = "[policy]\nname = \"all\"\n"
                   "[[monitor.file]]\npaths = [\"/etc/ssh/sshd_config\"]\n"          // 3
                   "[[monitor.syscalls]]\nuid = 33\nallow = [\"read\"]\naction = \"kill\"\n"  // 5
                   "[[monitor.connect]]\ncidrs = [\"10.1.0.0/16\"]\n";              // 9

}  // namespace

TEST_CASE("explain monitors: open names the file monitor that reports it, and the others")
{
    const FakeSystem sys = server();
    CompiledSet s = compile_set({{"watch.toml", kWatch}, {"all.toml", kAll}}, sys);
    MonitoredOp op;
    op.kind = MonitoredOp::Kind::open;
    op.path = "/etc/ssh/sshd_config";

    SUBCASE("in the nginx cgroup both match; the lowest policy in scope reports")
    {
        op.subject = as_uid(sys, 33, "system.slice/nginx.service");
        auto m = explain_monitors(s.policies, s.image, sys, op);
        REQUIRE(m.matches.size() == 2);
        REQUIRE(m.event);
        CHECK(m.matches[*m.event].policy == 0);
        CHECK(s.image.monitors.rule_location(m.matches[*m.event].rule) == "watch.toml:5");
        CHECK(m.matches[*m.event].what == "/etc/ssh/");
        const std::string t = text(m, s.image);
        INFO(t);
        CHECK(t.find("reported by watch.toml:5 ([[monitor.file]] of policy watch, report) — watches /etc/ssh/") !=
              std::string::npos);
        CHECK(t.find("also matches: all.toml:3 ([[monitor.file]] of policy all, report) — watches "
                     "/etc/ssh/sshd_config; one event per operation names the lowest-numbered policy in scope, "
                     "policy watch") != std::string::npos);
    }
    SUBCASE("outside it only the unscoped policy reports; the scoped one is listed as out of scope")
    {
        op.subject = as_uid(sys, 33);
        auto m = explain_monitors(s.policies, s.image, sys, op);
        REQUIRE(m.event);
        CHECK(s.image.policies[m.matches[*m.event].policy].name == "all");
        const std::string t = text(m, s.image);
        INFO(t);
        CHECK(t.find("not in scope: watch.toml:5 ([[monitor.file]] of policy watch, report) would report it, but the "
                     "process's cgroup is not in or below its [scope] cgroup") != std::string::npos);
    }
    SUBCASE("a file no monitor watches: said so; the name, not the file, is matched")
    {
        op.subject = as_uid(sys, 33, "system.slice/nginx.service");
        op.path = "/etc/hosts";
        auto m = explain_monitors(s.policies, s.image, sys, op);
        CHECK(m.watched);
        CHECK(!m.event);
        CHECK(text(m, s.image) == "\nmonitors:\n  no monitor reports it\n");
    }
}

TEST_CASE("explain monitors: exec by the program's real path against [monitor.process]")
{
    const FakeSystem sys = server();
    CompiledSet s = compile_set({{"watch.toml", kWatch}}, sys);
    MonitoredOp op;
    op.kind = MonitoredOp::Kind::exec;
    op.subject = as_uid(sys, 0, "system.slice/nginx.service");
    op.path = "/usr/sbin/nginx";
    auto allowed = explain_monitors(s.policies, s.image, sys, op);
    CHECK(!allowed.event);
    CHECK(allowed.allowing == std::vector<uint32_t>{0});
    CHECK(text(allowed, s.image).find("no monitor reports it (allowed by watch)") != std::string::npos);

    op.path = "/tmp/x";
    auto not_allowed = explain_monitors(s.policies, s.image, sys, op);
    REQUIRE(not_allowed.event);
    CHECK(s.image.monitors.rule_location(not_allowed.matches[0].rule) == "watch.toml:10");
    CHECK(text(not_allowed, s.image).find("the program is not in its allowed list") != std::string::npos);
}

TEST_CASE("explain monitors: connect by destination, port and protocol")
{
    const FakeSystem sys = server();
    CompiledSet s = compile_set({{"watch.toml", kWatch}, {"all.toml", kAll}}, sys);
    MonitoredOp op;
    op.kind = MonitoredOp::Kind::connect;
    op.subject = as_uid(sys, 0, "system.slice/nginx.service");
    op.addr = "10.1.2.3";
    op.port = 22;
    auto both = explain_monitors(s.policies, s.image, sys, op);
    REQUIRE(both.matches.size() == 2);
    REQUIRE(both.event);
    CHECK(both.matches[*both.event].policy == 0);
    CHECK(both.matches[0].what == "10.0.0.0/8 port 22");  // the rule's own CIDR, not the folded key
    CHECK(both.matches[1].what == "10.1.0.0/16");

    op.port = 443;  // only the unscoped policy watches every port
    auto one = explain_monitors(s.policies, s.image, sys, op);
    REQUIRE(one.matches.size() == 1);
    CHECK(s.image.policies[one.matches[0].policy].name == "all");

    op.addr = "192.0.2.1";
    CHECK(explain_monitors(s.policies, s.image, sys, op).matches.empty());
}

TEST_CASE("explain monitors: a syscall outside a user's allow list, audit and kill")
{
    const FakeSystem sys = server();
    CompiledSet s = compile_set({{"watch.toml", kWatch}, {"all.toml", kAll}}, sys);
    MonitoredOp op;
    op.kind = MonitoredOp::Kind::syscall;
    op.subject = as_uid(sys, 33, "system.slice/nginx.service");
    op.nr = *syscall_number("write");
    // write: allowed by watch, not by all, which kills.
    auto w = explain_monitors(s.policies, s.image, sys, op);
    REQUIRE(w.event);
    CHECK(s.image.policies[w.matches[*w.event].policy].name == "all");
    CHECK(w.matches[*w.event].action == BW_MON_KILL);
    const std::string t = text(w, s.image);
    INFO(t);
    CHECK(t.find("reported by all.toml:5 ([[monitor.syscalls]] of policy all, kill) — uid 33: write is not in its "
                 "allow list (the process is killed; the syscall still runs)") != std::string::npos);

    op.nr = *syscall_number("ptrace");
    auto p = explain_monitors(s.policies, s.image, sys, op);
    REQUIRE(p.event);
    CHECK(p.matches[*p.event].policy == 0);
    CHECK(p.matches[*p.event].action == BW_MON_REPORT);

    op.nr = *syscall_number("read");  // allowed by both
    CHECK(!explain_monitors(s.policies, s.image, sys, op).event);
    op.subject = as_uid(sys, 1000);  // nobody watches uid 1000
    op.nr = *syscall_number("ptrace");
    CHECK(explain_monitors(s.policies, s.image, sys, op).matches.empty());
}

TEST_CASE("explain monitors: nothing is printed when no policy has a monitor of the kind")
{
    const FakeSystem sys = server();
    CompiledSet s = compile_set({{"r.toml", "[policy]\nname = \"r\"\n[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n"}},
                        sys);
    MonitoredOp op;
    op.kind = MonitoredOp::Kind::open;
    op.path = "/etc/shadow";
    auto m = explain_monitors(s.policies, s.image, sys, op);
    CHECK(!m.watched);
    CHECK(text(m, s.image).empty());
}
