// The reference evaluator over compiled images, on a fake machine: every
// rule of the policy semantics (docs/policy-language.md, "Deciding: precedence") checked
// through decide_file(), with the file described as the BPF walk sees it
// (FakeSystem::open) and — except through bind mounts — as describe_file()
// describes it.
#include "compile/compiler.hpp"
#include "compile/evaluator.hpp"
#include "fake_system.hpp"
#include "policy_builder.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace bulwark;
using namespace bulwark::test;

namespace {

FakeSystem machine()
{
    FakeSystem s;
    for (const char* d : {"/etc/ssh/keys", "/etc/ssh.d", "/root", "/home/alice/pub", "/home/bob", "/data/www", "/srv",
                          "/tmp", "/var/log", "/usr/bin", "/mnt"})
        s.mkdirs(d);
    for (const char* f : {"/etc/shadow", "/etc/gshadow", "/etc/passwd", "/etc/hostname", "/etc/sshd_config",
                          "/etc/ssh/sshd_config", "/etc/ssh/keys/host_key", "/etc/ssh.d/x.conf", "/root/.bashrc",
                          "/home/alice/notes.txt", "/home/alice/pub/readme", "/home/bob/todo", "/data/www/index.html",
                          "/data/db", "/tmp/x", "/var/log/syslog", "/usr/bin/cat"})
        s.touch(f);
    s.add_user("root", 0);
    s.add_user("www-data", 33);
    s.add_user("alice", 1000);
    s.mount_cgroup2();
    s.mkcgroup("system.slice/nginx.service");
    s.mkcgroup("system.slice/sshd.service");
    s.mkcgroup("user.slice/user-1000.slice");
    return s;
}

Subject as_uid(uint32_t uid) { return subject(1000, uid); }

Subject in_cgroup(const FakeSystem& s, const std::string& rel, uint32_t uid = 0)
{
    return subject(1000, uid, s.cgroup_ancestors(rel));
}

// "/base/d1/d2/.../dN" (directories created), for depth tests.
std::string make_chain(FakeSystem& s, const std::string& base, size_t n)
{
    std::string p = base;
    s.mkdirs(p);
    for (size_t i = 1; i <= n; ++i) {
        p += "/d" + std::to_string(i);
        s.mkdir(p);
    }
    return p;
}

size_t lookups(const FileObject& o)
{
    size_t n = 0;
    for (const auto& st : o.steps) n += st.kind == WalkStep::Kind::lookup;
    return n;
}

bool has_cross(const FileObject& o)
{
    for (const auto& st : o.steps)
        if (st.kind == WalkStep::Kind::cross) return true;
    return false;
}

}  // namespace

// ===========================================================================
// Exact paths, prefixes, defaults

TEST_CASE("exact deny: the named file is denied for every access; nothing else is")
{
    auto sys = machine();
    PolicyBuilder p("p");
    p.deny({"/etc/shadow"});
    Compiled c({p}, sys);

    const uint32_t shadow = entry_for(c.image(), "/etc/shadow", BW_ROLE_SELF);
    REQUIRE(shadow != BW_ENTRY_NONE);
    for (uint32_t a : {R, W, RW}) {
        CAPTURE(a);
        auto o = open_as(c, sys, "/etc/shadow", a);
        CHECK(verdict(o) == "deny");
        CHECK(o.policy == 0);
        CHECK(o.entry == shadow);
        CHECK(o.column == (a == W ? BW_COL_WRITE : BW_COL_READ));
    }
    for (const char* other : {"/etc/gshadow", "/etc/passwd", "/etc", "/", "/tmp/x", "/var/log/syslog"}) {
        CAPTURE(other);
        auto o = open_as(c, sys, other, RW);
        CHECK(verdict(o) == "allow");
        CHECK(o.policy == BW_POLICY_NONE);
    }
    // Same name elsewhere: not the same file.
    sys.touch("/tmp/shadow");
    CHECK(verdict(open_as(c, sys, "/tmp/shadow", R)) == "allow");
    // A directory below the exact name would be a tree, which exact rules are not.
    // (shadow is a file here; an exact rule on a directory covers only the directory.)
    PolicyBuilder q("q");
    q.deny({"/etc/ssh"});
    Compiled cq({q}, sys);
    CHECK(verdict(open_as(cq, sys, "/etc/ssh", R)) == "deny");
    CHECK(verdict(open_as(cq, sys, "/etc/ssh/sshd_config", R)) == "allow");
}

TEST_CASE("prefix deny: the whole tree at any depth, including files created later; not string neighbours")
{
    auto sys = machine();
    PolicyBuilder p("p");
    p.deny({"/etc/ssh/"});
    Compiled c({p}, sys);
    const uint32_t tree = entry_for(c.image(), "/etc/ssh/", BW_ROLE_ANCESTOR);
    REQUIRE(tree != BW_ENTRY_NONE);

    for (const char* in : {"/etc/ssh/sshd_config", "/etc/ssh/keys/host_key", "/etc/ssh/keys"}) {
        CAPTURE(in);
        auto o = open_as(c, sys, in, R);
        CHECK(verdict(o) == "deny");
        CHECK(o.entry == tree);
    }
    sys.touch("/etc/ssh/new_key");
    sys.mkdirs("/etc/ssh/keys/a/b/c");
    sys.touch("/etc/ssh/keys/a/b/c/deep");
    CHECK(verdict(open_as(c, sys, "/etc/ssh/new_key", W)) == "deny");
    CHECK(verdict(open_as(c, sys, "/etc/ssh/keys/a/b/c/deep", R)) == "deny");

    for (const char* out : {"/etc/sshd_config", "/etc/ssh.d/x.conf", "/etc/passwd", "/root/.bashrc"}) {
        CAPTURE(out);
        CHECK(verdict(open_as(c, sys, out, RW)) == "allow");
    }
}

TEST_CASE("no rule matches: the policy's file default decides")
{
    auto sys = machine();

    SUBCASE("no [defaults]: allow")
    {
        PolicyBuilder p("p");
        p.deny({"/etc/shadow"});
        Compiled c({p}, sys);
        auto o = open_as(c, sys, "/var/log/syslog", RW);
        CHECK(verdict(o) == "allow");
        CHECK(o.policy == BW_POLICY_NONE);
        CHECK(o.entry == BW_ENTRY_NONE);
        CHECK(o.in_scope == 1);
        // Under the key that flags /etc for named children: still the default.
        CHECK(verdict(open_as(c, sys, "/etc/passwd", RW)) == "allow");
    }
    SUBCASE("file = \"deny\"")
    {
        PolicyBuilder p("p");
        p.file_default(Action::deny).allow({"/etc/passwd"}).allow({"/tmp/"});
        Compiled c({p}, sys);
        auto o = open_as(c, sys, "/var/log/syslog", R);
        CHECK(verdict(o) == "deny");
        CHECK(o.policy == 0);
        CHECK(o.entry == BW_ENTRY_NONE);
        CHECK(location(c, o) == "p.toml:" + std::to_string(p.default_line()));
        // A sibling of an exact allow, decided at the (synthetic) /etc key: the default.
        auto sib = open_as(c, sys, "/etc/hostname", R);
        CHECK(verdict(sib) == "deny");
        CHECK(sib.entry == entry_for(c.image(), "/etc/", BW_ROLE_ANCESTOR));
        CHECK(location(c, sib) == "p.toml:" + std::to_string(p.default_line()));
        CHECK(verdict(open_as(c, sys, "/etc/passwd", RW)) == "allow");
        CHECK(verdict(open_as(c, sys, "/tmp/x", RW)) == "allow");
    }
    SUBCASE("file = \"audit\"")
    {
        PolicyBuilder p("p");
        p.file_default(Action::audit).allow({"/tmp/"});
        Compiled c({p}, sys);
        auto o = open_as(c, sys, "/etc/passwd", R);
        CHECK(verdict(o) == "audit");
        CHECK(o.policy == 0);
        CHECK(location(c, o) == "p.toml:" + std::to_string(p.default_line()));
        CHECK(verdict(open_as(c, sys, "/tmp/x", R)) == "allow");
    }
}

// ===========================================================================
// Most specific wins

TEST_CASE("most specific: an exact path beats a prefix, in both directions and either rule order")
{
    auto sys = machine();
    SUBCASE("allow exact inside a denied tree")
    {
        for (bool exact_first : {false, true}) {
            CAPTURE(exact_first);
            PolicyBuilder p("p");
            if (exact_first) p.allow({"/etc/passwd"}).deny({"/etc/"});
            else p.deny({"/etc/"}).allow({"/etc/passwd"});
            Compiled c({p}, sys);
            CHECK(verdict(open_as(c, sys, "/etc/passwd", RW)) == "allow");
            CHECK(verdict(open_as(c, sys, "/etc/hostname", R)) == "deny");
            CHECK(verdict(open_as(c, sys, "/etc/ssh/sshd_config", R)) == "deny");
        }
    }
    SUBCASE("deny exact inside an allowed tree (default deny)")
    {
        for (bool exact_first : {false, true}) {
            CAPTURE(exact_first);
            PolicyBuilder p("p");
            p.file_default(Action::deny);
            if (exact_first) p.deny({"/home/alice/notes.txt"}).allow({"/home/alice/"});
            else p.allow({"/home/alice/"}).deny({"/home/alice/notes.txt"});
            Compiled c({p}, sys);
            auto o = open_as(c, sys, "/home/alice/notes.txt", R);
            CHECK(verdict(o) == "deny");
            CHECK(location(c, o) == "p.toml:" + std::to_string(p.rule_line(exact_first ? 0 : 1)));
            CHECK(verdict(open_as(c, sys, "/home/alice/pub/readme", R)) == "allow");
            CHECK(verdict(open_as(c, sys, "/home/bob/todo", R)) == "deny");
        }
    }
}

