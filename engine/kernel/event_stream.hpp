// The ring buffer → decoder → sink pipeline on a Boost.Asio loop: wait for
// the ring buffer's epoll fd to become readable, consume every record,
// hand the batch to the SinkWriter. Nothing polls on a timer, and nothing
// here waits for the sink: when the writer's queue is full, reading pauses
// (the records wait in the ring buffer, and the kernel counts what no
// longer fits) until the writer has room again. A failing sink never stops
// the reading (SinkWriter counts what it cannot write).
#pragma once

#include "events/decoder.hpp"
#include "events/sink_writer.hpp"
#include "kernel/bpf_handles.hpp"

#include <utility>  // before asio: g++ 12 + Boost 1.74 need std::exchange declared
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace bulwark {

class EventStream {
public:
    EventStream(boost::asio::io_context& io, int ringbuf_fd, EventDecoder& decoder, SinkWriter& writer);
    void start();
    void stop();
    // Consume whatever is left (after detaching, before exit), whatever
    // the writer's queue holds.
    void drain();
    // The writer has room again (call on the io_context's thread).
    void resume();
    bool paused() const { return paused_; }

private:
    static int on_record(void* ctx, void* data, size_t size);
    void wait();
    void consume();
    void flush();

    RingBufferPtr ring_;
    boost::asio::posix::stream_descriptor readable_;
    EventDecoder& decoder_;
    SinkWriter& writer_;
    std::string batch_;
    bool paused_ = false;     // the writer's queue is full: do not read
    bool draining_ = false;   // exit: read everything
    bool stopped_ = false;
    bool waiting_ = false;    // an async_wait is pending
};

// enum bw_stat counters summed over CPUs.
std::vector<uint64_t> read_stats(int stats_fd);

}  // namespace bulwark
