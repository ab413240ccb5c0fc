// Host kernel tests (root) of pinned state (kernel/pinned_state.hpp): a
// SIGKILLed bulwark leaves its programs enforcing; the next one takes them
// over with no gap; an orderly stop detaches, unless --keep-on-exit. The
// connect backend (cgroup socket hooks, which load on this host) enforces
// a [[connect]] rule scoped to a cgroup the test creates; everything is
// pinned on a bpffs the test mounts in its temporary directory, and
// nothing else.
#include "harness.hpp"

#include "util/json_value.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <csignal>

using namespace bulwark::test;

namespace {

std::vector<std::string> entries(const std::string& dir)
{
    std::vector<std::string> out;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') out.push_back(e->d_name);
        ::closedir(d);
    }
    return out;
}

// After the last reference to a link goes, the kernel detaches it from a
// work queue (bpf_link_put): wait for that, within 5 s.
int connect_once_detached(const TestCgroup& cg)
{
    int e = connect_in(cg);
    for (int i = 0; i < 500 && e == EPERM; ++i) {
        ::usleep(10000);
        e = connect_in(cg);
    }
    return e;
}

// The policy every test here enforces: connect to 127.0.0.2 denied in `cg`.
std::string deny_127_0_0_2(const TestCgroup& cg)
{
    return scoped_policy("net", cg, "[[connect]]\ncidrs = [\"127.0.0.2/32\"]\naction = \"deny\"\n");
}

}  // namespace

TEST_CASE("pins: a SIGKILLed bulwark keeps enforcing; the next one takes over with a larger generation; "
          "an orderly stop detaches")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    Bpffs bpf(tmp);
    const std::string pins = bpf.path() + "/bulwark";
    const std::string file = tmp.write("net.toml", deny_127_0_0_2(cg));
    CHECK(connect_in(cg) == ECONNREFUSED);

    int first_gen = 0;
    {
        Bulwark a({file}, {"--pin-dir", pins});
        auto ready = a.wait_ready();
        INFO("bulwark stderr: " << a.errors());
        REQUIRE(ready);
        CHECK(ready->str("reason") == "start");
        first_gen = static_cast<int>(ready->num("generation"));
        CHECK(connect_in(cg) == EPERM);
        CHECK(entries(pins + "/links").size() == 4);
        CHECK(!entries(pins + "/maps").empty());
        REQUIRE(::kill(a.pid(), SIGKILL) == 0);
        a.wait_exit();
    }
    // No bulwark runs: the pinned programs decide from the pinned maps.
    CHECK(connect_in(cg) == EPERM);
    CHECK(entries(pins + "/links").size() == 4);
    {
        // ... and `bulwark status` says so, from the pins.
        int st = 0;
        const std::string out = command_output(
            bulwark_binary() + " status --json --socket " + tmp.path() + "/none.sock --pin-dir " + pins, &st);
        CHECK(WIFEXITED(st));
        CHECK(WEXITSTATUS(st) == 0);
        auto status = bulwark::JsonValue::parse(out.substr(0, out.find('\n')));
        REQUIRE_MESSAGE(status, out);
        CHECK(status->str("source") == "pins");
        const bulwark::JsonValue* generation = status->get("generation");
        REQUIRE(generation);
        CHECK(generation->integer() == first_gen);
        CHECK(status->str("mode") == "enforce");
        const bulwark::JsonValue* programs = status->get("programs");
        REQUIRE(programs);
        CHECK(programs->array().size() == 4);
    }

    {
        Bulwark b({file}, {"--pin-dir", pins});
        auto ready = b.wait_ready();
        INFO("bulwark stderr: " << b.errors());
        REQUIRE(ready);
        CHECK(ready->num("generation") > first_gen);
        CHECK(ready->str("reason") == "takeover of generation " + std::to_string(first_gen) + " from " + pins);
        // Only this bulwark's links are left: the old ones detached once
        // the new ones were attached.
        const auto links = entries(pins + "/links");
        CHECK(links.size() == 4);
        for (const auto& l : links) CHECK(l.rfind(std::to_string(b.pid()) + "-", 0) == 0);
        CHECK(connect_in(cg) == EPERM);
        int st = 0;
        auto events = b.stop(&st);
        CHECK(WIFEXITED(st));
        CHECK(WEXITSTATUS(st) == 0);
        // The denial made while no bulwark ran waited in the pinned ring
        // buffer and is reported by the one that took over.
        int denials = 0;
        for (const auto& e : events) denials += e.str("type") == "verdict" && e.str("verdict") == "deny";
        CHECK(denials >= 2);  // and the first one, if the killed bulwark had not read it yet
        CHECK(denials <= 3);
    }
    // An orderly stop removed the pins: nothing enforces.
    struct stat st {};
    CHECK(::stat(pins.c_str(), &st) != 0);
    CHECK(connect_once_detached(cg) == ECONNREFUSED);
}

