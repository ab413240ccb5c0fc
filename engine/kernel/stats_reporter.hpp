// Nothing lost silently: once a second, read the kernel's loss counters
// and, the moment they grew, write a {"type":"lost","where":"ring-buffer"}
// line (at most one a second while losses go on); every `interval`, and
// when asked at exit, a {"type":"stats"} line. Both go through the
// SinkWriter like every event (docs/events.md).
#pragma once

#include "events/service_lines.hpp"
#include "events/sink_writer.hpp"

#include <utility>  // before asio: g++ 12 + Boost 1.74 need std::exchange declared
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

namespace bulwark {

class StatsReporter {
public:
    // `snapshot` gives everything a stats line holds but the time (kernel
    // counters included: it reads the stats map).
    StatsReporter(boost::asio::io_context& io, SinkWriter& writer, std::function<StatsLine()> snapshot,
                  std::chrono::seconds interval);
    void start();
    void stop();
    // A stats line now (at exit, after the last drain), and a lost line
    // first if losses grew since the last check.
    void write_final();

private:
    void tick();
    void check_losses(const StatsLine& s);

    boost::asio::steady_timer timer_;
    SinkWriter& writer_;
    std::function<StatsLine()> snapshot_;
    std::chrono::seconds interval_;
    std::chrono::steady_clock::time_point next_stats_;
    uint64_t seen_lost_ = 0, seen_deny_lost_ = 0;
    int64_t last_check_ns_ = 0;
    bool stopped_ = false;
};

}  // namespace bulwark
