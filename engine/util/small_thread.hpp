// A thread with a small stack, joined when destroyed. glibc gives each
// thread a stack of RLIMIT_STACK (8 MiB); on kernels with transparent huge
// pages set to "always" (Debian's default), the first touch of such a
// stack can fault in a whole 2 MiB huge page, so a handful of short-lived
// helper threads cost megabytes of resident memory that stay. A stack
// smaller than a huge page never gets one.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <pthread.h>

namespace bulwark {

class SmallThread {
public:
    static constexpr size_t kDefaultStack = 256 * 1024;

    // Starts `fn`; throws std::system_error when no thread can be had.
    explicit SmallThread(std::function<void()> fn, size_t stack_bytes = kDefaultStack);
    SmallThread(SmallThread&& other) noexcept;
    SmallThread& operator=(SmallThread&&) = delete;
    SmallThread(const SmallThread&) = delete;
    SmallThread& operator=(const SmallThread&) = delete;
    ~SmallThread();  // joins; an exception `fn` threw is dropped

    // Waits for `fn`, then rethrows what it threw.
    void join();

    // `fn` on a SmallThread; when no thread can be had (a tasks limit),
    // `fn` run here and now instead, and nullopt.
    static std::optional<SmallThread> start_or_run(const std::function<void()>& fn, size_t stack_bytes);

private:
    struct State {
        std::function<void()> fn;
        std::exception_ptr error;
    };
    static void* run(void* state);
    std::unique_ptr<State> state_;
    pthread_t thread_{};
    bool joinable_ = false;
};

}  // namespace bulwark
