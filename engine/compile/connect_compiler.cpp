#include "compile/connect_compiler.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

namespace bulwark {
namespace {

int strength(Action a)
{
    return a == Action::deny ? 2 : a == Action::audit ? 1 : 0;
}

void clear_host_bits(Network& n)
{
    const uint32_t bytes = n.v4 ? 4 : 16;
    for (uint32_t i = 0; i < bytes; ++i) {
        const uint32_t first_bit = i * 8;
        if (first_bit >= n.len) {
            n.addr[i] = 0;
        } else if (n.len - first_bit < 8) {
            n.addr[i] &= static_cast<uint8_t>(0xff << (8 - (n.len - first_bit)));
        }
    }
    for (uint32_t i = bytes; i < 16; ++i) n.addr[i] = 0;
}

Network masked(Network n, uint32_t len)
{
    n.len = len;
    clear_host_bits(n);
    return n;
}

const char* protocol_name(uint8_t p)
{
    return p == BW_PROTO_TCP ? "tcp" : "udp";
}

struct NetworkHash {
    size_t operator()(const Network& n) const
    {
        uint64_t lo = 0, hi = 0;
        std::memcpy(&lo, n.addr.data(), 8);
        std::memcpy(&hi, n.addr.data() + 8, 8);
        uint64_t h = lo * 0x9e3779b97f4a7c15ull ^ hi * 0xc2b2ae3d27d4eb4full ^
                     (uint64_t(n.len) << 1 | uint64_t(n.v4)) * 0xff51afd7ed558ccdull;
        return static_cast<size_t>(h ^ (h >> 32));
    }
};

struct ConnectRuleAt {
    uint32_t policy;
    int32_t rule;                 // index into MapImage::rules
    uint8_t protocols;            // ProtocolBits == 1 << (bw_protocol - 1)
    std::vector<std::pair<uint16_t, uint16_t>> ports;  // empty: every port
    Action action;
};

bool covers(const ConnectRuleAt& r, uint8_t protocol, uint16_t port)
{
    if (!(r.protocols & (1u << (protocol - 1)))) return false;
    if (r.ports.empty()) return true;
    for (const auto& [a, b] : r.ports)
        if (a <= port && port <= b) return true;
    return false;
}

// Every policy's verdict for one (protocol, port interval) under one entry.
struct Fold {
    uint64_t deny = 0, audit = 0;
    std::vector<Decision> decisions;
    bool operator==(const Fold& o) const
    {
        if (deny != o.deny || audit != o.audit || decisions.size() != o.decisions.size()) return false;
        for (size_t i = 0; i < decisions.size(); ++i)
            if (decisions[i].policy != o.decisions[i].policy || decisions[i].rule != o.decisions[i].rule) return false;
        return true;
    }
};

struct Interval {
    uint16_t first, last;
    Fold fold;
};

class ConnectCompiler {
public:
    ConnectCompiler(const CompileOptions& options, MapImage& image, Diagnostics& diags)
        : options_(options), image_(image), diags_(diags)
    {
    }

    void reserve(size_t networks) { networks_.reserve(networks); }

    void add(const Network& n, ConnectRuleAt r, const SourcePos& pos)
    {
        networks_[n].push_back(std::move(r));
        lengths_[n.v4].insert(n.len);
        last_pos_ = pos;
    }

    void finish()
    {
        // In network order, the order of the image's entries.
        std::vector<const Network*> order;
        order.reserve(networks_.size());
        for (const auto& [net, rules] : networks_) order.push_back(&net);
        std::sort(order.begin(), order.end(), [](const Network* a, const Network* b) { return *a < *b; });
        for (const Network* net : order) emit(*net);
        const size_t most = std::max({image_.connect_v4.size(), image_.connect_v6.size(), image_.connect_ports.size()});
        if (most > options_.max_connect_keys) {
            diags_.error(last_pos_, "the [[connect]] rules need " + std::to_string(most) +
                                        " keys in one connect map, more than it holds (" +
                                        std::to_string(options_.max_connect_keys) +
                                        "); merge CIDRs or use fewer port ranges");
        }
    }

private:
    // Rule networks containing `e` (itself included), narrowest first.
    std::vector<const std::vector<ConnectRuleAt>*> ancestors(const Network& e) const
    {
        std::vector<const std::vector<ConnectRuleAt>*> out;
        const auto& lengths = lengths_.at(e.v4);
        for (auto len = lengths.rbegin(); len != lengths.rend(); ++len) {
            if (*len > e.len) continue;
            auto it = networks_.find(masked(e, *len));
            if (it != networks_.end()) out.push_back(&it->second);
        }
        return out;
    }

