// `bulwark compile --dump --json`: the map image for machines — every map,
// every key and value, and the rule (or [defaults] value) each policy's
// verdict in it came from; then the monitor maps, with the rule each value
// reports through (dump_json_monitors.cpp). Policies are named, not
// numbered, so a diff of two dumps reads like the change that caused it.
#include "compile/dump.hpp"
#include "compile/dump_json.hpp"

#include <arpa/inet.h>

namespace bulwark {
namespace {

using dump_json::Json;
using dump_json::loc;
using dump_json::policies;

const char* action_name(Action a)
{
    return a == Action::deny ? "deny" : a == Action::audit ? "audit" : "allow";
}

std::string dev_name(uint32_t dev)
{
    return std::to_string(dev >> 20) + ":" + std::to_string(dev & 0xfffff);
}

// {"read": [...], "write": [...], ...} for the columns with any policy.
void by_column(Json& j, const MapImage& image, const __u64 (&masks)[BW_NR_COLUMNS])
{
    j.open('{');
    for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
        if (!masks[c]) continue;
        j.key(column_name(c));
        policies(j, image, masks[c]);
    }
    j.close('}');
}

// Who decided what at an entry: every non-default decision, and every
// policy bit that came from a default.
void decided(Json& j, const MapImage& image, uint32_t entry, const __u64* deny, const __u64* audit,
             uint32_t first_column, uint32_t columns)
{
    j.key("decided").open('[');
    for (uint32_t c = first_column; c < first_column + columns; ++c) {
        const uint64_t set = (deny ? deny[c - first_column] : 0) | (audit ? audit[c - first_column] : 0);
        for (uint32_t p = 0; p < image.policies.size(); ++p) {
            const int32_t rule = image.deciding_rule(entry, p, c);
            const bool has_bit = set & (1ull << p);
            if (rule < 0 && !has_bit) continue;
            const std::string verdict = (deny && (deny[c - first_column] >> p) & 1)     ? "deny"
                                        : (audit && (audit[c - first_column] >> p) & 1) ? "audit"
                                                                                         : "allow";
            j.open('{').key("policy").str(image.policies[p].name).key("column").str(column_name(c));
            j.key("verdict").str(verdict);
            if (rule >= 0) {
                const RuleInfo& r = image.rules[static_cast<size_t>(rule)];
                j.key("rule").str(loc(r.pos)).key("kind").str(r.kind);
            } else {
                j.key("rule").null().key("default").str(image.rule_location(entry, p, c));
            }
            j.close('}');
        }
    }
    j.close(']');
}

void path_value(Json& j, const MapImage& image, const bw_path_rule& v)
{
    j.key("value").open('{');
    j.key("deny");
    by_column(j, image, v.deny);
    j.key("audit");
    by_column(j, image, v.audit);
    j.key("entry").num(v.entry);
    j.key("named_children").boolean(v.flags & BW_ENTRY_NAMED);
    j.close('}');
    if (v.entry < image.entries.size()) {
        const EntryInfo& e = image.entries[v.entry];
        j.key("path").str(e.path).key("synthetic").boolean(e.synthetic);
    }
    decided(j, image, v.entry, v.deny, v.audit, 0, BW_NR_COLUMNS);
}

void connect_value(Json& j, const MapImage& image, const bw_connect_rule& v)
{
    j.key("value").open('{');
    j.key("deny");
    policies(j, image, v.deny);
    j.key("audit");
    policies(j, image, v.audit);
    j.key("entry").num(v.entry);
    j.key("by_port").boolean(v.flags & BW_CONNECT_BY_PORT);
    j.close('}');
    if (v.entry < image.entries.size()) j.key("what").str(image.entries[v.entry].path);
    if (!(v.flags & BW_CONNECT_BY_PORT)) decided(j, image, v.entry, &v.deny, &v.audit, BW_COL_CONNECT, 1);
}

std::string address(const uint8_t* addr, bool v4)
{
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(v4 ? AF_INET : AF_INET6, addr, buf, sizeof(buf));
    return buf;
}

}  // namespace

