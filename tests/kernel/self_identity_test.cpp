// Host kernel test (root) of bulwark's identity (kernel/self_identity.hpp):
// the whoami program loads and test-runs on this kernel, and gives the
// caller's tgid in the initial PID namespace — getpid() there, and the pid
// the parent namespace sees (not 1) for a process in a new PID namespace.
// Nothing is attached or pinned; the only processes are the test's own
// two children, each bounded by the pipe's poll timeout.
#include "kernel/self_identity.hpp"
#include "util/pid_namespace.hpp"

#include <doctest/doctest.h>

#include <poll.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <string>

using namespace bulwark;

namespace {

struct Answer {
    int32_t probed = -1;     // kernel_self_tgid(), -1 if it failed
    int32_t learned = -1;    // learn_self_tgid(), -1 if it threw
    int32_t own_pid = -1;    // getpid() in the new namespace
    int32_t ns = -1;         // own_pid_namespace()
    int32_t seen = -1;       // the grandchild's pid as its parent (initial namespace) saw it
};

bool read_full(int fd, void* buf, size_t n, int timeout_ms)
{
    auto* p = static_cast<char*>(buf);
    while (n) {
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, timeout_ms) <= 0) return false;
        const ssize_t r = ::read(fd, p, n);
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

}  // namespace

TEST_CASE("self identity: the kernel's tgid of this process is getpid() in the initial PID namespace")
{
    REQUIRE(::geteuid() == 0);
    std::string why;
    const auto probed = kernel_self_tgid(why);
    REQUIRE_MESSAGE(probed, why);
    if (own_pid_namespace() == PidNamespace::initial) {
        CHECK(*probed == static_cast<uint32_t>(::getpid()));
        CHECK(learn_self_tgid() == static_cast<uint32_t>(::getpid()));
    } else {
        MESSAGE("the test runs outside the initial PID namespace: only the nested case is checked");
    }
}

TEST_CASE("self identity: in a new PID namespace the kernel's tgid is the global pid, not getpid()")
{
    REQUIRE(::geteuid() == 0);
    // The pid the parent sees is the global one only from the initial namespace.
    REQUIRE(own_pid_namespace() == PidNamespace::initial);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t middle = ::fork();
    REQUIRE(middle >= 0);
    if (middle == 0) {
        ::close(fds[0]);
        // Our children go into a new PID namespace; we stay where we were.
        if (::unshare(CLONE_NEWPID) != 0) ::_exit(10);
        int inner[2];
        if (::pipe(inner) != 0) ::_exit(11);
        const pid_t g = ::fork();
        if (g < 0) ::_exit(12);
        if (g == 0) {
            ::close(inner[0]);
            Answer a;
            std::string why;
            if (auto t = kernel_self_tgid(why)) a.probed = static_cast<int32_t>(*t);
            try {
                a.learned = static_cast<int32_t>(learn_self_tgid());
            } catch (...) {
            }
            a.own_pid = static_cast<int32_t>(::getpid());
            a.ns = static_cast<int32_t>(own_pid_namespace());
            ::_exit(::write(inner[1], &a, sizeof a) == sizeof a ? 0 : 13);
        }
        ::close(inner[1]);
        Answer a;
        const bool got = read_full(inner[0], &a, sizeof a, 30000);
        int status = 0;
        if (!got) ::kill(g, SIGKILL);
        ::waitpid(g, &status, 0);
        a.seen = static_cast<int32_t>(g);
        ::_exit(got && ::write(fds[1], &a, sizeof a) == sizeof a ? 0 : 14);
    }
    ::close(fds[1]);
    Answer a;
    const bool got = read_full(fds[0], &a, sizeof a, 60000);
    ::close(fds[0]);
    if (!got) ::kill(middle, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(middle, &status, 0) == middle);
    REQUIRE_MESSAGE(got, "no answer from the child in the new PID namespace (status " << status << ")");
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(a.own_pid == 1);  // the first process of the new namespace
    CHECK(a.ns == static_cast<int32_t>(PidNamespace::nested));
    CHECK(a.seen > 1);
    CHECK(a.probed == a.seen);   // the kernel's answer is the outer (here: global) pid
    CHECK(a.learned == a.seen);  // and is what bulwark uses
}
