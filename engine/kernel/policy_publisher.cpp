#include "kernel/policy_publisher.hpp"

#include "kernel/inner_maps.hpp"
#include "kernel/own_objects.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <cerrno>
#include <cstring>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bulwark {
namespace {

// A map of `type` sized for `count` entries, filled with `keys`/`values`
// (contiguous arrays). Batched where the kernel supports it.
UniqueFd make_map(bpf_map_type type, uint32_t flags, const char* name, uint32_t key_size, uint32_t value_size,
                  uint32_t count, const void* keys, const void* values)
{
    LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
    int fd = bpf_map_create(type, name, key_size, value_size, count ? count : 1, &opts);
    if (fd < 0) throw Error(std::string("cannot create map ") + name + ": " + errno_text(errno));
    UniqueFd map(fd);
    own_object(BW_OBJ_MAP, fd);  // an inner map of bulwark's: self-protection
    if (count == 0) return map;

    // One syscall for the whole map. The batch's elem_flags take BPF_F_LOCK
    // only (the kernel refuses BPF_NOEXIST with EINVAL): the map is new and
    // the compiler made every key once, so BPF_ANY writes the same.
    uint32_t n = count;
    LIBBPF_OPTS(bpf_map_batch_opts, batch, .elem_flags = BPF_ANY);
    if (bpf_map_update_batch(fd, keys, values, &n, &batch) == 0 && n == count) return map;

    // Kernels before 5.6, LPM tries (no batch operations) or a partial
    // batch: one by one, checking each.
    const auto* k = static_cast<const char*>(keys);
    const auto* v = static_cast<const char*>(values);
    for (uint32_t i = 0; i < count; ++i) {
        if (bpf_map_update_elem(fd, k + size_t(i) * key_size, v + size_t(i) * value_size, BPF_ANY) != 0)
            throw Error(std::string("cannot fill map ") + name + " (entry " + std::to_string(i) + " of " +
                        std::to_string(count) + "): " + errno_text(errno));
    }
    return map;
}

UniqueFd make_hash(const char* name, uint32_t key_size, uint32_t value_size, uint32_t count, const void* keys,
                   const void* values)
{
    return make_map(BPF_MAP_TYPE_HASH, 0, name, key_size, value_size, count, keys, values);
}

// An LPM trie (connect rules): BPF_F_NO_PREALLOC, as the kernel requires.
template <typename Entry>
UniqueFd make_trie_from(const char* name, const std::vector<Entry>& entries)
{
    using Key = decltype(Entry::key);
    using Value = decltype(Entry::value);
    std::vector<Key> keys;
    std::vector<Value> values;
    keys.reserve(entries.size());
    values.reserve(entries.size());
    for (const auto& e : entries) {
        keys.push_back(e.key);
        values.push_back(e.value);
    }
    return make_map(BPF_MAP_TYPE_LPM_TRIE, BPF_F_NO_PREALLOC, name, sizeof(Key), sizeof(Value),
                    static_cast<uint32_t>(entries.size()), keys.data(), values.data());
}

// A hash map of keys[i] → values[i].
template <typename K, typename V>
UniqueFd make_hash_from_columns(const char* name, const std::vector<K>& keys, const std::vector<V>& values)
{
    return make_hash(name, sizeof(K), sizeof(V), static_cast<uint32_t>(keys.size()), keys.data(), values.data());
}

template <typename Entry, typename Key, typename Value>
UniqueFd make_hash_from(const char* name, const std::vector<Entry>& entries, Key Entry::*key, Value Entry::*value)
{
    std::vector<Key> keys;
    std::vector<Value> values;
    keys.reserve(entries.size());
    values.reserve(entries.size());
    for (const auto& e : entries) {
        keys.push_back(e.*key);
        values.push_back(e.*value);
    }
    return make_hash_from_columns(name, keys, values);
}

template <typename K, typename V>
UniqueFd make_hash_from_pairs(const char* name, const std::vector<std::pair<K, V>>& pairs)
{
    std::vector<K> keys;
    std::vector<V> values;
    for (const auto& [k, v] : pairs) {
        keys.push_back(k);
        values.push_back(v);
    }
    return make_hash_from_columns(name, keys, values);
}

// The image's name_rules, split by length (abi.h, bw_short_name_key): the
// short names go to short_name_rules, the others stay in name_rules. Keys
// and values side by side, as the batched update takes them.
struct SplitNames {
    std::vector<bw_name_key> long_keys;
    std::vector<bw_path_rule> long_values;
    std::vector<bw_short_name_key> short_keys;
    std::vector<bw_path_rule> short_values;
};

SplitNames split_names(const std::vector<NameEntry>& names)
{
    SplitNames out;
    for (const auto& e : names) {
        const size_t len = ::strnlen(e.key.name, sizeof(e.key.name));
        if (!BW_NAME_IS_SHORT(len)) {
            out.long_keys.push_back(e.key);
            out.long_values.push_back(e.value);
            continue;
        }
        bw_short_name_key k{};
        k.parent_ino = e.key.parent_ino;
        k.parent_dev = e.key.parent_dev;
        k.role = e.key.role;
        std::memcpy(k.name, e.key.name, len);
        out.short_keys.push_back(k);
        out.short_values.push_back(e.value);
    }
    return out;
}

}  // namespace

