// Why the policy set reaches its verdict on one operation: the deciding
// rule, every policy's own verdict, and every rule that matched and lost.
//
// The verdict is the reference evaluator's, on the compiled set. The
// explanation is computed with the same compiler and evaluator, never by
// re-implementing matching: policies fold independently of each other, so
// each policy compiled alone decides exactly what its bit decides in the
// whole set; and a rule matches an operation exactly when, compiled alone
// as a deny rule with no scope, it denies it. `consistent` says whether
// the per-policy verdicts combine to the evaluator's (they must).
#pragma once

#include "compile/compiler.hpp"
#include "explain/operation.hpp"
#include "explain/rule_text.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace bulwark {

struct RuleMatch {
    int32_t rule = -1;            // index into MapImage::rules
    std::string key;              // what it matched through: "/etc/", "/etc/shadow", "10.0.0.0/8"
    uint32_t specificity = 0;     // larger wins (exact > longer prefix; longer CIDR)
};

struct PolicyExplanation {
    uint32_t policy = 0;          // index into MapImage::policies
    bool applies = true;          // it can deny or audit this kind at all
    bool in_scope = true;
    std::string scope_why;        // when !in_scope: which [scope] key excludes the process
    std::string scope_before;     // in scope by its history: "executable /usr/sbin/nginx" (ScopeHold::before)
    Verdict verdict = Verdict::allow;  // its own verdict (its mode applied)
    int32_t rule = -1;            // the rule that decided it; -1: its default
    uint32_t column = 0;          // the bw_column (or BW_COL_CONNECT) it decided in
    std::string key;              // what the deciding rule matched through
    std::vector<RuleMatch> matched;  // its rules that match the operation
};

struct LostRule {
    int32_t rule = -1;
    std::string key;
    std::string why;
};

struct Explanation {
    Verdict verdict = Verdict::allow;
    uint32_t policy = BW_POLICY_NONE;  // the deciding policy, when not allow
    int32_t rule = -1;                 // its deciding rule; -1: its default
    uint32_t column = 0;               // the column it decided in
    std::vector<PolicyExplanation> policies;
    std::vector<LostRule> lost;
    bool consistent = true;
    // rename, link: the end explained ("source" or "target": the one that
    // decides, the source at equal verdicts) and its path; "" otherwise.
    std::string end;
    std::string end_path;
};

Explanation explain(const std::vector<Policy>& policies, const MapImage& image, const SystemView& system,
                    const ResolvedOp& op, const CompileOptions& options = {});

// "web.toml:14" for a rule, "web.toml:6 ([defaults] file)" for the default
// of `column`, "web.toml (no rule matched: the default allows)" when that
// default was not written.
std::string rule_location(const MapImage& image, uint32_t policy, int32_t rule, uint32_t column);

// Whether `p`'s [scope] holds the process, key by key as
// Evaluator::policies_in_scope: what it is now, or what its history holds
// (sticky scope), or a kind of history out of room (`full`,
// BW_MARK_FULL_*: Evaluator::marks of the whole set).
struct ScopeHold {
    std::string why;              // "uid 1000 is not in its [scope] uid (33)"; "": it holds
    std::string before;           // the keys held only by the history: "executable /usr/sbin/nginx, uid 33"
};
ScopeHold scope_hold(const Policy& p, const SystemView& system, const Subject& s, uint32_t full);

// scope_hold's why, with only the subject's own history.full out of room.
std::string scope_why(const Policy& p, const SystemView& system, const Subject& s);

// The column whose default decides `op` when no rule does.
uint32_t default_column(TestOp op, uint32_t access);

// The explanation for people: verdict, deciding rule and its text,
// every policy, every rule that lost.
void print(const Explanation& e, const TestCase& tc, const MapImage& image, RuleTexts& texts, std::ostream& out);

}  // namespace bulwark
