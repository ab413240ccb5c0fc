// Sticky scope offline (docs/decisions/012-sticky-scope.md): a [scope] key
// holds if the process matches it now or matched it before, so the
// reference evaluator, `explain` and `test` take the process's history
// (parent_executable, parent_uid, parent_cgroup) into account as
// bw_sticky_policies_in_scope does — including the room the kernel has for
// marks, and the program matched by name only that it does not mark.
#include "compile/compiler.hpp"
#include "explain/explain.hpp"
#include "explain/monitor_explain.hpp"
#include "explain/test_run.hpp"
#include "tool_support.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace bulwark;
using namespace bulwark::test;

namespace {


TestCase shadow_as(std::optional<std::string> exe = std::nullopt)
{
    TestCase t;
    t.op = TestOp::open;
    t.path.value = "/etc/shadow";
    if (exe) t.executable = Located{*exe, {}};
    return t;
}

ResolvedOp resolved(const TestCase& tc, const SystemView& sys)
{
    auto r = resolve_op(tc, sys);
    if (const auto* e = std::get_if<std::string>(&r)) FAIL("cannot resolve: " << *e);
    return std::get<ResolvedOp>(r);
}

// The evaluator's verdict, after checking that explain agrees with it.
Verdict verdict(const CompiledSet& s, const SystemView& sys, const TestCase& tc)
{
    const ResolvedOp op = resolved(tc, sys);
    const Explanation e = explain(s.policies, s.image, sys, op);
    INFO(describe(tc));
    CHECK(e.consistent);
    const Verdict v = to_verdict(decide(Evaluator(s.image), op).verdict);
    CHECK(e.verdict == v);
    return v;
}

// The case: a policy scoped to nginx, denying the shadow file.
const char* kNginx = "[policy]\nname = \"nginx\"\n[scope]\nexecutable = [\"/usr/sbin/nginx\"]\n"
                     "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n";

Located at(const std::string& v) { return Located{v, {}}; }
UidSpec uid(uint32_t n) { return UidSpec{n, {}}; }

}  // namespace

TEST_CASE("sticky scope: a shell nginx spawned stays in nginx's scope")
{
    FakeSystem sys = server();
    const CompiledSet s = compile_set({{"nginx.toml", kNginx}}, sys);

    TestCase sh = shadow_as("/bin/sh");
    CHECK(verdict(s, sys, sh) == Verdict::allow);
    sh.parent_executables.push_back(at("/usr/sbin/nginx"));
    CHECK(verdict(s, sys, sh) == Verdict::deny);
    CHECK(describe(sh) == "open /etc/shadow (read) as executable /bin/sh after executable /usr/sbin/nginx");

    // explain says which key held only by the history.
    const Explanation e = explain(s.policies, s.image, sys, resolved(sh, sys));
    REQUIRE(e.policies.size() == 1);
    CHECK(e.policies[0].in_scope);
    CHECK(e.policies[0].scope_before == "executable /usr/sbin/nginx");

    SUBCASE("a history that names no scoped program changes nothing")
    {
        TestCase t = shadow_as("/bin/sh");
        t.parent_executables = {at("/usr/bin/bash"), at("/usr/bin/curl")};
        CHECK(verdict(s, sys, t) == Verdict::allow);
        const Explanation x = explain(s.policies, s.image, sys, resolved(t, sys));
        CHECK(x.policies[0].scope_why ==
              "the process's program is not its [scope] executable (/usr/sbin/nginx), nor is any program it ran before");
    }
    SUBCASE("nginx through a symlink is the same program")
    {
        sys.symlink("/usr/bin/nginx", "../sbin/nginx");
        TestCase t = shadow_as("/bin/sh");
        t.parent_executables = {at("/bin/nginx")};
        CHECK(verdict(s, sys, t) == Verdict::deny);
    }
    SUBCASE("the default process (no executable) with nginx's history")
    {
        TestCase t = shadow_as();
        t.parent_executables = {at("/usr/sbin/nginx")};
        CHECK(verdict(s, sys, t) == Verdict::deny);
        CHECK(describe(t) == "open /etc/shadow (read) as uid 0 after executable /usr/sbin/nginx");
    }
}

