// bulwark compile --policy PATH… --dump: the map image, human-readable.
#include "commands.hpp"
#include "compile/dump.hpp"
#include "policy_loading.hpp"
#include "util/error.hpp"

#include <boost/program_options.hpp>
#include <iostream>

namespace po = boost::program_options;

namespace bulwark {

int cmd_compile(const Args& args)
{
    std::vector<std::string> policies;
    bool dump = false, audit = false, json = false;
    po::options_description desc(
        "usage: bulwark compile --policy PATH... --dump [--json] [--audit]\n\n"
        "Compile policies into the map image bulwark would load, and print it: every\n"
        "map, every key and value, and the rule (or [defaults] line) each policy's\n"
        "verdict in it came from; then the monitor maps, with the [[monitor.*]]\n"
        "table each value reports through. Compiled on this machine, as bulwark\n"
        "run would.\n\n"
        "examples:\n  bulwark compile --policy policies/default --dump\n"
        "  bulwark compile --policy web.toml --dump --json | jq '.maps.name_rules[].path'\n"
        "  bulwark compile --policy watch.toml --dump --json | jq '.monitors.maps.mon_file_paths'\n\noptions");
    desc.add_options()("help,h", "this help")("policy,p", po::value(&policies)->multitoken()->required(),
                                              "policy file or directory (repeatable)")(
        "dump", po::bool_switch(&dump), "print the map image")("json", po::bool_switch(&json), "as JSON")("audit", po::bool_switch(&audit),
                                                               "compile as bulwark run --audit would");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(desc).run(), vm);
        if (vm.count("help")) {
            std::cout << desc << '\n';
            return exit_ok;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "bulwark compile: " << e.what() << "\n\n" << desc << '\n';
        return exit_usage;
    }
    CompileOptions options;
    options.global_audit = audit;
    auto compiled = load_and_compile(policies, options, std::cerr);
    if (!compiled) return exit_policy_errors;
    if (dump && json)
        dump_image_json(compiled->image, std::cout);
    else if (dump)
        dump_image(compiled->image, std::cout);
    return exit_ok;
}

}  // namespace bulwark
