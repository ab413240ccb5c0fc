// Policy parser: every validation rule produces a diagnostic at the position
// of the offending value, with a message saying what is wrong and what to do.
#include "policy/parser.hpp"
#include "policy/value_checks.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace bulwark;

namespace {

ParseResult parse(std::string_view text) { return parse_policy_text(text, "t.toml"); }

std::string dump(const ParseResult& r)
{
    std::ostringstream os;
    r.diagnostics.print(os);
    return os.str();
}

const Diagnostic* find_diag(const ParseResult& r, std::string_view needle)
{
    for (const Diagnostic& d : r.diagnostics.all())
        if (d.message.find(needle) != std::string::npos) return &d;
    return nullptr;
}

std::string src(const char* rel) { return std::string(BULWARK_SOURCE_DIR) + "/tests/policies/" + rel; }

// A fresh, empty directory under the temp dir, removed at scope exit.
struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "bulwark-parser-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string write(const std::string& name, std::string_view text) const
    {
        std::ofstream(path / name) << text;
        return (path / name).string();
    }
};

}  // namespace

// A diagnostic whose message contains NEEDLE, with this severity and position.
#define EXPECT_DIAG_IN(r, sev, file_, line_, col_, needle)            \
    do {                                                               \
        INFO("diagnostics:\n" << dump(r));                             \
        const Diagnostic* d_ = find_diag((r), (needle));               \
        REQUIRE_MESSAGE(d_ != nullptr, "no diagnostic with: " << (needle)); \
        CHECK(d_->severity == (sev));                                  \
        CHECK(d_->pos.file == (file_));                                \
        CHECK(d_->pos.line == (line_));                                \
        CHECK(d_->pos.column == (col_));                               \
    } while (0)

#define EXPECT_DIAG(r, sev, line_, col_, needle) EXPECT_DIAG_IN(r, sev, "t.toml", line_, col_, needle)

// Exactly one diagnostic, an error, and no policy returned.
#define EXPECT_ONLY_ERROR(r, line_, col_, needle)                         \
    do {                                                                  \
        INFO("diagnostics:\n" << dump(r));                                \
        CHECK((r).diagnostics.all().size() == 1);                         \
        CHECK((r).policies.empty());                                      \
        EXPECT_DIAG(r, Severity::error, line_, col_, needle);             \
    } while (0)

// Exactly one diagnostic, a warning; the policy is still returned.
#define EXPECT_ONLY_WARNING(r, line_, col_, needle)                       \
    do {                                                                  \
        INFO("diagnostics:\n" << dump(r));                                \
        CHECK((r).diagnostics.all().size() == 1);                         \
        CHECK(!(r).diagnostics.has_errors());                             \
        CHECK((r).policies.size() == 1);                                  \
        EXPECT_DIAG(r, Severity::warning, line_, col_, needle);           \
    } while (0)

#define CHECK_CLEAN(r)                                                    \
    do {                                                                  \
        INFO("diagnostics:\n" << dump(r));                                \
        CHECK((r).diagnostics.all().empty());                             \
        REQUIRE((r).policies.size() == 1);                                \
    } while (0)

// Every test text starts with these two lines, so rules begin at line 3.
#define HEAD "[policy]\nname = \"t\"\n"

// ---------------------------------------------------------------------------

TEST_CASE("parser: the docs/policy-language.md full example parses into the expected model")
{
    std::ifstream in(src("good/web.toml"));
    std::stringstream ss;
    ss << in.rdbuf();
    ParseResult r = parse_policy_text(ss.str(), "web.toml");
    CHECK_CLEAN(r);
    const Policy& p = r.policies[0];

    CHECK(p.name == "web");
    CHECK(p.file == "web.toml");
    CHECK(p.pos.file == "web.toml");
    CHECK(p.pos.line == 2);
    CHECK(p.pos.column == 8);
    CHECK(p.mode == Mode::enforce);
    CHECK(p.mode_pos.line == 3);
    CHECK(p.mode_pos.column == 8);
    CHECK(p.description == "nginx may serve, not snoop");

    CHECK(p.scope.present);
    CHECK(p.scope.pos.line == 6);
    CHECK(p.scope.pos.column == 1);
    REQUIRE(p.scope.cgroups.size() == 1);
    CHECK(p.scope.cgroups[0].value == "/system.slice/nginx.service");
    CHECK(p.scope.cgroups[0].pos.line == 7);
    CHECK(p.scope.cgroups[0].pos.column == 11);
    REQUIRE(p.scope.uids.size() == 2);
    CHECK(std::get<uint32_t>(p.scope.uids[0].value) == 33);
    CHECK(p.scope.uids[0].pos.line == 9);
    CHECK(p.scope.uids[0].pos.column == 8);
    CHECK(std::get<std::string>(p.scope.uids[1].value) == "www-data");
    CHECK(p.scope.uids[1].pos.column == 12);
    REQUIRE(p.scope.executables.size() == 1);
    CHECK(p.scope.executables[0].value == "/usr/sbin/nginx");
    CHECK(p.scope.executables[0].pos.line == 10);

    CHECK(!p.defaults.file.given);
    CHECK(p.defaults.file.action == Action::allow);
    CHECK(p.defaults.exec.given);
    CHECK(p.defaults.exec.action == Action::deny);
    CHECK(p.defaults.exec.pos.line == 14);
    CHECK(p.defaults.exec.pos.column == 8);
    CHECK(!p.defaults.connect.given);
    CHECK(p.defaults.connect.action == Action::allow);

    REQUIRE(p.files.size() == 1);
    const FileRule& f = p.files[0];
    CHECK(f.pos.line == 16);
    CHECK(f.pos.column == 1);
    REQUIRE(f.paths.size() == 2);
    CHECK(f.paths[0].value == "/etc/shadow");
    CHECK(f.paths[0].pos.line == 17);
    CHECK(f.paths[0].pos.column == 10);
    CHECK(f.paths[1].value == "/etc/gshadow");
    CHECK(f.paths[1].pos.column == 25);
    REQUIRE(f.prefixes.size() == 2);
    CHECK(f.prefixes[0].value == "/root/");
    CHECK(f.prefixes[1].value == "/etc/ssh/");
    CHECK(f.prefixes[1].pos.line == 18);
    CHECK(f.access == (access_read | access_changes));  // write implies every change
    CHECK(f.action == Action::deny);

    REQUIRE(p.execs.size() == 1);
    const ExecRule& e = p.execs[0];
    CHECK(e.pos.line == 22);
    CHECK(e.pos.column == 1);
    REQUIRE(e.paths.size() == 1);
    CHECK(e.paths[0].value == "/usr/bin/nc");
    REQUIRE(e.prefixes.size() == 2);
    CHECK(e.prefixes[0].value == "/tmp/");
    CHECK(e.prefixes[1].value == "/dev/shm/");
    CHECK(e.action == Action::deny);

    REQUIRE(p.connects.size() == 1);
    const ConnectRule& c = p.connects[0];
    CHECK(c.pos.line == 27);
    CHECK(c.pos.column == 1);
    REQUIRE(c.cidrs.size() == 2);
    CHECK(c.cidrs[0].value == "169.254.169.254/32");
    CHECK(c.cidrs[1].value == "fd00::/8");
    CHECK(c.cidrs[1].pos.line == 28);
    CHECK(c.cidrs[1].pos.column == 32);
    REQUIRE(c.ports.size() == 2);
    CHECK(c.ports[0].first == 80);
    CHECK(c.ports[0].last == 80);
    CHECK(c.ports[0].pos.line == 29);
    CHECK(c.ports[0].pos.column == 10);
    CHECK(c.ports[1].first == 8000);
    CHECK(c.ports[1].last == 8100);
    CHECK(c.ports[1].pos.column == 14);
    CHECK(c.protocols == (proto_tcp | proto_udp));
    CHECK(c.action == Action::deny);
}

