#include "kernel/monitor_publisher.hpp"

#include "kernel/bpf_handles.hpp"
#include "kernel/own_objects.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>

#include <cerrno>
#include <vector>

namespace bulwark {
namespace {

// A map of `type` holding exactly the given entries (at least room for
// one: a map cannot be empty-sized). Every update is checked.
template <typename K, typename V>
UniqueFd make_map(bpf_map_type type, const char* name, const std::vector<std::pair<K, V>>& entries)
{
    LIBBPF_OPTS(bpf_map_create_opts, opts);
    if (type == BPF_MAP_TYPE_LPM_TRIE) opts.map_flags = BPF_F_NO_PREALLOC;
    const auto n = static_cast<uint32_t>(entries.size());
    int fd = bpf_map_create(type, name, sizeof(K), sizeof(V), n ? n : 1, &opts);
    if (fd < 0) throw Error(std::string("cannot create map ") + name + ": " + errno_text(errno));
    UniqueFd map(fd);
    own_object(BW_OBJ_MAP, fd);  // an inner map of bulwark's: self-protection
    for (uint32_t i = 0; i < n; ++i) {
        if (bpf_map_update_elem(fd, &entries[i].first, &entries[i].second, BPF_NOEXIST) != 0)
            throw Error(std::string("cannot fill map ") + name + " (entry " + std::to_string(i) + " of " +
                        std::to_string(n) + "): " + errno_text(errno));
    }
    return map;
}

template <typename E>
auto pairs_of(const std::vector<E>& entries)
{
    std::vector<std::pair<decltype(E::key), decltype(E::value)>> out;
    out.reserve(entries.size());
    for (const auto& e : entries) out.emplace_back(e.key, e.value);
    return out;
}

}  // namespace

MonitorPublisher::MonitorPublisher(const SharedMaps& maps)
    : sets_(maps.fd("monitor_sets")),
      rule_cfg_(maps.fd("mon_rule_cfg")),
      rule_refs_(maps.fd("mon_rule_refs")),
      file_paths_(maps.fd("mon_file_paths")),
      process_allowed_(maps.fd("mon_process_allowed")),
      connect_nets_(maps.fd("mon_connect_nets")),
      connect_ports_(maps.fd("mon_connect_ports")),
      syscall_uids_(maps.fd("mon_syscall_uids")),
      syscall_allowed_(maps.fd("mon_syscall_allowed"))
{
}

void MonitorPublisher::fill(const MonitorImage& image, uint32_t slot, uint32_t generation, InnerMaps& inner)
{
    if (image.rules.size() > BW_MON_MAX_RULES)
        throw Error("internal: " + std::to_string(image.rules.size()) + " monitor rules, more than the maps hold");

    // Installed with the policy maps, by the caller (one wait for all).
    auto refs = make_map(BPF_MAP_TYPE_HASH, "bw_mon_refs", image.rule_refs);
    auto files = make_map(BPF_MAP_TYPE_LPM_TRIE, "bw_mon_files", pairs_of(image.file_paths));
    auto process = make_map(BPF_MAP_TYPE_LPM_TRIE, "bw_mon_process", pairs_of(image.process_allowed));
    auto nets = make_map(BPF_MAP_TYPE_LPM_TRIE, "bw_mon_nets", pairs_of(image.connect_nets));
    auto ports = make_map(BPF_MAP_TYPE_LPM_TRIE, "bw_mon_ports", pairs_of(image.connect_ports));
    auto uids = make_map(BPF_MAP_TYPE_HASH, "bw_mon_uids", image.syscall_uids);
    auto allowed = make_map(BPF_MAP_TYPE_HASH, "bw_mon_allowed", image.syscall_allowed);
    inner.add(rule_refs_, slot, std::move(refs), "mon_rule_refs");
    inner.add(file_paths_, slot, std::move(files), "mon_file_paths");
    inner.add(process_allowed_, slot, std::move(process), "mon_process_allowed");
    inner.add(connect_nets_, slot, std::move(nets), "mon_connect_nets");
    inner.add(connect_ports_, slot, std::move(ports), "mon_connect_ports");
    inner.add(syscall_uids_, slot, std::move(uids), "mon_syscall_uids");
    inner.add(syscall_allowed_, slot, std::move(allowed), "mon_syscall_allowed");

    for (uint32_t rule = 0; rule < image.rule_cfg.size(); ++rule) {
        const uint32_t index = slot * BW_MON_MAX_RULES + rule;
        if (bpf_map_update_elem(rule_cfg_, &index, &image.rule_cfg[rule], BPF_ANY) != 0)
            throw Error("cannot write monitor rule " + std::to_string(rule) + ": " + errno_text(errno));
    }
    bw_monitor_set set = image.set;
    set.generation = generation;
    set.rules = static_cast<uint32_t>(image.rule_cfg.size());
    if (bpf_map_update_elem(sets_, &slot, &set, BPF_ANY) != 0)
        throw Error("cannot write the monitor set: " + errno_text(errno));
}

}  // namespace bulwark
