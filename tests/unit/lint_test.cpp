// bulwark lint's own checks (engine/lint/): every warning is triggered by a
// policy written to trigger it, and a clean policy next to it does not
// trigger it — each pair on the same fake machine.
#include "lint/lint.hpp"
#include "util/json_value.hpp"
#include "tool_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace bulwark;
using namespace bulwark::test;

namespace {

Diagnostics lint(const std::vector<std::pair<std::string, std::string>>& files, const FakeSystem& sys,
                 const LintOptions& options = {})
{
    return lint_policies(parse_all(files), sys, options);
}

Diagnostics lint1(const std::string& text, const FakeSystem& sys, const LintOptions& options = {})
{
    return lint({{"p.toml", text}}, sys, options);
}

// Exactly one diagnostic contains `needle`; it has this severity and line.
#define EXPECT_ONE(ds, sev, line_, needle)                                     \
    do {                                                                       \
        INFO("diagnostics:\n" << text_of(ds));                                 \
        auto found_ = all_with((ds), (needle));                                \
        REQUIRE_MESSAGE(found_.size() == 1, "want one diagnostic with: " << (needle)); \
        CHECK(found_[0]->severity == (sev));                                   \
        CHECK(found_[0]->pos.line == (line_));                                 \
    } while (0)

#define EXPECT_NONE(ds, needle)                                                \
    do {                                                                       \
        INFO("diagnostics:\n" << text_of(ds));                                 \
        CHECK(all_with((ds), (needle)).empty());                               \
    } while (0)

#define HEAD "[policy]\nname = \"p\"\n"

// What lint says beyond the ways out of a scope this version does not close
// (lint/scope_checks.cpp), which every scoped enforcing policy gets.
std::vector<const Diagnostic*> beyond_scope_escapes(const Diagnostics& d)
{
    std::vector<const Diagnostic*> out;
    for (const Diagnostic& x : d.all())
        if (x.message.find("in this version of bulwark") == std::string::npos) out.push_back(&x);
    return out;
}

}  // namespace

TEST_CASE("lint: a clean policy set has no diagnostics at all")
{
    const FakeSystem sys = server();
    Diagnostics d = lint({{"web.toml", HEAD
                           "[scope]\ncgroup = \"system.slice/nginx.service\"\n"
                           "[[file]]\npaths = [\"/etc/shadow\"]\nprefixes = [\"/root/\"]\naction = \"deny\"\n"
                           "[[file]]\nprefixes = [\"/var/www/\"]\naccess = [\"write\"]\naction = \"deny\"\n"
                           "[[file]]\nprefixes = [\"/var/www/html/\"]\naccess = [\"write\"]\naction = \"allow\"\n"
                           "[[exec]]\npaths = [\"/usr/bin/curl\"]\naction = \"deny\"\n"
                           "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [80, 443]\naction = \"deny\"\n"},
                          {"audit.toml", "[policy]\nname = \"audit\"\nmode = \"audit\"\n"
                                         "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n"}},
                         sys);
    INFO(text_of(d));
    CHECK(beyond_scope_escapes(d).empty());
}

TEST_CASE("lint: the ways out of an enforcing policy's scope still open are warned about; the sticky ones are not")
{
    const FakeSystem sys = server();
    Diagnostics d = lint1(HEAD "[scope]\nuid = [0]\ncgroup = [\"system.slice/nginx.service\"]\n"
                               "executable = [\"/usr/sbin/nginx\"]\n"
                               "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n",
                          sys);
    // Leaving the cgroup, the uid or the program keeps the scope (sticky).
    EXPECT_NONE(d, "cgroup.procs");
    EXPECT_NONE(d, "setresuid");
    EXPECT_NONE(d, "a program it starts");
    EXPECT_ONE(d, Severity::warning, 3, "ask a process out of the scope to act for it");
    EXPECT_NONE(d, "can mount over");  // decided: docs/decisions/016
    EXPECT_NONE(d, "does not list bpf");  // nothing known of this kernel
    SUBCASE("a kernel that does not list bpf among its LSMs: the warning says the fallback would decide")
    {
        FakeSystem nobpf = server();
        const std::string text = HEAD "[scope]\nuid = [0]\n[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n";
        nobpf.set_lsm_list("lockdown,capability,apparmor");
        Diagnostics without = lint1(text, nobpf);
        EXPECT_ONE(without, Severity::warning, 3, "does not list bpf among its LSMs");
        nobpf.set_lsm_list("lockdown,capability,bpf");
        Diagnostics with = lint1(text, nobpf);
        EXPECT_ONE(with, Severity::warning, 3, "ask a process out of the scope");
        EXPECT_NONE(with, "does not list bpf");
    }
    SUBCASE("audit mode, a global policy, a scope that holds no root: fewer or none")
    {
        Diagnostics audit = lint1("[policy]\nname = \"p\"\nmode = \"audit\"\n[scope]\nuid = [0]\n"
                                  "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n",
                                  sys);
        EXPECT_NONE(audit, "in this version of bulwark");
        Diagnostics global = lint1(HEAD "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n", sys);
        EXPECT_NONE(global, "in this version of bulwark");
        Diagnostics www = lint1(HEAD "[scope]\nuid = [\"www-data\"]\n"
                                     "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n",
                                sys);
        EXPECT_NONE(www, "in this version of bulwark");
    }
}

