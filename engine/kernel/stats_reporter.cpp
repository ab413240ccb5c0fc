#include "kernel/stats_reporter.hpp"

#include "bulwark/abi.h"

namespace bulwark {

StatsReporter::StatsReporter(boost::asio::io_context& io, SinkWriter& writer, std::function<StatsLine()> snapshot,
                             std::chrono::seconds interval)
    : timer_(io), writer_(writer), snapshot_(std::move(snapshot)), interval_(interval)
{
}

void StatsReporter::start()
{
    last_check_ns_ = unix_now_ns();
    // Losses counted before this process read (a takeover) are reported by
    // the first check, not hidden: start from zero.
    next_stats_ = std::chrono::steady_clock::now() + interval_;
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) tick();
    });
}

void StatsReporter::stop()
{
    stopped_ = true;
    timer_.cancel();
}

void StatsReporter::check_losses(const StatsLine& s)
{
    const uint64_t lost = s.kernel.size() > BW_STAT_EVENTS_LOST ? s.kernel[BW_STAT_EVENTS_LOST] : 0;
    const uint64_t deny = s.kernel.size() > BW_STAT_DENY_EVENTS_LOST ? s.kernel[BW_STAT_DENY_EVENTS_LOST] : 0;
    if (lost > seen_lost_ || deny > seen_deny_lost_) {
        writer_.submit(lost_line(LostLine{"ring-buffer", last_check_ns_, s.now_ns, lost - seen_lost_,
                                          deny - seen_deny_lost_, lost, deny}));
        seen_lost_ = lost;
        seen_deny_lost_ = deny;
    }
    last_check_ns_ = s.now_ns;
}

void StatsReporter::tick()
{
    if (stopped_) return;
    StatsLine s = snapshot_();
    s.now_ns = unix_now_ns();
    check_losses(s);
    const auto now = std::chrono::steady_clock::now();
    if (interval_.count() > 0 && now >= next_stats_) {
        writer_.submit(stats_line(s));
        next_stats_ = now + interval_;
    }
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) tick();
    });
}

void StatsReporter::write_final()
{
    StatsLine s = snapshot_();
    s.now_ns = unix_now_ns();
    check_losses(s);
    writer_.submit(stats_line(s));
}

}  // namespace bulwark