TEST_CASE("parser: a minimal clean policy has no diagnostics and defaults everywhere")
{
    ParseResult r = parse(HEAD);
    CHECK_CLEAN(r);
    const Policy& p = r.policies[0];
    CHECK(p.name == "t");
    CHECK(p.mode == Mode::enforce);
    CHECK(p.mode_pos.line == 1);  // no mode: the [policy] table
    CHECK(p.mode_pos.column == 1);
    CHECK(p.description.empty());
    CHECK(!p.scope.present);
    CHECK(!p.defaults.file.given);
    CHECK(!p.defaults.exec.given);
    CHECK(!p.defaults.connect.given);
    CHECK(p.files.empty());
    CHECK(p.execs.empty());
    CHECK(p.connects.empty());
}

TEST_CASE("parser: a second clean policy with single values as one-element lists")
{
    std::ifstream in(src("good/ssh.toml"));
    std::stringstream ss;
    ss << in.rdbuf();
    ParseResult r = parse_policy_text(ss.str(), "ssh.toml");
    CHECK_CLEAN(r);
    const Policy& p = r.policies[0];
    CHECK(p.name == "ssh-audit");
    CHECK(p.mode == Mode::audit);
    CHECK(p.mode_pos.line == 4);
    CHECK(p.mode_pos.column == 8);
    REQUIRE(p.scope.uids.size() == 1);
    CHECK(std::get<uint32_t>(p.scope.uids[0].value) == 0);
    CHECK(p.defaults.exec.action == Action::deny);
    CHECK(p.defaults.connect.action == Action::audit);
    CHECK(p.defaults.connect.given);
    REQUIRE(p.execs.size() == 1);
    REQUIRE(p.execs[0].prefixes.size() == 1);
    CHECK(p.execs[0].prefixes[0].value == "/usr/");
    CHECK(p.execs[0].prefixes[0].pos.line == 14);
    CHECK(p.execs[0].prefixes[0].pos.column == 12);
    CHECK(p.execs[0].action == Action::allow);
    REQUIRE(p.connects.size() == 1);
    REQUIRE(p.connects[0].cidrs.size() == 1);
    CHECK(p.connects[0].cidrs[0].value == "0.0.0.0/0");
    REQUIRE(p.connects[0].ports.size() == 1);
    CHECK(p.connects[0].ports[0].first == 22);
    CHECK(p.connects[0].ports[0].last == 22);
    CHECK(p.connects[0].protocols == proto_tcp);
}

// ---------------------------------------------------------------------------
// TOML syntax

TEST_CASE("parser: TOML syntax errors come out as file:line:col errors")
{
    SUBCASE("missing value")
    {
        ParseResult r = parse("[policy]\nname = \n");
        EXPECT_ONLY_ERROR(r, 2, 8, "invalid TOML");
        CHECK(format(r.diagnostics.all()[0]).rfind("t.toml:2:8: error: invalid TOML: ", 0) == 0);
    }
    SUBCASE("table defined twice")
    {
        ParseResult r = parse("[policy]\nname = \"a\"\n[policy]\n");
        EXPECT_ONLY_ERROR(r, 3, 1, "policy");
    }
    SUBCASE("duplicate key")
    {
        ParseResult r = parse("[policy]\nname = \"a\"\nname = \"b\"\n");
        REQUIRE(r.diagnostics.all().size() == 1);
        CHECK(r.diagnostics.all()[0].pos.line == 3);
        CHECK(r.diagnostics.all()[0].message.find("invalid TOML") == 0);
    }
}

// ---------------------------------------------------------------------------
// Top level

