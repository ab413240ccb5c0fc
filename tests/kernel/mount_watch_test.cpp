// Host kernel test (root) of MountWatcher (daemon/mount_watch.hpp): a real
// tmpfs mounted on a rule's directory, and unmounted, each call back once
// with the mount point; a mount beside the rule paths does not. The mounts
// are on the test's own temporary directory and removed at the end.
#include "daemon/mount_watch.hpp"

#include <doctest/doctest.h>

#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

using namespace bulwark;

namespace {

struct TempTree {
    std::string path;
    TempTree()
    {
        char tmpl[] = "/tmp/bw-mount-watch-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempTree()
    {
        for (const char* d : {"/prot", "/free"}) ::umount2((path + d).c_str(), MNT_DETACH);
        std::filesystem::remove_all(path);
    }
};

}  // namespace

TEST_CASE("mount watch: a mount on a rule's directory and its unmount republish; a mount beside does not")
{
    TempTree t;
    const std::string prot = t.path + "/prot", free = t.path + "/free";
    std::filesystem::create_directories(prot);
    std::filesystem::create_directories(free);
    boost::asio::io_context io;
    std::vector<std::string> calls;
    MountWatcher watcher(io, [&](const std::string& p) { calls.push_back(p); }, std::chrono::milliseconds(50));
    watcher.watch({prot + "/"});
    // Until a call arrives or `ms` pass.
    auto run_until_call = [&](size_t want, int ms) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (calls.size() < want && std::chrono::steady_clock::now() < deadline) {
            io.restart();
            io.run_for(std::chrono::milliseconds(20));
        }
    };

    REQUIRE(::mount("tmpfs", free.c_str(), "tmpfs", 0, nullptr) == 0);
    REQUIRE(::mount("tmpfs", prot.c_str(), "tmpfs", 0, nullptr) == 0);
    run_until_call(1, 5000);
    CHECK(calls == std::vector<std::string>{prot});  // the mount beside came first and was not reported
    REQUIRE(::umount2(prot.c_str(), 0) == 0);
    run_until_call(2, 5000);
    CHECK(calls == std::vector<std::string>{prot, prot});
    REQUIRE(::umount2(free.c_str(), 0) == 0);
    io.restart();
    io.run_for(std::chrono::milliseconds(300));
    CHECK(calls.size() == 2);
    watcher.stop();
}
