// `bulwark report --suggest`: allow rules, as TOML with comments, for what
// the policies would have denied in a dry run — as AppArmor's aa-logprof
// proposes profile lines from its log. With the policies known (a
// RuleLookup), only what an allowlist's [defaults] would have denied is
// proposed: a deny rule you wrote is not second-guessed.
#pragma once

#include "report/report.hpp"

#include <string>

namespace bulwark {

// `source`: where the events came from, for the header comment.
std::string suggest_rules(const Report& r, const RuleLookup* lookup, const std::string& source);

}  // namespace bulwark
