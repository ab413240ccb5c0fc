// bulwark test PATH…: run the [[test]] cases of policy files and test files
// against the reference evaluator; one line per case, then "N passed,
// N failed"; every failure explained. --json gives one JSON line per case
// (the guest tests replay them against the real kernel).
#include "commands.hpp"
#include "explain/explain.hpp"
#include "explain/test_run.hpp"
#include "offline_set.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

#include <boost/program_options.hpp>

#include <iostream>
#include <set>
#include <sstream>

namespace po = boost::program_options;

namespace bulwark {
namespace {

const char* kUsage =
    "usage: bulwark test [--policy PATH...] [--json] [--strict] PATH...\n"
    "\n"
    "Run the [[test]] cases written in policy files, or in test files (files of\n"
    "nothing but [[test]] tables), against the reference evaluator, and print\n"
    "one line per case and \"N passed, N failed\". A failure shows the deciding\n"
    "rule and why every other matching rule lost.\n"
    "\n"
    "Each directory (searched recursively) that holds *.toml files is one policy\n"
    "set, as bulwark run --policy DIR would load it; the files named directly\n"
    "form one more set. A case runs against the set its file belongs to, plus\n"
    "the policies given with --policy. Users, cgroups and paths that do not\n"
    "exist on this machine are imagined, so a web server's policy can be\n"
    "tested anywhere (--strict: refuse instead).\n"
    "\n"
    "  [[test]]\n"
    "  name = \"nginx cannot read the shadow file\"\n"
    "  op = \"open\"                  # open | exec | connect | create | delete | rename\n"
    "                                # | link | truncate | metadata\n"
    "  path = \"/etc/shadow\"         # every op but connect (addr, port, protocol)\n"
    "  target = \"/etc/cron.d/x\"     # rename, link: where the name goes\n"
    "  access = [\"read\"]            # open; default read\n"
    "  uid = \"www-data\"             # default 0; also cgroup, executable\n"
    "  parent_executable = \"/usr/sbin/nginx\"  # what it or an ancestor was before (sticky\n"
    "                                # scope); also parent_uid, parent_cgroup; one or a list\n"
    "  expect = \"deny\"              # allow | audit | would-deny | deny\n"
    "\n"
    "exit status: 0 every case passed, 1 a case failed or a policy has errors,\n"
    "             2 bad invocation\n"
    "\n"
    "examples:\n"
    "  bulwark test policies/\n"
    "  bulwark test --policy /etc/bulwark/ tests/web-cases.toml\n"
    "  bulwark test --json policies/default\n"
    "\n"
    "options";

const char* kind_name(ImaginedObject::Kind k)
{
    return k == ImaginedObject::Kind::user ? "user" : k == ImaginedObject::Kind::dir ? "dir" : "file";
}

std::string indent(const std::string& text, const std::string& by)
{
    std::istringstream in(text);
    std::string out;
    for (std::string l; std::getline(in, l);) out += l.empty() ? "\n" : by + l + "\n";
    return out;
}

void json_case(const TestSet& s, const CaseResult& r, const MapImage& image, std::string& out)
{
    const TestCase& tc = *r.tc;
    JsonLine line(out);
    line.field("type", "case")
        .field("set", s.label)
        .field("file", tc.pos.file)
        .field("line", tc.pos.line)
        .field("name", tc.name)
        .field("op", to_string(tc.op));
    if (tc.op == TestOp::connect) {
        line.field("addr", tc.addr.value).field("port", uint32_t(tc.port)).field("protocol",
                                                                                 tc.protocol == proto_udp ? "udp" : "tcp");
    } else {
        line.field("path", tc.path.value);
        if (!r.canonical.empty() && r.canonical != tc.path.value) line.field("canonical", r.canonical);
        if (has_target(tc.op)) line.field("target", tc.target.value);
        if (tc.op == TestOp::open) line.field("access", access_text(tc.access));
    }
    line.field("uid", r.uid);
    if (tc.cgroup) line.field("cgroup", tc.cgroup->value);
    if (tc.executable) line.field("executable", tc.executable->value);
    // The history, named as the [[test]] keys, always as lists; uids
    // resolved as "uid" is (absent when the case could not be resolved).
    if (!r.parent_uids.empty()) {
        std::string uids = "[";
        for (uint32_t u : r.parent_uids) uids += (uids.size() > 1 ? "," : "") + std::to_string(u);
        line.raw("parent_uid", uids + "]");
    }
    auto values = [](const std::vector<Located>& v) {
        std::vector<std::string> out;
        for (const auto& l : v) out.push_back(l.value);
        return out;
    };
    if (!tc.parent_cgroups.empty()) line.field("parent_cgroup", values(tc.parent_cgroups));
    if (!tc.parent_executables.empty()) line.field("parent_executable", values(tc.parent_executables));
    line.field("expect", to_string(tc.expect));
    if (!r.error.empty()) {
        line.field("error", r.error);
    } else {
        line.field("verdict", to_string(r.got));
        if (r.policy != BW_POLICY_NONE)
            line.field("policy", image.policies[r.policy].name)
                .field("rule", rule_location(image, r.policy, r.rule, r.column));
    }
    line.field("passed", r.passed);
    line.end();
}

}  // namespace

int cmd_test(const Args& args)
{
    std::vector<std::string> paths, extra;
    bool json = false, strict = false, verbose = false;
    po::options_description desc(kUsage);
    desc.add_options()("help,h", "this help")("policy,p", po::value(&extra),
                                              "policies added to every set (repeatable)")(
        "json", po::bool_switch(&json), "one JSON line per case (and per imagined object), then a summary")(
        "strict", po::bool_switch(&strict), "imagine nothing: users, cgroups and paths must exist here")(
        "verbose,v", po::bool_switch(&verbose), "explain passing cases too; list what was imagined");
    po::options_description hidden;
    hidden.add_options()("paths", po::value(&paths)->multitoken());
    po::options_description all;
    all.add(desc).add(hidden);
    po::positional_options_description pos;
    pos.add("paths", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
        if (vm.count("help")) {
            std::cout << desc << '\n';
            return exit_ok;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "bulwark test: " << e.what() << "\n\n" << desc << '\n';
        return exit_usage;
    }
    if (paths.empty()) {
        std::cerr << "bulwark test: name policy files, test files or directories\n\n" << desc << '\n';
        return exit_usage;
    }
    std::vector<std::string> missing;
    const std::vector<TestSet> sets = find_test_sets(paths, missing);
    for (const auto& m : missing) std::cerr << m << ": error: no such file or directory\n";
    if (!missing.empty()) return exit_usage;

    size_t passed = 0, failed = 0, broken_sets = 0;
    RuleTexts texts;
    for (const TestSet& s : sets) {
        std::vector<std::string> files = extra;
        files.insert(files.end(), s.files.begin(), s.files.end());
        auto set = OfflineSet::load(files, {}, strict, {}, std::cerr);
        if (!set) {
            std::cerr << s.label << ": error: the policy set does not load; its cases were not run\n";
            ++broken_sets;
            continue;
        }
        // The cases of this set's own files (not of the --policy additions).
        const std::set<std::string> own(s.files.begin(), s.files.end());
        std::vector<TestCase> cases;
        for (const auto& tc : set->tests)
            if (own.count(tc.pos.file)) cases.push_back(tc);
        if (cases.empty() && !json) {
            if (verbose) std::cout << s.label << ": no [[test]] cases\n";
            continue;
        }
        const auto results = run_cases(set->image, set->system(), cases);

        if (json) {
            std::string out;
            std::vector<std::string> names;
            for (const auto& p : set->policies) names.push_back(p.name);
            JsonLine(out).field("type", "set").field("set", s.label).field("files", files).field("policies", names).end();
            for (const auto& o : set->imagined()) {
                JsonLine line(out);
                line.field("type", "imagined").field("set", s.label).field("kind", kind_name(o.kind)).field("name", o.name);
                if (o.kind == ImaginedObject::Kind::user) line.field("uid", o.uid);
                line.end();
            }
            for (const auto& r : results) json_case(s, r, set->image, out);
            std::cout << out;
        } else {
            std::cout << s.label << " (" << set->policies.size() << " policies, " << cases.size() << " cases)\n";
        }
        for (const auto& r : results) {
            r.passed ? ++passed : ++failed;
            if (json) continue;
            const TestCase& tc = *r.tc;
            std::cout << (r.passed ? "  PASS  " : "  FAIL  ") << location(tc.pos) << "  " << tc.name << ": ";
            if (!r.error.empty()) {
                std::cout << "cannot run: " << r.error << '\n';
                continue;
            }
            std::cout << to_string(r.got);
            if (!r.passed) std::cout << ", expected " << to_string(tc.expect);
            std::cout << '\n';
            if (r.passed && !verbose) continue;
            auto resolved = resolve_op(tc, set->system());
            const Explanation e = explain(set->policies, set->image, set->system(), std::get<ResolvedOp>(resolved));
            std::ostringstream why;
            print(e, tc, set->image, texts, why);
            std::cout << indent(why.str(), "        ");
        }
        const auto imagined = set->imagined();
        if (!json && !imagined.empty()) {
            std::cout << "  note: " << imagined.size()
                      << " users, cgroups or paths named here do not exist on this machine and were imagined"
                      << (verbose ? ":" : " (-v lists them; --strict refuses)") << '\n';
            if (verbose)
                for (const auto& o : imagined)
                    std::cout << "        " << kind_name(o.kind) << ' ' << o.name
                              << (o.kind == ImaginedObject::Kind::user ? " (uid " + std::to_string(o.uid) + ")" : "")
                              << '\n';
        }
    }
    if (json) {
        std::string out;
        JsonLine(out).field("type", "summary").field("passed", uint64_t(passed)).field("failed", uint64_t(failed))
            .field("broken_sets", uint64_t(broken_sets)).end();
        std::cout << out;
    } else {
        std::cout << passed << " passed, " << failed << " failed";
        if (broken_sets) std::cout << ", " << broken_sets << " policy sets did not load";
        std::cout << '\n';
    }
    return failed || broken_sets ? exit_policy_errors : exit_ok;
}

}  // namespace bulwark
