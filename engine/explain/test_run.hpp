// Running [[test]] cases against a compiled policy set with the reference
// evaluator (`bulwark test`), and finding the policy sets to run them on.
#pragma once

#include "compile/map_image.hpp"
#include "compile/system_view.hpp"
#include "policy/model.hpp"

#include <string>
#include <vector>

namespace bulwark {

struct CaseResult {
    const TestCase* tc = nullptr;
    std::string error;            // the case could not be run (e.g. an unknown user); it fails
    Verdict got = Verdict::allow;
    uint32_t policy = BW_POLICY_NONE;  // deciding policy, when not allow
    int32_t rule = -1;            // its deciding rule; -1: its default
    uint32_t column = 0;          // the column it decided in
    uint32_t uid = 0;             // the case's uid, resolved
    std::vector<uint32_t> parent_uids;  // its parent_uid values, resolved
    std::string canonical;        // open, exec: the path as the kernel names it
    bool passed = false;
};

std::vector<CaseResult> run_cases(const MapImage& image, const SystemView& system, const std::vector<TestCase>& cases);

// A policy set to test: the *.toml files of one directory, or the files
// named on the command line.
struct TestSet {
    std::string label;            // the directory, or "command line"
    std::vector<std::string> files;
};

// Every directory below a directory argument that holds *.toml files is a
// set of its own (a directory is what `bulwark run --policy` loads); the
// file arguments together are one more set. Sets in path order; a path
// that is neither a file nor a directory is reported in `missing`.
std::vector<TestSet> find_test_sets(const std::vector<std::string>& paths, std::vector<std::string>& missing);

}  // namespace bulwark
