// One call per burst of changes, for the watchers that republish the set
// (path_watch.hpp, mount_watch.hpp): the first value noted in a burst is
// passed on `delay` after it; what comes while the call is due changes
// nothing.
#pragma once

#include <utility>  // before asio: g++ 12 + Boost 1.74 need std::exchange declared
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <string>

namespace bulwark {

class Debounced {
public:
    using Call = std::function<void(const std::string&)>;
    Debounced(boost::asio::io_context& io, Call call, std::chrono::milliseconds delay)
        : timer_(io), call_(std::move(call)), delay_(delay)
    {
    }

    void note(const std::string& value)
    {
        if (cancelled_ || !pending_.empty()) return;  // stopped, or this burst is already due
        pending_ = value;
        timer_.expires_after(delay_);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec || cancelled_) return;
            std::string v = std::move(pending_);
            pending_.clear();
            call_(v);
        });
    }

    void cancel()
    {
        cancelled_ = true;
        timer_.cancel();
    }

private:
    boost::asio::steady_timer timer_;
    Call call_;
    std::chrono::milliseconds delay_;
    std::string pending_;  // the first value of the burst
    bool cancelled_ = false;
};

}  // namespace bulwark
