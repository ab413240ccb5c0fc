// [[connect]] rules → connect_v4, connect_v6 and connect_ports
// (docs/decisions/004-connect-maps.md).
//
// Every CIDR some rule names becomes one trie entry whose value holds every
// policy's verdict for destinations in it, with the rules of every wider
// CIDR folded in: the most specific (longest prefix) rule that matches the
// protocol and port wins, deny > audit > allow at equal prefixes, and a
// policy with no matching rule falls back to [defaults] connect. Where the
// verdict depends on the protocol or the port, the entry is flagged
// BW_CONNECT_BY_PORT and each (protocol, port interval) gets its own value
// in connect_ports, the interval cut into aligned blocks for an LPM trie.
#pragma once

#include "compile/compiler.hpp"

#include <array>

namespace bulwark {

// A destination network as the kernel matches it: IPv4 (addr[0..3]) or
// IPv6; an IPv4-mapped IPv6 network (::ffff:a.b.c.d/96+n) is IPv4.
struct Network {
    bool v4 = true;
    std::array<uint8_t, 16> addr{};
    uint32_t len = 0;             // prefix length in bits
    auto operator<=>(const Network&) const = default;
};

// "10.0.0.0/8", "192.0.2.1", "fd00::/8", "::ffff:10.0.0.0/104"; bits after
// the prefix are cleared. nullopt if malformed (the parser rejects those).
std::optional<Network> parse_network(const std::string& cidr);
std::string to_string(const Network& n);  // "10.0.0.0/8", "fd00::/8"

// One [[connect]] rule of a policy, with its index in MapImage::rules.
struct ConnectRuleRef {
    uint32_t policy = 0;
    int32_t index = 0;
    const ConnectRule* rule = nullptr;
};

// Needs policy_set.connect_default_deny/audit set for every policy.
void compile_connects(const std::vector<ConnectRuleRef>& rules, const CompileOptions& options, MapImage& image,
                      Diagnostics& diags);

// Moves the connect maps and entries that compile_connects() wrote into
// `part` (an image of their own, which held no entries before) into
// `image`, numbering their entries after image's own: as if compiled into
// `image` last.
void append_connects(MapImage& image, MapImage&& part);

// An aligned block of ports: [first, first + 2^(16 - bits) - 1].
struct PortBlock {
    uint16_t first = 0;
    uint32_t bits = 16;
};
// [first, last] as the fewest aligned blocks (at most 30).
std::vector<PortBlock> port_blocks(uint16_t first, uint16_t last);

}  // namespace bulwark
