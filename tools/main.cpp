// build/bulwark: one binary, one subcommand per job (man/bulwark.1).
#include "commands.hpp"
#include "util/error.hpp"

#include <cstring>
#include <iostream>
#include <map>

namespace {

struct Command {
    int (*run)(const bulwark::Args&);
    const char* summary;
};

const std::map<std::string, Command>& commands()
{
    static const std::map<std::string, Command> table{
        {"run", {bulwark::cmd_run, "load policies, enforce them, report every verdict"}},
        {"lint", {bulwark::cmd_lint, "check policies; diagnostics as file:line:col"}},
        {"compile", {bulwark::cmd_compile, "print the map image the policies compile to"}},
        {"probe", {bulwark::cmd_probe, "say whether this kernel can enforce, and why not"}},
        {"explain", {bulwark::cmd_explain, "the verdict on one operation, the deciding rule, and why"}},
        {"test", {bulwark::cmd_test, "run the [[test]] cases of policies; N passed, N failed"}},
        {"report", {bulwark::cmd_report, "summarise a dry run's events; suggest allow rules"}},
        {"reload", {bulwark::cmd_reload, "make the running bulwark re-read its policies (atomic swap)"}},
        {"stop", {bulwark::cmd_stop, "orderly stop of the running bulwark: detach everything"}},
        {"status", {bulwark::cmd_status, "what the running bulwark has in force, and its counters"}},
    };
    return table;
}

void usage(std::ostream& out)
{
    out << "usage: bulwark <command> [options]\n\ncommands:\n";
    for (const auto& [name, c] : commands()) out << "  " << name << std::string(10 - name.size(), ' ') << c.summary << '\n';
    out << "\nexamples:\n"
           "  bulwark run --policy policies/default --events -\n"
           "  bulwark run --policy web.toml --audit --events /var/log/bulwark.jsonl\n"
           "  bulwark lint policies/\n"
           "  bulwark test policies/\n"
           "  bulwark explain --policy policies/default --uid 1000 exec /tmp/payload\n"
           "  bulwark compile --policy web.toml --dump\n"
           "  bulwark report /var/log/bulwark.jsonl --policy web.toml --suggest\n"
           "  sudo bulwark reload && sudo bulwark status\n"
           "\n`bulwark <command> --help` describes each command; man -l man/bulwark.1 all of them.\n";
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        usage(argc < 2 ? std::cerr : std::cout);
        return argc < 2 ? bulwark::exit_usage : bulwark::exit_ok;
    }
    auto it = commands().find(argv[1]);
    if (it == commands().end()) {
        std::cerr << "bulwark: unknown command \"" << argv[1] << "\"\n\n";
        usage(std::cerr);
        return bulwark::exit_usage;
    }
    bulwark::Args args(argv + 2, argv + argc);
    try {
        return it->second.run(args);
    } catch (const bulwark::Error& e) {
        std::cerr << "bulwark: error: " << e.what() << '\n';
        if (!e.hint().empty()) std::cerr << "bulwark: hint: " << e.hint() << '\n';
        return e.exit_code();
    } catch (const std::exception& e) {
        std::cerr << "bulwark: error: " << e.what() << '\n';
        return bulwark::exit_failure;
    }
}
