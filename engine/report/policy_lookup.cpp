#include "report/policy_lookup.hpp"

#include "compile/map_image.hpp"

namespace bulwark {

std::optional<PolicyRuleLookup::Found> PolicyRuleLookup::find(const std::string& policy, const std::string& rule) const
{
    const auto colon = rule.find_last_of(':');
    if (colon == std::string::npos) return std::nullopt;
    const std::string file = rule.substr(0, colon);
    uint32_t line = 0;
    try {
        line = static_cast<uint32_t>(std::stoul(rule.substr(colon + 1)));
    } catch (...) {
        return std::nullopt;
    }
    for (const Policy& p : policies_) {
        if (p.name != policy || basename_of(p.file) != file) continue;
        for (const Default* d : {&p.defaults.file, &p.defaults.exec, &p.defaults.connect})
            if (d->given && d->pos.line == line) return Found{d->pos, true};
        for (const auto& r : p.files)
            if (r.pos.line == line) return Found{r.pos, false};
        for (const auto& r : p.execs)
            if (r.pos.line == line) return Found{r.pos, false};
        for (const auto& r : p.connects)
            if (r.pos.line == line) return Found{r.pos, false};
        // Monitor events name their table's header too.
        for (const auto& m : p.monitors.files)
            if (m.pos.line == line) return Found{m.pos, false};
        for (const auto& m : p.monitors.syscalls)
            if (m.pos.line == line) return Found{m.pos, false};
        for (const auto& m : p.monitors.connects)
            if (m.pos.line == line) return Found{m.pos, false};
        if (p.monitors.process && p.monitors.process->pos.line == line) return Found{p.monitors.process->pos, false};
    }
    return std::nullopt;
}

std::vector<std::string> PolicyRuleLookup::text(const std::string& policy, const std::string& rule) const
{
    auto f = find(policy, rule);
    if (!f) return {};
    if (f->is_default) return {texts_.line(f->pos)};
    return texts_.table(f->pos);
}

std::optional<bool> PolicyRuleLookup::is_default(const std::string& policy, const std::string& rule) const
{
    auto f = find(policy, rule);
    if (!f) return std::nullopt;
    return f->is_default;
}

}  // namespace bulwark
