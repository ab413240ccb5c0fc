// A policy set for the offline tools (`explain`, `test`): parsed, compiled
// on this machine with whatever the policies and cases name but this
// machine lacks imagined (explain/imagined_system.hpp), unless `strict`.
// Only errors are printed: warnings are `bulwark lint`'s business.
#pragma once

#include "compile/compiler.hpp"
#include "explain/imagined_system.hpp"

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bulwark {

class OfflineSet {
public:
    std::vector<Policy> policies;
    std::vector<TestCase> tests;          // the cases of the files read
    MapImage image;
    const SystemView& system() const
    {
        if (imagined_) return *imagined_;
        return *real_;
    }
    // What had to be imagined (empty when strict).
    std::vector<ImaginedObject> imagined() const;

    // nullopt after errors, printed to `diag` as file:line:col.
    static std::unique_ptr<OfflineSet> load(const std::vector<std::string>& paths,
                                            const std::vector<TestCase>& extra_cases, bool strict,
                                            const CompileOptions& options, std::ostream& diag);

private:
    std::unique_ptr<RealSystem> real_ = std::make_unique<RealSystem>();
    std::unique_ptr<ImaginedSystem> imagined_;
};

// Errors only, each on its own line.
void print_errors(const Diagnostics& d, std::ostream& out);

}  // namespace bulwark