void dump_image_json(const MapImage& image, std::ostream& os)
{
    std::string out;
    Json j(out);
    const auto& s = image.policy_set;
    j.open('{').key("generation").num(s.generation);

    j.key("policies").open('[');
    for (uint32_t i = 0; i < image.policies.size(); ++i) {
        const PolicyInfo& p = image.policies[i];
        j.open('{').key("index").num(i).key("name").str(p.name).key("file").str(p.file);
        j.key("mode").str(p.mode == Mode::enforce ? "enforce" : "audit");
        j.key("defaults").open('{');
        for (uint32_t c = 0; c < kDecisionColumns; ++c) {
            if (c == BW_COL_TAMPER) continue;  // decided by scope, no [defaults] value
            j.key(column_name(c)).open('{').key("action").str(action_name(p.default_action[c]));
            if (p.default_pos[c].line > 0) j.key("at").str(loc(p.default_pos[c]));
            j.close('}');
        }
        j.close('}').close('}');
    }
    j.close(']');

    j.key("rules").open('[');
    for (uint32_t i = 0; i < image.rules.size(); ++i) {
        const RuleInfo& r = image.rules[i];
        j.open('{').key("index").num(i).key("policy").str(image.policies[r.policy].name).key("kind").str(r.kind);
        j.key("action").str(action_name(r.action)).key("at").str(loc(r.pos)).close('}');
    }
    j.close(']');

    j.key("policy_set").open('{');
    j.key("active");
    policies(j, image, s.active);
    j.key("enforcing");
    policies(j, image, s.enforcing);
    j.key("applies").open('{');
    for (auto [kind, name] : {std::pair{BW_KIND_FILE, "file"}, {BW_KIND_EXEC, "exec"}, {BW_KIND_CONNECT, "connect"},
                               {BW_KIND_TAMPER, "tamper"}}) {
        j.key(name);
        policies(j, image, s.applies[kind]);
    }
    j.close('}');
    j.key("uid_free");
    policies(j, image, s.uid_free);
    j.key("cgroup_free");
    policies(j, image, s.cgroup_free);
    j.key("executable_free");
    policies(j, image, s.executable_free);
    j.key("default_deny");
    by_column(j, image, s.default_deny);
    j.key("default_audit");
    by_column(j, image, s.default_audit);
    j.key("can_deny");
    by_column(j, image, s.can_deny);
    j.key("can_audit");
    by_column(j, image, s.can_audit);
    j.key("cgroup_levels").num(s.cgroup_levels);
    j.key("connect_default_deny");
    policies(j, image, s.connect_default_deny);
    j.key("connect_default_audit");
    policies(j, image, s.connect_default_audit);
    j.key("fileless");
    policies(j, image, s.fileless);
    j.key("fileless_deny");
    policies(j, image, s.fileless_deny);
    j.key("fileless_audit");
    policies(j, image, s.fileless_audit);
    if (s.fileless_entry < image.entries.size()) {
        const __u64 deny[1] = {s.fileless_deny}, audit[1] = {s.fileless_audit};
        j.key("fileless_rules").open('{');
        decided(j, image, s.fileless_entry, deny, audit, BW_COL_EXEC, 1);
        j.close('}');
    }
    j.close('}');

    j.key("maps").open('{');
    j.key("inode_rules").open('[');
    for (const auto& e : image.inode_rules) {
        j.open('{').key("key").open('{').key("dev").str(dev_name(e.key.dev)).key("ino").num(e.key.ino);
        j.key("role").str(e.key.role == BW_ROLE_SELF ? "self" : "ancestor").close('}');
        path_value(j, image, e.value);
        j.close('}');
    }
    j.close(']');
    j.key("name_rules").open('[');
    for (const auto& e : image.name_rules) {
        j.open('{').key("key").open('{').key("parent_dev").str(dev_name(e.key.parent_dev));
        j.key("parent_ino").num(e.key.parent_ino).key("name").str(e.key.name);
        j.key("role").str(e.key.role == BW_ROLE_SELF ? "self" : "ancestor").close('}');
        path_value(j, image, e.value);
        j.close('}');
    }
    j.close(']');
    j.key("scope_uids").open('[');
    for (const auto& [uid, mask] : image.scope_uids) {
        j.open('{').key("uid").num(uid).key("policies");
        policies(j, image, mask);
        j.close('}');
    }
    j.close(']');
    j.key("scope_cgroups").open('[');
    for (const auto& [id, mask] : image.scope_cgroups) {
        j.open('{').key("cgroup_id").num(id).key("policies");
        policies(j, image, mask);
        j.close('}');
    }
    j.close(']');
    j.key("scope_exe_inodes").open('[');
    for (const auto& [k, mask] : image.scope_exe_inodes) {
        j.open('{').key("dev").str(dev_name(k.dev)).key("ino").num(k.ino).key("policies");
        policies(j, image, mask);
        j.close('}');
    }
    j.close(']');
    j.key("scope_exe_names").open('[');
    for (const auto& [k, mask] : image.scope_exe_names) {
        j.open('{').key("parent_dev").str(dev_name(k.parent_dev)).key("parent_ino").num(k.parent_ino);
        j.key("name").str(k.name).key("policies");
        policies(j, image, mask);
        j.close('}');
    }
    j.close(']');
    j.key("connect_v4").open('[');
    for (const auto& e : image.connect_v4) {
        j.open('{').key("key").str(address(e.key.addr, true) + "/" + std::to_string(e.key.prefixlen));
        connect_value(j, image, e.value);
        j.close('}');
    }
    j.close(']');
    j.key("connect_v6").open('[');
    for (const auto& e : image.connect_v6) {
        j.open('{').key("key").str(address(e.key.addr, false) + "/" + std::to_string(e.key.prefixlen));
        connect_value(j, image, e.value);
        j.close('}');
    }
    j.close(']');
    j.key("connect_ports").open('[');
    for (const auto& e : image.connect_ports) {
        const uint32_t first = (uint32_t(e.key.port[0]) << 8) | e.key.port[1];
        const uint32_t last = first + (1u << (16 - (e.key.prefixlen - 40))) - 1;
        j.open('{').key("key").open('{').key("entry").num(e.key.entry);
        j.key("protocol").str(e.key.protocol == BW_PROTO_TCP ? "tcp" : "udp");
        j.key("ports").str(std::to_string(first) + "-" + std::to_string(last)).close('}');
        connect_value(j, image, e.value);
        j.close('}');
    }
    j.close(']');
    j.close('}');  // maps
    dump_json::monitors(j, image);
    j.close('}');
    os << out << '\n';
}

}  // namespace bulwark
