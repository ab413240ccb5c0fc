// The offline tools' engine (engine/explain/): the imagined machine,
// resolving a case into what the BPF side sees, running [[test]] cases, and
// explaining a verdict — checked against the reference evaluator on
// hand-written sets and on seeded random ones.
#include "compile/compiler.hpp"
#include "explain/explain.hpp"
#include "explain/imagined_system.hpp"
#include "explain/test_run.hpp"
#include "tool_support.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using namespace bulwark;
using namespace bulwark::test;

namespace {


TestCase open_case(const std::string& path, uint8_t access = access_read)
{
    TestCase t;
    t.op = TestOp::open;
    t.path.value = path;
    t.access = access;
    return t;
}

ResolvedOp resolved(const TestCase& tc, const SystemView& sys)
{
    auto r = resolve_op(tc, sys);
    if (const auto* e = std::get_if<std::string>(&r)) FAIL("cannot resolve: " << *e);
    return std::get<ResolvedOp>(r);
}

std::string loc(const MapImage& image, int32_t rule)
{
    return rule < 0 ? "default" : location(image.rules[static_cast<size_t>(rule)].pos);
}

}  // namespace

// ---------------------------------------------------------------------------
// The imagined machine

TEST_CASE("imagined: what exists is the real machine's, what is missing is made up below it")
{
    FakeSystem sys = server();
    ImaginedSystem im(sys);
    im.imagine_file("/etc/shadow");                 // exists: nothing imagined
    im.imagine_file("/var/lib/postgresql/15/main/PG_VERSION");
    im.imagine_dir("/bin/newdir");                  // through the /bin symlink
    im.imagine_file("/etc/shadow/below-a-file");    // impossible: ignored
    im.imagine_user("postgres");
    im.imagine_user("www-data");                    // exists
    im.imagine_cgroup("system.slice/postgresql.service");

    CHECK(im.identify("/etc/shadow") == sys.identify("/etc/shadow"));
    CHECK(im.canonical("/bin/sh") == std::optional<std::string>("/usr/bin/dash"));

    auto pg = im.identify("/var/lib/postgresql/15/main/PG_VERSION");
    REQUIRE(pg);
    CHECK(!pg->is_dir);
    CHECK(pg->dev == sys.identify("/var")->dev);
    CHECK(pg->ino >= ImaginedSystem::kFirstIno);
    CHECK(im.identify("/var/lib/postgresql/15")->is_dir);
    CHECK(im.canonical("/var/lib/postgresql/15/../15/main") == std::optional<std::string>("/var/lib/postgresql/15/main"));
    CHECK(!im.identify("/var/lib/other"));

    CHECK(im.canonical("/bin/newdir") == std::optional<std::string>("/usr/bin/newdir"));
    CHECK(im.identify("/usr/bin/newdir")->is_dir);
    CHECK(!im.identify("/etc/shadow/below-a-file"));

    CHECK(im.uid_of_user("www-data") == std::optional<uint32_t>(33));
    CHECK(im.uid_of_user("postgres") == std::optional<uint32_t>(ImaginedSystem::kFirstUid));
    CHECK(im.identify("/sys/fs/cgroup/system.slice/postgresql.service")->is_dir);

    std::vector<std::string> names;
    for (const auto& o : im.imagined()) names.push_back(o.name);
    CHECK(names == std::vector<std::string>{"/var/lib", "/var/lib/postgresql", "/var/lib/postgresql/15",
                                            "/var/lib/postgresql/15/main", "/var/lib/postgresql/15/main/PG_VERSION",
                                            "/usr/bin/newdir", "postgres", "/sys/fs/cgroup/system.slice/postgresql.service"});
    // The real machine is untouched.
    CHECK(!sys.identify("/var/lib"));
}