TEST_CASE("most specific: a longer prefix beats a shorter one")
{
    auto sys = machine();
    SUBCASE("allow inside deny")
    {
        PolicyBuilder p("p");
        p.deny({"/home/"}).allow({"/home/alice/pub/"});
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/home/alice/pub/readme", RW)) == "allow");
        CHECK(verdict(open_as(c, sys, "/home/alice/notes.txt", R)) == "deny");
        CHECK(verdict(open_as(c, sys, "/home/bob/todo", R)) == "deny");
    }
    SUBCASE("deny inside allow")
    {
        PolicyBuilder p("p");
        p.file_default(Action::deny).deny({"/home/alice/pub/"}).allow({"/home/"});
        Compiled c({p}, sys);
        auto o = open_as(c, sys, "/home/alice/pub/readme", R);
        CHECK(verdict(o) == "deny");
        CHECK(location(c, o) == "p.toml:" + std::to_string(p.rule_line(0)));
        CHECK(verdict(open_as(c, sys, "/home/alice/notes.txt", RW)) == "allow");
        CHECK(verdict(open_as(c, sys, "/etc/passwd", R)) == "deny");  // default
    }
    SUBCASE("three levels alternate")
    {
        PolicyBuilder p("p");
        p.deny({"/home/alice/pub/"}).deny({"/home/"}).allow({"/home/alice/"});
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/home/bob/todo", R)) == "deny");
        CHECK(verdict(open_as(c, sys, "/home/alice/notes.txt", R)) == "allow");
        CHECK(verdict(open_as(c, sys, "/home/alice/pub/readme", R)) == "deny");
    }
    SUBCASE("\"/\" is the shortest prefix of all")
    {
        PolicyBuilder p("p");
        p.deny({"/"}).allow({"/tmp/"});
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/tmp/x", RW)) == "allow");
        CHECK(verdict(open_as(c, sys, "/etc/passwd", R)) == "deny");
        CHECK(verdict(open_as(c, sys, "/usr/bin/cat", R)) == "deny");
    }
}

TEST_CASE("ties at the same path: deny > audit > allow, whatever the rule order")
{
    auto sys = machine();
    struct Case {
        Action a, b;
        const char* want;
    };
    const Case cases[] = {
        {Action::deny, Action::allow, "deny"},   {Action::allow, Action::deny, "deny"},
        {Action::audit, Action::allow, "audit"}, {Action::allow, Action::audit, "audit"},
        {Action::deny, Action::audit, "deny"},   {Action::audit, Action::deny, "deny"},
    };
    for (const auto& k : cases) {
        for (const char* path : {"/etc/shadow", "/etc/ssh/"}) {
            CAPTURE(path);
            CAPTURE(k.want);
            PolicyBuilder p("p");
            p.rule(k.a, {path}).rule(k.b, {path});
            Compiled c({p}, sys);
            auto o = open_as(c, sys, std::string(path) == "/etc/ssh/" ? "/etc/ssh/sshd_config" : path, R);
            CHECK(verdict(o) == k.want);
            // The winning rule is the one named in events.
            const size_t winner = (std::string(k.want) == "deny" ? (k.a == Action::deny ? 0 : 1)
                                                                 : (k.a == Action::audit ? 0 : 1));
            CHECK(location(c, o) == "p.toml:" + std::to_string(p.rule_line(winner)));
        }
    }
    SUBCASE("the same directory spelled two ways (a symlink) is the same path")
    {
        sys.symlink("/cfg", "/etc");
        PolicyBuilder p("p");
        p.allow({"/etc/ssh/"}).deny({"/cfg/ssh/"});
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/etc/ssh/sshd_config", R)) == "deny");
    }
    SUBCASE("a tie in one column only")
    {
        PolicyBuilder p("p");
        p.allow({"/etc/shadow"}).deny({"/etc/shadow"}, access_write);
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R)) == "allow");
        CHECK(verdict(open_as(c, sys, "/etc/shadow", W)) == "deny");
    }
}

// ===========================================================================
// Access columns

TEST_CASE("access columns: read and write are decided separately")
{
    auto sys = machine();
    SUBCASE("a write-only deny leaves reads allowed")
    {
        PolicyBuilder p("p");
        p.deny({"/etc/hostname"}, access_write);
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/etc/hostname", R)) == "allow");
        auto w = open_as(c, sys, "/etc/hostname", W);
        CHECK(verdict(w) == "deny");
        CHECK(w.column == BW_COL_WRITE);
    }
    SUBCASE("a read-only deny leaves writes allowed")
    {
        PolicyBuilder p("p");
        p.deny({"/var/log/"}, access_read);
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/var/log/syslog", W)) == "allow");
        CHECK(verdict(open_as(c, sys, "/var/log/syslog", R)) == "deny");
    }
    SUBCASE("O_RDWR is denied if either column denies")
    {
        PolicyBuilder p("p");
        p.deny({"/etc/hostname"}, access_write).deny({"/var/log/syslog"}, access_read);
        Compiled c({p}, sys);
        auto a = open_as(c, sys, "/etc/hostname", RW);
        CHECK(verdict(a) == "deny");
        CHECK(a.column == BW_COL_WRITE);
        auto b = open_as(c, sys, "/var/log/syslog", RW);
        CHECK(verdict(b) == "deny");
        CHECK(b.column == BW_COL_READ);
    }
    SUBCASE("an exact read rule does not shadow a prefix write rule for writes")
    {
        PolicyBuilder p("p");
        p.deny({"/data/"}, access_write).allow({"/data/www/index.html"}, access_read);
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/data/www/index.html", R)) == "allow");
        auto w = open_as(c, sys, "/data/www/index.html", W);
        CHECK(verdict(w) == "deny");
        CHECK(location(c, w) == "p.toml:" + std::to_string(p.rule_line(0)));
        CHECK(verdict(open_as(c, sys, "/data/www/index.html", RW)) == "deny");
    }
    SUBCASE("a longer read prefix does not shadow a shorter write prefix, nor the reverse")
    {
        PolicyBuilder p("p");
        p.deny({"/data/"}, access_write).allow({"/data/www/"}, access_read).deny({"/home/"}, access_read)
            .allow({"/home/alice/"}, access_write);
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/data/www/index.html", W)) == "deny");
        CHECK(verdict(open_as(c, sys, "/data/www/index.html", R)) == "allow");
        CHECK(verdict(open_as(c, sys, "/home/alice/notes.txt", R)) == "deny");
        CHECK(verdict(open_as(c, sys, "/home/alice/notes.txt", W)) == "allow");
    }
    SUBCASE("the default decides the column a rule leaves open")
    {
        PolicyBuilder p("p");
        p.file_default(Action::deny).allow({"/tmp/"}, access_read);
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/tmp/x", R)) == "allow");
        auto w = open_as(c, sys, "/tmp/x", W);
        CHECK(verdict(w) == "deny");
        CHECK(location(c, w) == "p.toml:" + std::to_string(p.default_line()));
    }
    SUBCASE("the strongest verdict over the requested columns")
    {
        PolicyBuilder p("p");
        p.audit({"/etc/hostname"}, access_read).deny({"/etc/hostname"}, access_write);
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/etc/hostname", R)) == "audit");
        CHECK(verdict(open_as(c, sys, "/etc/hostname", RW)) == "deny");
    }
}

// ===========================================================================
// Several policies, modes, audit

TEST_CASE("several policies: denied if any enforcing policy in scope denies")
{
    auto sys = machine();
    PolicyBuilder a("a"), b("b");
    a.allow({"/etc/"}).deny({"/root/"});  // an explicit allow in a does not overrule b
    b.deny({"/etc/shadow"});
    Compiled c({a, b}, sys);
    auto o = open_as(c, sys, "/etc/shadow", R);
    CHECK(verdict(o) == "deny");
    CHECK(o.policy == 1);
    CHECK(o.in_scope == 3);
    CHECK(location(c, o) == "b.toml:" + std::to_string(b.rule_line(0)));
    auto r = open_as(c, sys, "/root/.bashrc", R);
    CHECK(verdict(r) == "deny");
    CHECK(r.policy == 0);
    CHECK(verdict(open_as(c, sys, "/etc/passwd", R)) == "allow");

    SUBCASE("several deny: the lowest-numbered policy is reported")
    {
        PolicyBuilder x("x"), y("y");
        x.deny({"/etc/"});
        y.deny({"/etc/shadow"});
        Compiled c2({x, y}, sys);
        auto o2 = open_as(c2, sys, "/etc/shadow", R);
        CHECK(verdict(o2) == "deny");
        CHECK(o2.policy == 0);
        CHECK(location(c2, o2) == "x.toml:" + std::to_string(x.rule_line(0)));
    }
}

