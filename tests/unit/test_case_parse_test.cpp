// [[test]] tables (policy/parse_tests.cpp): the model they parse into, and
// every error at the position of the offending value; test files (nothing
// but [[test]] tables) need no [policy] and are not policies.
#include "policy/parser.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace bulwark;

namespace {

ParseResult parse(std::string_view text) { return parse_policy_text(text, "t.toml"); }

std::string dump(const ParseResult& r)
{
    std::ostringstream os;
    r.diagnostics.print(os);
    return os.str();
}

const Diagnostic* find(const ParseResult& r, std::string_view needle)
{
    for (const Diagnostic& d : r.diagnostics.all())
        if (d.message.find(needle) != std::string::npos) return &d;
    return nullptr;
}

#define HEAD "[policy]\nname = \"t\"\n"

#define EXPECT_ERROR(r, line_, col_, needle)                                   \
    do {                                                                       \
        INFO("diagnostics:\n" << dump(r));                                     \
        const Diagnostic* d_ = find((r), (needle));                            \
        REQUIRE_MESSAGE(d_ != nullptr, "no diagnostic with: " << (needle));    \
        CHECK(d_->severity == Severity::error);                                \
        CHECK(d_->pos.line == (line_));                                        \
        CHECK(d_->pos.column == (col_));                                       \
        CHECK((r).policies.empty());                                           \
        CHECK((r).tests.empty());                                              \
    } while (0)

}  // namespace

TEST_CASE("[[test]]: the issue's example parses into the model")
{
    ParseResult r = parse(HEAD "[[test]]\nname = \"nginx cannot read the shadow file\"\nop = \"open\"\n"
                               "path = \"/etc/shadow\"\nuid = \"www-data\"\nexpect = \"deny\"\n");
    INFO(dump(r));
    REQUIRE(r.diagnostics.all().empty());
    REQUIRE(r.tests.size() == 1);
    REQUIRE(r.policies.size() == 1);
    CHECK(r.policies[0].tests.size() == 1);
    const TestCase& t = r.tests[0];
    CHECK(t.name == "nginx cannot read the shadow file");
    CHECK(t.op == TestOp::open);
    CHECK(t.path.value == "/etc/shadow");
    CHECK(t.path.pos.line == 6);
    CHECK(t.access == access_read);  // the default
    REQUIRE(t.uid.has_value());
    CHECK(std::get<std::string>(t.uid->value) == "www-data");
    CHECK(!t.cgroup);
    CHECK(!t.executable);
    CHECK(t.expect == Verdict::deny);
    CHECK(t.pos.line == 3);
    CHECK(t.expect_pos.line == 8);
}

TEST_CASE("[[test]]: every key, for each operation")
{
    ParseResult r = parse(HEAD
                          "[[test]]\nname = \"a\"\nop = \"open\"\npath = \"/srv/x\"\naccess = [\"read\", \"write\"]\n"
                          "uid = 33\ncgroup = \"system.slice/nginx.service\"\nexecutable = \"/usr/sbin/nginx\"\n"
                          "expect = \"would-deny\"\n"
                          "[[test]]\nname = \"b\"\nop = \"exec\"\npath = \"/tmp/x\"\nexpect = \"audit\"\n"
                          "[[test]]\nname = \"c\"\nop = \"connect\"\naddr = \"fd00::1\"\nport = 53\nprotocol = \"udp\"\n"
                          "expect = \"allow\"\n");
    INFO(dump(r));
    REQUIRE(r.diagnostics.all().empty());
    REQUIRE(r.tests.size() == 3);
    CHECK(r.tests[0].access == (access_read | access_write));
    CHECK(std::get<uint32_t>(r.tests[0].uid->value) == 33);
    CHECK(r.tests[0].cgroup->value == "system.slice/nginx.service");
    CHECK(r.tests[0].executable->value == "/usr/sbin/nginx");
    CHECK(r.tests[0].expect == Verdict::would_deny);
    CHECK(r.tests[1].op == TestOp::exec);
    CHECK(r.tests[1].expect == Verdict::audit);
    CHECK(r.tests[2].op == TestOp::connect);
    CHECK(r.tests[2].addr.value == "fd00::1");
    CHECK(r.tests[2].port == 53);
    CHECK(r.tests[2].protocol == proto_udp);
    CHECK(r.tests[2].expect == Verdict::allow);
}

