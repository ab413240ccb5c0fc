// `bulwark compile --dump --json`, the monitors: every monitor rule, every
// key and value of every monitor map, and for each value the rule each
// policy reports through (resolved from mon_rule_refs, so nobody has to
// join the numbers by hand).
#include "compile/dump_json.hpp"
#include "monitor/syscall_table.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace bulwark::dump_json {
namespace {

// [{"policy", "rule", "at"}...] for every policy of `mask` at `entry`;
// "rule" is null when no rule is recorded (the BPF side counts that).
void reported_by(Json& j, const MapImage& image, uint32_t entry, uint64_t mask)
{
    const MonitorImage& mon = image.monitors;
    j.open('[');
    for (uint32_t p = 0; p < image.policies.size(); ++p) {
        if (!(mask & (1ull << p))) continue;
        const int32_t rule = mon.rule_of(entry, p);
        j.open('{').key("policy").str(image.policies[p].name).key("rule");
        if (rule >= 0) {
            j.num(static_cast<uint64_t>(rule)).key("at").str(mon.rule_location(static_cast<uint32_t>(rule)));
        } else {
            j.null();
        }
        j.close('}');
    }
    j.close(']');
}

// {"path", "exact", "prefixlen"}: exact keys hold their NUL.
void path_key(Json& j, const bw_mon_path_key& k)
{
    const size_t n = strnlen(k.path, sizeof k.path);
    j.open('{').key("path").str(std::string_view(k.path, n));
    j.key("exact").boolean(k.prefixlen > n * 8).key("prefixlen").num(k.prefixlen).close('}');
}

std::string network(const bw_mon_addr_key& k)
{
    const bool v4 = k.family == BW_MON_FAMILY_IPV4;
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(v4 ? AF_INET : AF_INET6, k.addr, buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(k.prefixlen - 32);
}

}  // namespace

void monitors(Json& j, const MapImage& image)
{
    const MonitorImage& mon = image.monitors;
    j.key("monitors").open('{');

    j.key("applies").open('{');
    for (uint32_t k = 0; k < BW_MON_NR_KINDS; ++k) {
        j.key(monitor_kind_name(k));
        policies(j, image, mon.set.applies[k]);
    }
    j.close('}');

    j.key("rules").open('[');
    for (uint32_t r = 0; r < mon.rules.size(); ++r) {
        const MonitorRule& rule = mon.rules[r];
        j.open('{').key("index").num(r).key("policy").str(image.policies[rule.policy].name);
        j.key("kind").str(monitor_kind_name(rule.kind)).key("action").str(monitor_action_name(rule.action));
        j.key("rate_limit").num(rule.rate_limit).key("at").str(mon.rule_location(r)).close('}');
    }
    j.close(']');

    // Names that cannot be made absolute report through each policy's
    // first [[monitor.file]]; a program not allowed through its [monitor.process].
    j.key("unresolved_paths_reported_by");
    reported_by(j, image, BW_MON_ENTRY_UNRESOLVED, mon.set.applies[BW_MON_FILE]);
    j.key("programs_not_allowed_reported_by");
    reported_by(j, image, BW_MON_ENTRY_PROCESS, mon.set.applies[BW_MON_PROCESS]);

    j.key("maps").open('{');
    j.key("mon_file_paths").open('[');
    for (const auto& e : mon.file_paths) {
        j.open('{').key("key");
        path_key(j, e.key);
        j.key("entry").num(e.value.entry).key("policies");
        policies(j, image, e.value.policies);
        j.key("reported_by");
        reported_by(j, image, e.value.entry, e.value.policies);
        j.close('}');
    }
    j.close(']');

    j.key("mon_process_allowed").open('[');
    for (const auto& e : mon.process_allowed) {
        j.open('{').key("key");
        path_key(j, e.key);
        j.key("entry").num(e.value.entry).key("allowed_by");
        policies(j, image, e.value.policies);
        j.close('}');
    }
    j.close(']');

    j.key("mon_syscall_uids").open('[');
    for (const auto& [uid, v] : mon.syscall_uids) {
        j.open('{').key("uid").num(uid).key("entry").num(v.entry).key("policies");
        policies(j, image, v.policies);
        j.key("kill");
        policies(j, image, v.act);
        j.key("reported_by");
        reported_by(j, image, v.entry, v.policies);
        j.close('}');
    }
    j.close(']');

    j.key("mon_syscall_allowed").open('[');
    for (const auto& [k, mask] : mon.syscall_allowed) {
        j.open('{').key("uid").num(k.uid).key("syscall").str(syscall_name(k.nr)).key("nr").num(k.nr);
        j.key("allowed_by");
        policies(j, image, mask);
        j.close('}');
    }
    j.close(']');

    j.key("mon_connect_nets").open('[');
    for (const auto& e : mon.connect_nets) {
        j.open('{').key("key").str(network(e.key));
        j.key("family").str(e.key.family == BW_MON_FAMILY_IPV4 ? "ipv4" : "ipv6");
        j.key("entry").num(e.value.entry).key("policies");
        policies(j, image, e.value.policies);
        j.close('}');
    }
    j.close(']');

    j.key("mon_connect_ports").open('[');
    for (const auto& e : mon.connect_ports) {
        const uint32_t first = (uint32_t(e.key.port[0]) << 8) | e.key.port[1];
        const uint32_t last = first + (1u << (16 - (e.key.prefixlen - 40))) - 1;
        j.open('{').key("key").open('{').key("net").num(e.key.net);
        if (e.key.net < mon.entries.size()) j.key("network").str(mon.entries[e.key.net].what);
        j.key("protocol").str(e.key.protocol == 6 ? "tcp" : e.key.protocol == 17 ? "udp" : "?");
        j.key("ports").str(std::to_string(first) + "-" + std::to_string(last)).close('}');
        j.key("entry").num(e.value.entry).key("policies");
        policies(j, image, e.value.policies);
        j.key("reported_by");
        reported_by(j, image, e.value.entry, e.value.policies);
        j.close('}');
    }
    j.close(']');
    j.close('}');  // maps
    j.close('}');  // monitors
}

}  // namespace bulwark::dump_json
