#include "monitor/monitor_eval.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace bulwark {
namespace {

uint32_t lowest_bit(uint64_t mask)
{
    return static_cast<uint32_t>(__builtin_ctzll(mask));
}

// An LPM trie lookup: the entry whose first prefixlen bits equal those of
// `data`, longest first. Keys are { __u32 prefixlen; bytes... }.
template <typename Entry>
const Entry* lpm(const std::vector<Entry>& entries, const uint8_t* data, size_t size)
{
    const Entry* best = nullptr;
    for (const Entry& e : entries) {
        const uint32_t bits = e.key.prefixlen;
        if (bits > size * 8) continue;
        const auto* key = reinterpret_cast<const uint8_t*>(&e.key) + sizeof(uint32_t);
        bool match = std::memcmp(key, data, bits / 8) == 0;
        if (match && bits % 8) {
            const uint8_t mask = static_cast<uint8_t>(0xff00u >> (bits % 8));
            match = (key[bits / 8] & mask) == (data[bits / 8] & mask);
        }
        if (match && (!best || bits > best->key.prefixlen)) best = &e;
    }
    return best;
}

const MonPathEntry* path_lookup(const std::vector<MonPathEntry>& entries, const std::string& path)
{
    uint8_t data[BW_MON_PATH_KEY] = {};
    std::memcpy(data, path.data(), std::min<size_t>(path.size(), sizeof data));  // NUL-padded, as in BPF
    return lpm(entries, data, sizeof data);
}

}  // namespace

std::optional<MonitorHit> MonitorEvaluator::hit(uint32_t entry, uint64_t policies) const
{
    if (!policies) return std::nullopt;
    MonitorHit h;
    h.policy = lowest_bit(policies);
    h.entry = entry;
    const int32_t rule = mon_.rule_of(entry, h.policy);
    if (rule < 0) return std::nullopt;  // the BPF side counts BW_STAT_MON_NO_RULE
    h.rule = static_cast<uint32_t>(rule);
    h.action = static_cast<bw_mon_action>(mon_.rule_cfg[h.rule].action);
    return h;
}

std::optional<MonitorHit> MonitorEvaluator::file(uint64_t in, const std::string& path) const
{
    in &= mon_.set.applies[BW_MON_FILE];
    const MonPathEntry* e = path_lookup(mon_.file_paths, path);
    if (!e) return std::nullopt;
    return hit(e->value.entry, e->value.policies & in);
}

std::optional<MonitorHit> MonitorEvaluator::syscall(uint64_t in, uint32_t uid, uint32_t nr, bool native_abi) const
{
    in &= mon_.set.applies[BW_MON_SYSCALLS];
    const bw_mon_match* m = nullptr;
    for (const auto& [u, v] : mon_.syscall_uids)
        if (u == uid) m = &v;
    if (!m) return std::nullopt;
    in &= m->policies;
    uint64_t allowed = 0;
    if (native_abi)
        for (const auto& [k, mask] : mon_.syscall_allowed)
            if (k.uid == uid && k.nr == nr) allowed = mask;
    const uint64_t bad = in & ~allowed;
    const uint64_t kill = bad & m->act;
    return hit(m->entry, kill ? kill : bad);
}

std::optional<MonitorHit> MonitorEvaluator::process(uint64_t in, const std::string& program,
                                                    const std::string* script) const
{
    in &= mon_.set.applies[BW_MON_PROCESS];
    auto not_allowed = [&](const std::string& path) {
        const MonPathEntry* e = path_lookup(mon_.process_allowed, path);
        return e ? in & ~e->value.policies : in;
    };
    const uint64_t bad_program = not_allowed(program);
    const uint64_t bad_script = script ? not_allowed(*script) : 0;
    auto h = hit(BW_MON_ENTRY_PROCESS, bad_program | bad_script);
    if (h) {
        h->program = bad_program & (1ull << h->policy);
        h->script = bad_script & (1ull << h->policy);
    }
    return h;
}

std::optional<MonitorHit> MonitorEvaluator::connect(uint64_t in, const std::string& addr, uint16_t port,
                                                    uint8_t protocol) const
{
    in &= mon_.set.applies[BW_MON_CONNECT];
    const bool v6 = addr.find(':') != std::string::npos;
    uint8_t bytes[16] = {};
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), bytes) != 1) return std::nullopt;

    auto lookup = [&](uint32_t family, const uint8_t* a) -> const MonPortEntry* {
        uint8_t k1[20] = {};
        std::memcpy(k1, &family, 4);
        std::memcpy(k1 + 4, a, 16);
        const MonAddrEntry* net = lpm(mon_.connect_nets, k1, sizeof k1);
        if (!net) return nullptr;
        uint8_t k2[8] = {};
        std::memcpy(k2, &net->value.entry, 4);
        k2[4] = protocol;
        k2[5] = static_cast<uint8_t>(port >> 8);
        k2[6] = static_cast<uint8_t>(port & 0xff);
        return lpm(mon_.connect_ports, k2, sizeof k2);
    };
    const MonPortEntry* e = nullptr;
    if (!v6) {
        e = lookup(BW_MON_FAMILY_IPV4, bytes);
    } else {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(bytes, mapped, 12) == 0) {
            uint8_t v4[16] = {};
            std::memcpy(v4, bytes + 12, 4);
            e = lookup(BW_MON_FAMILY_IPV4, v4);
        }
        if (!e) e = lookup(BW_MON_FAMILY_IPV6, bytes);
    }
    if (!e || !(e->value.policies & in)) return std::nullopt;
    return hit(e->value.entry, e->value.policies & in);
}

}  // namespace bulwark