TEST_CASE("sticky scope: uids and cgroups it had before")
{
    FakeSystem sys = server();
    sys.mkcgroup("system.slice/nginx.service/worker");

    SUBCASE("uid: dropping to nobody keeps www-data's scope")
    {
        const CompiledSet s = compile_set({{"web.toml", "[policy]\nname = \"web\"\n[scope]\nuid = \"www-data\"\n"
                                                "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n"}},
                                  sys);
        TestCase t = shadow_as();
        t.uid = uid(65534);
        CHECK(verdict(s, sys, t) == Verdict::allow);
        t.parent_uids = {uid(0), UidSpec{std::string("www-data"), {}}};
        CHECK(verdict(s, sys, t) == Verdict::deny);
        CHECK(describe(t) == "open /etc/shadow (read) as uid 65534 after uid 0, uid www-data");
        CHECK(explain(s.policies, s.image, sys, resolved(t, sys)).policies[0].scope_before == "uid 33");
    }
    SUBCASE("cgroup: moving out of nginx.service keeps its scope; a cgroup below it counts")
    {
        const CompiledSet s = compile_set({{"web.toml", "[policy]\nname = \"web\"\n[scope]\n"
                                                "cgroup = \"system.slice/nginx.service\"\n"
                                                "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n"}},
                                  sys);
        TestCase t = shadow_as();
        t.cgroup = at("user.slice/user-1000.slice");
        CHECK(verdict(s, sys, t) == Verdict::allow);
        t.parent_cgroups = {at("system.slice")};  // above the scoped cgroup: not in it
        CHECK(verdict(s, sys, t) == Verdict::allow);
        t.parent_cgroups = {at("/sys/fs/cgroup/system.slice/nginx.service/worker")};
        CHECK(verdict(s, sys, t) == Verdict::deny);
        CHECK(explain(s.policies, s.image, sys, resolved(t, sys)).policies[0].scope_before ==
              "cgroup system.slice/nginx.service");
    }
    SUBCASE("keys are still ANDed: the history of one key does not stand in for another")
    {
        const CompiledSet s = compile_set({{"web.toml", "[policy]\nname = \"web\"\n[scope]\nuid = 33\n"
                                                "executable = \"/usr/sbin/nginx\"\n"
                                                "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n"}},
                                  sys);
        TestCase t = shadow_as("/bin/sh");
        t.parent_executables = {at("/usr/sbin/nginx")};
        CHECK(verdict(s, sys, t) == Verdict::allow);  // uid 0, never 33
        t.parent_uids = {uid(33)};
        CHECK(verdict(s, sys, t) == Verdict::deny);
    }
}

TEST_CASE("sticky scope: a kind with more scoped keys than the kernel has room for is in every scope")
{
    FakeSystem sys = server();
    for (const char* c : {"a.slice", "b.slice", "c.slice"}) sys.mkcgroup(c);
    // `guard` scopes the keys the history fills the room with; `shadow`
    // denies for a key the process never had.
    const std::string shadow_rule = "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n";
    auto policies = [&](const std::string& guard_scope, const std::string& shadow_scope) {
        return compile_set({{"guard.toml", "[policy]\nname = \"guard\"\n[scope]\n" + guard_scope +
                                               "[[file]]\npaths = [\"/tmp/x\"]\naction = \"audit\"\n"},
                            {"shadow.toml", "[policy]\nname = \"shadow\"\n[scope]\n" + shadow_scope + shadow_rule}},
                           sys);
    };

    SUBCASE("uids: 4 fit, a 5th scoped one fills the room; unscoped ones take none")
    {
        const CompiledSet s = policies("uid = [1, 2, 3, 4, 5]\n", "uid = 33\n");
        TestCase t = shadow_as();
        t.uid = uid(1000);
        t.parent_uids = {uid(1), uid(2), uid(3), uid(4), uid(4), uid(100), uid(101)};
        CHECK(verdict(s, sys, t) == Verdict::allow);
        CHECK(Evaluator(s.image).marks(resolved(t, sys).subject).full == 0);
        t.parent_uids.push_back(uid(5));
        CHECK(verdict(s, sys, t) == Verdict::deny);
        CHECK(Evaluator(s.image).marks(resolved(t, sys).subject).full == BW_MARK_FULL_UID);
        const Explanation e = explain(s.policies, s.image, sys, resolved(t, sys));
        CHECK(e.policies[1].scope_before == "more scoped uids before than the kernel has room for");
    }
    SUBCASE("programs: 2 fit, a 3rd fills the room; two names of one program are one")
    {
        const CompiledSet s = policies("executable = [\"/usr/bin/ls\", \"/usr/bin/curl\", \"/usr/bin/ssh\"]\n",
                               "executable = \"/usr/sbin/nginx\"\n");
        TestCase t = shadow_as("/bin/sh");
        t.parent_executables = {at("/usr/bin/ls"), at("/bin/ls"), at("/usr/bin/curl")};
        CHECK(verdict(s, sys, t) == Verdict::allow);
        t.parent_executables.push_back(at("/usr/bin/ssh"));
        CHECK(verdict(s, sys, t) == Verdict::deny);
        CHECK(Evaluator(s.image).marks(resolved(t, sys).subject).full == BW_MARK_FULL_EXE);
    }
    SUBCASE("cgroups: every scoped level of a cgroup takes its own slot")
    {
        const CompiledSet s = policies("cgroup = [\"system.slice\", \"system.slice/nginx.service\", \"user.slice\", "
                               "\"user.slice/user-1000.slice\", \"a.slice\"]\n",
                               "cgroup = \"c.slice\"\n");
        TestCase t = shadow_as();
        t.cgroup = at("b.slice");
        t.parent_cgroups = {at("system.slice/nginx.service"), at("user.slice/user-1000.slice")};  // 4 keys
        CHECK(verdict(s, sys, t) == Verdict::allow);
        t.parent_cgroups.push_back(at("a.slice"));
        CHECK(verdict(s, sys, t) == Verdict::deny);
        CHECK(Evaluator(s.image).marks(resolved(t, sys).subject).full == BW_MARK_FULL_CGROUP);
    }
    SUBCASE("out of room in one kind does not open another kind")
    {
        const CompiledSet s = policies("uid = [1, 2, 3, 4, 5]\n", "uid = 33\nexecutable = \"/usr/sbin/nginx\"\n");
        TestCase t = shadow_as("/bin/sh");
        t.parent_uids = {uid(1), uid(2), uid(3), uid(4), uid(5)};
        CHECK(verdict(s, sys, t) == Verdict::allow);  // never nginx
        t.parent_executables = {at("/usr/sbin/nginx")};
        CHECK(verdict(s, sys, t) == Verdict::deny);
    }
}

