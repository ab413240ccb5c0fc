// bulwark report EVENTS.jsonl [--suggest]: a dry run summarised for the
// step from audit to enforce (engine/report/).
#include "commands.hpp"
#include "policy/parser.hpp"
#include "report/policy_lookup.hpp"
#include "report/suggest.hpp"
#include "util/error.hpp"

#include <boost/program_options.hpp>

#include <fstream>
#include <iostream>
#include <memory>

namespace po = boost::program_options;

namespace bulwark {
namespace {

const char* kUsage =
    "usage: bulwark report [--policy PATH...] [--suggest] EVENTS.jsonl\n"
    "\n"
    "Summarise the events of a dry run (bulwark run --audit, or audit-mode\n"
    "policies; '-' reads standard input): would-deny events grouped by policy\n"
    "and rule, by program and by cgroup, with counts and first and last times,\n"
    "and for each rule what enforcing it would have broken — the programs that\n"
    "ran and would have been denied. With --policy, each rule's text is shown.\n"
    "Monitor events are counted apart, per policy and monitor rule (with what\n"
    "their rate limit suppressed): they report, they never deny.\n"
    "\n"
    "--suggest prints allow rules, as TOML with comments, for what the policies\n"
    "would have denied (as AppArmor's aa-logprof does); with --policy only what\n"
    "an allowlist's [defaults] denied, never what a deny rule you wrote denied.\n"
    "\n"
    "examples:\n"
    "  bulwark run --policy /etc/bulwark --audit --events /var/log/bulwark.jsonl   # a week\n"
    "  bulwark report /var/log/bulwark.jsonl --policy /etc/bulwark\n"
    "  bulwark report /var/log/bulwark.jsonl --policy /etc/bulwark --suggest >> suggested.toml\n"
    "  journalctl -u bulwark -o cat | bulwark report -\n"
    "\n"
    "options";

}  // namespace

int cmd_report(const Args& args)
{
    std::vector<std::string> inputs, policies;
    bool suggest = false;
    size_t top = 5;
    po::options_description desc(kUsage);
    desc.add_options()("help,h", "this help")("policy,p", po::value(&policies)->multitoken(),
                                              "the policies that ran (repeatable): rule texts, allowlists")(
        "suggest", po::bool_switch(&suggest), "print allow rules for what would have been denied, as TOML")(
        "top", po::value(&top), "programs, objects and cgroups listed per group (default 5)");
    po::options_description hidden;
    hidden.add_options()("events", po::value(&inputs)->multitoken());
    po::options_description all;
    all.add(desc).add(hidden);
    po::positional_options_description pos;
    pos.add("events", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
        if (vm.count("help")) {
            std::cout << desc << '\n';
            return exit_ok;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "bulwark report: " << e.what() << "\n\n" << desc << '\n';
        return exit_usage;
    }
    // --policy takes several paths: an events file written after it is
    // taken back (the .jsonl one, or "-").
    for (auto it = policies.begin(); inputs.empty() && it != policies.end(); ++it) {
        if (*it == "-" || (it->size() > 6 && it->substr(it->size() - 6) == ".jsonl")) {
            inputs.push_back(*it);
            policies.erase(it);
            break;
        }
    }
    if (inputs.size() != 1) {
        std::cerr << "bulwark report: name one events file (or - for standard input)\n\n" << desc << '\n';
        return exit_usage;
    }

    std::unique_ptr<PolicyRuleLookup> lookup;
    if (!policies.empty()) {
        ParseResult parsed = load_policies(policies);
        for (const auto& d : parsed.diagnostics.all())
            if (d.severity == Severity::error) std::cerr << format(d) << '\n';
        if (parsed.diagnostics.has_errors()) return exit_policy_errors;
        lookup = std::make_unique<PolicyRuleLookup>(std::move(parsed.policies));
    }

    Report report;
    if (inputs[0] == "-") {
        report = summarise(std::cin);
    } else {
        std::ifstream in(inputs[0]);
        if (!in) throw Error("cannot read " + inputs[0], "name the file bulwark run --events wrote");
        report = summarise(in);
    }
    if (suggest)
        std::cout << suggest_rules(report, lookup.get(), inputs[0] == "-" ? "standard input" : inputs[0]);
    else
        print_report(report, lookup.get(), std::cout, top);
    return exit_ok;
}

}  // namespace bulwark