TEST_CASE("parser: top-level tables")
{
    SUBCASE("no [policy]")
    {
        ParseResult r = parse("[[file]]\npaths = \"/a\"\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 1, 1, "no [policy] table");
    }
    SUBCASE("empty file")
    {
        ParseResult r = parse("");
        EXPECT_ONLY_ERROR(r, 1, 1, "no [policy] table");
    }
    SUBCASE("misspelt table, with a suggestion")
    {
        ParseResult r = parse(HEAD "[[files]]\npaths = \"/a\"\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 3, 3, "unknown top-level table \"files\"; did you mean [[file]]?");
    }
    SUBCASE("misspelt single table")
    {
        ParseResult r = parse(HEAD "[scop]\nuid = 1\n");
        EXPECT_ONLY_ERROR(r, 3, 2, "did you mean [scope]?");
    }
    SUBCASE("unknown table without a close match lists the tables")
    {
        ParseResult r = parse(HEAD "[network]\nx = 1\n");
        EXPECT_ONLY_ERROR(r, 3, 2, "a policy file has only [policy], [scope], [defaults], [[file]], [[exec]], [[connect]]");
    }
    SUBCASE("an unknown monitor kind lists the monitors")
    {
        ParseResult r = parse(HEAD "[[monitor.exec]]\nx = 1\n");
        EXPECT_ONLY_ERROR(r, 3, 11, "unknown monitor \"exec\" in [monitor]; monitors are [[monitor.file]]");
    }
    SUBCASE("[[test]] tables are parsed (more in test_case_parse_test.cpp)")
    {
        ParseResult r = parse(HEAD "[[test]]\nname = \"n\"\nop = \"open\"\npath = \"/a\"\nexpect = \"deny\"\nx = 1\n");
        EXPECT_ONLY_ERROR(r, 8, 1, "unknown key \"x\" in [[test]]");
    }
    SUBCASE("a key above the first header")
    {
        ParseResult r = parse("mode = \"audit\"\n" HEAD);
        EXPECT_ONLY_ERROR(r, 1, 1, "key \"mode\" is outside any table; it belongs in [policy]");
    }
    SUBCASE("unknown top-level key")
    {
        ParseResult r = parse("verbose = true\n" HEAD);
        EXPECT_ONLY_ERROR(r, 1, 1, "unknown top-level key \"verbose\"");
    }
    SUBCASE("[file] written as a single table")
    {
        ParseResult r = parse(HEAD "[file]\npaths = \"/a\"\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 3, 1, "[file] must be written [[file]]");
    }
    SUBCASE("[[policy]] written as an array of tables")
    {
        ParseResult r = parse("[[policy]]\nname = \"t\"\n");
        INFO(dump(r));
        EXPECT_DIAG(r, Severity::error, 1, 1, "[[policy]] must be a single [policy] table");
        // and so there is no [policy] table either
        EXPECT_DIAG(r, Severity::error, 1, 1, "no [policy] table");
    }
    SUBCASE("policy as a string")
    {
        ParseResult r = parse("policy = \"web\"\n");
        EXPECT_DIAG(r, Severity::error, 1, 10, "policy must be a table, not a string");
    }
    SUBCASE("rules as a plain value")
    {
        ParseResult r = parse("exec = \"/bin/sh\"\n" HEAD);
        EXPECT_ONLY_ERROR(r, 1, 1, "exec must be an array of tables, not a string");
    }
    SUBCASE("rules array with a non-table element")
    {
        ParseResult r = parse("file = [1]\n" HEAD);
        EXPECT_ONLY_ERROR(r, 1, 9, "each element of file must be a table, not an integer");
    }
    SUBCASE("rules as an inline array of tables are fine")
    {
        ParseResult r = parse("file = [{ paths = \"/a\", action = \"deny\" }]\n" HEAD);
        CHECK_CLEAN(r);
        REQUIRE(r.policies[0].files.size() == 1);
        CHECK(r.policies[0].files[0].pos.line == 1);
        CHECK(r.policies[0].files[0].pos.column == 9);
    }
}

// ---------------------------------------------------------------------------
// Unknown keys

TEST_CASE("parser: unknown keys at every level, with suggestions")
{
    SUBCASE("[policy]")
    {
        ParseResult r = parse(HEAD "descripton = \"x\"\n");
        EXPECT_ONLY_ERROR(r, 3, 1, "unknown key \"descripton\" in [policy]; did you mean \"description\"?");
    }
    SUBCASE("[policy] transposed letters")
    {
        ParseResult r = parse("[policy]\nnmae = \"t\"\n");
        EXPECT_DIAG(r, Severity::error, 2, 1, "unknown key \"nmae\" in [policy]; did you mean \"name\"?");
        EXPECT_DIAG(r, Severity::error, 1, 1, "[policy] has no name");
        CHECK(r.diagnostics.error_count() == 2);
    }
    SUBCASE("[scope]")
    {
        ParseResult r = parse(HEAD "[scope]\nuids = [1]\n");
        EXPECT_ONLY_ERROR(r, 4, 1, "unknown key \"uids\" in [scope]; did you mean \"uid\"?");
    }
    SUBCASE("[defaults]")
    {
        ParseResult r = parse(HEAD "[defaults]\nfiles = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 4, 1, "unknown key \"files\" in [defaults]; did you mean \"file\"?");
    }
    SUBCASE("[[file]]")
    {
        ParseResult r = parse(HEAD "[[file]]\nprefixs = [\"/etc/\"]\npaths = \"/a\"\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 4, 1, "unknown key \"prefixs\" in [[file]]; did you mean \"prefixes\"?");
    }
    SUBCASE("[[exec]]")
    {
        ParseResult r = parse(HEAD "[[exec]]\npath = \"/bin/nc\"\nprefixes = \"/tmp/\"\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 4, 1, "unknown key \"path\" in [[exec]]; did you mean \"paths\"?");
    }
    SUBCASE("[[connect]]")
    {
        ParseResult r = parse(HEAD "[[connect]]\ncidrs = \"10.0.0.0/8\"\nport = 80\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 5, 1, "unknown key \"port\" in [[connect]]; did you mean \"ports\"?");
    }
    SUBCASE("a key that belongs elsewhere")
    {
        ParseResult r = parse(HEAD "[[file]]\ncidrs = \"10.0.0.0/8\"\npaths = \"/a\"\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 4, 1, "unknown key \"cidrs\" in [[file]]; cidrs belongs in [[connect]]");
    }
    SUBCASE("no close match lists the keys")
    {
        ParseResult r = parse(HEAD "[[exec]]\nwhatever = 1\npaths = \"/a\"\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 4, 1, "the keys of [[exec]] are paths, prefixes, fileless, action");
    }
    SUBCASE("a sub-table inside a table")
    {
        ParseResult r = parse(HEAD "[policy.extra]\nx = 1\n");
        EXPECT_ONLY_ERROR(r, 3, 9, "unknown key \"extra\" in [policy]");
    }
    SUBCASE("several unknown keys are all reported, in file order")
    {
        ParseResult r = parse(HEAD "zzz = 1\naaa = 2\n");
        REQUIRE(r.diagnostics.all().size() == 2);
        CHECK(r.diagnostics.all()[0].pos.line == 3);
        CHECK(r.diagnostics.all()[0].message.find("\"zzz\"") != std::string::npos);
        CHECK(r.diagnostics.all()[1].pos.line == 4);
    }
}

// ---------------------------------------------------------------------------
// Value types

TEST_CASE("parser: wrong value types name the expected type")
{
    SUBCASE("name not a string")
    {
        ParseResult r = parse("[policy]\nname = 5\n");
        EXPECT_ONLY_ERROR(r, 2, 8, "name in [policy] must be a string, not an integer");
    }
    SUBCASE("mode not a string")
    {
        ParseResult r = parse(HEAD "mode = true\n");
        EXPECT_ONLY_ERROR(r, 3, 8, "mode in [policy] must be a string (\"enforce\" or \"audit\"), not a boolean");
    }
    SUBCASE("description not a string")
    {
        ParseResult r = parse(HEAD "description = [\"x\"]\n");
        EXPECT_ONLY_ERROR(r, 3, 15, "description in [policy] must be a string, not an array");
    }
    SUBCASE("paths an integer")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = 5\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 4, 9, "paths in [[file]] must be an array of strings (or one string), not an integer");
    }
    SUBCASE("paths a table")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = { a = 1 }\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 4, 9, "paths in [[file]] must be an array of strings (or one string), not a table");
    }
    SUBCASE("a non-string element")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = [\"/a\", 5]\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 4, 16, "each element of paths in [[file]] must be a string, not an integer");
    }
    SUBCASE("nested array element")
    {
        ParseResult r = parse(HEAD "[[exec]]\nprefixes = [[\"/tmp/\"]]\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 4, 13, "each element of prefixes in [[exec]] must be a string, not an array");
    }
    SUBCASE("action an array")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = \"/a\"\naction = [\"deny\"]\n");
        EXPECT_ONLY_ERROR(r, 5, 10, "action in [[file]] must be a string (\"deny\", \"audit\" or \"allow\"), not an array");
    }
    SUBCASE("defaults value an integer")
    {
        ParseResult r = parse(HEAD "[defaults]\nfile = 1\n");
        EXPECT_ONLY_ERROR(r, 4, 8, "must be a string (\"allow\", \"deny\" or \"audit\"), not an integer");
    }
    SUBCASE("scope a string")
    {
        ParseResult r = parse("scope = \"all\"\n" HEAD);
        EXPECT_ONLY_ERROR(r, 1, 9, "scope must be a table, not a string");
    }
    SUBCASE("uid a float")
    {
        ParseResult r = parse(HEAD "[scope]\nuid = [33, 1.5]\n");
        EXPECT_ONLY_ERROR(r, 4, 12, "each element of uid in [scope] must be an integer uid or a user name string, not a float");
    }
    SUBCASE("uid a boolean, not in a list")
    {
        ParseResult r = parse(HEAD "[scope]\nuid = true\n");
        EXPECT_ONLY_ERROR(r, 4, 7, "uid in [scope] must be an integer uid or a user name string, not a boolean");
    }
    SUBCASE("cgroup a date")
    {
        ParseResult r = parse(HEAD "[scope]\ncgroup = 2024-01-01\n");
        EXPECT_ONLY_ERROR(r, 4, 10, "cgroup in [scope] must be an array of strings (or one string), not a date");
    }
    SUBCASE("ports a float")
    {
        ParseResult r = parse(HEAD "[[connect]]\ncidrs = \"10.0.0.0/8\"\nports = [80, 443.0]\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 5, 14, "each element of ports in [[connect]] must be an integer port or a \"first-last\" range string, not a float");
    }
    SUBCASE("protocols an integer")
    {
        ParseResult r = parse(HEAD "[[connect]]\ncidrs = \"10.0.0.0/8\"\nprotocols = [6]\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 5, 14, "protocol in [[connect]] must be a string (\"tcp\" or \"udp\"), not an integer");
    }
    SUBCASE("access a table")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = \"/a\"\naccess = { read = true }\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 5, 10, "access in [[file]] must be an array of strings (or one string), not a table");
    }
    SUBCASE("single strings are one-element lists")
    {
        ParseResult r = parse(HEAD
                              "[scope]\ncgroup = \"web\"\nuid = \"www-data\"\nexecutable = \"/usr/sbin/nginx\"\n"
                              "[[file]]\npaths = \"/etc/shadow\"\nprefixes = \"/root/\"\naccess = \"read\"\naction = \"deny\"\n"
                              "[[connect]]\ncidrs = \"10.0.0.0/8\"\nports = \"8000-8100\"\nprotocols = \"udp\"\naction = \"audit\"\n");
        CHECK_CLEAN(r);
        const Policy& p = r.policies[0];
        REQUIRE(p.scope.cgroups.size() == 1);
        CHECK(p.scope.cgroups[0].value == "web");
        CHECK(p.scope.cgroups[0].pos.line == 4);
        CHECK(p.scope.cgroups[0].pos.column == 10);
        REQUIRE(p.scope.uids.size() == 1);
        CHECK(std::get<std::string>(p.scope.uids[0].value) == "www-data");
        REQUIRE(p.scope.executables.size() == 1);
        REQUIRE(p.files.size() == 1);
        REQUIRE(p.files[0].paths.size() == 1);
        CHECK(p.files[0].paths[0].pos.line == 8);
        CHECK(p.files[0].paths[0].pos.column == 9);
        REQUIRE(p.files[0].prefixes.size() == 1);
        CHECK(p.files[0].access == access_read);
        REQUIRE(p.connects.size() == 1);
        CHECK(p.connects[0].cidrs.size() == 1);
        REQUIRE(p.connects[0].ports.size() == 1);
        CHECK(p.connects[0].ports[0].first == 8000);
        CHECK(p.connects[0].ports[0].last == 8100);
        CHECK(p.connects[0].protocols == proto_udp);
        CHECK(p.connects[0].action == Action::audit);
    }
}