TEST_CASE("audit mode: a policy's denials become would-deny; enforcing denials still win")
{
    auto sys = machine();
    SUBCASE("audit-mode deny: would-deny")
    {
        PolicyBuilder p("p");
        p.audit_mode().deny({"/etc/shadow"});
        Compiled c({p}, sys);
        auto o = open_as(c, sys, "/etc/shadow", R);
        CHECK(verdict(o) == "would-deny");
        CHECK(o.policy == 0);
        CHECK(location(c, o) == "p.toml:" + std::to_string(p.rule_line(0)));
    }
    SUBCASE("audit-mode default deny: would-deny")
    {
        PolicyBuilder p("p");
        p.audit_mode().file_default(Action::deny);
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/tmp/x", W)) == "would-deny");
    }
    SUBCASE("an enforcing deny wins over another policy's would-deny (lower index)")
    {
        PolicyBuilder dry("dry"), real("real");
        dry.audit_mode().deny({"/etc/shadow"});
        real.deny({"/etc/"});
        Compiled c({dry, real}, sys);
        auto o = open_as(c, sys, "/etc/shadow", R);
        CHECK(verdict(o) == "deny");
        CHECK(o.policy == 1);
        CHECK(location(c, o) == "real.toml:" + std::to_string(real.rule_line(0)));
        // where only the dry run denies: would-deny
        PolicyBuilder dry2("dry2"), real2("real2");
        dry2.audit_mode().deny({"/etc/shadow"});
        real2.deny({"/root/"});
        Compiled c2({dry2, real2}, sys);
        auto o2 = open_as(c2, sys, "/etc/shadow", R);
        CHECK(verdict(o2) == "would-deny");
        CHECK(o2.policy == 0);
    }
    SUBCASE("an enforcing deny in the write column wins over a would-deny in the read column")
    {
        PolicyBuilder dry("dry"), real("real");
        dry.audit_mode().deny({"/etc/hostname"}, access_read);
        real.deny({"/etc/hostname"}, access_write);
        Compiled c({dry, real}, sys);
        auto o = open_as(c, sys, "/etc/hostname", RW);
        CHECK(verdict(o) == "deny");
        CHECK(o.policy == 1);
        CHECK(o.column == BW_COL_WRITE);
        auto r = open_as(c, sys, "/etc/hostname", R);
        CHECK(verdict(r) == "would-deny");
        CHECK(r.column == BW_COL_READ);
    }
}

TEST_CASE("global audit (--audit): every denial of every policy is a would-deny")
{
    auto sys = machine();
    PolicyBuilder a("a"), b("b");
    a.deny({"/etc/shadow"});
    b.file_default(Action::deny).allow({"/etc/"}).audit({"/tmp/"});
    CompileOptions opts;
    opts.global_audit = true;
    Compiled c({a, b}, sys, opts);
    CHECK(c.image().policy_set.enforcing == 0);
    CHECK(c.image().policies[0].mode == Mode::audit);
    auto o = open_as(c, sys, "/etc/shadow", RW);
    CHECK(verdict(o) == "would-deny");
    CHECK(o.policy == 0);
    CHECK(verdict(open_as(c, sys, "/var/log/syslog", R)) == "would-deny");  // b's default
    CHECK(verdict(open_as(c, sys, "/tmp/x", R)) == "audit");
    CHECK(verdict(open_as(c, sys, "/etc/passwd", R)) == "allow");
    // Without it, the same set blocks.
    Compiled enforced({a, b}, sys);
    CHECK(verdict(open_as(enforced, sys, "/etc/shadow", RW)) == "deny");
}

TEST_CASE("action = \"audit\": allowed and reported, in enforce and audit mode")
{
    auto sys = machine();
    for (bool audit_mode : {false, true}) {
        CAPTURE(audit_mode);
        PolicyBuilder p("p");
        if (audit_mode) p.audit_mode();
        p.audit({"/etc/passwd", "/home/"});
        Compiled c({p}, sys);
        auto o = open_as(c, sys, "/etc/passwd", R);
        CHECK(verdict(o) == "audit");
        CHECK(o.policy == 0);
        CHECK(location(c, o) == "p.toml:" + std::to_string(p.rule_line(0)));
        CHECK(verdict(open_as(c, sys, "/home/bob/todo", W)) == "audit");
        CHECK(verdict(open_as(c, sys, "/etc/hostname", R)) == "allow");
    }
}

TEST_CASE("verdict priority across policies and columns: deny > would-deny > audit")
{
    auto sys = machine();
    sys.touch("/tmp/a");
    sys.touch("/tmp/b");
    sys.touch("/tmp/c");
    PolicyBuilder aud("aud"), dry("dry"), real("real");
    aud.audit({"/tmp/a", "/tmp/b", "/tmp/c"});
    dry.audit_mode().deny({"/tmp/b", "/tmp/c"});
    real.deny({"/tmp/c"});
    Compiled c({aud, dry, real}, sys);

    auto a = open_as(c, sys, "/tmp/a", R);
    CHECK(verdict(a) == "audit");
    CHECK(a.policy == 0);
    auto b = open_as(c, sys, "/tmp/b", R);
    CHECK(verdict(b) == "would-deny");
    CHECK(b.policy == 1);
    auto cc = open_as(c, sys, "/tmp/c", R);
    CHECK(verdict(cc) == "deny");
    CHECK(cc.policy == 2);

    SUBCASE("across the columns of one open")
    {
        PolicyBuilder x("x"), y("y");
        x.audit({"/etc/hostname"}, access_read).audit({"/etc/passwd"}, access_write);
        y.audit_mode().deny({"/etc/hostname"}, access_write).deny({"/etc/passwd"}, access_read);
        Compiled c2({x, y}, sys);
        auto h = open_as(c2, sys, "/etc/hostname", RW);  // read: audit, write: would-deny
        CHECK(verdict(h) == "would-deny");
        CHECK(h.column == BW_COL_WRITE);
        CHECK(h.policy == 1);
        auto p = open_as(c2, sys, "/etc/passwd", RW);  // read: would-deny, write: audit
        CHECK(verdict(p) == "would-deny");
        CHECK(p.column == BW_COL_READ);
        CHECK(p.policy == 1);
    }
    SUBCASE("would-deny in both columns, by different policies: the first column's is reported")
    {
        PolicyBuilder x("x"), y("y");
        x.audit_mode().deny({"/etc/hostname"}, access_write);
        y.audit_mode().deny({"/etc/hostname"}, access_read);
        Compiled c2({x, y}, sys);
        auto h = open_as(c2, sys, "/etc/hostname", RW);
        CHECK(verdict(h) == "would-deny");
        CHECK(h.column == BW_COL_READ);
        CHECK(h.policy == 1);
        CHECK(location(c2, h) == "y.toml:" + std::to_string(y.rule_line(0)));
    }
}

// ===========================================================================
// Scope

TEST_CASE("scope: uid, as a number or a user name; several uids are OR")
{
    auto sys = machine();
    SUBCASE("number")
    {
        PolicyBuilder p("p");
        p.uid(33).deny({"/etc/shadow"});
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R, as_uid(33))) == "deny");
        auto o = open_as(c, sys, "/etc/shadow", R, as_uid(0));
        CHECK(verdict(o) == "allow");
        CHECK(o.in_scope == 0);
    }
    SUBCASE("name")
    {
        PolicyBuilder p("p");
        p.uid("www-data").deny({"/etc/shadow"});
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R, as_uid(33))) == "deny");
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R, as_uid(1000))) == "allow");
    }
    SUBCASE("OR within the key")
    {
        PolicyBuilder p("p");
        p.uid(33).uid("alice").deny({"/etc/shadow"});
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R, as_uid(33))) == "deny");
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R, as_uid(1000))) == "deny");
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R, as_uid(0))) == "allow");
    }
    SUBCASE("several policies scoped to the same and to different uids")
    {
        PolicyBuilder a("a"), b("b"), d("d");
        a.uid(33).deny({"/etc/shadow"});
        b.uid(33).uid(1000).deny({"/etc/gshadow"});
        d.uid(1000).deny({"/etc/passwd"});
        Compiled c({a, b, d}, sys);
        CHECK(open_as(c, sys, "/tmp/x", R, as_uid(33)).in_scope == 0b011);
        CHECK(open_as(c, sys, "/tmp/x", R, as_uid(1000)).in_scope == 0b110);
        CHECK(verdict(open_as(c, sys, "/etc/passwd", R, as_uid(33))) == "allow");
        CHECK(verdict(open_as(c, sys, "/etc/passwd", R, as_uid(1000))) == "deny");
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R, as_uid(1000))) == "allow");
    }
}

TEST_CASE("scope: cgroup, with its descendants")
{
    auto sys = machine();
    sys.mkcgroup("system.slice/nginx.service/worker");
    SUBCASE("relative, with or without a leading '/', and absolute under the mount")
    {
        for (const char* cg : {"system.slice/nginx.service", "/system.slice/nginx.service",
                               "/sys/fs/cgroup/system.slice/nginx.service"}) {
            CAPTURE(cg);
            PolicyBuilder p("p");
            p.cgroup(cg).deny({"/etc/shadow"});
            Compiled c({p}, sys);
            CHECK(verdict(open_as(c, sys, "/etc/shadow", R, in_cgroup(sys, "system.slice/nginx.service"))) == "deny");
            CHECK(verdict(open_as(c, sys, "/etc/shadow", R, in_cgroup(sys, "system.slice/nginx.service/worker"))) ==
                  "deny");
            CHECK(verdict(open_as(c, sys, "/etc/shadow", R, in_cgroup(sys, "system.slice"))) == "allow");
            CHECK(verdict(open_as(c, sys, "/etc/shadow", R, in_cgroup(sys, "system.slice/sshd.service"))) == "allow");
            CHECK(verdict(open_as(c, sys, "/etc/shadow", R, in_cgroup(sys, ""))) == "allow");
            CHECK(verdict(open_as(c, sys, "/etc/shadow", R, subject(1, 0))) == "allow");  // no cgroup v2
        }
    }
    SUBCASE("several cgroups are OR, at different levels")
    {
        PolicyBuilder p("p");
        p.cgroup("system.slice/sshd.service").cgroup("user.slice").deny({"/etc/shadow"});
        Compiled c({p}, sys);
        CHECK(c.image().policy_set.cgroup_levels == ((1ull << 1) | (1ull << 2)));
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R, in_cgroup(sys, "system.slice/sshd.service"))) == "deny");
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R, in_cgroup(sys, "user.slice/user-1000.slice"))) == "deny");
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R, in_cgroup(sys, "system.slice/nginx.service"))) == "allow");
    }
    SUBCASE("policies scoped to different levels")
    {
        PolicyBuilder a("a"), b("b");
        a.cgroup("system.slice").deny({"/etc/shadow"});
        b.cgroup("user.slice/user-1000.slice").deny({"/etc/gshadow"});
        Compiled c({a, b}, sys);
        CHECK(open_as(c, sys, "/tmp/x", R, in_cgroup(sys, "system.slice/nginx.service/worker")).in_scope == 0b01);
        CHECK(open_as(c, sys, "/tmp/x", R, in_cgroup(sys, "user.slice/user-1000.slice")).in_scope == 0b10);
        CHECK(open_as(c, sys, "/tmp/x", R, in_cgroup(sys, "user.slice")).in_scope == 0);
    }
    SUBCASE("the root cgroup scopes every task in cgroup v2")
    {
        PolicyBuilder p("p");
        p.cgroup("/sys/fs/cgroup").deny({"/etc/shadow"});
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R, in_cgroup(sys, ""))) == "deny");
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R, in_cgroup(sys, "user.slice"))) == "deny");
    }
    SUBCASE("cgroup v2 mounted at /sys/fs/cgroup/unified (hybrid hierarchy)")
    {
        FakeSystem hy;
        hy.mkdirs("/etc");
        hy.touch("/etc/shadow");
        hy.mount_cgroup2("/sys/fs/cgroup/unified");
        hy.mkcgroup("test/inner");
        PolicyBuilder p("p");
        p.cgroup("test").deny({"/etc/shadow"});
        Compiled c({p}, hy);
        CHECK(verdict(open_as(c, hy, "/etc/shadow", R, in_cgroup(hy, "test/inner"))) == "deny");
        CHECK(verdict(open_as(c, hy, "/etc/shadow", R, in_cgroup(hy, ""))) == "allow");
    }
}

