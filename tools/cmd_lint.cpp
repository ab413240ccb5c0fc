// bulwark lint PATH…: every diagnostic the loader would give, and lint's own
// warnings (engine/lint/lint.hpp), without loading anything; exit 1 when
// there are errors.
#include "commands.hpp"
#include "explain/test_run.hpp"
#include "lint/lint.hpp"
#include "policy/parser.hpp"
#include "util/error.hpp"

#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>

namespace po = boost::program_options;

namespace bulwark {
namespace {

const char* kUsage =
    "usage: bulwark lint [--format text|json] PATH...\n"
    "\n"
    "Check policy files, or directories (searched recursively: each directory of\n"
    "*.toml files is one policy set, the files named directly one more), and\n"
    "print every diagnostic as file:line:col: error|warning|note: message, as\n"
    "compilers do, so editors and CI annotate the line. Beyond the loader's\n"
    "errors, lint warns about rules that never decide anything, allow rules\n"
    "that change nothing, policies that overlap and disagree, lockout risks,\n"
    "paths through symlinks, users and cgroups unknown here, CIDRs with host\n"
    "bits set and overlapping port ranges, and monitor tables that cannot work\n"
    "as written (a directory as an exact path, a file as a prefix, kill for\n"
    "root everywhere); paths that do not exist here are notes, as are monitor\n"
    "paths through a symlink. The policies may be meant for another machine:\n"
    "what this one lacks never makes lint fail.\n"
    "\n"
    "exit status: 0 no errors (warnings allowed), 1 errors, 2 bad invocation\n"
    "             (no paths, an unknown --format, a path that does not exist)\n"
    "\n"
    "examples:\n"
    "  bulwark lint policies/\n"
    "  bulwark lint /etc/bulwark/*.toml\n"
    "  bulwark lint --format json web.toml | jq '.diagnostics[] | select(.severity == \"error\")'\n"
    "\n"
    "options";

}  // namespace

int cmd_lint(const Args& args)
{
    std::vector<std::string> paths;
    std::string format = "text";
    po::options_description desc(kUsage);
    desc.add_options()("help,h", "this help")("format", po::value(&format), "text (default) or json");
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
        std::cerr << "bulwark lint: " << e.what() << "\n\n" << desc << '\n';
        return exit_usage;
    }
    if (paths.empty() || (format != "text" && format != "json")) {
        std::cerr << "bulwark lint: " << (paths.empty() ? "name policy files or directories" : "--format is text or json")
                  << "\n\n" << desc << '\n';
        return exit_usage;
    }

    // As `bulwark test`: each directory holding *.toml files (searched
    // recursively) is one policy set, the files named directly one more;
    // sets are linted apart, since policies interact only within a set.
    std::vector<std::string> missing;
    const std::vector<TestSet> sets = find_test_sets(paths, missing);
    Diagnostics diags;
    for (const auto& m : missing)
        diags.error(SourcePos{m, 0, 0}, "cannot read policy path: no such file or directory");
    if (sets.empty() && missing.empty())
        diags.warning(SourcePos{paths[0], 0, 0}, "no *.toml files here; nothing to lint");
    size_t policies = 0;
    LintOptions options;
    std::error_code ec;
    options.self_exe = std::filesystem::canonical("/proc/self/exe", ec).string();
    RealSystem machine;
    for (const TestSet& set : sets) {
        ParseResult parsed = load_policies(set.files);
        diags.append(parsed.diagnostics);
        if (parsed.diagnostics.has_errors()) continue;
        policies += parsed.policies.size();
        diags.append(lint_policies(parsed.policies, machine, options));
    }
    if (format == "json") {
        std::cout << diagnostics_json(diags, policies);
    } else {
        diags.print(std::cout);
        size_t warnings = 0;
        for (const auto& d : diags.all()) warnings += d.severity == Severity::warning;
        std::cout << policies << " policies: " << diags.error_count() << " errors, " << warnings
                  << " warnings\n";
    }
    if (!missing.empty()) return exit_usage;  // a path that is not there: nothing to judge
    return diags.has_errors() ? exit_policy_errors : exit_ok;
}

}  // namespace bulwark
