// Host kernel tests (root): the bulwark_objects registry forgets objects
// that are gone, so that reloads and takeovers never fill it. The host
// loads no LSM programs, so these tests hand the registry a map of their
// own with the same key and value.
#include "kernel/bpf_programs.hpp"
#include "kernel/own_objects.hpp"
#include "kernel/policy_publisher.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <doctest/doctest.h>
#include <set>
#include <unistd.h>

using namespace bulwark;

namespace {

UniqueFd registry(uint32_t entries)
{
    UniqueFd fd(bpf_map_create(BPF_MAP_TYPE_HASH, "bw_test_objects", sizeof(bw_object_key),
                               sizeof(bw_object_owner), entries, nullptr));
    REQUIRE(fd.get() >= 0);
    return fd;
}

UniqueFd small_map()
{
    UniqueFd fd(bpf_map_create(BPF_MAP_TYPE_ARRAY, "bw_test_obj", 4, 4, 1, nullptr));
    REQUIRE(fd.get() >= 0);
    return fd;
}

uint32_t map_id(const UniqueFd& fd)
{
    bpf_map_info info{};
    __u32 len = sizeof(info);
    REQUIRE(bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0);
    return info.id;
}

std::set<uint32_t> registered(const UniqueFd& reg)
{
    std::set<uint32_t> ids;
    bw_object_key key{}, next{};
    const void* prev = nullptr;
    while (bpf_map_get_next_key(reg.get(), prev, &next) == 0) {
        ids.insert(next.id);
        key = next;
        prev = &key;
    }
    return ids;
}

// Sets the registry for one test and unsets it however the test ends.
struct RegistryScope {
    explicit RegistryScope(const UniqueFd& fd) { set_own_objects_map(fd.get()); }
    ~RegistryScope() { set_own_objects_map(-1); }
};

}  // namespace

TEST_CASE("own objects: a full registry makes room by forgetting the objects that are gone")
{
    REQUIRE_MESSAGE(geteuid() == 0, "host kernel tests need root");
    const UniqueFd reg = registry(3);
    RegistryScope scope(reg);

    UniqueFd kept = small_map();
    std::vector<UniqueFd> gone;
    gone.push_back(small_map());
    gone.push_back(small_map());
    const uint32_t kept_id = map_id(kept);
    own_object(BW_OBJ_MAP, kept.get());
    for (const auto& fd : gone) own_object(BW_OBJ_MAP, fd.get());
    CHECK(registered(reg).size() == 3);

    gone.clear();  // both maps freed: their ids no longer exist
    UniqueFd fourth = small_map();
    own_object(BW_OBJ_MAP, fourth.get());  // the registry is full: E2BIG, prune, retry
    CHECK(registered(reg) == std::set<uint32_t>{kept_id, map_id(fourth)});
    CHECK(prune_own_objects() == 0);  // both left are alive

    // Full of live objects: a clear error, nothing forgotten.
    UniqueFd extra1 = small_map();
    own_object(BW_OBJ_MAP, extra1.get());
    UniqueFd extra2 = small_map();
    CHECK_THROWS_AS(own_object(BW_OBJ_MAP, extra2.get()), Error);
    CHECK(registered(reg).size() == 3);
}

TEST_CASE("own objects: publishing forgets the inner maps it replaced; reloads do not grow the registry")
{
    REQUIRE_MESSAGE(geteuid() == 0, "host kernel tests need root");
    BpfPrograms programs({static_cast<uint32_t>(getpid()), 1u << 16, false}, {"enforce"});
    const UniqueFd reg = registry(4096);
    RegistryScope scope(reg);
    PolicyPublisher pub(programs.maps());

    MapImage img;
    pub.publish(img);
    const size_t one_slot = registered(reg).size();
    REQUIRE(one_slot > 0);  // every inner map is registered
    pub.publish(img);
    const size_t both_slots = registered(reg).size();
    CHECK(both_slots == 2 * one_slot);
    for (int i = 0; i < 10; ++i) pub.publish(img);
    CHECK(registered(reg).size() == both_slots);  // without pruning: 12 slots' worth
    CHECK(prune_own_objects() == 0);
}
