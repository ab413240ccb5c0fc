// Host kernel tests (root): the policy maps load here even though LSM
// programs do not, so publishing and swapping policy sets is proven on the
// host — what the guests then rely on.
#include "compile/compiler.hpp"
#include "kernel/bpf_programs.hpp"
#include "kernel/policy_publisher.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <doctest/doctest.h>
#include <unistd.h>

using namespace bulwark;

namespace {

MapImage image_with(uint64_t uid_mask, std::vector<std::pair<uint32_t, uint64_t>> uids, size_t inode_keys)
{
    MapImage img;
    img.policy_set.active = uid_mask;
    img.policy_set.applies[BW_KIND_FILE] = uid_mask;
    img.scope_uids = std::move(uids);
    for (size_t i = 0; i < inode_keys; ++i) {
        InodeEntry e{};
        e.key.ino = 1000 + i;
        e.key.dev = 7;
        e.key.role = BW_ROLE_ANCESTOR;
        e.value.entry = static_cast<uint32_t>(i);
        e.value.deny[BW_COL_READ] = uid_mask;
        img.inode_rules.push_back(e);
    }
    return img;
}

bw_live live(const SharedMaps& maps)
{
    bw_live l{};
    uint32_t zero = 0;
    REQUIRE(bpf_map_lookup_elem(maps.fd("live_slot"), &zero, &l) == 0);
    return l;
}

// The inner map installed in `slot` of outer map `name`, as an fd.
UniqueFd inner(const SharedMaps& maps, const char* name, uint32_t slot)
{
    uint32_t id = 0;
    if (bpf_map_lookup_elem(maps.fd(name), &slot, &id) != 0) return UniqueFd();
    return UniqueFd(bpf_map_get_fd_by_id(id));
}

}  // namespace

TEST_CASE("publishing fills the idle slot and flips the live index")
{
    REQUIRE_MESSAGE(geteuid() == 0, "host kernel tests need root");
    BpfPrograms programs({static_cast<uint32_t>(getpid()), 1u << 16, false}, {"enforce"});
    PolicyPublisher pub(programs.maps());

    CHECK(live(programs.maps()).slot == 0);  // empty set at start
    CHECK(pub.publish(image_with(0x1, {{33, 0x1}}, 3)) == 1);
    bw_live l1 = live(programs.maps());
    CHECK(l1.slot == 1);
    CHECK(l1.generation == 1);

    bw_policy_set set{};
    REQUIRE(bpf_map_lookup_elem(programs.maps().fd("policy_sets"), &l1.slot, &set) == 0);
    CHECK(set.active == 0x1);
    CHECK(set.generation == 1);

    auto uids = inner(programs.maps(), "scope_uids", 1);
    REQUIRE(uids);
    uint32_t uid = 33;
    uint64_t mask = 0;
    REQUIRE(bpf_map_lookup_elem(uids.get(), &uid, &mask) == 0);
    CHECK(mask == 0x1);

    auto inodes = inner(programs.maps(), "inode_rules", 1);
    REQUIRE(inodes);
    bw_inode_key key{1001, 7, BW_ROLE_ANCESTOR};
    bw_path_rule value{};
    REQUIRE(bpf_map_lookup_elem(inodes.get(), &key, &value) == 0);
    CHECK(value.entry == 1);
    CHECK(value.deny[BW_COL_READ] == 0x1);

    SUBCASE("a second publish swaps back and leaves the first set readable until then")
    {
        CHECK(pub.publish(image_with(0x3, {{34, 0x2}}, 1)) == 2);
        bw_live l2 = live(programs.maps());
        CHECK(l2.slot == 0);
        auto uids0 = inner(programs.maps(), "scope_uids", 0);
        REQUIRE(uids0);
        uid = 34;
        REQUIRE(bpf_map_lookup_elem(uids0.get(), &uid, &mask) == 0);
        CHECK(mask == 0x2);
        uid = 33;
        CHECK(bpf_map_lookup_elem(uids0.get(), &uid, &mask) != 0);
        // The previous slot still holds generation 1, untouched.
        REQUIRE(bpf_map_lookup_elem(programs.maps().fd("policy_sets"), &l1.slot, &set) == 0);
        CHECK(set.generation == 1);
    }

    SUBCASE("a publish that fails leaves the live set exactly as it was")
    {
        // Freezing policy_sets makes the write before the flip fail.
        MapImage next = image_with(0x1, {{35, 0x1}}, 2);
        bw_live before = live(programs.maps());
        int rc = bpf_map_freeze(programs.maps().fd("policy_sets"));
        REQUIRE(rc == 0);
        CHECK_THROWS_AS(pub.publish(next), Error);
        bw_live after = live(programs.maps());
        CHECK(after.slot == before.slot);
        CHECK(after.generation == before.generation);
        CHECK(pub.generation() == before.generation);
    }
}

// The inner maps of a publish are written into their outer maps together,
// from a thread each (kernel/inner_maps.hpp): every one must be there
// after a publish, and one that fails must fail the publish, by name.
TEST_CASE("publishing installs every inner map in the slot; one that fails fails the publish by name")
{
    REQUIRE_MESSAGE(geteuid() == 0, "host kernel tests need root");
    BpfPrograms programs({static_cast<uint32_t>(getpid()), 1u << 16, false}, {"enforce"});
    PolicyPublisher pub(programs.maps());
    const char* outers[] = {"inode_rules",      "name_rules",       "short_name_rules", "scope_uids",
                            "scope_cgroups",    "scope_exe_inodes", "scope_exe_names",  "connect_v4",
                            "connect_v6",       "connect_ports"};
    for (const char* name : outers) CHECK_MESSAGE(!inner(programs.maps(), name, 1), name);

    REQUIRE(pub.publish(image_with(0x1, {{33, 0x1}}, 3)) == 1);
    for (const char* name : outers) CHECK_MESSAGE(inner(programs.maps(), name, 1), name);

    // A frozen outer map refuses the write (EPERM): the publish throws
    // with that map's name and the live set stays generation 1.
    REQUIRE(bpf_map_freeze(programs.maps().fd("scope_exe_names")) == 0);
    std::string what;
    try {
        pub.publish(image_with(0x3, {{34, 0x2}}, 1));
    } catch (const Error& e) {
        what = e.what();
    }
    CHECK(what.find("cannot install scope_exe_names in slot 0") != std::string::npos);
    CHECK(what.find("EPERM") != std::string::npos);
    CHECK(live(programs.maps()).slot == 1);
    CHECK(live(programs.maps()).generation == 1);
    CHECK(pub.generation() == 1);
}