// ---------------------------------------------------------------------------
// Rules that never decide

TEST_CASE("lint: a rule whose every path a stronger rule names never decides")
{
    const FakeSystem sys = server();
    SUBCASE("trigger: allow and deny on the same path")
    {
        Diagnostics d = lint1(HEAD "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n"
                                   "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"allow\"\n",
                              sys);
        EXPECT_ONE(d, Severity::warning, 6, "this [[file]] rule never decides anything");
        EXPECT_ONE(d, Severity::warning, 6, "the rule at line 3 names it too with a stronger action (deny beats allow");
    }
    SUBCASE("trigger: the same path twice with the same action; the first decides")
    {
        Diagnostics d = lint1(HEAD "[[exec]]\nprefixes = [\"/tmp/\"]\naction = \"deny\"\n"
                                   "[[exec]]\nprefixes = [\"/tmp/\"]\naction = \"deny\"\n",
                              sys);
        EXPECT_ONE(d, Severity::warning, 6, "this [[exec]] rule never decides anything");
        EXPECT_ONE(d, Severity::warning, 6, "same action and comes first");
    }
    SUBCASE("trigger: two spellings of one path, through a symlink")
    {
        Diagnostics d = lint1(HEAD "[[exec]]\npaths = [\"/usr/bin/dash\"]\naction = \"deny\"\n"
                                   "[[exec]]\npaths = [\"/bin/sh\"]\naction = \"allow\"\n",
                              sys);
        EXPECT_ONE(d, Severity::warning, 6, "never decides anything");
    }
    SUBCASE("trigger: one path of a rule that still decides its others")
    {
        Diagnostics d = lint1(HEAD "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n"
                                   "[[file]]\npaths = [\"/etc/hosts\", \"/etc/shadow\"]\naction = \"audit\"\n",
                              sys);
        EXPECT_ONE(d, Severity::warning, 7, "path \"/etc/shadow\" never decides in this rule");
        EXPECT_NONE(d, "never decides anything");
    }
    SUBCASE("trigger: a second fileless rule")
    {
        Diagnostics d = lint1(HEAD "[[exec]]\nfileless = true\naction = \"deny\"\n"
                                   "[[exec]]\nfileless = true\naction = \"audit\"\n",
                              sys);
        EXPECT_ONE(d, Severity::warning, 6, "never decides anything");
        EXPECT_ONE(d, Severity::warning, 6, "fileless programs");
    }
    SUBCASE("trigger: a connect rule on a narrower port range at the same CIDR")
    {
        Diagnostics d = lint1(HEAD "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\naction = \"deny\"\n"
                                   "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [443]\naction = \"allow\"\n",
                              sys);
        EXPECT_ONE(d, Severity::warning, 6, "this [[connect]] rule never decides anything");
        EXPECT_ONE(d, Severity::warning, 6, "only a narrower CIDR does");
    }
    SUBCASE("clean: a more specific allow inside a deny, a different access, an exception port")
    {
        Diagnostics d = lint1(HEAD "[[file]]\nprefixes = [\"/etc/\"]\naction = \"deny\"\n"
                                   "[[file]]\npaths = [\"/etc/hosts\"]\naction = \"allow\"\n"
                                   "[[file]]\npaths = [\"/etc/passwd\"]\naccess = [\"write\"]\naction = \"deny\"\n"
                                   "[[file]]\npaths = [\"/etc/passwd\"]\naccess = [\"read\"]\naction = \"audit\"\n"
                                   "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [25]\naction = \"deny\"\n"
                                   "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\naction = \"audit\"\n"
                                   "[[exec]]\nfileless = true\naction = \"deny\"\n",
                              sys);
        EXPECT_NONE(d, "never decides");
    }
}

