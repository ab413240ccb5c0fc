// File rights (docs/decisions/009-file-rights.md): the `access` words, what
// `write` implies, operations other than open through `test`/`explain`'s
// resolution, both ends of a rename or link; and an independent naive
// oracle — the documented semantics applied to path strings, with no map
// image, no walk and no fold — compared with the compiled evaluator on
// generated rule sets.
#include "compile/columns.hpp"
#include "compile/compiler.hpp"
#include "compile/evaluator.hpp"
#include "explain/explain.hpp"
#include "explain/operation.hpp"
#include "fake_system.hpp"
#include "policy/parser.hpp"
#include "policy_builder.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace bulwark;
using namespace bulwark::test;

namespace {

ParseResult parse(const std::string& text)
{
    return parse_policy_text(text, "/etc/bulwark/t.toml");
}

constexpr uint32_t kChangeBits =
    BW_ACCESS_WRITE | BW_ACCESS_CREATE | BW_ACCESS_DELETE | BW_ACCESS_RENAME | BW_ACCESS_METADATA;

FakeSystem tree()
{
    FakeSystem s;
    for (const char* d : {"/etc/cron.d", "/tmp", "/home/bob", "/var/log"}) s.mkdirs(d);
    for (const char* f : {"/etc/cron.d/job", "/etc/ld.so.preload", "/tmp/payload", "/home/bob/notes", "/var/log/syslog"})
        s.touch(f);
    s.add_user("root", 0);
    return s;
}

struct RightsSet {
    std::vector<Policy> policies;
    MapImage image;
};

RightsSet compile_text(const std::string& text, const SystemView& sys)
{
    ParseResult pr = parse(text);
    INFO(dump(pr.diagnostics));
    REQUIRE_FALSE(pr.diagnostics.has_errors());
    CompileResult cr = compile(pr.policies, sys);
    INFO(dump(cr.diagnostics));
    REQUIRE(cr.image.has_value());
    return {std::move(pr.policies), std::move(*cr.image)};
}

// The verdict `test` would reach for one operation.
bw_verdict verdict(const RightsSet& c, const SystemView& sys, TestOp op, const std::string& path,
                   const std::string& target = "", uint8_t access = access_read)
{
    TestCase tc;
    tc.op = op;
    tc.path.value = path;
    tc.target.value = target;
    tc.access = access;
    auto r = resolve_op(tc, sys);
    if (const auto* err = std::get_if<std::string>(&r)) FAIL(*err);
    Evaluator ev(c.image);
    return decide(ev, std::get<ResolvedOp>(r)).verdict;
}

const char* kCron = R"(
[policy]
name = "persistence"
[[file]]
prefixes = ["/etc/cron.d/"]
paths = ["/etc/ld.so.preload"]
access = ["write"]
action = "deny"
)";

}  // namespace

TEST_CASE("access: every right is a word; write implies every change; nothing narrows it")
{
    auto one = [](const std::string& access) {
        ParseResult r = parse("[policy]\nname = \"p\"\n[[file]]\nprefixes = [\"/etc/\"]\naccess = " + access +
                              "\naction = \"deny\"\n");
        INFO(dump(r.diagnostics));
        REQUIRE_FALSE(r.diagnostics.has_errors());
        return uint32_t(r.policies.at(0).files.at(0).access);
    };
    CHECK(one("[\"read\"]") == BW_ACCESS_READ);
    CHECK(one("[\"write\"]") == kChangeBits);
    CHECK(one("[\"create\"]") == BW_ACCESS_CREATE);
    CHECK(one("[\"delete\"]") == BW_ACCESS_DELETE);
    CHECK(one("[\"rename\"]") == BW_ACCESS_RENAME);
    CHECK(one("[\"metadata\"]") == BW_ACCESS_METADATA);
    CHECK(one("[\"delete\", \"rename\"]") == (BW_ACCESS_DELETE | BW_ACCESS_RENAME));
    CHECK(one("[\"write\", \"create\"]") == kChangeBits);  // adding a word never removes a right
    CHECK(one("[\"read\", \"write\"]") == (BW_ACCESS_READ | kChangeBits));

    ParseResult bad = parse("[policy]\nname = \"p\"\n[[file]]\nprefixes = [\"/etc/\"]\naccess = [\"unlink\"]\n"
                            "action = \"deny\"\n");
    REQUIRE(bad.diagnostics.has_errors());
    const std::string text = dump(bad.diagnostics);
    CHECK(text.find("t.toml:5:") != std::string::npos);
    CHECK(text.find("\"metadata\"") != std::string::npos);  // lists what may be written
}

