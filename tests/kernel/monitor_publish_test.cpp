// Host kernel tests (root), maps only: the monitor maps a policy set
// compiles to, published into the idle slot before the flip, and looked up
// in the kernel's own LPM tries exactly as the monitors look them up.
#include "compile/compiler.hpp"
#include "kernel/bpf_programs.hpp"
#include "kernel/policy_publisher.hpp"
#include "policy/parser.hpp"

#include <bpf/bpf.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>

using namespace bulwark;

namespace {

MapImage compile_text(const std::string& text)
{
    ParseResult r = parse_policy_text(text, "pub.toml");
    REQUIRE(!r.diagnostics.has_errors());
    RealSystem sys;
    CompileResult c = compile(r.policies, sys);
    REQUIRE(c.image);
    return std::move(*c.image);
}

UniqueFd inner(const SharedMaps& maps, const char* name, uint32_t slot)
{
    uint32_t id = 0;
    if (bpf_map_lookup_elem(maps.fd(name), &slot, &id) != 0) return UniqueFd();
    return UniqueFd(bpf_map_get_fd_by_id(id));
}

// A lookup as monitor_file makes it: the whole key length, NUL-padded path.
std::optional<bw_mon_match> lookup_path(int trie, const std::string& path)
{
    bw_mon_path_key key{};
    key.prefixlen = BW_MON_PATH_KEY * 8;
    std::memcpy(key.path, path.data(), std::min<size_t>(path.size(), sizeof key.path));
    bw_mon_match m{};
    if (bpf_map_lookup_elem(trie, &key, &m) != 0) return std::nullopt;
    return m;
}

}  // namespace

TEST_CASE("monitor maps: published into the idle slot, looked up by the kernel as the monitors do")
{
    REQUIRE_MESSAGE(geteuid() == 0, "host kernel tests need root");
    BpfPrograms programs({static_cast<uint32_t>(getpid()), 1u << 16, false}, {"monitor_file"});
    PolicyPublisher pub(programs.maps());
    const auto& maps = programs.maps();

    MapImage first = compile_text(R"([policy]
name = "one"
[[monitor.file]]
paths = ["/nonexistent-bulwark/passwd"]
prefixes = ["/nonexistent-bulwark/ssh/"]
rate_limit = 10
)");
    REQUIRE(pub.publish(first) == 1);

    bw_monitor_set set{};
    uint32_t slot = 1;
    REQUIRE(bpf_map_lookup_elem(maps.fd("monitor_sets"), &slot, &set) == 0);
    CHECK(set.generation == 1);
    CHECK(set.applies[BW_MON_FILE] == 1);
    CHECK(set.rules == 1);
    bw_mon_rule_cfg cfg{};
    uint32_t index = slot * BW_MON_MAX_RULES + 0;
    REQUIRE(bpf_map_lookup_elem(maps.fd("mon_rule_cfg"), &index, &cfg) == 0);
    CHECK(cfg.interval_ns == 100000000ull);
    CHECK(cfg.kind == BW_MON_FILE);

    auto trie = inner(maps, "mon_file_paths", 1);
    REQUIRE(trie);
    auto m = lookup_path(trie.get(), "/nonexistent-bulwark/passwd");
    REQUIRE(m);
    CHECK(m->policies == 1);
    CHECK(!lookup_path(trie.get(), "/nonexistent-bulwark/passwd-"));   // exact keys end in NUL
    CHECK(!lookup_path(trie.get(), "/nonexistent-bulwark/passw"));
    CHECK(lookup_path(trie.get(), "/nonexistent-bulwark/ssh/sshd_config"));
    CHECK(!lookup_path(trie.get(), "/nonexistent-bulwark/ssh"));
    CHECK(!lookup_path(trie.get(), "/nonexistent-bulwark/sshd/x"));

    // The rule reference the monitor follows from the entry.
    auto refs = inner(maps, "mon_rule_refs", 1);
    REQUIRE(refs);
    bw_mon_rule_key rk{m->entry, 0};
    uint32_t rule = 99;
    REQUIRE(bpf_map_lookup_elem(refs.get(), &rk, &rule) == 0);
    CHECK(rule == 0);

    SUBCASE("the next set goes to the other slot; the live one is untouched until the flip")
    {
        MapImage second = compile_text(R"([policy]
name = "two"
[[monitor.connect]]
cidrs = ["10.0.0.0/8"]
ports = ["8000-8100"]
)");
        REQUIRE(pub.publish(second) == 2);
        uint32_t zero = 0;
        bw_live live{};
        REQUIRE(bpf_map_lookup_elem(maps.fd("live_slot"), &zero, &live) == 0);
        CHECK(live.slot == 0);
        REQUIRE(bpf_map_lookup_elem(maps.fd("monitor_sets"), &zero, &set) == 0);
        CHECK(set.generation == 2);
        CHECK(set.applies[BW_MON_FILE] == 0);
        CHECK(set.applies[BW_MON_CONNECT] == 1);
        // Slot 1 still holds generation 1's trie.
        auto old = inner(maps, "mon_file_paths", 1);
        REQUIRE(old);
        CHECK(lookup_path(old.get(), "/nonexistent-bulwark/passwd"));

        // Stage 1 and stage 2 of the connect lookup, in the kernel's tries.
        auto nets = inner(maps, "mon_connect_nets", 0);
        auto ports = inner(maps, "mon_connect_ports", 0);
        REQUIRE(nets);
        REQUIRE(ports);
        bw_mon_addr_key ak{};
        ak.prefixlen = 32 + 128;
        ak.family = BW_MON_FAMILY_IPV4;
        const uint8_t addr[4] = {10, 20, 30, 40};
        std::memcpy(ak.addr, addr, 4);
        bw_mon_match net{};
        REQUIRE(bpf_map_lookup_elem(nets.get(), &ak, &net) == 0);
        bw_mon_port_key pk{};
        pk.prefixlen = 40 + 16;
        pk.net = net.entry;
        pk.protocol = 6;
        for (uint32_t port : {8000u, 8063u, 8064u, 8100u}) {
            CAPTURE(port);
            pk.port[0] = static_cast<uint8_t>(port >> 8);
            pk.port[1] = static_cast<uint8_t>(port & 0xff);
            bw_mon_match hit{};
            CHECK(bpf_map_lookup_elem(ports.get(), &pk, &hit) == 0);
        }
        for (uint32_t port : {7999u, 8101u, 80u}) {
            CAPTURE(port);
            pk.port[0] = static_cast<uint8_t>(port >> 8);
            pk.port[1] = static_cast<uint8_t>(port & 0xff);
            bw_mon_match hit{};
            CHECK(bpf_map_lookup_elem(ports.get(), &pk, &hit) != 0);
        }
        ak.family = BW_MON_FAMILY_IPV6;  // the family is part of the key
        CHECK(bpf_map_lookup_elem(nets.get(), &ak, &net) != 0);
    }
}