// ---------------------------------------------------------------------------
// [policy]

TEST_CASE("parser: [policy] name and mode")
{
    SUBCASE("name missing")
    {
        ParseResult r = parse("\n[policy]\nmode = \"audit\"\n");
        EXPECT_ONLY_ERROR(r, 2, 1, "[policy] has no name; add name = ");
    }
    SUBCASE("name empty")
    {
        ParseResult r = parse("[policy]\nname = \"\"\n");
        EXPECT_ONLY_ERROR(r, 2, 8, "policy name is empty");
    }
    SUBCASE("name with a bad character")
    {
        ParseResult r = parse("[policy]\nname = \"my web\"\n");
        EXPECT_ONLY_ERROR(r, 2, 8, "policy name \"my web\" may use only letters, digits, \"_\", \".\" and \"-\"; rename it, such as \"my_web\"");
    }
    SUBCASE("name with a slash")
    {
        ParseResult r = parse("[policy]\nname = \"a/b\"\n");
        EXPECT_ONLY_ERROR(r, 2, 8, "may use only letters");
    }
    SUBCASE("name of 64 characters")
    {
        ParseResult r = parse("[policy]\nname = \"" + std::string(64, 'a') + "\"\n");
        EXPECT_ONLY_ERROR(r, 2, 8, "is 64 characters long; at most 63 are allowed");
    }
    SUBCASE("name of 63 characters and every allowed character")
    {
        std::string name = "AZaz09_.-" + std::string(54, 'x');
        ParseResult r = parse("[policy]\nname = \"" + name + "\"\n");
        CHECK_CLEAN(r);
        CHECK(r.policies[0].name == name);
    }
    SUBCASE("mode audit")
    {
        ParseResult r = parse(HEAD "mode = \"audit\"\n");
        CHECK_CLEAN(r);
        CHECK(r.policies[0].mode == Mode::audit);
        CHECK(r.policies[0].mode_pos.line == 3);
        CHECK(r.policies[0].mode_pos.column == 8);
    }
    SUBCASE("mode misspelt")
    {
        ParseResult r = parse(HEAD "mode = \"enforcing\"\n");
        EXPECT_ONLY_ERROR(r, 3, 8, "unknown mode \"enforcing\" in [policy]; did you mean \"enforce\"?");
    }
    SUBCASE("mode unknown")
    {
        ParseResult r = parse(HEAD "mode = \"strict\"\n");
        EXPECT_ONLY_ERROR(r, 3, 8, "unknown mode \"strict\" in [policy]; write \"enforce\" or \"audit\"");
    }
}

// ---------------------------------------------------------------------------
// [scope]

TEST_CASE("parser: [scope]")
{
    SUBCASE("present and positioned, even when empty")
    {
        ParseResult r = parse(HEAD "\n[scope]\n");
        CHECK_CLEAN(r);
        CHECK(r.policies[0].scope.present);
        CHECK(r.policies[0].scope.pos.line == 4);
        CHECK(r.policies[0].scope.pos.column == 1);
    }
    SUBCASE("empty cgroup list")
    {
        ParseResult r = parse(HEAD "[scope]\ncgroup = []\n");
        EXPECT_ONLY_ERROR(r, 4, 10, "an empty list scopes nothing; remove the key to apply to every process");
    }
    SUBCASE("empty uid list")
    {
        ParseResult r = parse(HEAD "[scope]\nuid = []\n");
        EXPECT_ONLY_ERROR(r, 4, 7, "an empty list scopes nothing");
    }
    SUBCASE("empty executable list")
    {
        ParseResult r = parse(HEAD "[scope]\nexecutable = []\n");
        EXPECT_ONLY_ERROR(r, 4, 14, "an empty list scopes nothing");
    }
    SUBCASE("cgroups: relative and absolute accepted")
    {
        ParseResult r = parse(HEAD "[scope]\ncgroup = [\"system.slice/nginx.service\", \"/web\", \"/\"]\n");
        CHECK_CLEAN(r);
        CHECK(r.policies[0].scope.cgroups.size() == 3);
    }
    SUBCASE("cgroup empty string")
    {
        ParseResult r = parse(HEAD "[scope]\ncgroup = [\"/web\", \"\"]\n");
        EXPECT_ONLY_ERROR(r, 4, 19, "empty cgroup");
    }
    SUBCASE("cgroup with ..")
    {
        ParseResult r = parse(HEAD "[scope]\ncgroup = \"/web/../db\"\n");
        EXPECT_ONLY_ERROR(r, 4, 10, "cgroup \"/web/../db\" contains a \"..\" component");
    }
    SUBCASE("relative cgroup with ..")
    {
        ParseResult r = parse(HEAD "[scope]\ncgroup = \"../x\"\n");
        EXPECT_ONLY_ERROR(r, 4, 10, "contains a \"..\" component");
    }
    SUBCASE("cgroup with //")
    {
        ParseResult r = parse(HEAD "[scope]\ncgroup = \"system.slice//x\"\n");
        EXPECT_ONLY_ERROR(r, 4, 10, "contains \"//\"; write the normalized cgroup \"system.slice/x\"");
    }
    SUBCASE("cgroup with a dot-dot inside a name is fine")
    {
        ParseResult r = parse(HEAD "[scope]\ncgroup = \"a..b\"\n");
        CHECK_CLEAN(r);
    }
    SUBCASE("uids: numbers and names, range limits")
    {
        ParseResult r = parse(HEAD "[scope]\nuid = [0, 4294967294, \"www-data\"]\n");
        CHECK_CLEAN(r);
        const auto& u = r.policies[0].scope.uids;
        REQUIRE(u.size() == 3);
        CHECK(std::get<uint32_t>(u[0].value) == 0);
        CHECK(std::get<uint32_t>(u[1].value) == 4294967294u);
        CHECK(std::get<std::string>(u[2].value) == "www-data");
        CHECK(u[2].pos.line == 4);
        CHECK(u[2].pos.column == 23);
    }
    SUBCASE("uid -1")
    {
        ParseResult r = parse(HEAD "[scope]\nuid = [-1]\n");
        EXPECT_ONLY_ERROR(r, 4, 8, "uid -1 is out of range; uids are 0..4294967294");
    }
    SUBCASE("uid 4294967295")
    {
        ParseResult r = parse(HEAD "[scope]\nuid = [1, 4294967295]\n");
        EXPECT_ONLY_ERROR(r, 4, 11, "uid 4294967295 is out of range");
    }
    SUBCASE("empty user name")
    {
        ParseResult r = parse(HEAD "[scope]\nuid = \"\"\n");
        EXPECT_ONLY_ERROR(r, 4, 7, "empty user name");
    }
    SUBCASE("user name with a space")
    {
        ParseResult r = parse(HEAD "[scope]\nuid = \"www data\"\n");
        EXPECT_ONLY_ERROR(r, 4, 7, "cannot be a user name");
    }
    SUBCASE("executable relative")
    {
        ParseResult r = parse(HEAD "[scope]\nexecutable = [\"nginx\"]\n");
        EXPECT_ONLY_ERROR(r, 4, 15, "relative executable \"nginx\"; rules name absolute paths");
    }
    SUBCASE("executable not normalized")
    {
        ParseResult r = parse(HEAD "[scope]\nexecutable = \"/usr/sbin/../bin/x\"\n");
        EXPECT_ONLY_ERROR(r, 4, 14, "contains a \"..\" component; write the resolved executable instead, such as \"/usr/bin/x\"");
    }
    SUBCASE("executable ending in /")
    {
        ParseResult r = parse(HEAD "[scope]\nexecutable = \"/usr/sbin/\"\n");
        EXPECT_ONLY_ERROR(r, 4, 14, "executable \"/usr/sbin/\" ends with \"/\"; name the program file itself");
    }
    SUBCASE("duplicate executable is a warning")
    {
        ParseResult r = parse(HEAD "[scope]\nexecutable = [\"/bin/a\", \"/bin/a\"]\n");
        EXPECT_ONLY_WARNING(r, 4, 25, "duplicate executable \"/bin/a\"");
    }
}

