#include "monitor/monitor_dump.hpp"

#include "monitor/syscall_table.hpp"

#include <cstring>

namespace bulwark {
namespace {

std::string policies_in(const MapImage& image, uint64_t mask)
{
    if (!mask) return "-";
    std::string out;
    for (size_t i = 0; i < image.policies.size(); ++i) {
        if (!(mask & (1ull << i))) continue;
        if (!out.empty()) out += ',';
        out += image.policies[i].name;
    }
    return out;
}

// "policy → rule" for every policy of `mask` at `entry`.
std::string reporters(const MapImage& image, uint32_t entry, uint64_t mask)
{
    std::string out;
    for (size_t p = 0; p < image.policies.size(); ++p) {
        if (!(mask & (1ull << p))) continue;
        const int32_t rule = image.monitors.rule_of(entry, static_cast<uint32_t>(p));
        if (!out.empty()) out += ", ";
        out += image.policies[p].name + " by " +
               (rule >= 0 ? image.monitors.rule_location(static_cast<uint32_t>(rule)) : std::string("?"));
    }
    return out.empty() ? "-" : out;
}

std::string key_text(const bw_mon_path_key& k)
{
    const std::string path(k.path, strnlen(k.path, sizeof k.path));
    return path + (k.prefixlen > path.size() * 8 ? "\\0" : "") + "  (" + std::to_string(k.prefixlen) + " bits)";
}

}  // namespace

void dump_monitors(const MapImage& image, std::ostream& out)
{
    const MonitorImage& mon = image.monitors;
    out << "\nmonitor_sets\n";
    for (uint32_t k = 0; k < BW_MON_NR_KINDS; ++k)
        out << "  applies " << monitor_kind_name(k) << ": " << policies_in(image, mon.set.applies[k]) << '\n';
    out << "\nmon_rule_cfg (" << mon.rule_cfg.size() << " rules)\n";
    for (size_t r = 0; r < mon.rule_cfg.size(); ++r) {
        out << "  [" << r << "] " << mon.rule_location(static_cast<uint32_t>(r)) << ' '
            << monitor_kind_name(mon.rule_cfg[r].kind) << ' ' << monitor_action_name(mon.rule_cfg[r].action) << ", "
            << mon.rules[r].rate_limit << "/s\n";
    }
    out << "\nmon_file_paths (" << mon.file_paths.size() << " keys)\n";
    for (const auto& e : mon.file_paths)
        out << "  " << key_text(e.key) << " → " << reporters(image, e.value.entry, e.value.policies) << '\n';
    out << "\nmon_process_allowed (" << mon.process_allowed.size() << " keys)\n";
    for (const auto& e : mon.process_allowed)
        out << "  " << key_text(e.key) << " → allowed by " << policies_in(image, e.value.policies) << '\n';
    out << "\nmon_syscall_uids (" << mon.syscall_uids.size() << " keys)\n";
    for (const auto& [uid, v] : mon.syscall_uids) {
        out << "  uid " << uid << " → " << reporters(image, v.entry, v.policies);
        if (v.act) out << "; kill: " << policies_in(image, v.act);
        out << '\n';
    }
    out << "\nmon_syscall_allowed (" << mon.syscall_allowed.size() << " keys)\n";
    for (const auto& [k, mask] : mon.syscall_allowed)
        out << "  uid " << k.uid << ' ' << syscall_name(k.nr) << " (" << k.nr << ") → " << policies_in(image, mask)
            << '\n';
    out << "\nmon_connect_nets (" << mon.connect_nets.size() << " keys)\n";
    for (const auto& e : mon.connect_nets)
        out << "  entry " << e.value.entry << ' ' << mon.entries[e.value.entry].what << '\n';
    out << "\nmon_connect_ports (" << mon.connect_ports.size() << " keys)\n";
    for (const auto& e : mon.connect_ports) {
        const uint32_t first = (uint32_t(e.key.port[0]) << 8) | e.key.port[1];
        const uint32_t bits = e.key.prefixlen - 40;
        out << "  net " << e.key.net << (e.key.protocol == 6 ? " tcp " : " udp ") << first << '-'
            << (first + (1u << (16 - bits)) - 1) << " → " << reporters(image, e.value.entry, e.value.policies) << '\n';
    }
}

}  // namespace bulwark