TEST_CASE("lint: an allow rule that changes nothing")
{
    const FakeSystem sys = server();
    SUBCASE("trigger: a file allow where the default allows and nothing broader denies")
    {
        Diagnostics d = lint1(HEAD "[[file]]\nprefixes = [\"/srv/\"]\naction = \"allow\"\n", sys);
        EXPECT_ONE(d, Severity::warning, 3, "this allow rule changes nothing");
    }
    SUBCASE("trigger: an exec allow without an allowlist")
    {
        Diagnostics d = lint1(HEAD "[[exec]]\npaths = [\"/usr/bin/ls\"]\naction = \"allow\"\n", sys);
        EXPECT_ONE(d, Severity::warning, 3, "its [defaults] exec is allow");
    }
    SUBCASE("trigger: a connect allow under a default that allows, a narrower deny beside it")
    {
        Diagnostics d = lint1(HEAD "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\naction = \"allow\"\n"
                                   "[[connect]]\ncidrs = [\"10.1.0.0/16\"]\naction = \"deny\"\n",
                              sys);
        EXPECT_ONE(d, Severity::warning, 3, "this allow rule changes nothing");
    }
    SUBCASE("clean: allows that carve exceptions out of a deny, a default, an allowlist")
    {
        Diagnostics d = lint1(HEAD "[defaults]\nexec = \"deny\"\nconnect = \"deny\"\n"
                                   "[[file]]\nprefixes = [\"/srv/\"]\naction = \"deny\"\n"
                                   "[[file]]\nprefixes = [\"/srv/www/\"]\naction = \"allow\"\n"
                                   "[[exec]]\npaths = [\"/usr/bin/dash\", \"/usr/bin/ls\"]\naction = \"allow\"\n"
                                   "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\naction = \"allow\"\n",
                              sys);
        EXPECT_NONE(d, "changes nothing");
    }
}

// ---------------------------------------------------------------------------
// Policies that disagree

TEST_CASE("lint: two policies whose scopes nest and that disagree on one object")
{
    const FakeSystem sys = server();
    const std::string base = "[policy]\nname = \"base\"\n[[file]]\nprefixes = [\"/etc/ssh/\"]\naction = \"deny\"\n";
    SUBCASE("trigger: a scoped allow under a global deny")
    {
        Diagnostics d = lint({{"base.toml", base},
                              {"web.toml", "[policy]\nname = \"web\"\n[scope]\nuid = [\"www-data\"]\n"
                                           "[[file]]\npaths = [\"/etc/ssh/sshd_config\"]\naction = \"allow\"\n"}},
                             sys);
        EXPECT_ONE(d, Severity::warning, 6, "policies base and web both apply to the processes of web and disagree on "
                                            "/etc/ssh/sshd_config");
        EXPECT_ONE(d, Severity::warning, 6, "an allow in one policy never lifts another policy's deny");
        const auto notes = all_with(d, "policy base decides /etc/ssh/sshd_config here");
        REQUIRE(notes.size() == 1);
        CHECK(notes[0]->severity == Severity::note);
        CHECK(notes[0]->pos.file == "base.toml");
    }
    SUBCASE("trigger: an audit-mode deny against an allowlist default")
    {
        Diagnostics d = lint({{"base.toml", "[policy]\nname = \"base\"\nmode = \"audit\"\n"
                                            "[[exec]]\npaths = [\"/usr/bin/curl\"]\naction = \"allow\"\n"},
                              {"lock.toml", "[policy]\nname = \"lock\"\n[scope]\nuid = 1000\n[defaults]\nexec = \"deny\"\n"
                                            "[[exec]]\npaths = [\"/usr/bin/dash\"]\naction = \"allow\"\n"}},
                             sys);
        EXPECT_ONE(d, Severity::warning, 6, "disagree on running /usr/bin/curl");
    }
    SUBCASE("clean: scopes on different keys")
    {
        Diagnostics d = lint({{"db.toml", "[policy]\nname = \"db\"\n[scope]\nuid = 1000\n"
                                          "[[file]]\nprefixes = [\"/etc/ssh/\"]\naction = \"allow\"\n"},
                              {"web.toml", "[policy]\nname = \"web\"\n[scope]\ncgroup = \"system.slice/nginx.service\"\n"
                                           "[[file]]\nprefixes = [\"/etc/ssh/\"]\naction = \"deny\"\n"}},
                             sys);
        EXPECT_NONE(d, "disagree");
    }
    SUBCASE("clean: nested scopes with the same verdict")
    {
        Diagnostics d = lint({{"web.toml", "[policy]\nname = \"web\"\n[scope]\ncgroup = \"system.slice/nginx.service\"\n"
                                           "[[file]]\nprefixes = [\"/etc/ssh/\"]\naction = \"deny\"\n"},
                              {"base.toml", base}},
                             sys);
        EXPECT_NONE(d, "disagree");
    }
}

