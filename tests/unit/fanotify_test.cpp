// The fanotify backend's pure parts (engine/fanotify/): what a waiting
// open asked for, read from /proc/TID/syscall, and what a policy set
// needs watched. The permission events themselves are host kernel tests
// (tests/kernel/fanotify_backend_test.cpp).
#include "fanotify/asker.hpp"
#include "fanotify/backend.hpp"
#include "tool_support.hpp"

#include "bulwark/abi.h"

#include <doctest/doctest.h>
#include <fcntl.h>

using namespace bulwark;
using namespace bulwark::test;

TEST_CASE("fanotify: a /proc/TID/syscall line gives the call and its arguments")
{
    const auto s = parse_syscall_line("257 0xffffff9c 0x7ffd1234 0x241 0x1b6 0x0 0x0 0x7ffd0000 0x7f00\n");
    REQUIRE(s);
    CHECK(s->nr == 257);
    CHECK(s->args[0] == 0xffffff9cu);
    CHECK(s->args[2] == 0x241u);
    CHECK(!parse_syscall_line("running\n"));
    CHECK(!parse_syscall_line("-1 0x7ffd 0x7f00\n"));  // not in a system call
    CHECK(!parse_syscall_line("257 0x1 0x2\n"));        // too short
}

TEST_CASE("fanotify: the access an open asks for, from its flags and call")
{
    CHECK(access_of_open_flags(O_RDONLY) == BW_ACCESS_READ);
    CHECK(access_of_open_flags(O_WRONLY | O_CREAT) == BW_ACCESS_WRITE);
    CHECK(access_of_open_flags(O_RDWR) == (BW_ACCESS_READ | BW_ACCESS_WRITE));
    CHECK(access_of_open_flags(O_RDONLY | O_TRUNC) == (BW_ACCESS_READ | BW_ACCESS_WRITE));
#if defined(__x86_64__)
    SyscallArgs openat;
    openat.nr = 257;
    openat.args[2] = O_WRONLY;
    CHECK(open_access(openat, 1) == BW_ACCESS_WRITE);
    SyscallArgs open;
    open.nr = 2;
    open.args[1] = O_RDONLY;
    CHECK(open_access(open, 1) == BW_ACCESS_READ);
    SyscallArgs creat;
    creat.nr = 85;
    CHECK(open_access(creat, 1) == BW_ACCESS_WRITE);
    SyscallArgs execve;
    execve.nr = 59;
    CHECK(open_access(execve, 1) == BW_ACCESS_READ);
#endif
    SyscallArgs other;
    other.nr = 426;  // io_uring_enter: flags unknown, the caller assumes both
    CHECK(!open_access(other, 1));
}

TEST_CASE("fanotify: a set is watched where its file and exec rules are, everywhere under a default")
{
    const auto policies = parse_all({{"/etc/bulwark/p.toml", R"([policy]
name = "p"
[[file]]
paths = ["/etc/shadow"]
access = ["read"]
action = "deny"
[[exec]]
prefixes = ["/tmp/"]
action = "deny"
)"}});
    FanotifyWatch w = fanotify_watch(policies, true, true);
    CHECK(w.paths == std::vector<std::string>{"/etc/shadow", "/tmp/"});
    CHECK(!w.everywhere);
    CHECK(fanotify_watch(policies, false, true).paths == std::vector<std::string>{"/tmp/"});
    const auto allowlist = parse_all({{"/etc/bulwark/a.toml", "[policy]\nname = \"a\"\n[defaults]\nexec = \"deny\"\n"}});
    CHECK(fanotify_watch(allowlist, true, true).everywhere);
    CHECK(!fanotify_watch(allowlist, true, false).everywhere);
}
