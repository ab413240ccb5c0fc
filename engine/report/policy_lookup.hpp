// RuleLookup over parsed policies: an event's "web.toml:14" back to the
// rule's text, and whether it is a [defaults] line.
#pragma once

#include "explain/rule_text.hpp"
#include "policy/model.hpp"
#include "report/report.hpp"

namespace bulwark {

class PolicyRuleLookup final : public RuleLookup {
public:
    explicit PolicyRuleLookup(std::vector<Policy> policies) : policies_(std::move(policies)) {}
    std::vector<std::string> text(const std::string& policy, const std::string& rule) const override;
    std::optional<bool> is_default(const std::string& policy, const std::string& rule) const override;

private:
    struct Found {
        SourcePos pos;
        bool is_default = false;
    };
    std::optional<Found> find(const std::string& policy, const std::string& rule) const;
    std::vector<Policy> policies_;
    mutable RuleTexts texts_;
};

}  // namespace bulwark
