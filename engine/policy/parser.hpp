// The policy parser: TOML text → validated policy model + diagnostics.
// It checks everything that can be checked without looking at the machine
// (syntax, keys, types, values, path shape); the compiler resolves names,
// cgroups and paths against the machine and checks capacities.
#pragma once

#include "policy/diagnostics.hpp"
#include "policy/model.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

struct ParseResult {
    std::vector<Policy> policies;  // only meaningful when !diagnostics.has_errors()
    // Every [[test]] case of every file read, policy files and test files
    // (files of nothing but [[test]] tables, which are not policies) alike.
    std::vector<TestCase> tests;
    Diagnostics diagnostics;
};

// One file's text; `path` is used for positions only.
ParseResult parse_policy_text(std::string_view text, std::string_view path);

// Files, or directories whose *.toml files are read in name order; checks
// what spans files (duplicate policy names). A path that cannot be read is
// an error at that path.
ParseResult load_policies(const std::vector<std::string>& paths);

}  // namespace bulwark