TEST_CASE("imagined: a set compiles and decides on it as if the objects existed")
{
    FakeSystem sys = server();
    CompiledSet s;
    s.policies = parse_all({{"db.toml", "[policy]\nname = \"db\"\n[scope]\nuid = \"postgres\"\n"
                                        "[[file]]\nprefixes = [\"/var/lib/postgresql/\"]\naccess = \"write\"\naction = \"audit\"\n"
                                        "[[test]]\nname = \"writes are audited\"\nop = \"open\"\n"
                                        "path = \"/var/lib/postgresql/15/x\"\naccess = \"write\"\nuid = \"postgres\"\n"
                                        "expect = \"audit\"\n"}},
                           &s.tests);
    // On the machine as it is, the loader refuses the unknown user.
    CHECK(!compile(s.policies, sys).image);
    ImaginedSystem im(sys);
    im.imagine_for(s.policies, s.tests);
    CompileResult r = compile(s.policies, im);
    INFO(text_of(r.diagnostics));
    REQUIRE(r.image);
    auto results = run_cases(*r.image, im, s.tests);
    REQUIRE(results.size() == 1);
    CHECK(results[0].error.empty());
    CHECK(results[0].got == Verdict::audit);
    CHECK(results[0].passed);
    CHECK(results[0].uid == ImaginedSystem::kFirstUid);
}

// ---------------------------------------------------------------------------
// Resolving and running cases

TEST_CASE("resolve_op: the subject and the object as the BPF side sees them")
{
    FakeSystem sys = server();
    TestCase t = open_case("/etc/ssh/../shadow");
    t.uid = UidSpec{std::string("www-data"), {}};
    t.cgroup = Located{"system.slice/nginx.service", {}};
    t.executable = Located{"/usr/sbin/nginx", {}};
    ResolvedOp op = resolved(t, sys);
    CHECK(op.subject.uid == 33);
    CHECK(op.subject.cgroup_ancestors == sys.cgroup_ancestors("system.slice/nginx.service"));
    REQUIRE(op.subject.exe);
    CHECK(op.subject.exe->self == *sys.identify("/usr/sbin/nginx"));
    CHECK(op.canonical == "/etc/shadow");
    CHECK(same_object(*op.object, sys.open("/etc/shadow")));
    CHECK(op.access == BW_ACCESS_READ);

    SUBCASE("what cannot be resolved is said")
    {
        TestCase u = open_case("/etc/shadow");
        u.uid = UidSpec{std::string("nobody-here"), {}};
        CHECK(std::get<std::string>(resolve_op(u, sys)).find("unknown user \"nobody-here\"") == 0);
        TestCase c = open_case("/etc/shadow");
        c.cgroup = Located{"system.slice/none.service", {}};
        CHECK(std::get<std::string>(resolve_op(c, sys)).find("cgroup directory") == 0);
        TestCase p = open_case("/no/such/dir/file");
        CHECK(std::get<std::string>(resolve_op(p, sys)).find("the directory of /no/such/dir/file") == 0);
    }
}

TEST_CASE("run_cases: verdicts, deciding rules, failures")
{
    FakeSystem sys = server();
    CompiledSet s = compile_set({{"web.toml", "[policy]\nname = \"web\"\n[scope]\nuid = \"www-data\"\n"  // 1-4
                                      "[[file]]\nprefixes = [\"/etc/\"]\naction = \"deny\"\n"        // 5
                                      "[[file]]\npaths = [\"/etc/hosts\"]\naction = \"allow\"\n"    // 8
                                      "[[test]]\nname = \"ok\"\nop = \"open\"\npath = \"/etc/shadow\"\nuid = 33\nexpect = \"deny\"\n"
                                      "[[test]]\nname = \"wrong\"\nop = \"open\"\npath = \"/etc/hosts\"\nuid = 33\nexpect = \"deny\"\n"
                                      "[[test]]\nname = \"root\"\nop = \"open\"\npath = \"/etc/shadow\"\nexpect = \"allow\"\n"
                                      "[[test]]\nname = \"ghost\"\nop = \"open\"\npath = \"/etc/x\"\nuid = \"ghost\"\nexpect = \"deny\"\n"}},
                        sys);
    auto results = run_cases(s.image, sys, s.tests);
    REQUIRE(results.size() == 4);
    CHECK(results[0].passed);
    CHECK(results[0].got == Verdict::deny);
    CHECK(loc(s.image, results[0].rule) == "web.toml:5");
    CHECK(!results[1].passed);
    CHECK(results[1].got == Verdict::allow);
    CHECK(results[2].passed);
    CHECK(results[2].policy == BW_POLICY_NONE);
    CHECK(!results[3].passed);
    CHECK(results[3].error.find("unknown user \"ghost\"") == 0);
}

