// The directory filter (abi.h, docs/decisions/006-dir-filter.md): the walk
// skips a level's hash lookup when either of the directory's two bits is
// clear, so every ANCESTOR key of inode_rules must have both bits set, or a
// rule would silently stop matching. The evaluator does not consult the
// filter: differential tests compare the kernel with the full lookup.
#include "compile/compiler.hpp"
#include "fake_system.hpp"
#include "policy_builder.hpp"

#include <doctest/doctest.h>

#include <bit>
#include <string>

using namespace bulwark;
using namespace bulwark::test;

namespace {

bool filter_admits(const bw_policy_set& set, uint32_t dev, uint64_t ino)
{
    const uint64_t h = bw_dir_filter_hash(dev, ino);
    const uint32_t a = bw_dir_filter_bit1(h), b = bw_dir_filter_bit2(h);
    return ((set.dir_filter[a / 64] >> (a % 64)) & (set.dir_filter[b / 64] >> (b % 64)) & 1) != 0;
}

size_t bits_set(const bw_policy_set& set)
{
    size_t n = 0;
    for (uint64_t w : set.dir_filter) n += static_cast<size_t>(std::popcount(w));
    return n;
}

}  // namespace

TEST_CASE("dir filter: every directory key passes it; SELF keys and other directories mostly do not")
{
    FakeSystem sys;
    sys.mkdirs("/data/deny");
    sys.mkdirs("/data/work/a/b/c");
    sys.touch("/data/work/a/b/c/target");
    PolicyBuilder p("p");
    for (int i = 0; i < 3000; ++i) {
        const std::string d = "/data/deny/d" + std::to_string(i);
        sys.mkdirs(d);
        p.deny({d + "/"});
        const std::string f = "/data/deny/f" + std::to_string(i);
        sys.touch(f);
        p.deny({f});
    }
    p.deny({"/data/later/"});  // does not exist: a name key under /data, which gets a flagged key
    auto r = compile({p}, sys);
    REQUIRE(r.image.has_value());
    const MapImage& img = *r.image;

    size_t ancestors = 0, selves = 0, self_admitted = 0;
    for (const auto& e : img.inode_rules) {
        if (e.key.role == BW_ROLE_ANCESTOR) {
            ++ancestors;
            CHECK(filter_admits(img.policy_set, e.key.dev, e.key.ino));
        } else {
            ++selves;
            self_admitted += filter_admits(img.policy_set, e.key.dev, e.key.ino);
        }
    }
    CHECK(ancestors == 3000 + 2);  // the trees, /data/deny and /data (named children)
    CHECK(selves == 3000);
    CHECK(bits_set(img.policy_set) <= 2 * ancestors);
    // ~1% false positives at this fill: far below half.
    CHECK(self_admitted < selves / 10);

    // The directories of the walk to a file no rule covers: each level's
    // lookup is (mostly) skipped.
    int admitted = 0;
    for (const char* d : {"/data/work/a/b/c", "/data/work/a/b", "/data/work/a", "/data/work"}) {
        const auto id = sys.identify(d);
        REQUIRE(id.has_value());
        admitted += filter_admits(img.policy_set, id->dev, id->ino);
    }
    CHECK(admitted <= 1);
}

TEST_CASE("dir filter: no directory keys, no bits")
{
    FakeSystem sys;
    sys.mkdirs("/etc");
    sys.touch("/etc/shadow");
    PolicyBuilder p("p");
    p.deny({"/etc/shadow"});
    auto r = compile({p}, sys);
    REQUIRE(r.image.has_value());
    // /etc is flagged for its named child: that one key, two bits at most.
    CHECK(bits_set(r.image->policy_set) >= 1);
    CHECK(bits_set(r.image->policy_set) <= 2);

    PolicyBuilder q("q");
    auto empty = compile({q}, sys);
    REQUIRE(empty.image.has_value());
    CHECK(bits_set(empty.image->policy_set) == 0);
}