// ---------------------------------------------------------------------------
// Lockout

TEST_CASE("lint: lockout risks")
{
    const FakeSystem sys = server();
    SUBCASE("trigger: a deny covering /usr/, /lib*/, the loader, bulwark itself")
    {
        LintOptions o;
        o.self_exe = "/usr/sbin/nginx";  // stands in for bulwark's program
        Diagnostics d = lint1(HEAD "[[file]]\nprefixes = [\"/usr/\"]\naccess = [\"write\"]\naction = \"deny\"\n"
                                   "[[exec]]\npaths = [\"/lib64/ld-linux-x86-64.so.2\"]\naction = \"deny\"\n"
                                   "[[file]]\nprefixes = [\"/lib/\"]\naction = \"deny\"\n"
                                   "[[exec]]\npaths = [\"/usr/sbin/nginx\"]\naction = \"deny\"\n",
                              sys, o);
        EXPECT_ONE(d, Severity::warning, 4, "lockout risk: this rule denies opening /usr/, where the programs and libraries are");
        EXPECT_ONE(d, Severity::warning, 8, "lockout risk: this rule denies running or mapping the dynamic loader");
        EXPECT_ONE(d, Severity::warning, 11, "opening /lib/, where shared libraries are");
        EXPECT_ONE(d, Severity::warning, 14, "bulwark's own program /usr/sbin/nginx, so that it could not be restarted");
    }
    SUBCASE("trigger: a deny on / in a policy scoped to root")
    {
        Diagnostics d = lint1(HEAD "[scope]\nuid = 0\n[[file]]\nprefixes = [\"/\"]\naction = \"deny\"\n", sys);
        EXPECT_ONE(d, Severity::warning, 6, "the whole filesystem");
    }
    SUBCASE("clean: the same denies scoped to a service, and narrower denies")
    {
        Diagnostics d = lint({{"db.toml", "[policy]\nname = \"db\"\n[scope]\nuid = 1000\n"
                                          "[[file]]\nprefixes = [\"/\"]\naccess = [\"write\"]\naction = \"deny\"\n"},
                              {"web.toml", "[policy]\nname = \"web\"\n[scope]\ncgroup = \"system.slice/nginx.service\"\n"
                                           "[[file]]\nprefixes = [\"/usr/\"]\naction = \"deny\"\n"},
                              {"g.toml", "[policy]\nname = \"g\"\n[[exec]]\npaths = [\"/usr/bin/curl\"]\naction = \"deny\"\n"}},
                             sys);
        EXPECT_NONE(d, "lockout");
    }
    SUBCASE("trigger: an exec allowlist without the init system, enforced on every process")
    {
        Diagnostics d = lint1(HEAD "[defaults]\nexec = \"deny\"\n"
                                   "[[exec]]\nprefixes = [\"/usr/bin/\"]\naction = \"allow\"\n",
                              sys);
        EXPECT_ONE(d, Severity::warning, 4, "run the init system /sbin/init (/usr/lib/systemd/systemd)");
        EXPECT_ONE(d, Severity::warning, 1, "enforces an exec allowlist ([defaults] exec = \"deny\") on every process");
    }
    SUBCASE("trigger: enforced exec denial of a whole tree on every process")
    {
        Diagnostics d = lint1(HEAD "[[exec]]\nprefixes = [\"/tmp/\"]\naction = \"deny\"\n", sys);
        EXPECT_ONE(d, Severity::warning, 1, "enforces exec denials of whole trees (line 3) on every process");
    }
    SUBCASE("clean: the allowlist in audit mode with init allowed; one program denied")
    {
        Diagnostics d = lint({{"a.toml", "[policy]\nname = \"a\"\nmode = \"audit\"\n[defaults]\nexec = \"deny\"\n"
                                         "[[exec]]\nprefixes = [\"/usr/\"]\naction = \"allow\"\n"},
                              {"b.toml", "[policy]\nname = \"b\"\n[[exec]]\npaths = [\"/usr/bin/curl\"]\naction = \"deny\"\n"}},
                             sys);
        EXPECT_NONE(d, "lockout");
    }
}

