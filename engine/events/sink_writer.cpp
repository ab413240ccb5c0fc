#include "events/sink_writer.hpp"

#include "events/service_lines.hpp"

#include <algorithm>
#include <iostream>

namespace bulwark {

namespace {

// One write per message: the engine's thread writes to stderr too.
void say(const std::string& text)
{
    std::cerr << text << std::flush;
}

}  // namespace

uint64_t count_lines(std::string_view text)
{
    return static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
}

uint64_t count_deny_verdicts(std::string_view text)
{
    // The decoder writes `"verdict":"deny"` exactly so, once per deny line.
    constexpr std::string_view needle = "\"verdict\":\"deny\"";
    uint64_t n = 0;
    for (size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + needle.size())) ++n;
    return n;
}

SinkWriter::SinkWriter(EventSink& sink, Transform transform, size_t high_water, std::function<void()> on_room)
    : sink_(sink), transform_(std::move(transform)), high_water_(high_water), on_room_(std::move(on_room))
{
    thread_ = std::thread([this] { run(); });
}

SinkWriter::~SinkWriter()
{
    close();
}

bool SinkWriter::submit(std::string lines)
{
    if (lines.empty()) return true;
    std::lock_guard lock(mutex_);
    if (queue_.empty()) {
        queue_ = std::move(lines);
    } else {
        queue_ += lines;
    }
    wake_.notify_one();
    if (queue_.size() <= high_water_) return true;
    told_full_ = true;
    return false;
}

void SinkWriter::reopen()
{
    std::lock_guard lock(mutex_);
    reopen_ = true;
    wake_.notify_one();
}

void SinkWriter::close()
{
    {
        std::lock_guard lock(mutex_);
        if (closing_ && !thread_.joinable()) return;
        closing_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
}

SinkCounters SinkWriter::counters() const
{
    return SinkCounters{written_.load(), lost_.load(), deny_lost_.load()};
}

void SinkWriter::run()
{
    std::string batch;
    for (;;) {
        bool reopen = false, room = false;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return !queue_.empty() || reopen_ || closing_; });
            if (queue_.empty() && !reopen_ && closing_) return;
            batch.swap(queue_);
            queue_.clear();
            reopen = std::exchange(reopen_, false);
            // Everything queued is taken: the producer may go on.
            room = std::exchange(told_full_, false);
        }
        if (room && on_room_) on_room_();
        if (reopen && !sink_.reopen())
            say("bulwark: " + sink_.error() + "; still writing to the previous file\n");
        if (!batch.empty()) write_batch(batch);
        batch.clear();
    }
}

void SinkWriter::write_batch(std::string& in)
{
    std::string_view lines = in;
    if (transform_) {
        out_.clear();
        transform_(in, out_);
        lines = out_;
    }
    if (failing_) {
        // Try the news first: if it gets through, the sink works again.
        std::string note = lost_line(LostLine{"sink", failing_since_ns_, unix_now_ns(), episode_lost_, episode_deny_lost_,
                                              lost_.load(), deny_lost_.load()});
        if (transform_) {
            std::string t;
            transform_(note, t);
            note.swap(t);
        }
        if (sink_.write(note)) {
            say("bulwark: writing events to " + sink_.name() + " again; " + std::to_string(episode_lost_) +
                " lines could not be written (" + std::to_string(episode_deny_lost_) + " of them denials)\n");
            failing_ = false;
            written_ += 1;
        }
    }
    if (!failing_ && sink_.write(lines)) {
        written_ += count_lines(lines);
        return;
    }
    const uint64_t n = count_lines(in), d = count_deny_verdicts(in);
    lost_ += n;
    deny_lost_ += d;
    if (!failing_) {
        failing_ = true;
        failing_since_ns_ = unix_now_ns();
        episode_lost_ = episode_deny_lost_ = 0;
        ever_failed_ = true;
        say("bulwark: cannot write events to " + sink_.name() + ": " + sink_.error() +
            "; enforcement and the ring buffer go on, lines that cannot be written are counted "
            "(sink_lost), writing resumes when it can\n");
    }
    episode_lost_ += n;
    episode_deny_lost_ += d;
}

}  // namespace bulwark
