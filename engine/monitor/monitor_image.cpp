#include "monitor/monitor_image.hpp"

#include <cstring>

namespace bulwark {

int32_t MonitorImage::rule_of(uint32_t entry, uint32_t policy) const
{
    for (const auto& [k, rule] : rule_refs)
        if (k.entry == entry && k.policy == policy) return static_cast<int32_t>(rule);
    return -1;
}

std::string MonitorImage::rule_location(uint32_t rule) const
{
    if (rule >= rules.size()) return "";
    const SourcePos& pos = rules[rule].pos;
    auto slash = pos.file.find_last_of('/');
    std::string base = slash == std::string::npos ? pos.file : pos.file.substr(slash + 1);
    return base + ":" + std::to_string(pos.line);
}

const char* monitor_kind_name(uint32_t kind)
{
    switch (kind) {
    case BW_MON_FILE: return "file";
    case BW_MON_SYSCALLS: return "syscalls";
    case BW_MON_PROCESS: return "process";
    case BW_MON_CONNECT: return "connect";
    default: return "unknown";
    }
}

const char* monitor_action_name(uint32_t action)
{
    switch (action) {
    case BW_MON_REPORT: return "report";
    case BW_MON_KILL: return "kill";
    case BW_MON_WOULD_KILL: return "would-kill";
    default: return "unknown";
    }
}

bw_mon_path_key mon_path_key(const std::string& path)
{
    bw_mon_path_key key{};
    const bool prefix = !path.empty() && path.back() == '/';
    const size_t bytes = std::min<size_t>(prefix ? path.size() : path.size() + 1, BW_MON_PATH_KEY);
    std::memcpy(key.path, path.data(), std::min<size_t>(path.size(), BW_MON_PATH_KEY));
    key.prefixlen = static_cast<uint32_t>(bytes * 8);
    return key;
}

}  // namespace bulwark