TEST_CASE("scope: keys are AND; a policy without [scope] applies to every process")
{
    auto sys = machine();
    PolicyBuilder scoped("scoped"), everyone("everyone");
    scoped.uid(33).cgroup("system.slice/nginx.service").deny({"/etc/shadow"});
    everyone.deny({"/etc/gshadow"});
    Compiled c({scoped, everyone}, sys);

    const auto nginx = [&](uint32_t uid) { return in_cgroup(sys, "system.slice/nginx.service", uid); };
    const auto sshd = [&](uint32_t uid) { return in_cgroup(sys, "system.slice/sshd.service", uid); };
    CHECK(verdict(open_as(c, sys, "/etc/shadow", R, nginx(33))) == "deny");
    CHECK(verdict(open_as(c, sys, "/etc/shadow", R, nginx(0))) == "allow");   // cgroup only
    CHECK(verdict(open_as(c, sys, "/etc/shadow", R, sshd(33))) == "allow");   // uid only
    CHECK(verdict(open_as(c, sys, "/etc/shadow", R, as_uid(33))) == "allow"); // no cgroup
    CHECK(open_as(c, sys, "/tmp/x", R, nginx(33)).in_scope == 0b11);
    CHECK(open_as(c, sys, "/tmp/x", R, sshd(33)).in_scope == 0b10);
    for (const Subject& s : {nginx(33), nginx(0), sshd(1000), as_uid(4242), Subject{}}) {
        CHECK(verdict(open_as(c, sys, "/etc/gshadow", W, s)) == "deny");
    }
}

TEST_CASE("scope: bulwark's own process (self_tgid) is never decided")
{
    auto sys = machine();
    PolicyBuilder p("p");
    p.file_default(Action::deny).deny({"/etc/shadow"});
    Compiled c({p}, sys);
    const Subject self = subject(4242, 0, sys.cgroup_ancestors("system.slice"));
    auto o = open_as(c, sys, "/etc/shadow", RW, self, 4242);
    CHECK(verdict(o) == "allow");
    CHECK(o.in_scope == 0);
    CHECK(verdict(open_as(c, sys, "/tmp/x", W, self, 4242)) == "allow");
    const Subject other = subject(4243, 0, sys.cgroup_ancestors("system.slice"));
    CHECK(verdict(open_as(c, sys, "/etc/shadow", RW, other, 4242)) == "deny");
    CHECK(verdict(open_as(c, sys, "/tmp/x", W, other, 4242)) == "deny");
}

// ===========================================================================
// Aliases

TEST_CASE("aliases: a symlink, \"..\", \".\", \"//\" and relative spellings open the same object")
{
    auto sys = machine();
    sys.symlink("/etc/shadow.link", "shadow");          // relative target
    sys.symlink("/var/sh", "../etc/shadow");            // relative, with ..
    sys.symlink("/lnk", "/etc");                        // absolute, a directory
    sys.symlink("/tmp/chain", "/var/sh");               // a link to a link
    PolicyBuilder p("p");
    p.deny({"/etc/shadow"});
    Compiled c({p}, sys);

    const FileObject real = sys.open("/etc/shadow");
    for (const char* alias : {"/etc/shadow.link", "/var/sh", "/lnk/shadow", "/tmp/chain", "/etc/../etc/./shadow",
                              "//etc///shadow", "/tmp/../etc/shadow", "/lnk/../etc/shadow", "etc/shadow",
                              "/etc/ssh/keys/../../shadow"}) {
        CAPTURE(alias);
        CHECK(same_object(sys.open(alias), real));
        auto d = describe_file(sys, alias);
        REQUIRE(d.has_value());
        CHECK(same_object(*d, real));
        auto o = open_as(c, sys, alias, R);
        CHECK(verdict(o) == "deny");
        CHECK(o.entry == entry_for(c.image(), "/etc/shadow", BW_ROLE_SELF));
    }
    // A prefix through a symlinked directory.
    PolicyBuilder q("q");
    q.deny({"/lnk/ssh/"});
    Compiled cq({q}, sys);
    CHECK(verdict(open_as(cq, sys, "/etc/ssh/sshd_config", R)) == "deny");
    CHECK(verdict(open_as(cq, sys, "/lnk/ssh/keys/host_key", R)) == "deny");
    CHECK(verdict(open_as(cq, sys, "/etc/sshd_config", R)) == "allow");
}

TEST_CASE("aliases: a hardlink to an exact file is denied through the backstop")
{
    auto sys = machine();
    PolicyBuilder p("p");
    p.deny({"/etc/shadow"}).allow({"/home/"});

    SUBCASE("linked before compiling")
    {
        sys.hardlink("/etc/shadow", "/tmp/sh");
        Compiled c({p}, sys);
        const FileObject obj = sys.open("/tmp/sh");
        CHECK(obj.self.nlink == 2);
        bool too_deep = true;
        CHECK(c.eval().walk(obj, too_deep) == nullptr);  // the walk alone finds nothing
        CHECK_FALSE(too_deep);
        auto o = open_as(c, sys, "/tmp/sh", R);
        CHECK(verdict(o) == "deny");
        CHECK(o.entry == entry_for(c.image(), "/etc/shadow", BW_ROLE_SELF));
        CHECK(location(c, o) == "p.toml:" + std::to_string(p.rule_line(0)));
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R)) == "deny");
    }
    SUBCASE("linked after compiling, into a tree the policy allows")
    {
        Compiled c({p}, sys);
        sys.hardlink("/etc/shadow", "/home/bob/copy");
        auto o = open_as(c, sys, "/home/bob/copy", W);
        CHECK(verdict(o) == "deny");
        CHECK(o.entry == entry_for(c.image(), "/etc/shadow", BW_ROLE_SELF));
        CHECK(verdict(open_as(c, sys, "/home/bob/todo", W)) == "allow");
    }
    SUBCASE("an audit-mode policy's backstop gives would-deny; an audit rule's gives audit")
    {
        PolicyBuilder dry("dry"), aud("aud");
        dry.audit_mode().deny({"/etc/shadow"});
        aud.audit({"/etc/gshadow"});
        sys.hardlink("/etc/shadow", "/tmp/sh");
        sys.hardlink("/etc/gshadow", "/tmp/gsh");
        Compiled c({dry, aud}, sys);
        CHECK(verdict(open_as(c, sys, "/tmp/sh", R)) == "would-deny");
        auto g = open_as(c, sys, "/tmp/gsh", R);
        CHECK(verdict(g) == "audit");
        CHECK(g.policy == 1);
    }
}

TEST_CASE("aliases: an exact name is anchored by (parent, name)")
{
    auto sys = machine();
    SUBCASE("a file that does not exist yet is denied once it is created")
    {
        PolicyBuilder p("p");
        p.deny({"/etc/new.conf"});
        Compiled c({p}, sys);
        CHECK(c.diagnostics().all().empty());
        sys.touch("/etc/new.conf");
        auto o = open_as(c, sys, "/etc/new.conf", W);
        CHECK(verdict(o) == "deny");
        CHECK(location(c, o) == "p.toml:" + std::to_string(p.rule_line(0)));
        sys.touch("/etc/other.conf");
        CHECK(verdict(open_as(c, sys, "/etc/other.conf", W)) == "allow");
        // A directory by that name is not the file: its contents are not covered.
        sys.mkdir("/etc/new.conf.d");
        sys.touch("/etc/new.conf.d/a");
        CHECK(verdict(open_as(c, sys, "/etc/new.conf.d/a", R)) == "allow");
    }
    SUBCASE("a file replaced by rename (new inode, same name) is still denied")
    {
        PolicyBuilder p("p");
        p.deny({"/etc/shadow"});
        Compiled c({p}, sys);
        const FileIdentity before = *sys.identify("/etc/shadow");
        const FileIdentity after = sys.replace("/etc/shadow");
        CHECK(before.ino != after.ino);
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R)) == "deny");
        // ... and again, after deleting and re-creating it
        sys.unlink("/etc/shadow");
        sys.touch("/etc/shadow");
        CHECK(verdict(open_as(c, sys, "/etc/shadow", R)) == "deny");
    }
    SUBCASE("a prefix whose directory does not exist yet covers what is created under it")
    {
        PolicyBuilder p("p");
        p.deny({"/srv/new/"});
        Compiled c({p}, sys);
        CHECK(c.diagnostics().all().empty());
        const uint32_t e = entry_for(c.image(), "/srv/new/", BW_ROLE_ANCESTOR);
        REQUIRE(e != BW_ENTRY_NONE);
        CHECK(c.image().entries[e].key_kind == KeyKind::name);
        sys.mkdir("/srv/new");
        sys.touch("/srv/new/x");
        sys.mkdirs("/srv/new/a/b/c");
        sys.touch("/srv/new/a/b/c/y");
        auto o = open_as(c, sys, "/srv/new/x", R);
        CHECK(verdict(o) == "deny");
        CHECK(o.entry == e);
        CHECK(verdict(open_as(c, sys, "/srv/new/a/b/c/y", W)) == "deny");
        sys.mkdirs("/srv/newer");
        sys.touch("/srv/newer/x");
        sys.touch("/srv/new.txt");
        CHECK(verdict(open_as(c, sys, "/srv/newer/x", R)) == "allow");
        CHECK(verdict(open_as(c, sys, "/srv/new.txt", R)) == "allow");
    }
}

