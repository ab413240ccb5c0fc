#include "run_config.hpp"

#include "config/config_file.hpp"
#include "policy/parse_detail.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

namespace po = boost::program_options;

namespace bulwark {

namespace {

std::string resolve(const std::string& value, const std::filesystem::path& dir)
{
    if (value.empty() || value == "-" || value[0] == '/') return value;
    return (dir / value).lexically_normal().string();
}

}  // namespace

void apply_config_file(const std::string& file, const po::options_description& desc, const ConfigPaths& paths,
                       po::variables_map& vm, Diagnostics& diags)
{
    std::ifstream in(file);
    if (!in) {
        diags.error(SourcePos{file, 0, 0}, "cannot read the configuration file: " + std::string(std::strerror(errno)));
        return;
    }
    std::stringstream text;
    text << in.rdbuf();
    const auto dir = std::filesystem::absolute(file).parent_path();

    std::vector<std::string> names;
    for (const auto& opt : desc.options())
        if (opt->long_name() != "help" && opt->long_name() != "config") names.push_back(opt->long_name());
    std::vector<std::string_view> known(names.begin(), names.end());

    for (ConfigEntry& e : read_config(text.str(), file, diags)) {
        const po::option_description* opt = desc.find_nothrow(e.key, false);
        if (!opt || e.key == "help" || e.key == "config") {
            std::string msg = "unknown key \"" + e.key + "\" in the configuration";
            if (auto s = parse_detail::closest(e.key, known))
                msg += "; did you mean \"" + std::string(*s) + "\"?";
            else
                msg += "; the keys are the long options of bulwark run: " + parse_detail::join_plain(known);
            diags.error(e.pos, msg);
            continue;
        }
        const bool is_switch = opt->semantic()->max_tokens() == 0;
        if (e.boolean != is_switch) {
            diags.error(e.value_pos, e.key + (is_switch ? " must be true or false" : " takes a value, not a boolean"));
            continue;
        }
        if (is_switch && !e.enabled) continue;  // false: the default
        if (vm.count(e.key) && !vm[e.key].defaulted()) continue;  // the command line said it
        if (paths.keys.count(e.key))
            for (auto& t : e.tokens) t = resolve(t, dir);
        po::parsed_options parsed(&desc);
        po::option o;
        o.string_key = e.key;
        o.value = e.tokens;
        o.original_tokens = e.tokens;
        parsed.options.push_back(o);
        try {
            // A value already stored from the command line wins; store()
            // never overwrites (and a defaulted value is replaced).
            po::variables_map one;
            po::store(parsed, one);
            vm.erase(e.key);
            po::store(parsed, vm);
        } catch (const po::error& err) {
            std::string what = err.what();
            // Boost's own messages name the option; ours already do.
            diags.error(e.value_pos, what.rfind(e.key, 0) == 0 ? what : e.key + ": " + what);
        }
    }
}

}  // namespace bulwark
