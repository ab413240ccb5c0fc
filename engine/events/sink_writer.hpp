// The events destination, written from a thread of its own, so that a slow
// or failing destination never stops the engine: the Boost.Asio loop keeps
// reading the ring buffer, answering the control socket and serving
// metrics whatever the sink does.
//
// - A slow sink (a reader that does not read): lines queue up to a bound;
//   past it submit() says so and the producer stops taking records from the
//   ring buffer until on_room() — the kernel then counts what it cannot
//   queue (`lost`, `deny_lost`), exactly, per kind.
// - A failing sink (disk full, closed pipe, read-only file): each batch
//   that cannot be written is dropped and counted (`sink_lost`, and of
//   those the deny verdicts, `sink_deny_lost`); the first failure is said
//   once on stderr; every later batch tries again, and the first write that
//   works is a {"type":"lost","where":"sink",...} line for what was missed.
// - reopen() (SIGUSR1) reopens the destination by name before the next write.
#pragma once

#include "events/sink.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace bulwark {

struct SinkCounters {
    uint64_t written = 0;      // lines written
    uint64_t lost = 0;         // lines that could not be written
    uint64_t deny_lost = 0;    // of those, "verdict":"deny" lines
};

class SinkWriter {
public:
    // Lines in bulwark's JSON → the lines to write (e.g. OCSF); empty: as is.
    using Transform = std::function<void(std::string_view lines, std::string& out)>;

    // `on_room` runs on the writer thread when the queue has drained below
    // half of `high_water` after a submit() returned false.
    SinkWriter(EventSink& sink, Transform transform, size_t high_water, std::function<void()> on_room);
    ~SinkWriter();
    SinkWriter(const SinkWriter&) = delete;
    SinkWriter& operator=(const SinkWriter&) = delete;

    // Queue whole lines. false: the queue is past high water; stop producing
    // until on_room (the lines are queued all the same).
    bool submit(std::string lines);
    void reopen();
    // Write everything queued, then stop the thread. Idempotent.
    void close();

    SinkCounters counters() const;
    // The sink failed at some time (stays true after it recovered).
    bool ever_failed() const { return ever_failed_.load(); }

private:
    void run();
    void write_batch(std::string& in);

    EventSink& sink_;
    Transform transform_;
    const size_t high_water_;
    std::function<void()> on_room_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::string queue_;
    bool told_full_ = false;
    bool reopen_ = false;
    bool closing_ = false;

    // Written by the writer thread only; read through counters().
    std::atomic<uint64_t> written_{0}, lost_{0}, deny_lost_{0};
    std::atomic<bool> ever_failed_{false};
    bool failing_ = false;
    int64_t failing_since_ns_ = 0;
    uint64_t episode_lost_ = 0, episode_deny_lost_ = 0;
    std::string out_;
    std::thread thread_;
};

// Lines in `text` and, of those, deny verdicts.
uint64_t count_lines(std::string_view text);
uint64_t count_deny_verdicts(std::string_view text);

}  // namespace bulwark
