// Parse and compile policies for a subcommand, printing diagnostics.
#pragma once

#include "compile/compiler.hpp"

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace bulwark {

struct Compiled {
    std::vector<Policy> policies;
    MapImage image;
};

struct CompileOutcome {
    std::optional<Compiled> compiled;  // nullopt when there were errors
    Diagnostics diagnostics;           // parser's and compiler's, in order
};

// Parse and compile; nothing printed.
CompileOutcome compile_policies(const std::vector<std::string>& paths, const CompileOptions& options);

// nullopt when there were errors (already printed to `diag_out`).
std::optional<Compiled> load_and_compile(const std::vector<std::string>& paths, const CompileOptions& options,
                                         std::ostream& diag_out);

}  // namespace bulwark