TEST_CASE("a rule without access decides every right; [defaults] file decides every file column")
{
    FakeSystem sys = tree();
    const RightsSet c = compile_text("[policy]\nname = \"p\"\n[defaults]\nfile = \"deny\"\n[[file]]\n"
                                    "prefixes = [\"/tmp/\"]\naction = \"allow\"\n",
                                    sys);
    for (TestOp op : {TestOp::create, TestOp::remove, TestOp::truncate, TestOp::metadata}) {
        CAPTURE(to_string(op));
        CHECK(verdict(c, sys, op, "/home/bob/notes") == BW_VERDICT_DENY);
        CHECK(verdict(c, sys, op, "/tmp/payload") == BW_VERDICT_ALLOW);
    }
}

TEST_CASE("write on a tree: nothing in it changes, by any operation; outside it everything does")
{
    FakeSystem sys = tree();
    const RightsSet c = compile_text(kCron, sys);
    CHECK(verdict(c, sys, TestOp::open, "/etc/cron.d/job", "", access_write) == BW_VERDICT_DENY);
    CHECK(verdict(c, sys, TestOp::open, "/etc/cron.d/job", "", access_read) == BW_VERDICT_ALLOW);
    CHECK(verdict(c, sys, TestOp::create, "/etc/cron.d/evil") == BW_VERDICT_DENY);
    CHECK(verdict(c, sys, TestOp::remove, "/etc/cron.d/job") == BW_VERDICT_DENY);
    CHECK(verdict(c, sys, TestOp::truncate, "/etc/cron.d/job") == BW_VERDICT_DENY);
    CHECK(verdict(c, sys, TestOp::metadata, "/etc/cron.d/job") == BW_VERDICT_DENY);
    // rename into the tree (decided at the target: its directory + the name)
    CHECK(verdict(c, sys, TestOp::rename, "/tmp/payload", "/etc/cron.d/evil") == BW_VERDICT_DENY);
    // ... out of it, and over a protected exact name
    CHECK(verdict(c, sys, TestOp::rename, "/etc/cron.d/job", "/tmp/job") == BW_VERDICT_DENY);
    CHECK(verdict(c, sys, TestOp::rename, "/tmp/payload", "/etc/ld.so.preload") == BW_VERDICT_DENY);
    CHECK(verdict(c, sys, TestOp::remove, "/etc/ld.so.preload") == BW_VERDICT_DENY);
    // a hardlink into the tree, and one giving a protected file a name outside it
    CHECK(verdict(c, sys, TestOp::link, "/tmp/payload", "/etc/cron.d/evil") == BW_VERDICT_DENY);
    CHECK(verdict(c, sys, TestOp::link, "/etc/cron.d/job", "/tmp/job") == BW_VERDICT_DENY);
    // controls: the same operations outside the tree
    CHECK(verdict(c, sys, TestOp::create, "/tmp/new") == BW_VERDICT_ALLOW);
    CHECK(verdict(c, sys, TestOp::remove, "/tmp/payload") == BW_VERDICT_ALLOW);
    CHECK(verdict(c, sys, TestOp::rename, "/tmp/payload", "/home/bob/p") == BW_VERDICT_ALLOW);
    CHECK(verdict(c, sys, TestOp::link, "/tmp/payload", "/home/bob/p") == BW_VERDICT_ALLOW);
    CHECK(verdict(c, sys, TestOp::metadata, "/tmp/payload") == BW_VERDICT_ALLOW);
    // the directory itself is a name in /etc, which no rule protects
    CHECK(verdict(c, sys, TestOp::rename, "/etc/cron.d", "/tmp/cron") == BW_VERDICT_ALLOW);
}