TEST_CASE("aliases: a file reached through a bind mount walks its original directories")
{
    auto sys = machine();
    sys.mkdirs("/srv/www");
    sys.bind("/data/www", "/srv/www");

    // The kernel's view through the bind: the original chain first.
    const FileObject via_bind = sys.open("/srv/www/index.html");
    const FileObject original = sys.open("/data/www/index.html");
    CHECK(via_bind.self == original.self);
    REQUIRE(via_bind.steps.size() >= original.steps.size());
    CHECK(same_steps(std::vector<WalkStep>(via_bind.steps.begin(), via_bind.steps.begin() + (original.steps.size() - 1)),
                     std::vector<WalkStep>(original.steps.begin(), original.steps.end() - 1)));

    for (const char* rule : {"/data/www/", "/data/", "/srv/www/"}) {
        CAPTURE(rule);
        PolicyBuilder p("p");
        p.deny({rule});
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/srv/www/index.html", R, {}, 0, true)) == "deny");
        CHECK(verdict(open_as(c, sys, "/data/www/index.html", R)) == "deny");
        CHECK(verdict(open_as(c, sys, "/etc/passwd", R)) == "allow");
    }
    PolicyBuilder q("q");
    q.deny({"/data/www/index.html"});
    Compiled cq({q}, sys);
    auto o = open_as(cq, sys, "/srv/www/index.html", R, {}, 0, true);
    CHECK(verdict(o) == "deny");
    CHECK(o.entry == entry_for(cq.image(), "/data/www/index.html", BW_ROLE_SELF));
}

// ===========================================================================
// Mounts

TEST_CASE("mount crossing: a rule above a mount point covers the files below it")
{
    auto sys = machine();
    sys.mkdirs("/mnt/disk");
    const uint32_t disk = mkdev(8, 17);
    sys.mount("/mnt/disk", disk);
    sys.mkdirs("/mnt/disk/dir");
    const FileIdentity f = sys.touch("/mnt/disk/dir/f", 5000);
    CHECK(f.dev == disk);

    const FileObject obj = sys.open("/mnt/disk/dir/f");
    CHECK(has_cross(obj));

    for (const char* rule : {"/mnt/", "/", "/mnt/disk/", "/mnt/disk/dir/", "/mnt/disk/dir/f"}) {
        CAPTURE(rule);
        PolicyBuilder p("p");
        p.deny({rule});
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/mnt/disk/dir/f", R)) == "deny");
    }
    SUBCASE("a rule on the filesystem below does not leak to the one above, nor by inode number")
    {
        // the same inode number on the root filesystem
        const FileIdentity twin = sys.touch("/tmp/twin", f.ino);
        CHECK(twin.ino == f.ino);
        CHECK(twin.dev != f.dev);
        PolicyBuilder p("p");
        p.deny({"/mnt/disk/dir/f", "/mnt/disk/dir/"});
        sys.hardlink("/tmp/twin", "/tmp/twin2");  // nlink 2: the backstop is looked up
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/tmp/twin", R)) == "allow");
        CHECK(verdict(open_as(c, sys, "/mnt/disk/dir/f", R)) == "deny");
        // /mnt/disk/dir and /etc have the same inode number on their devices
        REQUIRE(sys.identify("/mnt/disk/dir")->ino == sys.identify("/etc")->ino);
        CHECK(verdict(open_as(c, sys, "/etc/passwd", R)) == "allow");
    }
    SUBCASE("an exact rule on the mount point itself")
    {
        PolicyBuilder p("p");
        p.deny({"/mnt/disk"});
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/mnt/disk", R)) == "deny");
        CHECK(verdict(open_as(c, sys, "/mnt/disk/dir/f", R)) == "allow");
    }
    SUBCASE("mounts on mounts")
    {
        sys.mkdirs("/mnt/disk/dir/inner");
        sys.mount("/mnt/disk/dir/inner", mkdev(0, 50));
        sys.touch("/mnt/disk/dir/inner/g");
        PolicyBuilder p("p");
        p.deny({"/mnt/disk/dir/"});
        Compiled c({p}, sys);
        auto o = open_as(c, sys, "/mnt/disk/dir/inner/g", R);
        CHECK(verdict(o) == "deny");
        CHECK(o.entry == entry_for(c.image(), "/mnt/disk/dir/", BW_ROLE_ANCESTOR));
    }
}

// A mount made over a protected directory after the rules were compiled
// (by a process out of scope, or in another mount namespace): the walk
// from below the mount's root consults the covered directory's own key
// (bw_mount_step), so the tree rule keeps deciding what the path leads to.
TEST_CASE("mount crossing: a tree rule on a directory something is mounted over keeps deciding")
{
    auto sys = machine();
    sys.mkdirs("/srv/secret");
    sys.touch("/srv/secret/key");
    sys.mkdirs("/srv/open");
    PolicyBuilder p("p");
    p.deny({"/srv/secret/"});
    Compiled c({p}, sys);
    sys.mount("/srv/secret", mkdev(0, 70));
    sys.touch("/srv/secret/planted");
    sys.mkdirs("/srv/secret/sub");
    sys.touch("/srv/secret/sub/deeper");
    const FileObject obj = sys.open("/srv/secret/planted");
    REQUIRE(has_cross(obj));
    CHECK(verdict(open_as(c, sys, "/srv/secret/planted", R)) == "deny");
    CHECK(verdict(open_as(c, sys, "/srv/secret/sub/deeper", R)) == "deny");
    auto o = open_as(c, sys, "/srv/secret/planted", R);
    CHECK(o.entry == entry_for(c.image(), "/srv/secret/", BW_ROLE_ANCESTOR));
    // The mount's root itself is the directory, not below it: a tree rule
    // covers what is below its directory only.
    CHECK(verdict(open_as(c, sys, "/srv/secret", R)) == "allow");
    // A mount over a directory no rule names decides nothing.
    sys.mount("/srv/open", mkdev(0, 71));
    sys.touch("/srv/open/f");
    CHECK(verdict(open_as(c, sys, "/srv/open/f", R)) == "allow");
}

TEST_CASE("mount crossing: a tree that does not exist yet on a mounted filesystem")
{
    auto sys = machine();
    sys.mkdirs("/mnt/disk");
    sys.mount("/mnt/disk", mkdev(8, 17));
    PolicyBuilder p("p");
    p.deny({"/mnt/disk/later/", "/mnt/disk/later.conf"});
    Compiled c({p}, sys);
    sys.mkdirs("/mnt/disk/later/sub");
    sys.touch("/mnt/disk/later/sub/f");
    sys.touch("/mnt/disk/later.conf");
    sys.touch("/mnt/disk/other");
    CHECK(verdict(open_as(c, sys, "/mnt/disk/later/sub/f", R)) == "deny");
    CHECK(verdict(open_as(c, sys, "/mnt/disk/later.conf", R)) == "deny");
    CHECK(verdict(open_as(c, sys, "/mnt/disk/other", R)) == "allow");
}

// ===========================================================================
// Depth