// ---------------------------------------------------------------------------
// [defaults]

TEST_CASE("parser: [defaults]")
{
    SUBCASE("all three given")
    {
        ParseResult r = parse(HEAD "[defaults]\nfile = \"audit\"\nexec = \"deny\"\nconnect = \"allow\"\n");
        CHECK_CLEAN(r);
        const Defaults& d = r.policies[0].defaults;
        CHECK(d.file.given);
        CHECK(d.file.action == Action::audit);
        CHECK(d.file.pos.line == 4);
        CHECK(d.file.pos.column == 8);
        CHECK(d.exec.action == Action::deny);
        CHECK(d.exec.pos.line == 5);
        CHECK(d.connect.given);
        CHECK(d.connect.action == Action::allow);
        CHECK(d.connect.pos.line == 6);
        CHECK(d.connect.pos.column == 11);
    }
    SUBCASE("bad value, with a suggestion")
    {
        ParseResult r = parse(HEAD "[defaults]\nexec = \"dney\"\n");
        EXPECT_ONLY_ERROR(r, 4, 8, "unknown exec default \"dney\" in [defaults]; did you mean \"deny\"?");
    }
    SUBCASE("bad value, no suggestion")
    {
        ParseResult r = parse(HEAD "[defaults]\nconnect = \"block\"\n");
        EXPECT_ONLY_ERROR(r, 4, 11, "write \"allow\", \"deny\" or \"audit\"");
    }
}

// ---------------------------------------------------------------------------
// Rules

TEST_CASE("parser: [[file]] rules")
{
    SUBCASE("position of an indented header")
    {
        ParseResult r = parse(HEAD "\n  [[file]]\npaths = \"/a\"\naction = \"allow\"\n");
        CHECK_CLEAN(r);
        REQUIRE(r.policies[0].files.size() == 1);
        CHECK(r.policies[0].files[0].pos.line == 4);
        CHECK(r.policies[0].files[0].pos.column == 3);
        CHECK(r.policies[0].files[0].action == Action::allow);
        CHECK(r.policies[0].files[0].access == access_any);
    }
    SUBCASE("several rules keep their order and positions")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = \"/b\"\naction = \"deny\"\n[[file]]\npaths = \"/a\"\naction = \"audit\"\n");
        CHECK_CLEAN(r);
        REQUIRE(r.policies[0].files.size() == 2);
        CHECK(r.policies[0].files[0].paths[0].value == "/b");
        CHECK(r.policies[0].files[0].pos.line == 3);
        CHECK(r.policies[0].files[1].paths[0].value == "/a");
        CHECK(r.policies[0].files[1].pos.line == 6);
        CHECK(r.policies[0].files[1].action == Action::audit);
    }
    SUBCASE("action missing")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = \"/a\"\n");
        EXPECT_ONLY_ERROR(r, 3, 1, "[[file]] rule has no action; add action = \"deny\", \"audit\" or \"allow\"");
    }
    SUBCASE("action unknown")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = \"/a\"\naction = \"block\"\n");
        EXPECT_ONLY_ERROR(r, 5, 10, "unknown action \"block\" in [[file]]; write \"deny\", \"audit\" or \"allow\"");
    }
    SUBCASE("action misspelt")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = \"/a\"\naction = \"Deny\"\n");
        EXPECT_ONLY_ERROR(r, 5, 10, "did you mean \"deny\"?");
    }
    SUBCASE("empty rule: neither paths nor prefixes")
    {
        ParseResult r = parse(HEAD "[[file]]\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 3, 1, "empty [[file]] rule: it has neither paths nor prefixes");
    }
    SUBCASE("empty rule: both lists empty")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = []\nprefixes = []\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 3, 1, "empty [[file]] rule");
    }
    SUBCASE("one empty list beside a non-empty one is fine")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = []\nprefixes = [\"/root/\"]\naction = \"deny\"\n");
        CHECK_CLEAN(r);
    }
    SUBCASE("access empty")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = \"/a\"\naccess = []\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 5, 10, "empty access in [[file]]; an empty list matches nothing; omit access to match any access");
    }
    SUBCASE("access unknown")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = \"/a\"\naccess = [\"read\", \"exec\"]\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 5, 19, "unknown access \"exec\" in [[file]]; write \"read\", \"write\", \"create\", \"delete\", \"rename\" or \"metadata\"");
    }
    SUBCASE("access misspelt")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = \"/a\"\naccess = \"wirte\"\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 5, 10, "did you mean \"write\"?");
    }
    SUBCASE("access write only")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = \"/a\"\naccess = [\"write\"]\naction = \"deny\"\n");
        CHECK_CLEAN(r);
        CHECK(r.policies[0].files[0].access == access_changes);
    }
}

