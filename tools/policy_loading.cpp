#include "policy_loading.hpp"

#include "policy/parser.hpp"

#include <ostream>

namespace bulwark {

CompileOutcome compile_policies(const std::vector<std::string>& paths, const CompileOptions& options)
{
    CompileOutcome out;
    ParseResult parsed = load_policies(paths);
    out.diagnostics.append(parsed.diagnostics);
    if (parsed.diagnostics.has_errors()) return out;

    RealSystem system(/*pin_stacked_dirs=*/true);  // the set bulwark will enforce
    CompileResult compiled = compile(parsed.policies, system, options);
    out.diagnostics.append(compiled.diagnostics);
    if (compiled.image) out.compiled = Compiled{std::move(parsed.policies), std::move(*compiled.image)};
    return out;
}

std::optional<Compiled> load_and_compile(const std::vector<std::string>& paths, const CompileOptions& options,
                                         std::ostream& diag_out)
{
    CompileOutcome out = compile_policies(paths, options);
    out.diagnostics.print(diag_out);
    return std::move(out.compiled);
}

}  // namespace bulwark
