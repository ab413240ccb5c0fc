#include "compile/dump.hpp"

#include "monitor/monitor_dump.hpp"

#include <iomanip>

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

std::string dev_name(uint32_t dev)
{
    return std::to_string(dev >> 20) + ":" + std::to_string(dev & 0xfffff);
}

void dump_value(const MapImage& image, const bw_path_rule& v, std::ostream& out)
{
    for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
        if (!v.deny[c] && !v.audit[c]) continue;
        out << "      " << column_name(c) << ": deny=" << policies_in(image, v.deny[c])
            << " audit=" << policies_in(image, v.audit[c]) << '\n';
    }
    if (v.entry < image.entries.size()) {
        for (const auto& d : image.entries[v.entry].decisions) {
            out << "      decided: " << image.policies[d.policy].name << ' ' << column_name(d.column) << " by "
                << image.rule_location(v.entry, d.policy, d.column) << '\n';
        }
    }
    // Policy bits no rule put there came from the policy's [defaults].
    for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
        for (uint32_t p = 0; p < image.policies.size(); ++p) {
            if (!(((v.deny[c] | v.audit[c]) >> p) & 1) || image.deciding_rule(v.entry, p, c) >= 0) continue;
            out << "      default: " << image.policies[p].name << ' ' << column_name(c) << " by "
                << image.rule_location(v.entry, p, c) << '\n';
        }
    }
}

}  // namespace

void dump_image(const MapImage& image, std::ostream& out)
{
    const auto& s = image.policy_set;
    out << "policy set (generation " << s.generation << ", " << image.policies.size() << " policies)\n";
    for (size_t i = 0; i < image.policies.size(); ++i) {
        const auto& p = image.policies[i];
        out << "  [" << i << "] " << p.name << " (" << (p.mode == Mode::enforce ? "enforce" : "audit") << ") "
            << p.file << '\n';
    }
    out << "  applies: file=" << policies_in(image, s.applies[BW_KIND_FILE])
        << " exec=" << policies_in(image, s.applies[BW_KIND_EXEC])
        << " connect=" << policies_in(image, s.applies[BW_KIND_CONNECT])
        << " tamper=" << policies_in(image, s.applies[BW_KIND_TAMPER]) << '\n';
    out << "  unscoped: uid=" << policies_in(image, s.uid_free) << " cgroup=" << policies_in(image, s.cgroup_free)
        << " executable=" << policies_in(image, s.executable_free) << '\n';
    for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c)
        out << "  default " << column_name(c) << ": deny=" << policies_in(image, s.default_deny[c])
            << " audit=" << policies_in(image, s.default_audit[c]) << '\n';
    out << "  default connect: deny=" << policies_in(image, s.connect_default_deny)
        << " audit=" << policies_in(image, s.connect_default_audit) << '\n';
    out << "  fileless programs: decided by=" << policies_in(image, s.fileless)
        << " deny=" << policies_in(image, s.fileless_deny) << " audit=" << policies_in(image, s.fileless_audit)
        << '\n';
    if (s.fileless_entry < image.entries.size()) {
        for (const auto& d : image.entries[s.fileless_entry].decisions)
            out << "      decided: " << image.policies[d.policy].name << ' ' << column_name(d.column) << " by "
                << image.rule_location(s.fileless_entry, d.policy, d.column) << '\n';
    }

    out << "\ninode_rules (" << image.inode_rules.size() << " keys)\n";
    for (const auto& e : image.inode_rules) {
        const auto& info = image.entries[e.value.entry];
        out << "  dev " << dev_name(e.key.dev) << " ino " << e.key.ino << ' '
            << (e.key.role == BW_ROLE_SELF ? "self" : "ancestor") << "  " << info.path
            << (info.synthetic ? "  (parent of named keys)" : "")
            << ((e.value.flags & BW_ENTRY_NAMED_FILES) ? "  [named files]" : "")
            << ((e.value.flags & BW_ENTRY_NAMED_TREES) ? "  [named trees]" : "") << '\n';
        dump_value(image, e.value, out);
    }
    out << "\nname_rules (" << image.name_rules.size() << " keys)\n";
    for (const auto& e : image.name_rules) {
        out << "  parent " << dev_name(e.key.parent_dev) << " ino " << e.key.parent_ino << " name \"" << e.key.name
            << "\" " << (e.key.role == BW_ROLE_SELF ? "self" : "ancestor") << "  "
            << image.entries[e.value.entry].path << '\n';
        dump_value(image, e.value, out);
    }
    out << "\nscope_uids (" << image.scope_uids.size() << " keys)\n";
    for (const auto& [uid, mask] : image.scope_uids) out << "  uid " << uid << " → " << policies_in(image, mask) << '\n';
    out << "\nscope_cgroups (" << image.scope_cgroups.size() << " keys)\n";
    for (const auto& [id, mask] : image.scope_cgroups)
        out << "  cgroup id " << id << " → " << policies_in(image, mask) << '\n';
    out << "\nscope_exe_inodes (" << image.scope_exe_inodes.size() << " keys)\n";
    for (const auto& [k, mask] : image.scope_exe_inodes)
        out << "  dev " << dev_name(k.dev) << " ino " << k.ino << " → " << policies_in(image, mask) << '\n';
    out << "\nscope_exe_names (" << image.scope_exe_names.size() << " keys)\n";
    for (const auto& [k, mask] : image.scope_exe_names)
        out << "  parent " << dev_name(k.parent_dev) << " ino " << k.parent_ino << " name \"" << k.name << "\" → "
            << policies_in(image, mask) << '\n';

    auto connect_value = [&](const bw_connect_rule& v) {
        if (v.flags & BW_CONNECT_BY_PORT) {
            out << "      by protocol and port: see connect_ports entry " << v.entry << '\n';
            return;
        }
        out << "      deny=" << policies_in(image, v.deny) << " audit=" << policies_in(image, v.audit) << '\n';
        if (v.entry < image.entries.size())
            for (const auto& d : image.entries[v.entry].decisions)
                out << "      decided: " << image.policies[d.policy].name << " by "
                    << image.rule_location(v.entry, d.policy, d.column) << '\n';
    };
    out << "\nconnect_v4 (" << image.connect_v4.size() << " keys)\n";
    for (const auto& e : image.connect_v4) {
        out << "  " << image.entries[e.value.entry].path << "  (entry " << e.value.entry << ")\n";
        connect_value(e.value);
    }
    out << "\nconnect_v6 (" << image.connect_v6.size() << " keys)\n";
    for (const auto& e : image.connect_v6) {
        out << "  " << image.entries[e.value.entry].path << "  (entry " << e.value.entry << ")\n";
        connect_value(e.value);
    }
    out << "\nconnect_ports (" << image.connect_ports.size() << " keys)\n";
    for (const auto& e : image.connect_ports) {
        const uint32_t first = (uint32_t(e.key.port[0]) << 8) | e.key.port[1];
        const uint32_t bits = e.key.prefixlen - 40;
        out << "  entry " << e.key.entry << ' ' << (e.key.protocol == BW_PROTO_TCP ? "tcp" : "udp") << " ports "
            << first << '-' << (first + (1u << (16 - bits)) - 1) << "  (" << image.entries[e.value.entry].path
            << ")\n";
        connect_value(e.value);
    }
    if (!image.monitors.empty()) dump_monitors(image, out);
}

}  // namespace bulwark