TEST_CASE("[[test]]: errors at the offending value")
{
    SUBCASE("missing keys, at the header")
    {
        ParseResult r = parse(HEAD "[[test]]\nop = \"open\"\n");
        EXPECT_ERROR(r, 3, 1, "[[test]] has no name");
        EXPECT_ERROR(r, 3, 1, "[[test]] has no path");
        EXPECT_ERROR(r, 3, 1, "[[test]] has no expect");
    }
    SUBCASE("no op")
    {
        ParseResult r = parse(HEAD "[[test]]\nname = \"n\"\nexpect = \"deny\"\n");
        EXPECT_ERROR(r, 3, 1, "[[test]] has no op; add op = \"open\", \"exec\", \"connect\", \"create\", \"delete\", \"rename\", \"link\", "
                            "\"truncate\" or \"metadata\"");
    }
    SUBCASE("connect needs addr and port")
    {
        ParseResult r = parse(HEAD "[[test]]\nname = \"n\"\nop = \"connect\"\nexpect = \"deny\"\n");
        EXPECT_ERROR(r, 3, 1, "has no addr");
        EXPECT_ERROR(r, 3, 1, "has no port");
    }
    SUBCASE("unknown op and expect, with suggestions")
    {
        ParseResult r = parse(HEAD "[[test]]\nname = \"n\"\nop = \"opne\"\npath = \"/a\"\nexpect = \"dney\"\n");
        EXPECT_ERROR(r, 5, 6, "unknown op \"opne\" in [[test]]; did you mean \"open\"?");
        EXPECT_ERROR(r, 7, 10, "unknown expect \"dney\" in [[test]]; did you mean \"deny\"?");
    }
    SUBCASE("a key the operation does not use")
    {
        ParseResult r = parse(HEAD "[[test]]\nname = \"n\"\nop = \"connect\"\naddr = \"10.0.0.1\"\nport = 1\n"
                                   "path = \"/a\"\nexpect = \"deny\"\n");
        EXPECT_ERROR(r, 8, 1, "path is not used by op = \"connect\"; remove it (a connect case has addr, port and protocol)");
    }
    SUBCASE("access with exec")
    {
        ParseResult r = parse(HEAD "[[test]]\nname = \"n\"\nop = \"exec\"\npath = \"/a\"\naccess = \"read\"\n"
                                   "expect = \"deny\"\n");
        EXPECT_ERROR(r, 7, 1, "access is not used by op = \"exec\"");
    }
    SUBCASE("an unknown key, with a suggestion")
    {
        ParseResult r = parse(HEAD "[[test]]\nname = \"n\"\nop = \"open\"\npath = \"/a\"\nexpected = \"deny\"\n");
        EXPECT_ERROR(r, 7, 1, "unknown key \"expected\" in [[test]]; did you mean \"expect\"?");
    }
    SUBCASE("values of the wrong shape")
    {
        ParseResult r = parse(HEAD "[[test]]\nname = \"n\"\nop = \"open\"\npath = \"etc/shadow\"\nuid = [1, 2]\n"
                                   "cgroup = \"a//b\"\nexpect = \"deny\"\n");
        EXPECT_ERROR(r, 6, 8, "relative path \"etc/shadow\"");
        EXPECT_ERROR(r, 7, 7, "uid in [[test]] must be one integer uid or one user name, not an array");
        EXPECT_ERROR(r, 8, 10, "\"//\"");
    }
    SUBCASE("an address that is not one, a port out of range")
    {
        ParseResult r = parse(HEAD "[[test]]\nname = \"n\"\nop = \"connect\"\naddr = \"10.0.0.0/8\"\nport = 70000\n"
                                   "expect = \"deny\"\n");
        EXPECT_ERROR(r, 6, 8, "addr \"10.0.0.0/8\" is not an IP address");
        EXPECT_ERROR(r, 7, 8, "port 70000 is out of range");
    }
    SUBCASE("[test] written as a single table")
    {
        ParseResult r = parse(HEAD "[test]\nname = \"n\"\n");
        EXPECT_ERROR(r, 3, 1, "[test] must be written [[test]]");
    }
}

TEST_CASE("[[test]]: the history keys, one value or a list, each read as its key without parent_")
{
    ParseResult r = parse(HEAD "[[test]]\nname = \"a\"\nop = \"open\"\npath = \"/etc/shadow\"\n"
                               "executable = \"/bin/sh\"\nparent_executable = \"/usr/sbin/nginx\"\n"
                               "parent_uid = [0, \"www-data\"]\n"
                               "parent_cgroup = [\"system.slice/nginx.service\", \"/sys/fs/cgroup/user.slice\"]\n"
                               "expect = \"deny\"\n"
                               "[[test]]\nname = \"b\"\nop = \"connect\"\naddr = \"10.0.0.1\"\nport = 1\n"
                               "parent_uid = 33\nparent_executable = [\"/usr/sbin/nginx\", \"/usr/bin/env\"]\n"
                               "expect = \"allow\"\n");
    INFO(dump(r));
    REQUIRE(r.diagnostics.all().empty());
    REQUIRE(r.tests.size() == 2);
    const TestCase& a = r.tests[0];
    REQUIRE(a.parent_executables.size() == 1);
    CHECK(a.parent_executables[0].value == "/usr/sbin/nginx");
    CHECK(a.parent_executables[0].pos.line == 8);
    CHECK(a.parent_executables[0].pos.column == 21);
    REQUIRE(a.parent_uids.size() == 2);
    CHECK(std::get<uint32_t>(a.parent_uids[0].value) == 0);
    CHECK(std::get<std::string>(a.parent_uids[1].value) == "www-data");
    CHECK(a.parent_uids[1].pos.column == 18);
    REQUIRE(a.parent_cgroups.size() == 2);
    CHECK(a.parent_cgroups[1].value == "/sys/fs/cgroup/user.slice");
    const TestCase& b = r.tests[1];  // every operation takes them
    CHECK(std::get<uint32_t>(b.parent_uids.at(0).value) == 33);
    CHECK(b.parent_executables.size() == 2);
    CHECK(b.parent_cgroups.empty());
}

