#include "compile/map_image.hpp"

namespace bulwark {

std::string basename_of(const std::string& path)
{
    auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

int32_t MapImage::deciding_rule(uint32_t entry, uint32_t policy, uint32_t column) const
{
    if (entry >= entries.size()) return -1;
    for (const auto& d : entries[entry].decisions)
        if (d.policy == policy && d.column == column) return d.rule;
    return -1;
}

std::string MapImage::rule_location(uint32_t entry, uint32_t policy, uint32_t column) const
{
    if (policy >= policies.size()) return "";
    int32_t rule = deciding_rule(entry, policy, column);
    if (rule >= 0) {
        const auto& pos = rules[static_cast<size_t>(rule)].pos;
        return basename_of(pos.file) + ":" + std::to_string(pos.line);
    }
    const auto& p = policies[policy];
    const auto& pos = column < kDecisionColumns ? p.default_pos[column] : SourcePos{};
    std::string loc = basename_of(p.file);
    if (pos.line > 0) loc += ":" + std::to_string(pos.line);
    return loc;
}

}  // namespace bulwark