TEST_CASE("a narrower right decides only its own operations")
{
    FakeSystem sys = tree();
    const RightsSet c = compile_text("[policy]\nname = \"logs\"\n[[file]]\nprefixes = [\"/var/log/\"]\n"
                                    "access = [\"delete\", \"rename\"]\naction = \"deny\"\n",
                                    sys);
    CHECK(verdict(c, sys, TestOp::open, "/var/log/syslog", "", access_write) == BW_VERDICT_ALLOW);
    CHECK(verdict(c, sys, TestOp::create, "/var/log/new.log") == BW_VERDICT_ALLOW);
    CHECK(verdict(c, sys, TestOp::truncate, "/var/log/syslog") == BW_VERDICT_ALLOW);
    CHECK(verdict(c, sys, TestOp::remove, "/var/log/syslog") == BW_VERDICT_DENY);
    CHECK(verdict(c, sys, TestOp::rename, "/var/log/syslog", "/var/log/old") == BW_VERDICT_DENY);
}

TEST_CASE("explain rename: the deciding end and its rule")
{
    FakeSystem sys = tree();
    const RightsSet c = compile_text(R"(
[policy]
name = "p"
[[file]]
prefixes = ["/tmp/"]
access = ["rename"]
action = "audit"
[[file]]
prefixes = ["/etc/cron.d/"]
access = ["write"]
action = "deny"
)",
                                    sys);
    auto explain_of = [&](const std::string& from, const std::string& to) {
        TestCase tc;
        tc.op = TestOp::rename;
        tc.path.value = from;
        tc.target.value = to;
        auto r = resolve_op(tc, sys);
        REQUIRE(std::holds_alternative<ResolvedOp>(r));
        return std::pair{explain(c.policies, c.image, sys, std::get<ResolvedOp>(r)), tc};
    };
    {
        auto [e, tc] = explain_of("/tmp/payload", "/etc/cron.d/evil");
        CHECK(e.verdict == Verdict::deny);
        CHECK(e.end == "target");
        CHECK(e.end_path == "/etc/cron.d/evil");
        CHECK(e.column == BW_COL_RENAME);
        CHECK(e.consistent);
        REQUIRE(e.rule >= 0);
        CHECK(c.image.rules[static_cast<size_t>(e.rule)].pos.line == 8);
        RuleTexts texts;
        std::ostringstream out;
        print(e, tc, c.image, texts, out);
        CHECK(out.str().find("rename /tmp/payload /etc/cron.d/evil") != std::string::npos);
        CHECK(out.str().find("decided at: the target, /etc/cron.d/evil") != std::string::npos);
    }
    {
        auto [e, tc] = explain_of("/tmp/payload", "/home/bob/p");
        CHECK(e.verdict == Verdict::audit);
        CHECK(e.end == "source");
        CHECK(e.consistent);
    }
}

TEST_CASE("[[test]] cases: every operation's name, target for rename and link only")
{
    ParseResult r = parse(R"(
[policy]
name = "p"
[[test]]
name = "mv into cron"
op = "rename"
path = "/tmp/x"
target = "/etc/cron.d/x"
expect = "deny"
[[test]]
name = "rm"
op = "delete"
path = "/etc/cron.d/job"
expect = "deny"
)");
    INFO(dump(r.diagnostics));
    REQUIRE_FALSE(r.diagnostics.has_errors());
    REQUIRE(r.policies.at(0).tests.size() == 2);
    CHECK(r.policies[0].tests[0].op == TestOp::rename);
    CHECK(r.policies[0].tests[0].target.value == "/etc/cron.d/x");
    CHECK(r.policies[0].tests[1].op == TestOp::remove);
    for (const char* name : {"open", "exec", "connect", "create", "delete", "rename", "link", "truncate", "metadata"}) {
        auto op = test_op(name);
        REQUIRE(op.has_value());
        CHECK(std::string(to_string(*op)) == name);
    }

    ParseResult no_target = parse("[policy]\nname = \"p\"\n[[test]]\nname = \"n\"\nop = \"link\"\npath = \"/a\"\n"
                                  "expect = \"deny\"\n");
    CHECK(dump(no_target.diagnostics).find("[[test]] has no target") != std::string::npos);
    ParseResult stray = parse("[policy]\nname = \"p\"\n[[test]]\nname = \"n\"\nop = \"delete\"\npath = \"/a\"\n"
                              "target = \"/b\"\nexpect = \"deny\"\n");
    CHECK(dump(stray.diagnostics).find("t.toml:7:1: error: target is not used by op = \"delete\"") !=
          std::string::npos);
}