TEST_CASE("parser: [[exec]] rules")
{
    SUBCASE("clean")
    {
        ParseResult r = parse(HEAD "[[exec]]\npaths = [\"/usr/bin/nc\"]\nprefixes = [\"/tmp/\"]\naction = \"audit\"\n");
        CHECK_CLEAN(r);
        REQUIRE(r.policies[0].execs.size() == 1);
        CHECK(r.policies[0].execs[0].action == Action::audit);
        CHECK(r.policies[0].execs[0].pos.line == 3);
    }
    SUBCASE("action missing")
    {
        ParseResult r = parse(HEAD "[[exec]]\npaths = \"/usr/bin/nc\"\n");
        EXPECT_ONLY_ERROR(r, 3, 1, "[[exec]] rule has no action");
    }
    SUBCASE("empty rule")
    {
        ParseResult r = parse(HEAD "[[exec]]\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 3, 1, "empty [[exec]] rule");
    }
    SUBCASE("prefix without trailing slash")
    {
        ParseResult r = parse(HEAD "[[exec]]\nprefixes = [\"/tmp\"]\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 4, 13, "prefix \"/tmp\" must end with \"/\"; write \"/tmp/\"");
    }
    SUBCASE("relative path")
    {
        ParseResult r = parse(HEAD "[[exec]]\npaths = [\"bin/nc\"]\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 4, 10, "relative path \"bin/nc\"; rules name absolute paths");
    }
    SUBCASE("access is not an exec key")
    {
        ParseResult r = parse(HEAD "[[exec]]\npaths = \"/a\"\naccess = \"read\"\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 5, 1, "unknown key \"access\" in [[exec]]; access belongs in [[file]]");
    }
}

// ---------------------------------------------------------------------------
// Paths

TEST_CASE("parser: path shape")
{
    auto one_path = [](std::string_view key, std::string_view value) {
        // line 4, value string at column len(key) + 4
        return parse(std::string(HEAD "[[file]]\n") + std::string(key) + " = \"" + std::string(value) +
                     "\"\naction = \"deny\"\n");
    };
    SUBCASE("relative")
    {
        ParseResult r = one_path("paths", "etc/shadow");
        EXPECT_ONLY_ERROR(r, 4, 9, "relative path \"etc/shadow\"; rules name absolute paths, such as \"/etc/shadow\"");
    }
    SUBCASE("relative prefix")
    {
        ParseResult r = one_path("prefixes", "etc/");
        EXPECT_ONLY_ERROR(r, 4, 12, "relative prefix \"etc/\"; rules name absolute paths, such as \"/etc/\"");
    }
    SUBCASE("empty")
    {
        ParseResult r = one_path("paths", "");
        EXPECT_ONLY_ERROR(r, 4, 9, "empty path");
    }
    SUBCASE("double slash")
    {
        ParseResult r = one_path("paths", "/etc//shadow");
        EXPECT_ONLY_ERROR(r, 4, 9, "path \"/etc//shadow\" contains \"//\"; write the normalized path \"/etc/shadow\"");
    }
    SUBCASE("double slash in a prefix keeps the trailing slash in the suggestion")
    {
        ParseResult r = one_path("prefixes", "//etc/");
        EXPECT_ONLY_ERROR(r, 4, 12, "write the normalized prefix \"/etc/\"");
    }
    SUBCASE("dot component")
    {
        ParseResult r = one_path("paths", "/etc/./shadow");
        EXPECT_ONLY_ERROR(r, 4, 9, "contains a \".\" component; write the normalized path \"/etc/shadow\"");
    }
    SUBCASE("trailing dot")
    {
        ParseResult r = one_path("prefixes", "/etc/.");
        EXPECT_ONLY_ERROR(r, 4, 12, "contains a \".\" component; write the normalized prefix \"/etc/\"");
    }
    SUBCASE("dot-dot component")
    {
        ParseResult r = one_path("paths", "/etc/ssh/../shadow");
        EXPECT_ONLY_ERROR(r, 4, 9, "contains a \"..\" component; write the resolved path instead, such as \"/etc/shadow\"");
    }
    SUBCASE("trailing dot-dot")
    {
        ParseResult r = one_path("prefixes", "/etc/ssh/../");
        EXPECT_ONLY_ERROR(r, 4, 12, "contains a \"..\" component");
    }
    SUBCASE("dots inside names are fine")
    {
        ParseResult r = one_path("paths", "/etc/.hidden/..x/a.b");
        CHECK_CLEAN(r);
    }
    SUBCASE("exact path ending in /")
    {
        ParseResult r = one_path("paths", "/etc/ssh/");
        EXPECT_ONLY_ERROR(r, 4, 9, "path \"/etc/ssh/\" ends with \"/\"; an exact path names one file: write \"/etc/ssh\", or move \"/etc/ssh/\" to prefixes");
    }
    SUBCASE("exact path /")
    {
        ParseResult r = one_path("paths", "/");
        EXPECT_ONLY_ERROR(r, 4, 9, "path \"/\" names the root directory, not a file; to cover every file write prefixes = [\"/\"]");
    }
    SUBCASE("prefix / is fine")
    {
        ParseResult r = one_path("prefixes", "/");
        CHECK_CLEAN(r);
    }
    SUBCASE("prefix without trailing slash")
    {
        ParseResult r = one_path("prefixes", "/etc/ssh");
        EXPECT_ONLY_ERROR(r, 4, 12, "prefix \"/etc/ssh\" must end with \"/\"; write \"/etc/ssh/\" to cover the directory's tree, or put it in paths for the exact file");
    }
    SUBCASE("NUL byte")
    {
        ParseResult r = one_path("paths", "/etc/\\u0000x");
        EXPECT_ONLY_ERROR(r, 4, 9, "contains a NUL byte");
        CHECK(r.diagnostics.all()[0].message.find("\"/etc/\\x00x\"") != std::string::npos);
    }
    SUBCASE("component of 255 bytes is fine")
    {
        ParseResult r = one_path("paths", "/tmp/" + std::string(255, 'a'));
        CHECK_CLEAN(r);
    }
    SUBCASE("component of 256 bytes")
    {
        ParseResult r = one_path("prefixes", "/tmp/" + std::string(256, 'a') + "/");
        EXPECT_ONLY_ERROR(r, 4, 12, "is 256 bytes, longer than 255 bytes (NAME_MAX)");
    }
    SUBCASE("path of 4095 bytes is fine")
    {
        std::string p;
        while (p.size() < 4095 - 101) p += "/" + std::string(100, 'a');
        p += "/" + std::string(4095 - p.size() - 1, 'b');
        REQUIRE(p.size() == 4095);
        ParseResult r = one_path("paths", p);
        CHECK_CLEAN(r);
    }
    SUBCASE("path of 4096 bytes")
    {
        std::string p;
        while (p.size() < 4096 - 101) p += "/" + std::string(100, 'a');
        p += "/" + std::string(4096 - p.size() - 1, 'b');
        REQUIRE(p.size() == 4096);
        ParseResult r = one_path("paths", p);
        EXPECT_ONLY_ERROR(r, 4, 9, "path is 4096 bytes long; at most 4095 bytes (PATH_MAX)");
    }
    SUBCASE("duplicate path is a warning at the second")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = [\"/a\", \"/b\", \"/a\"]\naction = \"deny\"\n");
        EXPECT_ONLY_WARNING(r, 4, 22, "duplicate path \"/a\" in this [[file]] rule (first at line 4)");
        CHECK(r.policies[0].files[0].paths.size() == 3);
    }
    SUBCASE("duplicate prefix is a warning")
    {
        ParseResult r = parse(HEAD "[[exec]]\nprefixes = [\"/tmp/\",\n  \"/tmp/\"]\naction = \"deny\"\n");
        EXPECT_ONLY_WARNING(r, 5, 3, "duplicate prefix \"/tmp/\" in this [[exec]] rule");
    }
    SUBCASE("the same string as path and prefix is not a duplicate")
    {
        ParseResult r = parse(HEAD "[[file]]\npaths = \"/etc/ssh\"\nprefixes = \"/etc/ssh/\"\naction = \"deny\"\n");
        CHECK_CLEAN(r);
    }
}

// ---------------------------------------------------------------------------
// [[connect]]

