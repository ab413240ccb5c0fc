// [[exec]] rules, fileless programs and the executable scope: what the
// compiler puts in the map image and what the reference evaluator (which
// decides exactly as bpf/lib/exec.bpf.h and scope.bpf.h do) makes of it.
// Policies are written as TOML, as an operator would write them.
#include "compile/compiler.hpp"
#include "compile/dump.hpp"
#include "compile/evaluator.hpp"
#include "fake_system.hpp"
#include "policy/parser.hpp"
#include "policy_builder.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

using namespace bulwark;
using namespace bulwark::test;

namespace {

FakeSystem exec_machine()
{
    FakeSystem s;
    for (const char* d : {"/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu", "/tmp/sub", "/tmpx", "/etc",
                          "/opt/app", "/home/alice"})
        s.mkdirs(d);
    for (const char* f : {"/usr/bin/nc", "/usr/bin/ls", "/usr/bin/dash", "/usr/sbin/nginx", "/etc/shadow",
                          "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                          "/tmp/sub/evil", "/tmpx/ok", "/opt/app/run.sh"})
        s.touch(f);
    s.mkdirs("/bin");
    s.symlink("/bin/sh", "/usr/bin/dash");
    s.mkdirs("/usr");
    s.symlink("/usr/local", "/opt");  // /usr/local -> /opt
    s.add_user("root", 0);
    s.add_user("alice", 1000);
    return s;
}

// Parse one policy file's text (named NAME.toml) and require no errors.
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

Subject running(const FakeSystem& sys, const std::string& exe, uint32_t uid = 0)
{
    Subject s;
    s.tgid = 4242;
    s.uid = uid;
    auto id = describe_exe(sys, exe);
    REQUIRE(id.has_value());
    s.exe = *id;
    return s;
}

Outcome run(const Compiled& c, const FakeSystem& sys, const std::string& path, const Subject& who = {})
{
    return c.eval().decide_exec(who, sys.open(path), ExecUse::run);
}

Outcome map(const Compiled& c, const FakeSystem& sys, const std::string& path, bool has_interpreter = true,
            const Subject& who = {})
{
    return c.eval().decide_exec(who, sys.open(path), has_interpreter ? ExecUse::map : ExecUse::map_no_interp);
}

// A program without a name: a memfd (its dentry is its own root) ...
FileObject memfd()
{
    FileObject o;
    o.self = FileIdentity{FakeSystem::root_dev + 5, 77, false, 0};
    o.steps.push_back({WalkStep::Kind::root, "", 0, 0});
    return o;
}

// ... or a deleted file, whose dentry still has its parent and name.
FileObject deleted(const FakeSystem& sys, const std::string& path)
{
    FileObject o = sys.open(path);
    o.self.nlink = 0;
    return o;
}

std::string where(const Compiled& c, const Outcome& o)
{
    return c.image().rule_location(o.entry, o.policy, o.column);
}

}  // namespace

TEST_CASE("exec: exact path and prefix deny, by identity")
{
    auto sys = exec_machine();
    Compiled c(policies({{"t", R"([policy]
name = "t"

[[exec]]
paths = ["/usr/bin/nc"]
prefixes = ["/tmp/"]
action = "deny"
)"}}),
               sys);
    CHECK(c.image().policy_set.applies[BW_KIND_EXEC] == 1);
    CHECK(c.image().policy_set.applies[BW_KIND_FILE] == 0);  // exec rules never decide opens

    auto nc = run(c, sys, "/usr/bin/nc");
    CHECK(verdict(nc) == "deny");
    CHECK(nc.column == BW_COL_EXEC);
    CHECK(where(c, nc) == "t.toml:4");
    CHECK(verdict(run(c, sys, "/tmp/sub/evil")) == "deny");
    CHECK(verdict(run(c, sys, "/usr/bin/ls")) == "allow");
    CHECK(verdict(run(c, sys, "/tmpx/ok")) == "allow");  // shares the string prefix, not the directory

    SUBCASE("a symlink and a relative path reach the same dentries")
    {
        sys.symlink("/home/alice/nc", "/usr/bin/nc");
        CHECK(verdict(run(c, sys, "/home/alice/nc")) == "deny");
        CHECK(verdict(run(c, sys, "/usr/bin/../bin/./nc")) == "deny");
    }
    SUBCASE("a hardlink to the exact program")
    {
        sys.hardlink("/usr/bin/nc", "/usr/bin/netcat");
        Compiled c2(policies({{"t", "[policy]\nname = \"t\"\n[[exec]]\npaths = [\"/usr/bin/nc\"]\naction = \"deny\"\n"}}),
                    sys);
        CHECK(verdict(run(c2, sys, "/usr/bin/netcat")) == "deny");
    }
    SUBCASE("the same rule denies mapping it as code (ld.so /usr/bin/nc)")
    {
        auto m = map(c, sys, "/usr/bin/nc");
        CHECK(verdict(m) == "deny");
        CHECK(m.column == BW_COL_MAP);
        CHECK(where(c, m) == "t.toml:4");
        CHECK(verdict(map(c, sys, "/tmp/sub/evil")) == "deny");  // a library in /tmp, LD_PRELOAD
        CHECK(verdict(map(c, sys, "/usr/lib/x86_64-linux-gnu/libc.so.6")) == "allow");
    }
    SUBCASE("mapping the process's own program is not decided again")
    {
        Subject nc_itself = running(sys, "/usr/bin/nc");
        CHECK(verdict(c.eval().decide_exec(nc_itself, sys.open("/usr/bin/nc"), ExecUse::map)) == "allow");
        CHECK(verdict(c.eval().decide_exec(nc_itself, sys.open("/usr/bin/nc"), ExecUse::run)) == "deny");
    }
    SUBCASE("bulwark itself is never decided")
    {
        CHECK(verdict(c.eval().decide_exec(Subject{4242, 0, {}}, sys.open("/usr/bin/nc"), ExecUse::run, 4242)) ==
              "allow");
    }
}

TEST_CASE("exec: most specific wins, ties deny > audit > allow, audit mode")
{
    auto sys = exec_machine();
    Compiled c(policies({{"a", R"([policy]
name = "a"

[[exec]]
prefixes = ["/usr/bin/"]
action = "deny"

[[exec]]
paths = ["/usr/bin/ls"]
action = "allow"

[[exec]]
paths = ["/usr/bin/dash"]
action = "audit"

[[exec]]
paths = ["/usr/bin/dash"]
action = "allow"
)"},
                         {"b", R"([policy]
name = "b"
mode = "audit"

[[exec]]
paths = ["/usr/sbin/nginx"]
action = "deny"
)"}}),
               sys);
    CHECK(verdict(run(c, sys, "/usr/bin/ls")) == "allow");
    CHECK(verdict(run(c, sys, "/usr/bin/nc")) == "deny");
    auto dash = run(c, sys, "/bin/sh");  // through the symlink
    CHECK(verdict(dash) == "audit");
    CHECK(where(c, dash) == "a.toml:12");
    auto nginx = run(c, sys, "/usr/sbin/nginx");
    CHECK(verdict(nginx) == "would-deny");
    CHECK(nginx.policy == 1);
    CHECK(where(c, nginx) == "b.toml:5");
}

TEST_CASE("exec: allowlist posture — the default decides programs, never libraries")
{
    auto sys = exec_machine();
    Compiled c(policies({{"allow", R"([policy]
name = "allow"

[defaults]
exec = "deny"

[[exec]]
prefixes = ["/usr/bin/", "/usr/sbin/"]
action = "allow"
)"}}),
               sys);
    CHECK(c.image().policy_set.default_deny[BW_COL_EXEC] == 1);
    CHECK(c.image().policy_set.default_deny[BW_COL_MAP] == 0);
    CHECK(verdict(run(c, sys, "/usr/bin/ls")) == "allow");
    CHECK(verdict(run(c, sys, "/bin/sh")) == "allow");
    auto evil = run(c, sys, "/tmp/sub/evil");
    CHECK(verdict(evil) == "deny");
    CHECK(evil.entry == BW_ENTRY_NONE);
    CHECK(where(c, evil) == "allow.toml:5");  // the default's line

    // An allowed (dynamic) program maps its libraries and its loader.
    CHECK(verdict(map(c, sys, "/usr/lib/x86_64-linux-gnu/libc.so.6")) == "allow");
    CHECK(verdict(map(c, sys, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")) == "allow");
    CHECK(verdict(map(c, sys, "/tmp/sub/evil")) == "allow");  // rules only: pair allowlists with deny rules

    // A process without an ELF interpreter (ld.so run as a program) runs what it maps.
    auto via_loader = map(c, sys, "/tmp/sub/evil", false);
    CHECK(verdict(via_loader) == "deny");
    CHECK(via_loader.column == BW_COL_EXEC);
    CHECK(verdict(map(c, sys, "/usr/bin/nc", false)) == "allow");
    CHECK(verdict(map(c, sys, "/usr/lib/x86_64-linux-gnu/libc.so.6", false)) == "deny");

    CHECK(c.diagnostics().all().empty());
}

TEST_CASE("exec: an allowlist that lets no shell run is warned about")
{
    auto sys = exec_machine();
    auto r = compile(policies({{"strict", R"([policy]
name = "strict"

[defaults]
exec = "deny"

[[exec]]
paths = ["/usr/sbin/nginx"]
action = "allow"
)"}}),
                     sys);
    REQUIRE(r.image.has_value());
    const Diagnostic* d = find_diag(r.diagnostics, "lets no process in its scope run /bin/sh (/usr/bin/dash)");
    REQUIRE(d != nullptr);
    CHECK(d->severity == Severity::warning);
    CHECK(d->pos.line == 5);
    CHECK(d->pos.column == 8);

    // A default of audit, or an allowed shell: no warning.
    auto ok = compile(policies({{"fine", "[policy]\nname = \"fine\"\n[defaults]\nexec = \"deny\"\n"
                                         "[[exec]]\nprefixes = [\"/usr/bin/\"]\naction = \"allow\"\n"}}),
                      sys);
    CHECK(find_diag(ok.diagnostics, "lets no process") == nullptr);
}

TEST_CASE("exec: fileless programs (memfd, deleted files)")
{
    auto sys = exec_machine();
    SUBCASE("a fileless rule decides them, whatever their name was")
    {
        Compiled c(policies({{"f", R"([policy]
name = "f"

[[exec]]
fileless = true
action = "deny"

[[exec]]
prefixes = ["/tmp/"]
action = "allow"
)"}}),
                   sys);
        const auto& set = c.image().policy_set;
        CHECK(set.fileless == 1);
        CHECK(set.fileless_deny == 1);
        REQUIRE(set.fileless_entry < c.image().entries.size());
        CHECK(c.image().entries[set.fileless_entry].key_kind == KeyKind::fileless);

        auto o = c.eval().decide_exec({}, memfd(), ExecUse::run);
        CHECK(verdict(o) == "deny");
        CHECK(o.entry == set.fileless_entry);
        CHECK(where(c, o) == "f.toml:4");
        CHECK(verdict(c.eval().decide_exec({}, memfd(), ExecUse::map)) == "deny");
        CHECK(verdict(c.eval().decide_exec({}, deleted(sys, "/tmp/sub/evil"), ExecUse::run)) == "deny");
        CHECK(verdict(run(c, sys, "/tmp/sub/evil")) == "allow");  // while it still has its name
    }
    SUBCASE("without one, a deleted file is decided where it was, a memfd by the default")
    {
        Compiled c(policies({{"p", R"([policy]
name = "p"

[defaults]
exec = "audit"

[[exec]]
prefixes = ["/tmp/"]
action = "deny"
)"}}),
                   sys);
        CHECK(c.image().policy_set.fileless == 0);
        CHECK(c.image().policy_set.fileless_entry == BW_ENTRY_NONE);
        CHECK(verdict(c.eval().decide_exec({}, deleted(sys, "/tmp/sub/evil"), ExecUse::run)) == "deny");
        auto m = c.eval().decide_exec({}, memfd(), ExecUse::run);
        CHECK(verdict(m) == "audit");
        CHECK(m.entry == BW_ENTRY_NONE);
    }
    SUBCASE("an allowlist may allow fileless programs explicitly; two policies decide apart")
    {
        Compiled c(policies({{"a", "[policy]\nname = \"a\"\n[defaults]\nexec = \"deny\"\n"
                                    "[[exec]]\nfileless = true\naction = \"allow\"\n"},
                             {"b", "[policy]\nname = \"b\"\n[[exec]]\nfileless = true\naction = \"audit\"\n"
                                   "[[exec]]\nfileless = true\nprefixes = [\"/tmp/\"]\naction = \"deny\"\n"}}),
                   sys);
        const auto& set = c.image().policy_set;
        CHECK(set.fileless == 0b11);
        CHECK(set.fileless_deny == 0b10);  // b: deny beats audit
        auto o = c.eval().decide_exec({}, memfd(), ExecUse::run);
        CHECK(verdict(o) == "deny");
        CHECK(o.policy == 1);
        CHECK(where(c, o) == "b.toml:6");
    }
}

TEST_CASE("scope: executable — by the program's identity, not its name or comm")
{
    auto sys = exec_machine();
    Compiled c(policies({{"web", R"([policy]
name = "web"

[scope]
executable = ["/usr/sbin/nginx"]

[[file]]
paths = ["/etc/shadow"]
action = "deny"
)"}}),
               sys);
    const auto& img = c.image();
    CHECK(img.policy_set.executable_free == 0);
    CHECK(img.scope_exe_inodes.size() == 1);
    CHECK(img.scope_exe_names.size() == 1);
    auto shadow = [&](const Subject& who) { return verdict(c.eval().decide_file(who, sys.open("/etc/shadow"), R)); };

    CHECK(shadow(running(sys, "/usr/sbin/nginx")) == "deny");
    CHECK(shadow(running(sys, "/usr/bin/dash")) == "allow");
    CHECK(shadow(Subject{}) == "allow");  // a kernel thread: no program

    SUBCASE("a symlink or hardlink to nginx is nginx")
    {
        sys.symlink("/home/alice/web", "/usr/sbin/nginx");
        CHECK(shadow(running(sys, "/home/alice/web")) == "deny");
        sys.hardlink("/usr/sbin/nginx", "/usr/sbin/nginx.hard");
        CHECK(shadow(running(sys, "/usr/sbin/nginx.hard")) == "deny");
    }
    SUBCASE("a copy named nginx elsewhere is not")
    {
        sys.mkdirs("/home/alice/bin");
        sys.touch("/home/alice/bin/nginx");
        CHECK(shadow(running(sys, "/home/alice/bin/nginx")) == "allow");
    }
    SUBCASE("an upgrade that renames a new file over it keeps the scope")
    {
        sys.replace("/usr/sbin/nginx");
        CHECK(shadow(running(sys, "/usr/sbin/nginx")) == "deny");
    }
    SUBCASE("the scope also narrows exec and connect rules")
    {
        Compiled c2(policies({{"w", "[policy]\nname = \"w\"\n[scope]\nexecutable = [\"/usr/sbin/nginx\"]\n"
                                    "[[exec]]\npaths = [\"/usr/bin/dash\"]\naction = \"deny\"\n"
                                    "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\naction = \"deny\"\n"}}),
                    sys);
        CHECK(verdict(c2.eval().decide_exec(running(sys, "/usr/sbin/nginx"), sys.open("/bin/sh"), ExecUse::run)) ==
              "deny");
        CHECK(verdict(c2.eval().decide_exec(running(sys, "/usr/bin/ls"), sys.open("/bin/sh"), ExecUse::run)) ==
              "allow");
        CHECK(verdict(c2.eval().decide_connect(running(sys, "/usr/sbin/nginx"), *destination("10.1.2.3", 80))) ==
              "deny");
        CHECK(verdict(c2.eval().decide_connect(running(sys, "/usr/bin/ls"), *destination("10.1.2.3", 80))) ==
              "allow");
    }
}

TEST_CASE("scope: executable — diagnostics")
{
    auto sys = exec_machine();
    auto r = compile(policies({{"s", R"([policy]
name = "s"

[scope]
executable = ["/usr/bin", "/usr/local/app/run.sh", "/usr/sbin/later", "/nowhere/x"]

[[file]]
paths = ["/etc/shadow"]
action = "deny"
)"}}),
                     sys);
    CHECK(r.diagnostics.has_errors());
    const Diagnostic* dir = find_diag(r.diagnostics, "executable /usr/bin is a directory");
    REQUIRE(dir != nullptr);
    CHECK(dir->pos.column == 15);
    const Diagnostic* link = find_diag(r.diagnostics, "/usr/local/app/run.sh resolves to /opt/app/run.sh");
    REQUIRE(link != nullptr);
    CHECK(link->severity == Severity::note);
    CHECK(find_diag(r.diagnostics, "/usr/sbin/later does not exist yet") != nullptr);
    CHECK(find_diag(r.diagnostics, "neither /nowhere/x nor its directory exists") != nullptr);
}

TEST_CASE("exec: compile --dump shows the exec columns, fileless and the exe scope")
{
    auto sys = exec_machine();
    Compiled c(policies({{"d", "[policy]\nname = \"d\"\n[scope]\nexecutable = [\"/usr/sbin/nginx\"]\n"
                                "[[exec]]\npaths = [\"/usr/bin/nc\"]\nfileless = true\naction = \"deny\"\n"}}),
               sys);
    std::ostringstream out;
    dump_image(c.image(), out);
    const std::string text = out.str();
    INFO(text);
    CHECK(text.find("exec: deny=d audit=-") != std::string::npos);
    CHECK(text.find("map: deny=d audit=-") != std::string::npos);
    CHECK(text.find("fileless programs: decided by=d deny=d") != std::string::npos);
    CHECK(text.find("scope_exe_inodes (1 keys)") != std::string::npos);
    CHECK(text.find("name \"nginx\" → d") != std::string::npos);
}