TEST_CASE("find_test_sets: a set per directory of *.toml files, and one of the files named")
{
    namespace fs = std::filesystem;
    std::string tmpl = (fs::temp_directory_path() / "bulwark-sets-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    const fs::path root = tmpl;
    fs::create_directories(root / "a" / "deeper");
    fs::create_directories(root / "empty");
    for (const char* f : {"a/2.toml", "a/1.toml", "a/deeper/x.toml", "a/notes.txt", "single.toml"})
        std::ofstream(root / f) << "\n";
    std::vector<std::string> missing;
    auto sets = find_test_sets({root.string(), (root / "single.toml").string(), (root / "nope").string()}, missing);
    fs::remove_all(root);
    REQUIRE(sets.size() == 4);
    CHECK(sets[0].label == root.string());  // single.toml is in the root directory
    CHECK(sets[1].label == (root / "a").string());
    CHECK(sets[1].files == std::vector<std::string>{(root / "a/1.toml").string(), (root / "a/2.toml").string()});
    CHECK(sets[2].label == (root / "a/deeper").string());
    CHECK(sets[3].label == "command line");
    CHECK(sets[3].files == std::vector<std::string>{(root / "single.toml").string()});
    CHECK(missing == std::vector<std::string>{(root / "nope").string()});
}

// ---------------------------------------------------------------------------
// Explanations

TEST_CASE("explain: the deciding rule, the rules that lost, and why")
{
    FakeSystem sys = server();
    CompiledSet s = compile_set({{"web.toml", "[policy]\nname = \"web\"\n"
                                      "[[file]]\nprefixes = [\"/etc/\"]\naction = \"allow\"\n"          // 3
                                      "[[file]]\nprefixes = [\"/etc/ssh/\"]\naction = \"deny\"\n"       // 6
                                      "[[file]]\npaths = [\"/etc/ssh/sshd_config\"]\naction = \"audit\"\n"  // 9
                                      "[[file]]\npaths = [\"/etc/ssh/sshd_config\"]\naction = \"allow\"\n"  // 12
                                      "[[file]]\npaths = [\"/etc/ssh/sshd_config\"]\naccess = \"write\"\naction = \"deny\"\n"},
                         {"ops.toml", "[policy]\nname = \"ops\"\nmode = \"audit\"\n[scope]\nuid = 1000\n"
                                      "[[file]]\nprefixes = [\"/etc/\"]\naction = \"deny\"\n"},          // 6
                         {"all.toml", "[policy]\nname = \"all\"\nmode = \"audit\"\n"
                                      "[[file]]\npaths = [\"/etc/ssh/sshd_config\"]\naction = \"deny\"\n"}},  // 4
                        sys);
    TestCase t = open_case("/etc/ssh/sshd_config");
    const Explanation e = explain(s.policies, s.image, sys, resolved(t, sys));
    CHECK(e.consistent);
    CHECK(e.verdict == Verdict::would_deny);
    CHECK(s.image.policies[e.policy].name == "all");
    CHECK(loc(s.image, e.rule) == "all.toml:4");

    REQUIRE(e.policies.size() == 3);
    CHECK(e.policies[0].verdict == Verdict::audit);
    CHECK(loc(s.image, e.policies[0].rule) == "web.toml:9");
    CHECK(e.policies[0].matched.size() == 4);  // not the write-only rule
    CHECK(!e.policies[1].in_scope);
    CHECK(e.policies[1].scope_why == "uid 0 is not in its [scope] uid (1000)");

    auto why = [&](const std::string& at) {
        for (const auto& l : e.lost)
            if (location(s.image.rules[static_cast<size_t>(l.rule)].pos) == at) return l.why;
        return std::string("(not lost)");
    };
    CHECK(why("web.toml:3").find("less specific than web.toml:9 (/etc/ssh/sshd_config)") == 0);
    CHECK(why("web.toml:6").find("less specific than web.toml:9") == 0);
    CHECK(why("web.toml:12").find("web.toml:9 matches as specifically (/etc/ssh/sshd_config) with a stronger action: "
                                  "audit beats allow") == 0);
    CHECK(why("web.toml:15") == "(not lost)");  // write-only: did not match a read
    CHECK(why("ops.toml:6").find("policy ops does not apply to this process: uid 0") == 0);
    CHECK(why("all.toml:4") == "(not lost)");

    std::ostringstream out;
    RuleTexts texts;  // files do not exist: the rule text is left out
    print(e, t, s.image, texts, out);
    const std::string text = out.str();
    INFO(text);
    CHECK(text.find("verdict: would-deny\ndecided by: all.toml:4 (policy all, audit)\n") != std::string::npos);
    CHECK(text.find("  web (enforce): audit by web.toml:9 — matched /etc/ssh/sshd_config; outweighed: policy all's "
                    "would-deny decides") != std::string::npos);
    CHECK(text.find("  ops (audit): does not apply: uid 0 is not in its [scope] uid (1000)") != std::string::npos);
    CHECK(text.find("matched and lost:\n") != std::string::npos);
}

TEST_CASE("explain: defaults, connect and exec")
{
    FakeSystem sys = server();
    CompiledSet s = compile_set({{"net.toml", "[policy]\nname = \"net\"\n[defaults]\nconnect = \"deny\"\nexec = \"deny\"\n"
                                      "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [22]\naction = \"allow\"\n"  // 6
                                      "[[connect]]\ncidrs = [\"10.1.0.0/16\"]\naction = \"audit\"\n"             // 10
                                      "[[exec]]\nprefixes = [\"/usr/bin/\"]\naction = \"allow\"\n"}},           // 13
                        sys);
    TestCase c;
    c.op = TestOp::connect;
    c.addr.value = "10.1.2.3";
    c.port = 22;
    Explanation e = explain(s.policies, s.image, sys, resolved(c, sys));
    CHECK(e.consistent);
    CHECK(e.verdict == Verdict::audit);
    CHECK(loc(s.image, e.rule) == "net.toml:10");
    REQUIRE(e.lost.size() == 1);
    CHECK(e.lost[0].why.find("less specific than net.toml:10 (10.1.0.0/16)") == 0);

    c.addr.value = "192.0.2.1";
    e = explain(s.policies, s.image, sys, resolved(c, sys));
    CHECK(e.verdict == Verdict::deny);
    CHECK(e.rule == -1);
    CHECK(rule_location(s.image, e.policy, e.rule, e.column) == "net.toml:4 ([defaults] connect)");

    TestCase x;
    x.op = TestOp::exec;
    x.path.value = "/bin/sh";  // → /usr/bin/dash
    e = explain(s.policies, s.image, sys, resolved(x, sys));
    CHECK(e.verdict == Verdict::allow);
    CHECK(loc(s.image, e.policies[0].rule) == "net.toml:13");
    x.path.value = "/tmp/x";
    e = explain(s.policies, s.image, sys, resolved(x, sys));
    CHECK(e.verdict == Verdict::deny);
    CHECK(rule_location(s.image, e.policy, e.rule, e.column) == "net.toml:5 ([defaults] exec)");
}

TEST_CASE("explain: running a program reads it first, so a file rule can stop an exec")
{
    FakeSystem sys = server();
    CompiledSet s = compile_set({{"f.toml", "[policy]\nname = \"f\"\nmode = \"audit\"\n"
                                    "[[file]]\npaths = [\"/usr/bin/curl\"]\naccess = \"read\"\naction = \"deny\"\n"},  // 4
                         {"x.toml", "[policy]\nname = \"x\"\n"
                                    "[[exec]]\npaths = [\"/usr/bin/curl\"]\naction = \"audit\"\n"}},                      // 3
                        sys);
    TestCase x;
    x.op = TestOp::exec;
    x.path.value = "/usr/bin/curl";
    Explanation e = explain(s.policies, s.image, sys, resolved(x, sys));
    CHECK(e.consistent);
    CHECK(e.verdict == Verdict::would_deny);  // the read, reported by the audit-mode policy
    CHECK(loc(s.image, e.rule) == "f.toml:4");
    CHECK(e.column == BW_COL_READ);
    REQUIRE(e.policies.size() == 2);
    CHECK(e.policies[0].applies);
    CHECK(e.policies[1].verdict == Verdict::audit);
    CHECK(loc(s.image, e.policies[1].rule) == "x.toml:3");
}

// Seeded random sets: the explanation must add up to the evaluator's
// verdict, name the evaluator's deciding rule, and list as matched exactly
// the rules a model-level matcher finds.
TEST_CASE("explain: agrees with the evaluator on random policy sets (seeded)")
{
    FakeSystem sys = server();
    for (const char* d : {"/d/a/b", "/d/a/c", "/d/e"}) sys.mkdirs(d);
    for (const char* f : {"/d/a/b/f", "/d/a/c/g", "/d/e/h", "/d/top"}) sys.touch(f);
    const std::vector<std::string> files{"/d/a/b/f", "/d/a/c/g", "/d/e/h", "/d/top", "/d/a/new"};
    const std::vector<std::string> prefixes{"/d/", "/d/a/", "/d/a/b/", "/d/e/"};
    const std::vector<std::string> cidrs{"10.0.0.0/8", "10.1.0.0/16", "10.1.2.3/32", "0.0.0.0/0", "fd00::/8"};
    const std::vector<std::string> addrs{"10.1.2.3", "10.9.9.9", "192.0.2.1", "fd00::5", "::ffff:10.1.2.3"};
    const char* actions[] = {"deny", "audit", "allow"};
    size_t checked = 0;
    for (uint32_t seed = 1; seed <= 60; ++seed) {
        std::mt19937 rng(seed);
        auto pick = [&](auto& v) -> const auto& { return v[rng() % v.size()]; };
        std::vector<std::pair<std::string, std::string>> texts;
        const size_t npol = 1 + rng() % 3;
        for (size_t p = 0; p < npol; ++p) {
            std::string t = "[policy]\nname = \"p" + std::to_string(p) + "\"\nmode = \"" +
                            (rng() % 3 ? "enforce" : "audit") + "\"\n";
            if (rng() % 3 == 0) t += "[scope]\nuid = " + std::to_string(rng() % 2 ? 0 : 1000) + "\n";
            t += std::string("[defaults]\nfile = \"") + (rng() % 4 ? "allow" : "deny") + "\"\nconnect = \"" +
                 (rng() % 4 ? "allow" : "audit") + "\"\nexec = \"" + (rng() % 4 ? "allow" : "deny") + "\"\n";
            for (size_t r = 0, n = 1 + rng() % 5; r < n; ++r) {
                t += "[[file]]\n";
                t += rng() % 2 ? "paths = [\"" + pick(files) + "\"]\n" : "prefixes = [\"" + pick(prefixes) + "\"]\n";
                if (rng() % 3 == 0) t += std::string("access = [\"") + (rng() % 2 ? "read" : "write") + "\"]\n";
                t += std::string("action = \"") + actions[rng() % 3] + "\"\n";
            }
            for (size_t r = 0, n = rng() % 3; r < n; ++r) {
                t += "[[exec]]\n";
                t += rng() % 2 ? "paths = [\"" + pick(files) + "\"]\n" : "prefixes = [\"" + pick(prefixes) + "\"]\n";
                t += std::string("action = \"") + actions[rng() % 3] + "\"\n";
            }
            for (size_t r = 0, n = rng() % 3; r < n; ++r) {
                t += "[[connect]]\ncidrs = [\"" + pick(cidrs) + "\"]\n";
                if (rng() % 2) t += "ports = [" + std::to_string(20 + rng() % 4) + "]\n";
                t += std::string("action = \"") + actions[rng() % 3] + "\"\n";
            }
            texts.emplace_back("p" + std::to_string(p) + ".toml", t);
        }
        CompiledSet s = compile_set(texts, sys);
        Evaluator eval(s.image);
        for (int k = 0; k < 12; ++k) {
            TestCase t;
            if (k % 4 == 3) {
                t.op = TestOp::exec;
                t.path.value = pick(files);
            } else if (k % 4 == 2) {
                t.op = TestOp::connect;
                t.addr.value = pick(addrs);
                t.port = static_cast<uint16_t>(20 + rng() % 4);
                t.protocol = rng() % 2 ? proto_tcp : proto_udp;
            } else {
                t = open_case(pick(files), static_cast<uint8_t>(1 + rng() % 3));
            }
            if (rng() % 2) t.uid = UidSpec{uint32_t(1000), {}};
            const ResolvedOp op = resolved(t, sys);
            const Outcome o = decide(eval, op);
            const Explanation e = explain(s.policies, s.image, sys, op);
            INFO("seed " << seed << " case " << k << ": " << describe(t));
            std::string sources;
            for (const auto& [f, text] : texts) sources += f + ":\n" + text + "\n";
            INFO(sources);
            CHECK(e.consistent);
            CHECK(e.verdict == to_verdict(o.verdict));
            if (o.verdict != BW_VERDICT_ALLOW) CHECK(e.rule == s.image.deciding_rule(o.entry, o.policy, o.column));
            ++checked;
        }
    }
    CHECK(checked == 720);
}