// ---- the naive oracle ------------------------------------------------------

namespace {

struct ORule {
    std::vector<std::string> paths, prefixes;
    std::vector<std::string> access;  // words as written; empty: the key is omitted
    std::string action;
};
struct OPolicy {
    bool audit_mode = false;
    std::optional<uint32_t> uid;
    std::string file_default;  // "" when not written
    std::vector<ORule> rules;
};

std::string quoted_list(const std::vector<std::string>& v)
{
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", \"" : "\"") + v[i] + "\"";
    return out + "]";
}

std::string toml(const OPolicy& p, size_t index)
{
    std::ostringstream s;
    s << "[policy]\nname = \"p" << index << "\"\nmode = \"" << (p.audit_mode ? "audit" : "enforce") << "\"\n";
    if (p.uid) s << "[scope]\nuid = " << *p.uid << "\n";
    if (!p.file_default.empty()) s << "[defaults]\nfile = \"" << p.file_default << "\"\n";
    for (const auto& r : p.rules) {
        s << "[[file]]\n";
        if (!r.paths.empty()) s << "paths = " << quoted_list(r.paths) << "\n";
        if (!r.prefixes.empty()) s << "prefixes = " << quoted_list(r.prefixes) << "\n";
        if (!r.access.empty()) s << "access = " << quoted_list(r.access) << "\n";
        s << "action = \"" << r.action << "\"\n";
    }
    return s.str();
}

// The documented rights of one word (policy-language.md, the table of `access`).
bool word_decides(const std::string& word, uint32_t column)
{
    if (word == "read") return column == BW_COL_READ;
    if (word == "write")
        return column == BW_COL_WRITE || column == BW_COL_CREATE || column == BW_COL_DELETE ||
               column == BW_COL_RENAME || column == BW_COL_METADATA;
    if (word == "create") return column == BW_COL_CREATE;
    if (word == "delete") return column == BW_COL_DELETE;
    if (word == "rename") return column == BW_COL_RENAME;
    if (word == "metadata") return column == BW_COL_METADATA;
    return false;
}

int strength(const std::string& action)
{
    return action == "deny" ? 2 : action == "audit" ? 1 : 0;
}

// "Deciding: precedence", read literally over path strings.
bw_verdict oracle(const std::vector<OPolicy>& set, const std::string& path, uint32_t column, uint32_t uid)
{
    bw_verdict out = BW_VERDICT_ALLOW;
    for (const auto& p : set) {
        if (p.uid && *p.uid != uid) continue;
        int best = -1;  // specificity: an exact path beats any prefix, longer prefixes beat shorter
        int action = 0;
        for (const auto& r : p.rules) {
            bool decides = r.access.empty();
            for (const auto& w : r.access) decides = decides || word_decides(w, column);
            if (!decides) continue;
            int spec = -1;
            for (const auto& e : r.paths)
                if (e == path) spec = 1 << 20;
            for (const auto& q : r.prefixes)
                if (path.size() > q.size() && path.compare(0, q.size(), q) == 0)
                    spec = std::max(spec, static_cast<int>(q.size()));
            if (spec < 0) continue;
            if (spec > best) {
                best = spec;
                action = strength(r.action);
            } else if (spec == best) {
                action = std::max(action, strength(r.action));
            }
        }
        if (best < 0) action = strength(p.file_default);
        bw_verdict v = action == 2 ? (p.audit_mode ? BW_VERDICT_WOULD_DENY : BW_VERDICT_DENY)
                       : action == 1 ? BW_VERDICT_AUDIT
                                     : BW_VERDICT_ALLOW;
        out = std::max(out, v);
    }
    return out;
}

}  // namespace