    // The verdict of every policy for `protocol` at `port` under `up`.
    Fold fold(const std::vector<const std::vector<ConnectRuleAt>*>& up, uint8_t protocol, uint16_t port)
    {
        const auto& set = image_.policy_set;
        Fold f;
        uint64_t decided = 0;
        for (const auto* rules : up) {
            // Strongest rule by policy, in policy order: stable decisions.
            best_.clear();
            for (const auto& r : *rules) {
                if ((decided & (1ull << r.policy)) || !covers(r, protocol, port)) continue;
                auto b = std::find_if(best_.begin(), best_.end(), [&](const auto& x) { return x.first == r.policy; });
                if (b == best_.end()) best_.emplace_back(r.policy, &r);
                else if (strength(r.action) > strength(b->second->action)) b->second = &r;
            }
            std::sort(best_.begin(), best_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
            for (const auto& [policy, r] : best_) {
                decided |= 1ull << policy;
                if (r->action == Action::deny) f.deny |= 1ull << policy;
                if (r->action == Action::audit) f.audit |= 1ull << policy;
                f.decisions.push_back({policy, BW_COL_CONNECT, r->rule});
            }
        }
        f.deny |= set.connect_default_deny & ~decided;
        f.audit |= set.connect_default_audit & ~decided;
        std::sort(f.decisions.begin(), f.decisions.end(),
                  [](const Decision& a, const Decision& b) { return a.policy < b.policy; });
        return f;
    }

    uint32_t new_entry(std::string path, KeyKind kind, std::vector<Decision> decisions)
    {
        EntryInfo info;
        info.path = std::move(path);
        info.key_kind = kind;
        info.role = BW_ROLE_SELF;
        info.decisions = std::move(decisions);
        image_.entries.push_back(std::move(info));
        return static_cast<uint32_t>(image_.entries.size() - 1);
    }

    void put_cidr(const Network& net, const bw_connect_rule& value)
    {
        if (net.v4) {
            Cidr4Entry e;
            e.key.prefixlen = net.len;
            std::memcpy(e.key.addr, net.addr.data(), 4);
            e.value = value;
            image_.connect_v4.push_back(e);
        } else {
            Cidr6Entry e;
            e.key.prefixlen = net.len;
            std::memcpy(e.key.addr, net.addr.data(), 16);
            e.value = value;
            image_.connect_v6.push_back(e);
        }
    }

    void emit(const Network& net)
    {
        const auto up = ancestors(net);
        // Elementary intervals: cut at every port range edge of every rule above.
        std::vector<uint32_t> cuts{0};
        for (const auto* rules : up)
            for (const auto& r : *rules)
                for (const auto& [a, b] : r.ports) {
                    cuts.push_back(a);
                    cuts.push_back(uint32_t(b) + 1);
                }
        std::sort(cuts.begin(), cuts.end());
        cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
        while (!cuts.empty() && cuts.back() > 65535) cuts.pop_back();

        // Per protocol, the intervals with equal verdicts merged.
        std::array<std::vector<Interval>, 2> by_protocol;
        for (uint8_t protocol : {uint8_t(BW_PROTO_TCP), uint8_t(BW_PROTO_UDP)}) {
            auto& out = by_protocol[protocol - 1];
            for (size_t i = 0; i < cuts.size(); ++i) {
                const uint16_t first = static_cast<uint16_t>(cuts[i]);
                const uint16_t last = static_cast<uint16_t>(i + 1 < cuts.size() ? cuts[i + 1] - 1 : 65535);
                Fold f = fold(up, protocol, first);
                if (!out.empty() && out.back().fold == f) {
                    out.back().last = last;
                } else {
                    out.push_back({first, last, std::move(f)});
                }
            }
        }

        const std::string name = to_string(net);
        bw_connect_rule value{};
        const auto& tcp = by_protocol[0];
        const auto& udp = by_protocol[1];
        if (tcp.size() == 1 && udp.size() == 1 && tcp[0].fold == udp[0].fold) {
            // The same verdict for every protocol and port: no second lookup.
            value.deny = tcp[0].fold.deny;
            value.audit = tcp[0].fold.audit;
            value.entry = new_entry(name, KeyKind::cidr, tcp[0].fold.decisions);
            put_cidr(net, value);
            return;
        }
        value.entry = new_entry(name, KeyKind::cidr, {});
        value.flags = BW_CONNECT_BY_PORT;
        put_cidr(net, value);
        for (uint8_t protocol : {uint8_t(BW_PROTO_TCP), uint8_t(BW_PROTO_UDP)}) {
            for (const auto& iv : by_protocol[protocol - 1]) {
                bw_connect_rule pv{};
                pv.deny = iv.fold.deny;
                pv.audit = iv.fold.audit;
                pv.entry = new_entry(name + " " + protocol_name(protocol) + " " + std::to_string(iv.first) + "-" +
                                         std::to_string(iv.last),
                                     KeyKind::ports, iv.fold.decisions);
                for (const auto& b : port_blocks(iv.first, iv.last)) {
                    PortEntry pe;
                    pe.key.prefixlen = 40 + b.bits;
                    pe.key.entry = value.entry;
                    pe.key.protocol = protocol;
                    pe.key.port[0] = static_cast<uint8_t>(b.first >> 8);
                    pe.key.port[1] = static_cast<uint8_t>(b.first & 0xff);
                    pe.value = pv;
                    image_.connect_ports.push_back(pe);
                }
            }
        }
    }

    const CompileOptions& options_;
    MapImage& image_;
    Diagnostics& diags_;
    // Hashed, sorted once in finish(): ancestors() looks up every prefix
    // length in use for each of up to a million networks.
    std::unordered_map<Network, std::vector<ConnectRuleAt>, NetworkHash> networks_;
    std::vector<std::pair<uint32_t, const ConnectRuleAt*>> best_;  // fold()'s scratch
    std::map<bool, std::set<uint32_t>> lengths_;  // prefix lengths in use, by v4
    SourcePos last_pos_;
};

}  // namespace

std::optional<Network> parse_network(const std::string& cidr)
{
    std::string addr = cidr;
    std::optional<uint32_t> len;
    if (auto slash = cidr.find('/'); slash != std::string::npos) {
        addr = cidr.substr(0, slash);
        try {
            len = static_cast<uint32_t>(std::stoul(cidr.substr(slash + 1)));
        } catch (...) {
            return std::nullopt;
        }
    }
    Network n;
    if (addr.find(':') == std::string::npos) {
        if (inet_pton(AF_INET, addr.c_str(), n.addr.data()) != 1) return std::nullopt;
        n.v4 = true;
        n.len = len.value_or(32);
        if (n.len > 32) return std::nullopt;
    } else {
        if (inet_pton(AF_INET6, addr.c_str(), n.addr.data()) != 1) return std::nullopt;
        n.v4 = false;
        n.len = len.value_or(128);
        if (n.len > 128) return std::nullopt;
        // ::ffff:0:0/96 and narrower: IPv4 addresses written as IPv6.
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (n.len >= 96 && std::memcmp(n.addr.data(), mapped, 12) == 0) {
            std::memmove(n.addr.data(), n.addr.data() + 12, 4);
            n.v4 = true;
            n.len -= 96;
        }
    }
    clear_host_bits(n);
    return n;
}

std::string to_string(const Network& n)
{
    if (n.v4) {
        // As inet_ntop writes it, without its sprintf: one per CIDR entry.
        std::string out;
        out.reserve(18);
        for (int i = 0; i < 4; ++i) {
            if (i) out += '.';
            out += std::to_string(n.addr[static_cast<size_t>(i)]);
        }
        return out + "/" + std::to_string(n.len);
    }
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, n.addr.data(), buf, sizeof(buf));
    return std::string(buf) + "/" + std::to_string(n.len);
}

std::vector<PortBlock> port_blocks(uint16_t first, uint16_t last)
{
    std::vector<PortBlock> out;
    uint32_t a = first;
    const uint32_t b = last;
    while (a <= b) {
        uint32_t size_bits = 0;  // block of 2^size_bits ports starting at a
        while (size_bits < 16 && (a & ((2u << size_bits) - 1)) == 0 && a + (2u << size_bits) - 1 <= b) ++size_bits;
        out.push_back({static_cast<uint16_t>(a), 16 - size_bits});
        a += 1u << size_bits;
    }
    return out;
}

void compile_connects(const std::vector<ConnectRuleRef>& rules, const CompileOptions& options, MapImage& image,
                      Diagnostics& diags)
{
    ConnectCompiler cc(options, image, diags);
    size_t cidrs = 0;
    for (const auto& ref : rules) cidrs += ref.rule->cidrs.size();
    cc.reserve(cidrs);
    for (const auto& ref : rules) {
        const ConnectRule& r = *ref.rule;
        ConnectRuleAt at{ref.policy, ref.index, r.protocols, {}, r.action};
        for (const auto& pr : r.ports) at.ports.emplace_back(pr.first, pr.last);
        for (const auto& c : r.cidrs) {
            auto net = parse_network(c.value);
            if (!net) {
                diags.error(c.pos, "invalid CIDR \"" + c.value + "\"; write an address or network such as "
                                   "\"10.0.0.0/8\" or \"fd00::/8\"");
                continue;
            }
            cc.add(*net, at, c.pos);
        }
    }
    cc.finish();
}

void append_connects(MapImage& image, MapImage&& part)
{
    const auto base = static_cast<uint32_t>(image.entries.size());
    for (auto& e : part.connect_v4) e.value.entry += base;
    for (auto& e : part.connect_v6) e.value.entry += base;
    for (auto& e : part.connect_ports) {
        e.key.entry += base;  // the cidr entry this interval belongs to
        e.value.entry += base;
    }
    image.entries.insert(image.entries.end(), std::make_move_iterator(part.entries.begin()),
                         std::make_move_iterator(part.entries.end()));
    image.connect_v4 = std::move(part.connect_v4);
    image.connect_v6 = std::move(part.connect_v6);
    image.connect_ports = std::move(part.connect_ports);
}

}  // namespace bulwark