TEST_CASE("sticky scope: a program matched by name only is in scope while it runs, not after")
{
    // The kernel marks programs by inode: an upgraded binary whose inode
    // changed matches [scope] executable by its (parent, name) key alone,
    // and leaves no mark (decision 012, Limits).
    FakeSystem sys = server();
    const CompiledSet s = compile_set({{"nginx.toml", kNginx}}, sys);
    const Evaluator eval(s.image);
    auto upgraded = describe_exe(sys, "/usr/sbin/nginx");
    REQUIRE(upgraded);
    upgraded->self.ino += 1000;
    Subject now;
    now.exe = upgraded;
    CHECK(eval.policies_in_scope(now, BW_KIND_FILE, 0) == 1);
    Subject after;
    after.exe = describe_exe(sys, "/usr/bin/dash");
    after.history.exes = {*upgraded};
    CHECK(eval.policies_in_scope(after, BW_KIND_FILE, 0) == 0);
    after.history.exes = {*describe_exe(sys, "/usr/sbin/nginx")};
    CHECK(eval.policies_in_scope(after, BW_KIND_FILE, 0) == 1);
}

TEST_CASE("sticky scope: monitors look at what the process is now")
{
    // bw_mon_scope reads no marks: a shell nginx spawned is out of the
    // scope of nginx's file monitor, though in the scope of its rules.
    FakeSystem sys = server();
    const CompiledSet s = compile_set({{"nginx.toml", std::string(kNginx) + "[[monitor.file]]\npaths = [\"/etc/passwd\"]\n"}},
                              sys);
    TestCase t = shadow_as("/bin/sh");
    t.path.value = "/etc/passwd";
    t.parent_executables = {at("/usr/sbin/nginx")};
    const ResolvedOp op = resolved(t, sys);
    const MonitorExplanation m = explain_monitors(s.policies, s.image, sys, monitored(op, t));
    REQUIRE(m.matches.size() == 1);
    CHECK(!m.matches[0].in_scope);
    CHECK(!m.event);
}