TEST_CASE("depth: a path deeper than the walk fails closed for policies that can deny")
{
    auto sys = machine();
    const std::string deep = make_chain(sys, "/deep", 70);
    sys.touch(deep + "/f");
    const FileObject obj = sys.open(deep + "/f");
    REQUIRE(obj.steps.size() > BW_WALK_MAX_DEPTH);

    SUBCASE("a policy that can deny: deny, entry TOO_DEEP")
    {
        PolicyBuilder p("p");
        p.deny({"/etc/shadow"});
        Compiled c({p}, sys);
        bool too_deep = false;
        CHECK(c.eval().walk(obj, too_deep) == nullptr);
        CHECK(too_deep);
        auto o = open_as(c, sys, deep + "/f", R);
        CHECK(verdict(o) == "deny");
        CHECK(o.entry == BW_ENTRY_TOO_DEEP);
        CHECK(o.policy == 0);
        CHECK(c.image().deciding_rule(BW_ENTRY_TOO_DEEP, 0, BW_COL_READ) == -1);
        CHECK(location(c, o).rfind("p.toml", 0) == 0);
    }
    SUBCASE("a policy that can deny only writes: reads stay allowed")
    {
        PolicyBuilder p("p");
        p.deny({"/etc/shadow"}, access_write);
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, deep + "/f", R)) == "allow");
        CHECK(verdict(open_as(c, sys, deep + "/f", W)) == "deny");
    }
    SUBCASE("a policy that can only audit: audit; one that can only allow: allow")
    {
        PolicyBuilder a("a"), b("b");
        a.audit({"/etc/shadow"});
        b.allow({"/etc/"});
        Compiled c({a, b}, sys);
        auto o = open_as(c, sys, deep + "/f", RW);
        CHECK(verdict(o) == "audit");
        CHECK(o.entry == BW_ENTRY_TOO_DEEP);
        Compiled only_allow({b}, sys);
        CHECK(verdict(open_as(only_allow, sys, deep + "/f", RW)) == "allow");
    }
    SUBCASE("an audit-mode policy that can deny: would-deny; an out-of-scope one: nothing")
    {
        PolicyBuilder dry("dry"), other("other");
        dry.audit_mode().deny({"/etc/shadow"});
        other.uid(33).deny({"/etc/shadow"});
        Compiled c({dry, other}, sys);
        auto o = open_as(c, sys, deep + "/f", R, as_uid(0));
        CHECK(verdict(o) == "would-deny");
        CHECK(o.policy == 0);
    }
    SUBCASE("a key found within the walk decides as usual")
    {
        const std::string near = deep.substr(0, deep.rfind("/d66")) + "/";  // ".../d65/"
        PolicyBuilder p("p");
        p.deny({"/etc/shadow"}).allow({near});
        Compiled c({p}, sys);
        bool too_deep = true;
        const bw_path_rule* found = c.eval().walk(obj, too_deep);
        REQUIRE(found != nullptr);
        CHECK_FALSE(too_deep);
        CHECK(found->entry == entry_for(c.image(), near, BW_ROLE_ANCESTOR));
        CHECK(verdict(open_as(c, sys, deep + "/f", RW)) == "allow");

        PolicyBuilder q("q");
        q.audit({near});
        Compiled cq({q}, sys);
        auto o = open_as(cq, sys, deep + "/f", R);
        CHECK(verdict(o) == "audit");
        CHECK(o.entry == entry_for(cq.image(), near, BW_ROLE_ANCESTOR));
        CHECK(location(cq, o) == "q.toml:" + std::to_string(q.rule_line(0)));
    }
}

TEST_CASE("depth: the boundary — 63 components walk to \"/\", 64 do not; a mount crossing costs a step")
{
    auto sys = machine();
    PolicyBuilder p("p");
    p.deny({"/etc/shadow"});

    // "/b" + d1..d61 + "/f": 63 components.
    const std::string d61 = make_chain(sys, "/b", 61);
    sys.touch(d61 + "/f");
    sys.mkdir(d61 + "/d62");
    sys.touch(d61 + "/d62/f");
    Compiled c({p}, sys);

    const FileObject at63 = sys.open(d61 + "/f");
    CHECK(lookups(at63) == 63);
    CHECK(verdict(open_as(c, sys, d61 + "/f", R)) == "allow");
    const FileObject at64 = sys.open(d61 + "/d62/f");
    CHECK(lookups(at64) == 64);
    auto o = open_as(c, sys, d61 + "/d62/f", R);
    CHECK(verdict(o) == "deny");
    CHECK(o.entry == BW_ENTRY_TOO_DEEP);

    // 62 lookups and a crossing: 62 + cross + root = 64 steps: fine.
    // 63 lookups and a crossing: 65 steps: too deep.
    auto sys2 = machine();
    sys2.mkdirs("/m");
    sys2.mount("/m", mkdev(0, 60));
    const std::string m60 = make_chain(sys2, "/m", 60);  // "/m" + 60 dirs
    sys2.touch(m60 + "/f");                                // 62 components
    sys2.mkdir(m60 + "/d61");
    sys2.touch(m60 + "/d61/f");                            // 63 components
    Compiled c2({p}, sys2);
    const FileObject m62 = sys2.open(m60 + "/f");
    CHECK(lookups(m62) == 62);
    CHECK(m62.steps.size() == 64);
    CHECK(verdict(open_as(c2, sys2, m60 + "/f", R)) == "allow");
    CHECK(lookups(sys2.open(m60 + "/d61/f")) == 63);
    auto o2 = open_as(c2, sys2, m60 + "/d61/f", R);
    CHECK(verdict(o2) == "deny");
    CHECK(o2.entry == BW_ENTRY_TOO_DEEP);
}

// ===========================================================================
// Event location

TEST_CASE("event location: file.toml:LINE of the deciding rule, or of the [defaults] value")
{
    auto sys = machine();
    PolicyBuilder web("web", "/etc/bulwark/policies.d/web.toml"), ssh("ssh", "/opt/ssh.toml");
    web.file_default(Action::audit)
        .deny({"/etc/shadow"})                      // rule 0
        .deny({"/etc/ssh/"}, access_read)           // rule 1
        .allow({"/tmp/"})                           // rule 2
        .deny({"/etc/ssh/sshd_config"}, access_write);  // rule 3
    ssh.audit_mode().deny({"/root/"});
    sys.hardlink("/etc/shadow", "/tmp/shadow-link");
    Compiled c({web, ssh}, sys);
    const auto at = [](const std::string& f, uint32_t line) { return f + ":" + std::to_string(line); };

    auto exact = open_as(c, sys, "/etc/shadow", R);
    CHECK(location(c, exact) == at("web.toml", web.rule_line(0)));
    auto prefix = open_as(c, sys, "/etc/ssh/keys/host_key", R);
    CHECK(location(c, prefix) == at("web.toml", web.rule_line(1)));
    auto backstop = open_as(c, sys, "/tmp/shadow-link", R);
    CHECK(verdict(backstop) == "deny");
    CHECK(location(c, backstop) == at("web.toml", web.rule_line(0)));
    // per column: read by the prefix rule, write by the exact rule
    auto wr = open_as(c, sys, "/etc/ssh/sshd_config", W);
    CHECK(location(c, wr) == at("web.toml", web.rule_line(3)));
    auto rd = open_as(c, sys, "/etc/ssh/sshd_config", R);
    CHECK(location(c, rd) == at("web.toml", web.rule_line(1)));
    // the default: no key, and a key where the default was folded in
    auto none = open_as(c, sys, "/var/log/syslog", R);
    CHECK(verdict(none) == "audit");
    CHECK(none.entry == BW_ENTRY_NONE);
    CHECK(location(c, none) == at("web.toml", web.default_line()));
    auto folded = open_as(c, sys, "/etc/passwd", R);
    CHECK(verdict(folded) == "audit");
    CHECK(folded.entry != BW_ENTRY_NONE);
    CHECK(location(c, folded) == at("web.toml", web.default_line()));
    CHECK(c.image().deciding_rule(folded.entry, 0, BW_COL_READ) == -1);
    // another policy's file
    auto other = open_as(c, sys, "/root/.bashrc", R);
    CHECK(verdict(other) == "would-deny");
    CHECK(other.policy == 1);
    CHECK(location(c, other) == at("ssh.toml", ssh.rule_line(0)));
    // no policy: nothing to name
    CHECK(c.image().rule_location(BW_ENTRY_NONE, BW_POLICY_NONE, 0).empty());
}

// ===========================================================================
// describe_file

TEST_CASE("describe_file: lookups from the object up to \"/\"")
{
    auto sys = machine();
    const auto root = *sys.identify("/");
    const auto etc = *sys.identify("/etc");
    const auto ssh = *sys.identify("/etc/ssh");
    auto d = describe_file(sys, "/etc/ssh/sshd_config");
    REQUIRE(d.has_value());
    CHECK(d->self == *sys.identify("/etc/ssh/sshd_config"));
    REQUIRE(d->steps.size() == 4);
    CHECK(d->steps[0].kind == WalkStep::Kind::lookup);
    CHECK(d->steps[0].child_name == "sshd_config");
    CHECK(d->steps[0].parent_dev == ssh.dev);
    CHECK(d->steps[0].parent_ino == ssh.ino);
    CHECK(d->steps[1].child_name == "ssh");
    CHECK(d->steps[1].parent_ino == etc.ino);
    CHECK(d->steps[2].child_name == "etc");
    CHECK(d->steps[2].parent_ino == root.ino);
    CHECK(d->steps[2].parent_dev == FakeSystem::root_dev);
    CHECK(d->steps[3].kind == WalkStep::Kind::root);
    CHECK(same_object(*d, sys.open("/etc/ssh/sshd_config")));

    auto r = describe_file(sys, "/");
    REQUIRE(r.has_value());
    REQUIRE(r->steps.size() == 1);
    CHECK(r->steps[0].kind == WalkStep::Kind::root);
    CHECK(r->self == root);
    CHECK(same_object(*r, sys.open("/")));
}

TEST_CASE("describe_file: a cross step where the path enters another filesystem")
{
    auto sys = machine();
    sys.mkdirs("/mnt/disk");
    sys.mount("/mnt/disk", mkdev(8, 17));
    sys.mkdirs("/mnt/disk/dir");
    sys.touch("/mnt/disk/dir/f");
    const auto mnt = *sys.identify("/mnt");
    const auto diskroot = *sys.identify("/mnt/disk");
    CHECK(diskroot.dev == mkdev(8, 17));

    auto d = describe_file(sys, "/mnt/disk/dir/f");
    REQUIRE(d.has_value());
    using K = WalkStep::Kind;
    REQUIRE(d->steps.size() == 6);
    CHECK(d->steps[0].kind == K::lookup);
    CHECK(d->steps[1].kind == K::lookup);
    CHECK(d->steps[1].child_name == "dir");
    CHECK(d->steps[1].parent_dev == diskroot.dev);
    CHECK(d->steps[1].parent_ino == diskroot.ino);
    CHECK(d->steps[2].kind == K::cross);
    CHECK(d->steps[3].kind == K::lookup);
    CHECK(d->steps[3].child_name == "disk");
    CHECK(d->steps[3].parent_dev == FakeSystem::root_dev);
    CHECK(d->steps[3].parent_ino == mnt.ino);
    CHECK(d->steps[4].child_name == "mnt");
    CHECK(d->steps[5].kind == K::root);
    CHECK(same_object(*d, sys.open("/mnt/disk/dir/f")));

    // The mount point itself: its root is the object; the first step crosses.
    auto m = describe_file(sys, "/mnt/disk");
    REQUIRE(m.has_value());
    CHECK(m->self == diskroot);
    REQUIRE(m->steps.size() == 4);
    CHECK(m->steps[0].kind == K::cross);
    CHECK(m->steps[1].child_name == "disk");
    CHECK(same_object(*m, sys.open("/mnt/disk")));
}

