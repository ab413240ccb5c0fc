// `bulwark run`'s configuration file: each key of bulwark.toml is a long
// flag name; its value is parsed by that flag's own parser and stored after
// the command line, so a flag given on the command line wins.
#pragma once

#include "policy/diagnostics.hpp"

#include <boost/program_options.hpp>
#include <set>
#include <string>

namespace bulwark {

inline constexpr const char* kDefaultConfig = "/etc/bulwark/bulwark.toml";

// Keys whose relative values are relative to the file's directory.
struct ConfigPaths {
    std::set<std::string> keys;
};

// Reads `file` and stores its values into `vm` (options not set on the
// command line). Keys that only make sense on the command line (`config`,
// `help`) are refused. Errors go to `diags` with their position.
void apply_config_file(const std::string& file, const boost::program_options::options_description& desc,
                       const ConfigPaths& paths, boost::program_options::variables_map& vm, Diagnostics& diags);

}  // namespace bulwark