TEST_CASE("sticky scope: run_cases and resolving the history")
{
    FakeSystem sys = server();
    const CompiledSet s = compile_set({{"nginx.toml", kNginx}}, sys);
    TestCase ok = shadow_as("/bin/sh");
    ok.name = "shell after nginx";
    ok.parent_executables = {at("/usr/sbin/nginx")};
    ok.parent_uids = {UidSpec{std::string("www-data"), {}}};
    ok.expect = Verdict::deny;
    TestCase ghost = ok;
    ghost.parent_uids = {UidSpec{std::string("ghost"), {}}};
    TestCase gone = ok;
    gone.parent_executables = {at("/usr/sbin/apache2")};
    TestCase cg = ok;
    cg.parent_cgroups = {at("system.slice/none.service")};
    const auto results = run_cases(s.image, sys, {ok, ghost, gone, cg});
    REQUIRE(results.size() == 4);
    CHECK(results[0].passed);
    CHECK(results[0].parent_uids == std::vector<uint32_t>{33});
    CHECK(results[1].error == "unknown user \"ghost\" (not in /etc/passwd); write its numeric uid (a uid it had before)");
    CHECK(results[2].error == "no program at /usr/sbin/apache2 (a program it ran before)");
    CHECK(results[3].error.find("does not exist (a cgroup it was in before)") != std::string::npos);
}

TEST_CASE("sticky scope: explain agrees with the evaluator, policy by policy, on random histories (seeded)")
{
    FakeSystem sys = server();
    for (const char* c : {"a.slice", "a.slice/x.service", "b.slice"}) sys.mkcgroup(c);
    const std::vector<std::string> uids{"0", "33", "1000", "1", "2", "3"};
    const std::vector<std::string> cgroups{"system.slice", "system.slice/nginx.service", "user.slice/user-1000.slice",
                                           "a.slice", "a.slice/x.service", "b.slice"};
    const std::vector<std::string> exes{"/usr/sbin/nginx", "/usr/bin/dash", "/usr/bin/ls", "/usr/bin/curl",
                                        "/usr/bin/ssh"};
    size_t checked = 0, sticky = 0;
    for (uint32_t seed = 1; seed <= 40; ++seed) {
        std::mt19937 rng(seed);
        auto pick = [&](const auto& v) -> const auto& { return v[rng() % v.size()]; };
        auto some = [&](const auto& v, bool quoted, size_t most) {
            std::string out;
            for (size_t i = 0, n = 1 + rng() % most; i < n; ++i)
                out += (out.empty() ? "" : ", ") + (quoted ? "\"" + pick(v) + "\"" : pick(v));
            return "[" + out + "]";
        };
        std::vector<std::pair<std::string, std::string>> texts;
        for (size_t p = 0, n = 1 + rng() % 4; p < n; ++p) {
            std::string t = "[policy]\nname = \"p" + std::to_string(p) + "\"\n[scope]\n";
            if (rng() % 2) t += "uid = " + some(uids, false, 4) + "\n";
            if (rng() % 2) t += "cgroup = " + some(cgroups, true, 4) + "\n";
            if (rng() % 2) t += "executable = " + some(exes, true, 3) + "\n";
            t += std::string("[[file]]\npaths = [\"/etc/shadow\"]\naction = \"") + (rng() % 2 ? "deny" : "audit") + "\"\n";
            texts.emplace_back("p" + std::to_string(p) + ".toml", t);
        }
        const CompiledSet s = compile_set(texts, sys);
        const Evaluator eval(s.image);
        for (int k = 0; k < 10; ++k) {
            TestCase t = shadow_as(pick(exes));
            t.uid = uid(static_cast<uint32_t>(std::stoul(pick(uids))));
            t.cgroup = at(pick(cgroups));
            for (size_t i = 0, n = rng() % 7; i < n; ++i) t.parent_uids.push_back(uid(static_cast<uint32_t>(std::stoul(pick(uids)))));
            for (size_t i = 0, n = rng() % 6; i < n; ++i) t.parent_cgroups.push_back(at(pick(cgroups)));
            for (size_t i = 0, n = rng() % 4; i < n; ++i) t.parent_executables.push_back(at(pick(exes)));
            const ResolvedOp op = resolved(t, sys);
            const Explanation e = explain(s.policies, s.image, sys, op);
            const uint64_t in = eval.policies_in_scope(op.subject, BW_KIND_FILE, 0);
            std::string sources;
            for (const auto& file : texts) sources += file.first + ":\n" + file.second + "\n";
            INFO("seed " << seed << " case " << k << ": " << describe(t) << "\n" << sources);
            CHECK(e.consistent);
            CHECK(e.verdict == to_verdict(decide(eval, op).verdict));
            for (const auto& pe : e.policies) {
                CHECK(pe.in_scope == bool((in >> pe.policy) & 1));
                if (!pe.scope_before.empty()) ++sticky;
            }
            ++checked;
        }
    }
    CHECK(checked == 400);
    CHECK(sticky > 20);  // the history decided often enough to mean something
}