TEST_CASE("parser: [[connect]] rules")
{
    auto one = [](std::string_view line) {
        // the line under test is line 4
        return parse(std::string(HEAD "[[connect]]\n") + std::string(line) + "\naction = \"deny\"\n");
    };
    auto with_cidrs = [](std::string_view line) {
        // the line under test is line 5
        return parse(std::string(HEAD "[[connect]]\ncidrs = \"10.0.0.0/8\"\n") + std::string(line) +
                     "\naction = \"deny\"\n");
    };
    SUBCASE("cidrs missing")
    {
        ParseResult r = parse(HEAD "[[connect]]\nports = 80\naction = \"deny\"\n");
        EXPECT_ONLY_ERROR(r, 3, 1, "[[connect]] rule has no cidrs; add cidrs = [...]");
    }
    SUBCASE("action missing")
    {
        ParseResult r = parse(HEAD "[[connect]]\ncidrs = \"10.0.0.0/8\"\n");
        EXPECT_ONLY_ERROR(r, 3, 1, "[[connect]] rule has no action");
    }
    SUBCASE("cidrs empty")
    {
        ParseResult r = one("cidrs = []");
        EXPECT_ONLY_ERROR(r, 4, 9, "empty cidrs in [[connect]]; a rule needs at least one address or network");
    }
    SUBCASE("valid forms")
    {
        ParseResult r = one("cidrs = [\"10.0.0.0/8\", \"192.0.2.1\", \"0.0.0.0/0\", \"fd00::/8\", \"::1\", \"::/0\", \"2001:db8::1/128\", \"::ffff:10.0.0.1\"]");
        CHECK_CLEAN(r);
        CHECK(r.policies[0].connects[0].cidrs.size() == 8);
    }
    SUBCASE("IPv4 prefix too long")
    {
        ParseResult r = one("cidrs = [\"10.0.0.0/8\", \"10.0.0.0/33\"]");
        EXPECT_ONLY_ERROR(r, 4, 24, "invalid CIDR \"10.0.0.0/33\": prefix length /33 is longer than an IPv4 address (at most /32)");
    }
    SUBCASE("IPv6 prefix too long")
    {
        ParseResult r = one("cidrs = \"fd00::/129\"");
        EXPECT_ONLY_ERROR(r, 4, 9, "prefix length /129 is longer than an IPv6 address (at most /128)");
    }
    SUBCASE("bad IPv4 address")
    {
        ParseResult r = one("cidrs = \"300.1.1.1/32\"");
        EXPECT_ONLY_ERROR(r, 4, 9, "\"300.1.1.1\" is not an IPv4 address");
    }
    SUBCASE("bad IPv6 address")
    {
        ParseResult r = one("cidrs = \"fd00:::1/64\"");
        EXPECT_ONLY_ERROR(r, 4, 9, "is not an IPv6 address");
    }
    SUBCASE("a host name is not a CIDR")
    {
        ParseResult r = one("cidrs = \"example.com\"");
        EXPECT_ONLY_ERROR(r, 4, 9, "invalid CIDR \"example.com\"");
    }
    SUBCASE("missing prefix length")
    {
        ParseResult r = one("cidrs = \"10.0.0.0/\"");
        EXPECT_ONLY_ERROR(r, 4, 9, "the prefix length after \"/\" must be a number 0..32");
    }
    SUBCASE("non-numeric prefix length")
    {
        ParseResult r = one("cidrs = \"fd00::/x\"");
        EXPECT_ONLY_ERROR(r, 4, 9, "must be a number 0..128");
    }
    SUBCASE("empty CIDR string")
    {
        ParseResult r = one("cidrs = \"\"");
        EXPECT_ONLY_ERROR(r, 4, 9, "invalid CIDR \"\": it is empty");
    }
    SUBCASE("host bits set: a warning naming the network")
    {
        ParseResult r = one("cidrs = \"10.1.2.3/8\"");
        EXPECT_ONLY_WARNING(r, 4, 9, "has address bits set after its first 8 bits; they are ignored, so it covers \"10.0.0.0/8\"");
    }
    SUBCASE("host bits set, IPv6")
    {
        ParseResult r = one("cidrs = \"fd00::1/8\"");
        EXPECT_ONLY_WARNING(r, 4, 9, "covers \"fd00::/8\"");
    }
    SUBCASE("duplicate CIDR is a warning")
    {
        ParseResult r = one("cidrs = [\"10.0.0.0/8\", \"10.0.0.0/8\"]");
        EXPECT_ONLY_WARNING(r, 4, 24, "duplicate CIDR \"10.0.0.0/8\"");
    }
    SUBCASE("ports: integers and ranges")
    {
        ParseResult r = with_cidrs("ports = [0, 65535, \"1-2\", \"443\", \"0-65535\"]");
        CHECK_CLEAN(r);
        const auto& p = r.policies[0].connects[0].ports;
        REQUIRE(p.size() == 5);
        CHECK(p[0].first == 0);
        CHECK(p[0].last == 0);
        CHECK(p[1].first == 65535);
        CHECK(p[2].first == 1);
        CHECK(p[2].last == 2);
        CHECK(p[2].pos.column == 20);
        CHECK(p[3].first == 443);
        CHECK(p[3].last == 443);
        CHECK(p[4].first == 0);
        CHECK(p[4].last == 65535);
    }
    SUBCASE("ports absent: all ports")
    {
        ParseResult r = with_cidrs("");
        CHECK_CLEAN(r);
        CHECK(r.policies[0].connects[0].ports.empty());
        CHECK(r.policies[0].connects[0].protocols == proto_any);
    }
    SUBCASE("port out of range")
    {
        ParseResult r = with_cidrs("ports = [80, 65536]");
        EXPECT_ONLY_ERROR(r, 5, 14, "port 65536 is out of range; ports are 0..65535");
    }
    SUBCASE("negative port")
    {
        ParseResult r = with_cidrs("ports = -1");
        EXPECT_ONLY_ERROR(r, 5, 9, "port -1 is out of range");
    }
    SUBCASE("range reversed")
    {
        ParseResult r = with_cidrs("ports = [\"8100-8000\"]");
        EXPECT_ONLY_ERROR(r, 5, 10, "port range \"8100-8000\" starts after it ends; write \"8000-8100\"");
    }
    SUBCASE("range out of range")
    {
        ParseResult r = with_cidrs("ports = [\"1-70000\"]");
        EXPECT_ONLY_ERROR(r, 5, 10, "port range \"1-70000\" is out of range");
    }
    SUBCASE("range malformed")
    {
        ParseResult r = with_cidrs("ports = [\"80-\"]");
        EXPECT_ONLY_ERROR(r, 5, 10, "invalid port range \"80-\"; write a port as an integer, such as 443, or a range as \"first-last\"");
    }
    SUBCASE("port string not a number")
    {
        ParseResult r = with_cidrs("ports = \"http\"");
        EXPECT_ONLY_ERROR(r, 5, 9, "invalid port \"http\"");
    }
    SUBCASE("ports empty")
    {
        ParseResult r = with_cidrs("ports = []");
        EXPECT_ONLY_ERROR(r, 5, 9, "empty ports in [[connect]]; an empty list matches no port; remove the key to match every port");
    }
    SUBCASE("protocols")
    {
        ParseResult r = with_cidrs("protocols = [\"udp\", \"tcp\"]");
        CHECK_CLEAN(r);
        CHECK(r.policies[0].connects[0].protocols == proto_any);
    }
    SUBCASE("protocol unknown")
    {
        ParseResult r = with_cidrs("protocols = [\"tcp\", \"icmp\"]");
        EXPECT_ONLY_ERROR(r, 5, 21, "unknown protocol \"icmp\" in [[connect]]; write \"tcp\" or \"udp\"; omit protocols to match both tcp and udp");
    }
    SUBCASE("protocol misspelt")
    {
        ParseResult r = with_cidrs("protocols = \"TCP\"");
        EXPECT_ONLY_ERROR(r, 5, 13, "did you mean \"tcp\"?");
    }
    SUBCASE("protocols empty")
    {
        ParseResult r = with_cidrs("protocols = []");
        EXPECT_ONLY_ERROR(r, 5, 13, "empty protocols in [[connect]]");
    }
}

// ---------------------------------------------------------------------------
// Whole files

TEST_CASE("parser: every error in a file is reported, in file order, and no policy is returned")
{
    std::ifstream in(src("bad/many-errors.toml"));
    std::stringstream ss;
    ss << in.rdbuf();
    ParseResult r = parse_policy_text(ss.str(), "many-errors.toml");
    INFO(dump(r));
    CHECK(r.policies.empty());
    const auto& all = r.diagnostics.all();
    struct Want {
        uint32_t line, column;
        const char* needle;
    };
    const Want want[] = {
        {2, 8, "may use only letters"},
        {3, 8, "did you mean \"enforce\"?"},
        {6, 7, "an empty list scopes nothing"},
        {8, 1, "empty [[file]] rule"},  // its only path key is misspelt
        {9, 1, "did you mean \"prefixes\"?"},
        {12, 1, "[[file]] rule has no action"},
        {13, 10, "relative path \"etc/shadow\""},
        {13, 24, "ends with \"/\""},
        {14, 13, "must end with \"/\""},
        {15, 10, "unknown access \"exec\""},
        {18, 10, "/33"},
        {19, 10, "starts after it ends"},
        {20, 10, "unknown action \"block\""},
        {22, 1, "[monitor] holds no monitor"},
    };
    REQUIRE(all.size() == std::size(want));
    for (size_t i = 0; i < all.size(); ++i) {
        CAPTURE(i);
        CHECK(all[i].severity == Severity::error);
        CHECK(all[i].pos.file == "many-errors.toml");
        CHECK(all[i].pos.line == want[i].line);
        CHECK(all[i].pos.column == want[i].column);
        CHECK(all[i].message.find(want[i].needle) != std::string::npos);
    }
}

