// util/small_thread.hpp: the helper threads of a publish and a compile.
#include "util/small_thread.hpp"

#include <doctest/doctest.h>

#include <pthread.h>
#include <stdexcept>
#include <vector>

using namespace bulwark;

TEST_CASE("SmallThread runs its function on a stack of the size asked, joins, and rethrows")
{
    size_t stack = 0;
    bool ran = false;
    {
        // No doctest assertions on the thread: recorded, checked here.
        SmallThread t([&] {
            pthread_attr_t attr;
            if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
            if (pthread_attr_getstacksize(&attr, &stack) == 0) ran = true;
            pthread_attr_destroy(&attr);
        }, 64 * 1024);
        t.join();
    }
    CHECK(ran);
    // Not the 8 MiB of RLIMIT_STACK, and never a 2 MiB huge page's worth.
    CHECK(stack >= 64 * 1024);
    CHECK(stack < 2 * 1024 * 1024);

    SmallThread failing([] { throw std::runtime_error("from the thread"); });
    CHECK_THROWS_WITH_AS(failing.join(), "from the thread", std::runtime_error);

    // Moved into a vector (as InnerMaps keeps them), each still joined once.
    int done = 0;
    {
        std::vector<SmallThread> threads;
        for (int i = 0; i < 8; ++i) threads.emplace_back([&done] { __atomic_add_fetch(&done, 1, __ATOMIC_SEQ_CST); });
    }
    CHECK(done == 8);

    // start_or_run: on a thread when one can be had, joined like one.
    bool started = false;
    {
        auto t = SmallThread::start_or_run([&started] { started = true; }, 64 * 1024);
        CHECK(t.has_value());
    }
    CHECK(started);
}