TEST_CASE("describe_file: a file about to be created; missing parents; symlinks")
{
    auto sys = machine();
    const auto etc = *sys.identify("/etc");
    auto n = describe_file(sys, "/etc/new.conf");
    REQUIRE(n.has_value());
    CHECK(n->self.ino == 0);
    CHECK(n->self.dev == etc.dev);
    CHECK(n->self.nlink == 1);
    REQUIRE(n->steps.size() == 3);
    CHECK(n->steps[0].child_name == "new.conf");
    CHECK(n->steps[0].parent_ino == etc.ino);
    // Once created, the walk is the same (only the identity is new).
    sys.touch("/etc/new.conf");
    CHECK(same_steps(n->steps, sys.open("/etc/new.conf").steps));

    CHECK_FALSE(describe_file(sys, "/nonexistent/dir/f").has_value());
    CHECK_FALSE(describe_file(sys, "/etc/missing/f").has_value());

    sys.symlink("/etc/ssh-link", "ssh");
    auto s = describe_file(sys, "/etc/ssh-link/sshd_config");
    REQUIRE(s.has_value());
    CHECK(same_object(*s, *describe_file(sys, "/etc/ssh/sshd_config")));
    // A file about to be created through a symlinked directory.
    auto ns = describe_file(sys, "/etc/ssh-link/new");
    REQUIRE(ns.has_value());
    CHECK(ns->steps[0].parent_ino == sys.identify("/etc/ssh")->ino);
}

// describe_file() sees only SystemView (realpath + stat), which cannot tell a
// bind mount: for /srv/www/index.html it walks /srv/www, /srv, "/" — but the
// kernel walks d_parent: /data/www, /data, "/" (then crosses at the bind's
// mount point). So `bulwark explain` disagrees with the kernel for a file
// reached through a bind mount when a rule names an ancestor of the bind's
// SOURCE (here: /data/). Reported; fixing it needs mount information in
// SystemView. Remove should_fail when describe_file follows bind mounts.
TEST_CASE("describe_file: a path through a bind mount is described as the kernel walks it" * doctest::should_fail())
{
    auto sys = machine();
    sys.mkdirs("/srv/www");
    sys.bind("/data/www", "/srv/www");
    PolicyBuilder p("p");
    p.deny({"/data/"});
    Compiled c({p}, sys);
    const FileObject kernel = sys.open("/srv/www/index.html");
    auto described = describe_file(sys, "/srv/www/index.html");
    REQUIRE(described.has_value());
    INFO("kernel:    " << to_text(kernel));
    INFO("described: " << to_text(*described));
    CHECK(verdict(c.eval().decide_file({}, kernel, R)) == "deny");
    CHECK(verdict(c.eval().decide_file({}, *described, R)) == "deny");
}

// ===========================================================================
// The evaluator on hand-written images: the walk rules themselves

TEST_CASE("walk: the deepest key decides; name keys only under flagged directories; roles")
{
    MapImage img;
    img.policy_set.active = img.policy_set.enforcing = img.policy_set.applies[BW_KIND_FILE] = 1;
    img.policy_set.uid_free = img.policy_set.cgroup_free = img.policy_set.executable_free = 1;
    img.policies.push_back(PolicyInfo{"p", "p.toml", Mode::enforce, {}, {}});
    auto add_inode = [&](uint64_t ino, bw_role role, bool deny, uint32_t flags) {
        InodeEntry e{};
        e.key.ino = ino;
        e.key.dev = 7;
        e.key.role = role;
        e.value.deny[BW_COL_READ] = deny ? 1 : 0;
        e.value.entry = static_cast<uint32_t>(img.entries.size());
        e.value.flags = flags;
        img.entries.push_back({});
        img.inode_rules.push_back(e);
    };
    auto add_name = [&](uint64_t parent, const char* name, bw_role role, bool deny) {
        NameEntry e{};
        e.key.parent_ino = parent;
        e.key.parent_dev = 7;
        e.key.role = role;
        std::snprintf(e.key.name, sizeof(e.key.name), "%s", name);
        e.value.deny[BW_COL_READ] = deny ? 1 : 0;
        e.value.entry = static_cast<uint32_t>(img.entries.size());
        img.entries.push_back({});
        img.name_rules.push_back(e);
    };
    add_inode(10, BW_ROLE_ANCESTOR, true, 0);                         // entry 0: /a (ino 10) denies
    add_inode(20, BW_ROLE_ANCESTOR, false, BW_ENTRY_NAMED);           // entry 1: /a/b (ino 20) allows
    add_name(20, "f", BW_ROLE_SELF, true);                            // entry 2: /a/b/f denied
    add_name(20, "t", BW_ROLE_ANCESTOR, true);                        // entry 3: /a/b/t/ denied
    add_inode(30, BW_ROLE_ANCESTOR, false, 0);                        // entry 4: /x (ino 30), not flagged
    add_name(30, "g", BW_ROLE_SELF, true);                            // entry 5: never looked up
    Evaluator ev(img);
    using K = WalkStep::Kind;
    auto obj = [](std::vector<WalkStep> steps) { return FileObject{FileIdentity{7, 99, false, 1}, std::move(steps)}; };
    auto entry_of = [&](const FileObject& o) {
        bool deep = false;
        const bw_path_rule* r = ev.walk(o, deep);
        return r ? r->entry : BW_ENTRY_NONE;
    };
    // /a/b/f: the name key under the flagged /a/b
    CHECK(entry_of(obj({{K::lookup, "f", 7, 20}, {K::lookup, "b", 7, 10}, {K::lookup, "a", 7, 2}, {K::root, "", 0, 0}})) == 2);
    // /a/b/h: /a/b itself (allow) — deeper than /a (deny)
    auto h = obj({{K::lookup, "h", 7, 20}, {K::lookup, "b", 7, 10}, {K::lookup, "a", 7, 2}, {K::root, "", 0, 0}});
    CHECK(entry_of(h) == 1);
    CHECK(verdict(ev.decide_file({}, h, R)) == "allow");
    // /a/c: /a denies
    CHECK(verdict(ev.decide_file({}, obj({{K::lookup, "c", 7, 10}, {K::lookup, "a", 7, 2}, {K::root, "", 0, 0}}), R)) == "deny");
    // /a/b/t/u: t is looked up as an ancestor (not the object): entry 3
    CHECK(entry_of(obj({{K::lookup, "u", 7, 77}, {K::lookup, "t", 7, 20}, {K::lookup, "b", 7, 10}, {K::root, "", 0, 0}})) == 3);
    // /a/b/t itself: looked up as SELF, so the tree key does not match: /a/b
    CHECK(entry_of(obj({{K::lookup, "t", 7, 20}, {K::lookup, "b", 7, 10}, {K::root, "", 0, 0}})) == 1);
    // /a/b/f/z (f as an ancestor): the exact key does not match
    CHECK(entry_of(obj({{K::lookup, "z", 7, 88}, {K::lookup, "f", 7, 20}, {K::root, "", 0, 0}})) == 1);
    // /x/g: /x is not flagged, so the name key is not consulted
    CHECK(entry_of(obj({{K::lookup, "g", 7, 30}, {K::root, "", 0, 0}})) == 4);
    // SELF after a cross step: the first lookup is still the object's own name
    CHECK(entry_of(obj({{K::cross, "", 0, 0}, {K::lookup, "f", 7, 20}, {K::root, "", 0, 0}})) == 2);
    // another device with the same inode numbers: nothing
    CHECK(entry_of(obj({{K::lookup, "f", 8, 20}, {K::lookup, "a", 8, 10}, {K::root, "", 0, 0}})) == BW_ENTRY_NONE);

    // A flag per role: names of the other role are not consulted.
    img.inode_rules[1].value.flags = BW_ENTRY_NAMED_FILES;
    Evaluator files_only(img);
    bool deep = false;
    const bw_path_rule* r = files_only.walk(obj({{K::lookup, "f", 7, 20}, {K::root, "", 0, 0}}), deep);
    CHECK((r && r->entry == 2));  // /a/b/f: a file's name, looked up
    r = files_only.walk(obj({{K::lookup, "u", 7, 77}, {K::lookup, "t", 7, 20}, {K::root, "", 0, 0}}), deep);
    CHECK((r && r->entry == 1));  // /a/b/t/u: the tree name is not looked up
    img.inode_rules[1].value.flags = BW_ENTRY_NAMED_TREES;
    Evaluator trees_only(img);
    r = trees_only.walk(obj({{K::lookup, "f", 7, 20}, {K::root, "", 0, 0}}), deep);
    CHECK((r && r->entry == 1));  // /a/b/f: the file's name is not looked up
    r = trees_only.walk(obj({{K::lookup, "u", 7, 77}, {K::lookup, "t", 7, 20}, {K::root, "", 0, 0}}), deep);
    CHECK((r && r->entry == 3));
}

TEST_CASE("scope: kinds without an enforcing hook have no policies in scope (as bw_policies_in_scope)")
{
    auto sys = machine();
    PolicyBuilder p("p");
    p.file_default(Action::deny).audit({"/tmp/"});
    Compiled c({p}, sys);
    CHECK(c.eval().policies_in_scope(Subject{}, BW_KIND_FILE, 0) == 1);
    CHECK(c.eval().policies_in_scope(Subject{}, BW_KIND_CONNECT, 0) == 0);
    CHECK(c.eval().policies_in_scope(Subject{}, BW_KIND_MONITOR, 0) == 0);
    CHECK(c.eval().policies_in_scope(Subject{}, static_cast<bw_kind>(BW_NR_ENFORCE_KINDS), 0) == 0);
}