TEST_CASE("[[test]]: errors in the history keys, at the offending value")
{
    auto with = [](const std::string& lines) {
        return parse(HEAD "[[test]]\nname = \"n\"\nop = \"open\"\npath = \"/a\"\nexpect = \"deny\"\n" + lines);
    };
    SUBCASE("a uid out of range, a user name that cannot be one, a list of lists")
    {
        ParseResult r = with("parent_uid = [33, -1, \"a b\", [1]]\n");
        EXPECT_ERROR(r, 8, 19, "uid -1 is out of range; uids are 0..4294967294");
        EXPECT_ERROR(r, 8, 23, "user name \"a b\" in [[test]] cannot be a user name");
        EXPECT_ERROR(r, 8, 30, "parent_uid in [[test]] is one value or a list of values, not a list of lists");
    }
    SUBCASE("a value of the wrong type")
    {
        ParseResult r = with("parent_uid = true\nparent_cgroup = 5\nparent_executable = [\"/usr/bin/env\", 1]\n");
        EXPECT_ERROR(r, 8, 14, "parent_uid in [[test]] must be one integer uid or one user name, not a boolean");
        EXPECT_ERROR(r, 9, 17, "parent_cgroup in [[test]] must be a string or a list of strings, not an integer");
        EXPECT_ERROR(r, 10, 38, "parent_executable in [[test]] must be a string or a list of strings, not an integer");
    }
    SUBCASE("a cgroup and a program as [scope] refuses them")
    {
        ParseResult r = with("parent_cgroup = [\"ok.slice\", \"a//b\"]\nparent_executable = \"usr/sbin/nginx\"\n");
        EXPECT_ERROR(r, 8, 30, "\"//\"");
        EXPECT_ERROR(r, 9, 21, "relative executable \"usr/sbin/nginx\"");
    }
    SUBCASE("an empty list")
    {
        ParseResult r = with("parent_executable = []\n");
        EXPECT_ERROR(r, 8, 21, "empty parent_executable in [[test]]; name what the process or an ancestor was before, "
                               "or remove the key");
    }
    SUBCASE("a misspelt key, with a suggestion")
    {
        ParseResult r = with("parent_executables = \"/usr/sbin/nginx\"\n");
        EXPECT_ERROR(r, 8, 1, "unknown key \"parent_executables\" in [[test]]; did you mean \"parent_executable\"?");
    }
}

TEST_CASE("[[test]]: two cases with one name are a warning")
{
    ParseResult r = parse(HEAD "[[test]]\nname = \"n\"\nop = \"exec\"\npath = \"/a\"\nexpect = \"deny\"\n"
                               "[[test]]\nname = \"n\"\nop = \"exec\"\npath = \"/b\"\nexpect = \"deny\"\n");
    INFO(dump(r));
    REQUIRE(r.diagnostics.all().size() == 1);
    CHECK(r.diagnostics.all()[0].severity == Severity::warning);
    CHECK(r.diagnostics.all()[0].pos.line == 8);
    CHECK(r.diagnostics.all()[0].message.find("(line 3)") != std::string::npos);
    CHECK(r.tests.size() == 2);
}

TEST_CASE("[[test]]: a file of nothing but [[test]] tables is a test file, not a policy")
{
    const std::string cases = "[[test]]\nname = \"n\"\nop = \"exec\"\npath = \"/a\"\nexpect = \"deny\"\n";
    SUBCASE("parse_policy_text")
    {
        ParseResult r = parse(cases);
        INFO(dump(r));
        CHECK(r.diagnostics.all().empty());
        CHECK(r.policies.empty());
        CHECK(r.tests.size() == 1);
    }
    SUBCASE("a [[file]] rule without [policy] is still an error")
    {
        ParseResult r = parse(cases + "[[file]]\npaths = \"/a\"\naction = \"deny\"\n");
        EXPECT_ERROR(r, 1, 1, "no [policy] table");
    }
    SUBCASE("load_policies: a directory with a policy and a test file")
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "bulwark-tests-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        const std::filesystem::path dir = tmpl;
        std::ofstream(dir / "a.toml") << HEAD "[[file]]\npaths = \"/a\"\naction = \"deny\"\n"
                                              "[[test]]\nname = \"in policy\"\nop = \"open\"\npath = \"/a\"\nexpect = \"deny\"\n";
        std::ofstream(dir / "cases.toml") << cases;
        ParseResult r = load_policies({dir.string()});
        std::filesystem::remove_all(dir);
        INFO(dump(r));
        CHECK(!r.diagnostics.has_errors());
        REQUIRE(r.policies.size() == 1);
        REQUIRE(r.tests.size() == 2);
        CHECK(r.tests[0].name == "in policy");
        CHECK(r.tests[0].pos.file == (dir / "a.toml").string());
        CHECK(r.tests[1].pos.file == (dir / "cases.toml").string());
    }
}