TEST_CASE("pins: --keep-on-exit leaves the programs enforcing after an orderly stop")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    Bpffs bpf(tmp);
    const std::string pins = bpf.path() + "/bulwark";
    const std::string file = tmp.write("net.toml", deny_127_0_0_2(cg));
    {
        Bulwark a({file}, {"--pin-dir", pins, "--keep-on-exit"});
        REQUIRE(a.wait_ready());
        int st = 0;
        a.stop(&st);
        CHECK(WIFEXITED(st));
        CHECK(WEXITSTATUS(st) == 0);
    }
    CHECK(connect_in(cg) == EPERM);
    {
        Bulwark b({file}, {"--pin-dir", pins});
        auto ready = b.wait_ready();
        REQUIRE(ready);
        CHECK(ready->str("reason").rfind("takeover of generation", 0) == 0);
        int st = 0;
        b.stop(&st);
        CHECK(WIFEXITED(st));  // a SIGTERM right after ready is an orderly stop too
        CHECK(WEXITSTATUS(st) == 0);
    }
    CHECK(connect_once_detached(cg) == ECONNREFUSED);
}

TEST_CASE("pins: a --pin-dir that is not on a bpffs is a usage error, and nothing runs")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TempDir tmp;
    const std::string file = tmp.write("net.toml", "[policy]\nname = \"net\"\n\n[[connect]]\ncidrs = [\"192.0.2.1/32\"]\n"
                                                   "action = \"deny\"\n");
    Bulwark a({file}, {"--pin-dir", tmp.path() + "/pins"});
    const int st = a.wait_exit();
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 2);
    CHECK(a.errors().find("is not on a bpffs") != std::string::npos);
}

TEST_CASE("pins: a bulwark that takes over and then fails to start leaves the taken-over programs enforcing")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    Bpffs bpf(tmp);
    const std::string pins = bpf.path() + "/bulwark";
    const std::string file = tmp.write("net.toml", deny_127_0_0_2(cg));
    {
        Bulwark a({file}, {"--pin-dir", pins});
        REQUIRE(a.wait_ready());
        REQUIRE(::kill(a.pid(), SIGKILL) == 0);
        a.wait_exit();
    }
    // A port another socket listens on: the metrics endpoint cannot bind,
    // which fails the start after the takeover has attached and pinned.
    const int busy = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(busy, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(busy, 1) == 0);
    REQUIRE(::getsockname(busy, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    {
        Bulwark b({file}, {"--pin-dir", pins, "--metrics", "127.0.0.1:" + std::to_string(ntohs(addr.sin_port))});
        const int st = b.wait_exit();
        INFO("bulwark stderr: " << b.errors());
        CHECK(WIFEXITED(st));
        CHECK(WEXITSTATUS(st) != 0);
        CHECK(b.errors().find("stay attached and pinned in " + pins) != std::string::npos);
    }
    ::close(busy);
    CHECK(connect_in(cg) == EPERM);
    CHECK(entries(pins + "/links").size() == 4);
    {
        Bulwark c({file}, {"--pin-dir", pins});
        auto ready = c.wait_ready();
        REQUIRE(ready);
        CHECK(ready->str("reason").rfind("takeover of generation", 0) == 0);
        int st = 0;
        c.stop(&st);
        CHECK(exited_ok(st));
    }
    CHECK(connect_once_detached(cg) == ECONNREFUSED);
}
