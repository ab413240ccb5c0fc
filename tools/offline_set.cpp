#include "offline_set.hpp"

#include "policy/parser.hpp"

#include <ostream>

namespace bulwark {

void print_errors(const Diagnostics& d, std::ostream& out)
{
    for (const auto& x : d.all())
        if (x.severity == Severity::error) out << format(x) << '\n';
}

std::vector<ImaginedObject> OfflineSet::imagined() const
{
    return imagined_ ? imagined_->imagined() : std::vector<ImaginedObject>{};
}

std::unique_ptr<OfflineSet> OfflineSet::load(const std::vector<std::string>& paths,
                                             const std::vector<TestCase>& extra_cases, bool strict,
                                             const CompileOptions& options, std::ostream& diag)
{
    auto set = std::unique_ptr<OfflineSet>(new OfflineSet());
    ParseResult parsed = load_policies(paths);
    print_errors(parsed.diagnostics, diag);
    if (parsed.diagnostics.has_errors()) return nullptr;
    set->policies = std::move(parsed.policies);
    set->tests = std::move(parsed.tests);
    if (!strict) {
        set->imagined_ = std::make_unique<ImaginedSystem>(*set->real_);
        std::vector<TestCase> cases = set->tests;
        cases.insert(cases.end(), extra_cases.begin(), extra_cases.end());
        set->imagined_->imagine_for(set->policies, cases);
    }
    CompileResult compiled = compile(set->policies, set->system(), options);
    print_errors(compiled.diagnostics, diag);
    if (!compiled.image) return nullptr;
    set->image = std::move(*compiled.image);
    return set;
}

}  // namespace bulwark
