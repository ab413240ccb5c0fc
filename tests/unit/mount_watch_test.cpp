// Rules follow their files across mounts (engine/daemon/mount_watch.hpp):
// reading the mount table and telling which changes touch a rule path.
#include "daemon/mount_watch.hpp"

#include <doctest/doctest.h>

using namespace bulwark;

TEST_CASE("mount watch: mount points of a mountinfo text, escapes decoded")
{
    const std::string info =
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        "30 22 0:25 / /tmp rw,nosuid shared:2 - tmpfs tmpfs rw\n"
        "31 22 0:26 / /srv/with\\040space rw - tmpfs tmpfs rw\n"
        "32 22 0:27 /sub /mnt/back\\134slash rw - tmpfs tmpfs rw\n"
        "short line\n";
    const auto points = mount_points(info);
    CHECK(points == std::set<std::string>{"/", "/tmp", "/srv/with space", "/mnt/back\\slash"});
}

TEST_CASE("mount watch: a change at or above a rule path counts, one inside a tree or beside does not")
{
    const std::vector<std::string> rules = {"/etc/cron.d/", "/etc/shadow", "/srv/data/"};
    const std::set<std::string> before = {"/", "/tmp"};
    auto with = [&](std::initializer_list<const char*> more) {
        std::set<std::string> s = before;
        for (const char* m : more) s.insert(m);
        return s;
    };
    CHECK(covering_change(before, with({"/etc/cron.d"}), rules) == "/etc/cron.d");  // on a tree rule's directory
    CHECK(covering_change(before, with({"/etc"}), rules) == "/etc");                // above two rule paths
    CHECK(covering_change(before, with({"/etc/shadow"}), rules) == "/etc/shadow");  // a bind over a file
    CHECK(covering_change(with({"/srv/data"}), before, rules) == "/srv/data");      // an unmount
    CHECK(covering_change(before, with({"/srv/data/inner"}), rules).empty());       // inside a tree: the walk crosses it
    CHECK(covering_change(before, with({"/etc/cron.daily"}), rules).empty());       // a name sharing a prefix
    CHECK(covering_change(before, with({"/var/lib/docker/overlay2/x/merged"}), rules).empty());
    CHECK(covering_change(before, before, rules).empty());
    CHECK(covering_change(before, with({"/etc/cron.d"}), {}).empty());  // no rule paths
}