// ---------------------------------------------------------------------------
// This machine

TEST_CASE("lint: names this machine does not have")
{
    const FakeSystem sys = server();
    SUBCASE("trigger: a path that does not exist here is a note, not a failure")
    {
        Diagnostics d = lint1(HEAD "[[file]]\npaths = [\"/etc/gshadow\"]\nprefixes = [\"/opt/app/secrets/\"]\n"
                                   "action = \"deny\"\n",
                              sys);
        EXPECT_ONE(d, Severity::note, 4, "path /etc/gshadow does not exist on this machine; the rule applies to it as "
                                         "soon as it is created");
        EXPECT_ONE(d, Severity::note, 5, "neither prefix /opt/app/secrets/ nor its directory exists");
        CHECK(!d.has_errors());
    }
    SUBCASE("trigger: a path through a symlink, naming it")
    {
        Diagnostics d = lint1(HEAD "[[exec]]\npaths = [\"/bin/curl\", \"/usr/bin/sh\"]\naction = \"deny\"\n", sys);
        EXPECT_ONE(d, Severity::warning, 4, "program /bin/curl goes through the symlink /bin → /usr/bin: the rule is "
                                            "anchored at /usr/bin/curl");
        EXPECT_ONE(d, Severity::warning, 4, "program /usr/bin/sh goes through the symlink /usr/bin/sh → /usr/bin/dash");
        // The compiler's own note about it is not repeated.
        EXPECT_NONE(d, "(through a symlink)");
    }
    SUBCASE("trigger: a user and a cgroup unknown here are warnings, where the loader would refuse")
    {
        Diagnostics d = lint1(HEAD "[scope]\nuid = [\"postgres\", 33]\ncgroup = [\"system.slice/postgresql.service\"]\n"
                                   "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n",
                              sys);
        EXPECT_ONE(d, Severity::warning, 4, "user \"postgres\" is unknown on this machine");
        EXPECT_ONE(d, Severity::warning, 5, "cgroup \"system.slice/postgresql.service\" does not exist on this machine");
        CHECK(!d.has_errors());
    }
    SUBCASE("trigger: no cgroup v2 here")
    {
        FakeSystem bare;
        bare.mkdirs("/etc");
        bare.touch("/etc/shadow");
        Diagnostics d = lint1(HEAD "[scope]\ncgroup = [\"system.slice/x.service\"]\n"
                                   "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n",
                              bare);
        EXPECT_ONE(d, Severity::warning, 4, "cgroup v2 is not mounted on this machine");
        CHECK(!d.has_errors());
    }
    SUBCASE("clean: existing paths without symlinks, known users and cgroups")
    {
        Diagnostics d = lint1(HEAD "[scope]\nuid = [\"www-data\"]\ncgroup = [\"system.slice/nginx.service\"]\n"
                                   "executable = [\"/usr/sbin/nginx\"]\n"
                                   "[[file]]\npaths = [\"/etc/shadow\"]\nprefixes = [\"/etc/ssh/\"]\naction = \"deny\"\n"
                                   "[[exec]]\npaths = [\"/usr/bin/dash\"]\naction = \"deny\"\n",
                              sys);
        INFO(text_of(d));
        CHECK(beyond_scope_escapes(d).empty());
    }
}