TEST_CASE("naive oracle (generated): the evaluator decides every right as the documented semantics over paths")
{
    FakeSystem sys;
    for (const char* d : {"/a/b/c", "/a/x", "/d", "/dd"}) sys.mkdirs(d);
    for (const char* f : {"/a/f", "/a/b/f", "/a/b/c/f", "/a/x/f", "/d/f", "/dd/f", "/top"}) sys.touch(f);
    sys.add_user("root", 0);

    const std::vector<std::string> prefixes = {"/", "/a/", "/a/b/", "/a/b/c/", "/a/x/", "/d/", "/dd/"};
    const std::vector<std::string> exacts = {"/a/f", "/a/b", "/a/b/f", "/a/b/c/f", "/d/f", "/top",
                                             "/a/new", "/d/new", "/a/b/c", "/d"};
    const std::vector<std::string> words = {"read", "write", "create", "delete", "rename", "metadata"};
    const char* actions[] = {"allow", "audit", "deny"};
    // Objects after the set was compiled: existing files and directories,
    // names created since, names about to be created.
    FakeSystem later = sys;
    later.touch("/a/new");
    later.touch("/d/new");
    const std::vector<std::string> existing = {"/a/f", "/a/b/f", "/a/b/c/f", "/a/x/f", "/d/f", "/dd/f", "/top",
                                               "/a/b", "/a/b/c", "/a/x", "/d", "/a/new", "/d/new"};
    const std::vector<std::string> to_create = {"/a/b/new", "/a/x/g", "/dd/new", "/newtop"};

    size_t compared = 0, failures = 0;
    for (uint32_t seed : {1u, 2u, 3u, 20261202u}) {
        std::mt19937 rng(seed);
        auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
        for (int iter = 0; iter < 150 && failures < 5; ++iter) {
            std::vector<OPolicy> set(1 + pick(3));
            for (auto& p : set) {
                p.audit_mode = pick(4) == 0;
                if (pick(5) == 0) p.uid = 33;
                if (pick(3) == 0) p.file_default = actions[pick(3)];
                for (size_t n = 1 + pick(4); n > 0; --n) {
                    ORule r;
                    r.action = actions[pick(3)];
                    for (size_t k = pick(3); k > 0; --k) r.paths.push_back(exacts[pick(exacts.size())]);
                    for (size_t k = r.paths.empty() ? 1 + pick(2) : pick(2); k > 0; --k)
                        r.prefixes.push_back(prefixes[pick(prefixes.size())]);
                    if (pick(4) != 0)
                        for (size_t k = 1 + pick(2); k > 0; --k) r.access.push_back(words[pick(words.size())]);
                    p.rules.push_back(std::move(r));
                }
            }
            std::vector<Policy> policies;
            std::string all;
            for (size_t i = 0; i < set.size(); ++i) {
                const std::string text = toml(set[i], i);
                all += text;
                ParseResult pr = parse_policy_text(text, "/p" + std::to_string(i) + ".toml");
                INFO(text << dump(pr.diagnostics));
                REQUIRE_FALSE(pr.diagnostics.has_errors());
                for (auto& p : pr.policies) policies.push_back(std::move(p));
            }
            INFO("seed " << seed << " iteration " << iter << "\n" << all);
            CompileResult cr = compile(policies, sys);
            REQUIRE_MESSAGE(cr.image.has_value(), dump(cr.diagnostics));
            Evaluator ev(*cr.image);
            auto check = [&](const std::string& path, const FileObject& obj) {
                for (uint32_t column = 0; column < BW_NR_COLUMNS; ++column) {
                    if (column == BW_COL_EXEC || column == BW_COL_MAP) continue;
                    for (uint32_t uid : {0u, 33u}) {
                        const bw_verdict want = oracle(set, path, column, uid);
                        const bw_verdict got = ev.decide_file(subject(7, uid), obj, 1u << column).verdict;
                        ++compared;
                        if (want != got) {
                            ++failures;
                            FAIL_CHECK(path << " " << column_name(column) << " uid " << uid << ": oracle "
                                            << to_string(want) << ", evaluator " << to_string(got));
                        }
                    }
                }
            };
            for (const auto& path : existing) check(path, later.open(path));
            for (const auto& path : to_create) {
                auto obj = describe_file(later, path);
                REQUIRE(obj.has_value());
                check(path, *obj);
            }
        }
    }
    CHECK(failures == 0);
    CHECK(compared > 50000);
}