// ===========================================================================
// Policies are independent

TEST_CASE("aliases: the hardlink backstop carries what the exact rules decide, nothing folded in at the name")
{
    auto sys = machine();
    sys.hardlink("/etc/shadow", "/home/bob/sh");

    SUBCASE("another policy's exact audit rule does not make a policy deny a hardlink")
    {
        PolicyBuilder a("a"), b("b");
        a.audit({"/etc/shadow"});
        b.file_default(Action::deny).allow({"/home/"});
        Compiled ca({a}, sys);
        Compiled cb({b}, sys);
        CHECK(verdict(open_as(ca, sys, "/home/bob/sh", R)) == "audit");
        CHECK(verdict(open_as(cb, sys, "/home/bob/sh", R)) == "allow");
        Compiled both({a, b}, sys);
        CHECK(verdict(open_as(both, sys, "/home/bob/sh", R)) == "audit");
        CHECK(verdict(open_as(both, sys, "/etc/shadow", R)) == "deny");  // b's default there
    }
    SUBCASE("adding an exact audit rule does not add a denial through the backstop")
    {
        PolicyBuilder without("p"), with("p");
        without.deny({"/etc/"}, access_write);
        with.deny({"/etc/"}, access_write).audit({"/etc/shadow"}, access_read);
        Compiled c0({without}, sys);
        Compiled c1({with}, sys);
        CHECK(verdict(open_as(c0, sys, "/home/bob/sh", W)) == "allow");  // prefixes do not follow hardlinks
        CHECK(verdict(open_as(c1, sys, "/home/bob/sh", W)) == "allow");
        CHECK(verdict(open_as(c1, sys, "/home/bob/sh", R)) == "audit");
        CHECK(verdict(open_as(c1, sys, "/etc/shadow", W)) == "deny");
        CHECK(verdict(open_as(c1, sys, "/etc/shadow", RW)) == "deny");
    }
    SUBCASE("the exact rule's own columns still follow the hardlink")
    {
        PolicyBuilder p("p");
        p.deny({"/etc/shadow"}, access_write).allow({"/home/"});
        Compiled c({p}, sys);
        CHECK(verdict(open_as(c, sys, "/home/bob/sh", R)) == "allow");
        auto w = open_as(c, sys, "/home/bob/sh", W);
        CHECK(verdict(w) == "deny");
        CHECK(location(c, w) == "p.toml:" + std::to_string(p.rule_line(0)));
    }
}

namespace {

struct GenRule {
    Action action;
    uint8_t access;
    std::vector<std::string> paths;
};
struct GenPolicy {
    bool audit_mode = false;
    std::optional<Action> file_default;
    std::optional<uint32_t> uid;
    std::vector<GenRule> rules;
};

Policy build(const GenPolicy& g, const std::string& name)
{
    PolicyBuilder b(name);
    if (g.audit_mode) b.audit_mode();
    if (g.uid) b.uid(*g.uid);
    if (g.file_default) b.file_default(*g.file_default);
    Policy p = b;
    for (const auto& r : g.rules) {
        FileRule fr;
        fr.action = r.action;
        fr.access = r.access;
        fr.pos = {p.file, static_cast<uint32_t>(100 + p.files.size()), 1};
        for (const auto& path : r.paths)
            (path.back() == '/' ? fr.prefixes : fr.paths).push_back({path, fr.pos});
        p.files.push_back(std::move(fr));
    }
    return p;
}

std::string describe(const GenPolicy& g)
{
    static const char* acts[] = {"allow", "audit", "deny"};
    std::ostringstream s;
    s << (g.audit_mode ? "audit-mode" : "enforce");
    if (g.file_default) s << " default=" << acts[static_cast<int>(*g.file_default)];
    if (g.uid) s << " uid=" << *g.uid;
    for (const auto& r : g.rules) {
        s << " {" << acts[static_cast<int>(r.action)] << " access=" << int(r.access);
        for (const auto& p : r.paths) s << ' ' << p;
        s << '}';
    }
    return s.str();
}

}  // namespace

TEST_CASE("composition (generated): a set decides as the strongest verdict of its policies compiled alone")
{
    auto sys = machine();
    sys.hardlink("/etc/shadow", "/home/bob/sh");
    sys.hardlink("/etc/ssh/sshd_config", "/tmp/cfg");
    sys.symlink("/cfg", "/etc");
    sys.mkdirs("/mnt/disk");
    sys.mount("/mnt/disk", mkdev(8, 17));
    sys.mkdirs("/mnt/disk/d");
    sys.touch("/mnt/disk/d/f");
    const std::string deep = make_chain(sys, "/deep", 66);
    sys.touch(deep + "/f");

    const std::vector<std::string> vocab = {
        "/",           "/etc/",          "/etc/ssh/",           "/etc/ssh/keys/",      "/home/",
        "/home/bob/",  "/home/alice/",   "/tmp/",               "/mnt/",               "/mnt/disk/",
        "/mnt/disk/d/", "/srv/new/",     "/cfg/ssh/",           "/etc/shadow",         "/etc/passwd",
        "/etc/ssh/sshd_config", "/home/alice/notes.txt", "/tmp/x", "/mnt/disk/d/f", "/etc/new.conf",
        "/home/bob/todo", "/etc/ssh",   "/deep/d1/d2/"};
    const Action actions[] = {Action::allow, Action::audit, Action::deny};
    const uint8_t accesses[] = {access_read, access_write, access_any};

    std::mt19937 rng(20261125);
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    size_t failures = 0, decided = 0;
    for (int iter = 0; iter < 300 && failures < 5; ++iter) {
        std::vector<GenPolicy> gens(2 + pick(2));
        for (auto& g : gens) {
            g.audit_mode = pick(4) == 0;
            if (pick(2)) g.file_default = actions[pick(3)];
            if (pick(4) == 0) g.uid = 33;
            const size_t nrules = 1 + pick(4);
            for (size_t i = 0; i < nrules; ++i) {
                GenRule r{actions[pick(3)], accesses[pick(3)], {}};
                const size_t npaths = 1 + pick(2);
                for (size_t j = 0; j < npaths; ++j) r.paths.push_back(vocab[pick(vocab.size())]);
                g.rules.push_back(std::move(r));
            }
        }
        std::vector<Policy> set;
        for (size_t i = 0; i < gens.size(); ++i) set.push_back(build(gens[i], "p" + std::to_string(i)));
        std::string text;
        for (size_t i = 0; i < gens.size(); ++i) text += "  p" + std::to_string(i) + ": " + describe(gens[i]) + "\n";
        INFO("iteration " << iter << "\n" << text);

        auto whole = compile(set, sys);
        REQUIRE_MESSAGE(whole.image.has_value(), dump(whole.diagnostics));
        std::vector<CompileResult> alone;
        for (const auto& p : set) {
            alone.push_back(compile({p}, sys));
            REQUIRE_MESSAGE(alone.back().image.has_value(), dump(alone.back().diagnostics));
        }
        Evaluator ev(*whole.image);
        std::vector<Evaluator> evs;
        for (const auto& a : alone) evs.emplace_back(*a.image);

        // After compiling, the machine changes: new names, a replaced file.
        FakeSystem later = sys;
        later.touch("/etc/new.conf");
        later.mkdirs("/srv/new/a");
        later.touch("/srv/new/a/x");
        later.replace("/etc/passwd");
        const std::string deep_file = deep + "/f";
        for (const char* path : {"/etc/shadow", "/home/bob/sh", "/etc/ssh/sshd_config", "/tmp/cfg", "/etc/passwd",
                                 "/etc/hostname", "/etc/ssh/keys/host_key", "/home/alice/notes.txt",
                                 "/home/alice/pub/readme", "/home/bob/todo", "/tmp/x", "/mnt/disk/d/f",
                                 "/var/log/syslog", "/etc/ssh", "/etc", "/mnt/disk", "/etc/new.conf", "/srv/new/a/x",
                                 deep_file.c_str()}) {
            const FileObject obj = later.open(path);
            for (uint32_t access : {R, W, RW}) {
                for (uint32_t uid : {0u, 33u}) {
                    const Subject s = subject(7, uid);
                    const Outcome o = ev.decide_file(s, obj, access);
                    bw_verdict strongest = BW_VERDICT_ALLOW;
                    std::vector<bw_verdict> each;
                    for (const auto& e : evs) {
                        each.push_back(e.decide_file(s, obj, access).verdict);
                        strongest = std::max(strongest, each.back());
                    }
                    ++decided;
                    const bool policy_ok = o.verdict == BW_VERDICT_ALLOW ||
                                           (o.policy < each.size() && each[o.policy] == o.verdict);
                    if (o.verdict != strongest || !policy_ok) {
                        ++failures;
                        std::string alone_text;
                        for (size_t i = 0; i < each.size(); ++i)
                            alone_text += std::string(" p") + std::to_string(i) + "=" + to_string(each[i]);
                        const std::string where = "open " + std::string(path) + " access " + std::to_string(access) +
                                                  " uid " + std::to_string(uid);
                        const std::string got = "set: " + std::string(to_string(o.verdict)) + " by p" +
                                                std::to_string(o.policy) + "; alone:" + alone_text;
                        INFO(where);
                        INFO(got);
                        CHECK(o.verdict == strongest);
                        CHECK(policy_ok);
                    }
                }
            }
        }
    }
    CHECK(failures == 0);
    CHECK(decided > 10000);
}