TEST_CASE("parser: a diagnostic prints as file:line:col: severity: message")
{
    ParseResult r = parse(HEAD "[[file]]\nprefixs = [\"/etc/\"]\npaths = \"/a\"\naction = \"deny\"\n");
    CHECK(dump(r) == "t.toml:4:1: error: unknown key \"prefixs\" in [[file]]; did you mean \"prefixes\"?\n");
}

// ---------------------------------------------------------------------------
// load_policies

TEST_CASE("load_policies: a directory's *.toml files, in name order")
{
    ParseResult r = load_policies({src("good")});
    INFO(dump(r));
    CHECK(r.diagnostics.all().empty());
    REQUIRE(r.policies.size() == 2);
    CHECK(r.policies[0].name == "ssh-audit");  // ssh.toml < web.toml
    CHECK(r.policies[0].file == src("good") + "/ssh.toml");
    CHECK(r.policies[1].name == "web");
    CHECK(r.policies[1].pos.file == src("good") + "/web.toml");
    CHECK(r.policies[1].files[0].pos.file == src("good") + "/web.toml");
}

TEST_CASE("load_policies: files and directories mixed, argument order kept")
{
    ParseResult r = load_policies({src("good/web.toml"), src("good/ssh.toml")});
    CHECK(r.diagnostics.all().empty());
    REQUIRE(r.policies.size() == 2);
    CHECK(r.policies[0].name == "web");
    CHECK(r.policies[1].name == "ssh-audit");
}

TEST_CASE("load_policies: duplicate policy names across files")
{
    ParseResult r = load_policies({src("bad/dup-name")});
    INFO(dump(r));
    CHECK(r.policies.empty());
    REQUIRE(r.diagnostics.all().size() == 2);
    const Diagnostic& e = r.diagnostics.all()[0];
    CHECK(e.severity == Severity::error);
    CHECK(e.pos.file == src("bad/dup-name") + "/b.toml");
    CHECK(e.pos.line == 3);
    CHECK(e.pos.column == 8);
    CHECK(e.message.find("duplicate policy name \"web\"") != std::string::npos);
    const Diagnostic& n = r.diagnostics.all()[1];
    CHECK(n.severity == Severity::note);
    CHECK(n.pos.file == src("bad/dup-name") + "/a.toml");
    CHECK(n.pos.line == 2);
    CHECK(n.pos.column == 8);
    CHECK(n.message.find("first defined here") != std::string::npos);
}

TEST_CASE("load_policies: missing path")
{
    const std::string missing = src("no-such-dir/x.toml");
    ParseResult r = load_policies({src("good/web.toml"), missing});
    INFO(dump(r));
    CHECK(r.policies.empty());  // nothing partially returned
    REQUIRE(r.diagnostics.all().size() == 1);
    const Diagnostic& d = r.diagnostics.all()[0];
    CHECK(d.severity == Severity::error);
    CHECK(d.pos.file == missing);
    CHECK(d.pos.line == 0);
    CHECK(d.message.find("No such file or directory") != std::string::npos);
    CHECK(format(d) == missing + ": error: " + d.message);
}

TEST_CASE("load_policies: unreadable file")
{
    if (::geteuid() == 0) return;  // root reads anything
    TempDir dir;
    std::string f = dir.write("a.toml", HEAD);
    std::filesystem::permissions(f, std::filesystem::perms::none);
    ParseResult r = load_policies({f});
    REQUIRE(r.diagnostics.all().size() == 1);
    CHECK(r.diagnostics.all()[0].pos.file == f);
    CHECK(r.diagnostics.all()[0].message.find("Permission denied") != std::string::npos);
}

TEST_CASE("load_policies: a directory without *.toml files is a warning")
{
    TempDir dir;
    dir.write("README", "not a policy");
    dir.write("web.toml.bak", "not a policy either");
    std::filesystem::create_directory(dir.path / "sub.toml");  // not a file: skipped
    ParseResult r = load_policies({dir.path.string()});
    INFO(dump(r));
    CHECK(!r.diagnostics.has_errors());
    REQUIRE(r.diagnostics.all().size() == 1);
    CHECK(r.diagnostics.all()[0].severity == Severity::warning);
    CHECK(r.diagnostics.all()[0].pos.file == dir.path.string());
    CHECK(r.diagnostics.all()[0].message.find("no *.toml files") != std::string::npos);
    CHECK(r.policies.empty());
}

TEST_CASE("load_policies: errors in one file drop every policy; other files are still checked")
{
    TempDir dir;
    dir.write("a.toml", HEAD);
    dir.write("b.toml", "[policy]\nname = \"b\"\n[[file]]\npaths = \"x\"\naction = \"deny\"\n");
    dir.write("c.toml", "[policy]\nname = \"c\"\nmode = 1\n");
    ParseResult r = load_policies({dir.path.string()});
    INFO(dump(r));
    CHECK(r.policies.empty());
    REQUIRE(r.diagnostics.all().size() == 2);
    CHECK(r.diagnostics.all()[0].pos.file == (dir.path / "b.toml").string());
    CHECK(r.diagnostics.all()[0].pos.line == 4);
    CHECK(r.diagnostics.all()[1].pos.file == (dir.path / "c.toml").string());
    CHECK(r.diagnostics.all()[1].pos.line == 3);
}

TEST_CASE("load_policies: a file named twice is read once")
{
    ParseResult r = load_policies({src("good"), src("good/web.toml")});
    INFO(dump(r));
    CHECK(!r.diagnostics.has_errors());
    REQUIRE(r.diagnostics.all().size() == 1);
    CHECK(r.diagnostics.all()[0].severity == Severity::warning);
    CHECK(r.diagnostics.all()[0].message.find("named twice") != std::string::npos);
    CHECK(r.policies.size() == 2);
}

TEST_CASE("load_policies: a syntax error in one file")
{
    TempDir dir;
    std::string f = dir.write("x.toml", "[policy\nname = \"x\"\n");
    ParseResult r = load_policies({f});
    INFO(dump(r));
    REQUIRE(r.diagnostics.all().size() == 1);
    CHECK(r.diagnostics.all()[0].pos.file == f);
    CHECK(r.diagnostics.all()[0].pos.line == 1);
    CHECK(r.diagnostics.all()[0].message.find("invalid TOML") == 0);
    CHECK(r.policies.empty());
}

// ---------------------------------------------------------------------------
// value_checks helpers

TEST_CASE("value_checks: lexically_normal")
{
    CHECK(lexically_normal("/a//b/./c/../d", false) == "/a/b/d");
    CHECK(lexically_normal("/a/b/", true) == "/a/b/");
    CHECK(lexically_normal("/../..", false) == "/");
    CHECK(lexically_normal("/", true) == "/");
    CHECK(lexically_normal("a/b", false) == "/a/b");
}

TEST_CASE("value_checks: quote_value escapes and cuts")
{
    CHECK(quote_value("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"");
    CHECK(quote_value(std::string(100, 'x'), 10) == "\"" + std::string(10, 'x') + "...\"");
}