// ---------------------------------------------------------------------------
// Connect

TEST_CASE("lint: CIDRs and port ranges")
{
    const FakeSystem sys = server();
    SUBCASE("trigger: an IPv4 CIDR with host bits set")
    {
        // The parser's warning, which lint passes on.
        ParseResult r = parse_policy_text(HEAD "[[connect]]\ncidrs = [\"10.1.2.3/8\"]\naction = \"deny\"\n", "p.toml");
        EXPECT_ONE(r.diagnostics, Severity::warning, 4, "has address bits set after its first 8");
    }
    SUBCASE("clean: a network address")
    {
        ParseResult r = parse_policy_text(HEAD "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\naction = \"deny\"\n", "p.toml");
        CHECK(r.diagnostics.all().empty());
    }
    SUBCASE("trigger: overlapping ranges in one rule")
    {
        Diagnostics d = lint1(HEAD "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [80, \"1-100\"]\naction = \"deny\"\n", sys);
        EXPECT_ONE(d, Severity::warning, 5, "ports 1-100 overlap 80");
    }
    SUBCASE("trigger: two rules at one CIDR whose ranges overlap, the weaker losing the overlap")
    {
        Diagnostics d = lint1(HEAD "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [\"80-90\"]\naction = \"allow\"\n"
                                   "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [\"85-100\"]\naction = \"deny\"\n",
                              sys);
        EXPECT_ONE(d, Severity::warning, 5, "ports 85-90 of this allow rule are also covered by the deny rule at line 7");
    }
    SUBCASE("clean: disjoint ranges, and an exception carved out of a wider range")
    {
        Diagnostics c = lint1(HEAD "[defaults]\nconnect = \"deny\"\n"
                                   "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [80, 443, \"8000-8100\"]\naction = \"allow\"\n"
                                   "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [8080]\naction = \"audit\"\n",
                              sys);
        EXPECT_NONE(c, "overlap");
        EXPECT_NONE(c, "also covered");
    }
}

TEST_CASE("lint: errors stay errors; diagnostics come in file and line order")
{
    const FakeSystem sys = server();
    // A prefix that names a file is an error on any machine.
    Diagnostics d = lint({{"a.toml", HEAD "[[file]]\nprefixes = [\"/etc/shadow/\"]\naction = \"deny\"\n"},
                          {"b.toml", "[policy]\nname = \"b\"\n[[file]]\npaths = [\"/nope/x\"]\nprefixes = [\"/srv/\"]\n"
                                     "action = \"allow\"\n"}},
                         sys);
    INFO(text_of(d));
    CHECK(d.has_errors());
    std::vector<std::pair<std::string, uint32_t>> order;
    for (const auto& x : d.all()) order.emplace_back(x.pos.file, x.pos.line);
    CHECK(std::is_sorted(order.begin(), order.end(), [](const auto& a, const auto& b) {
        return std::pair(a.first != "a.toml", a.second) < std::pair(b.first != "a.toml", b.second);
    }));
}

TEST_CASE("lint --format json: every diagnostic, with its position, and the counts")
{
    const FakeSystem sys = server();
    Diagnostics d = lint1(HEAD "[[file]]\npaths = [\"/etc/gshadow\", \"/etc/shadow\"]\naction = \"deny\"\n"
                               "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"allow\"\n",
                          sys);
    d.error(SourcePos{"q\"uote.toml", 1, 2}, "a \"quoted\" message");
    std::string err;
    auto j = JsonValue::parse(diagnostics_json(d, 3), &err);
    INFO(err);
    REQUIRE(j);
    const auto& ds = j->get("diagnostics")->array();
    REQUIRE(ds.size() == d.all().size());
    CHECK(ds[0].str("file") == "p.toml");
    CHECK(ds[0].get("line")->integer() == 4);
    CHECK(ds[0].get("column")->integer() == 10);
    CHECK(ds[0].str("severity") == "note");
    CHECK(ds.back().str("file") == "q\"uote.toml");
    CHECK(ds.back().str("message") == "a \"quoted\" message");
    CHECK(j->get("errors")->integer() == 1);
    CHECK(j->get("warnings")->integer() == 1);
    CHECK(j->get("notes")->integer() == 1);
    CHECK(j->get("policies")->integer() == 3);
}