PolicyPublisher::PolicyPublisher(const SharedMaps& maps)
    : live_slot_(maps.fd("live_slot")),
      policy_sets_(maps.fd("policy_sets")),
      inode_rules_(maps.fd("inode_rules")),
      name_rules_(maps.fd("name_rules")),
      short_name_rules_(maps.fd("short_name_rules")),
      scope_uids_(maps.fd("scope_uids")),
      scope_cgroups_(maps.fd("scope_cgroups")),
      scope_exe_inodes_(maps.fd("scope_exe_inodes")),
      scope_exe_names_(maps.fd("scope_exe_names")),
      connect_v4_(maps.fd("connect_v4")),
      connect_v6_(maps.fd("connect_v6")),
      connect_ports_(maps.fd("connect_ports"))
{
    if (MonitorPublisher::available(maps)) monitors_.emplace(maps);
    // Maps taken over from pins hold a live set: continue from it (the
    // next set goes into the other slot, with a larger generation).
    bw_live live{};
    const uint32_t zero = 0;
    if (bpf_map_lookup_elem(live_slot_, &zero, &live) == 0 && live.generation > 0) {
        live_ = live.slot;
        generation_ = live.generation;
    }
}

// A hook that read the old live slot may still be running when the next
// publish wants to rewrite that slot. Non-sleepable BPF programs run under
// RCU, and membarrier(MEMBARRIER_CMD_GLOBAL) waits for an RCU grace period.
void PolicyPublisher::wait_for_readers() const
{
    if (::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0) return;
    // nohz_full kernels refuse it; hooks take microseconds, so this is ample.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

uint32_t PolicyPublisher::publish(const MapImage& image)
{
    const uint32_t next = 1 - live_;
    if (generation_ >= 1) wait_for_readers();

    // Everything into the slot that is not live; throw before the flip on
    // any failure. The inner maps stay alive through the outer maps once
    // installed.
    auto inodes = make_hash_from("bw_inode_rules", image.inode_rules, &InodeEntry::key, &InodeEntry::value);
    const SplitNames split = split_names(image.name_rules);
    auto names = make_hash_from_columns("bw_name_rules", split.long_keys, split.long_values);
    auto short_names = make_hash_from_columns("bw_short_names", split.short_keys, split.short_values);
    auto uids = make_hash_from_pairs("bw_scope_uids", image.scope_uids);
    auto cgroups = make_hash_from_pairs("bw_scope_cgroups", image.scope_cgroups);
    auto exe_inodes = make_hash_from_pairs("bw_exe_inodes", image.scope_exe_inodes);
    auto exe_names = make_hash_from_pairs("bw_exe_names", image.scope_exe_names);
    auto v4 = make_trie_from("bw_connect_v4", image.connect_v4);
    auto v6 = make_trie_from("bw_connect_v6", image.connect_v6);
    auto ports = make_trie_from("bw_conn_ports", image.connect_ports);
    InnerMaps inner;
    inner.add(inode_rules_, next, std::move(inodes), "inode_rules");
    inner.add(name_rules_, next, std::move(names), "name_rules");
    inner.add(short_name_rules_, next, std::move(short_names), "short_name_rules");
    inner.add(scope_uids_, next, std::move(uids), "scope_uids");
    inner.add(scope_cgroups_, next, std::move(cgroups), "scope_cgroups");
    inner.add(scope_exe_inodes_, next, std::move(exe_inodes), "scope_exe_inodes");
    inner.add(scope_exe_names_, next, std::move(exe_names), "scope_exe_names");
    inner.add(connect_v4_, next, std::move(v4), "connect_v4");
    inner.add(connect_v6_, next, std::move(v6), "connect_v6");
    inner.add(connect_ports_, next, std::move(ports), "connect_ports");

    bw_policy_set set = image.policy_set;
    set.generation = generation_ + 1;
    if (monitors_)
        monitors_->fill(image.monitors, next, set.generation, inner);
    else if (!image.monitors.empty())
        throw Error("internal: the policy set has monitors but no monitor object is loaded");
    inner.install();
    if (bpf_map_update_elem(policy_sets_, &next, &set, BPF_ANY) != 0)
        throw Error("cannot write the policy set: " + errno_text(errno));

    // The flip: one 8-byte value, read once per hook invocation.
    const uint32_t zero = 0;
    bw_live live{next, set.generation};
    if (bpf_map_update_elem(live_slot_, &zero, &live, BPF_ANY) != 0)
        throw Error("cannot switch to the new policy set: " + errno_text(errno));
    live_ = next;
    generation_ = set.generation;
    // The inner maps this publish replaced in slot `next` are gone.
    prune_own_objects();
    return generation_;
}

}  // namespace bulwark
