#include "util/small_thread.hpp"

#include <system_error>
#include <utility>

namespace bulwark {

SmallThread::SmallThread(std::function<void()> fn, size_t stack_bytes)
    : state_(std::make_unique<State>(State{std::move(fn), nullptr}))
{
    pthread_attr_t attr;
    if (int rc = pthread_attr_init(&attr); rc != 0) throw std::system_error(rc, std::generic_category());
    int rc = pthread_attr_setstacksize(&attr, stack_bytes);
    if (rc == 0) rc = pthread_create(&thread_, &attr, &SmallThread::run, state_.get());
    pthread_attr_destroy(&attr);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_create");
    joinable_ = true;
}

SmallThread::SmallThread(SmallThread&& other) noexcept
    : state_(std::move(other.state_)), thread_(other.thread_), joinable_(std::exchange(other.joinable_, false))
{
}

SmallThread::~SmallThread()
{
    if (joinable_) pthread_join(thread_, nullptr);
}

void SmallThread::join()
{
    if (joinable_) {
        pthread_join(thread_, nullptr);
        joinable_ = false;
    }
    if (state_ && state_->error) std::rethrow_exception(std::exchange(state_->error, nullptr));
}

std::optional<SmallThread> SmallThread::start_or_run(const std::function<void()>& fn, size_t stack_bytes)
{
    try {
        return SmallThread(fn, stack_bytes);
    } catch (const std::system_error&) {
        fn();
        return std::nullopt;
    }
}

void* SmallThread::run(void* state)
{
    auto* s = static_cast<State*>(state);
    try {
        s->fn();
    } catch (...) {
        s->error = std::current_exception();
    }
    return nullptr;
}

}  // namespace bulwark
