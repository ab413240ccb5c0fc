// /etc/bulwark/bulwark.toml: the options of `bulwark run`, one key per long
// flag name. This reads the TOML into (key, tokens, position) entries; the
// command line (tools/run_config.cpp) then parses each entry's tokens with
// the flag's own parser, so a value means exactly what the flag means and
// every error points at its file:line:col, through the same Diagnostics as
// policies.
#pragma once

#include "policy/diagnostics.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

struct ConfigEntry {
    std::string key;                  // as written: a long flag name
    std::vector<std::string> tokens;  // the value(s), as a flag's arguments
    bool boolean = false;             // the value was a TOML boolean
    bool enabled = false;             // ... and it was true
    SourcePos pos;                    // of the key
    SourcePos value_pos;              // of the value
};

// Every top-level key in order. Strings, integers and booleans are values;
// an array gives one token per element (of those kinds). Tables, floats,
// dates and nested arrays are errors at the value.
std::vector<ConfigEntry> read_config(std::string_view text, const std::string& file, Diagnostics& diags);

}  // namespace bulwark
