#include "kernel/event_stream.hpp"

#include "util/error.hpp"

#include <bpf/bpf.h>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <fcntl.h>

namespace bulwark {

namespace {
constexpr size_t kBatchBytes = 1u << 16;
}

EventStream::EventStream(boost::asio::io_context& io, int ringbuf_fd, EventDecoder& decoder, SinkWriter& writer)
    : readable_(io), decoder_(decoder), writer_(writer)
{
    ring_.reset(ring_buffer__new(ringbuf_fd, &EventStream::on_record, this, nullptr));
    if (!ring_) throw Error("cannot open the event ring buffer: " + errno_text(errno));
    int fd = ::fcntl(ring_buffer__epoll_fd(ring_.get()), F_DUPFD_CLOEXEC, 3);
    if (fd < 0) throw Error("cannot watch the event ring buffer: " + errno_text(errno));
    readable_.assign(fd);
}

int EventStream::on_record(void* ctx, void* data, size_t size)
{
    auto* self = static_cast<EventStream*>(ctx);
    self->decoder_.decode(data, size, self->batch_);
    if (self->batch_.size() >= kBatchBytes) {
        self->flush();
        // This record is consumed; the next ones stay in the ring buffer.
        if (self->paused_ && !self->draining_) return -EAGAIN;
    }
    return 0;
}

void EventStream::flush()
{
    if (batch_.empty()) return;
    if (!writer_.submit(std::move(batch_))) paused_ = true;
    batch_.clear();
}

void EventStream::consume()
{
    ring_buffer__consume(ring_.get());
    flush();
}

void EventStream::start()
{
    wait();
}

void EventStream::wait()
{
    if (stopped_ || waiting_) return;
    waiting_ = true;
    readable_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        waiting_ = false;
        if (ec || stopped_) return;  // cancelled: stopping
        consume();
        if (!paused_) wait();
    });
}

void EventStream::resume()
{
    if (stopped_ || !paused_) return;
    paused_ = false;
    consume();
    if (!paused_) wait();
}

void EventStream::stop()
{
    stopped_ = true;
    boost::system::error_code ignored;
    readable_.cancel(ignored);
}

void EventStream::drain()
{
    draining_ = true;
    consume();
}

std::vector<uint64_t> read_stats(int stats_fd)
{
    const int cpus = libbpf_num_possible_cpus();
    std::vector<uint64_t> totals(BW_NR_STATS, 0);
    if (cpus <= 0) return totals;
    std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
    for (uint32_t i = 0; i < BW_NR_STATS; ++i) {
        if (bpf_map_lookup_elem(stats_fd, &i, per_cpu.data()) != 0) continue;
        for (uint64_t v : per_cpu) totals[i] += v;
    }
    return totals;
}

}  // namespace bulwark
