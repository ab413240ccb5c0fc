// Where JSON Lines go: a file descriptor (stdout or an --events file),
// written in batches with write(2) so a burst costs few system calls.
// SinkWriter (sink_writer.hpp) drives a sink from its own thread.
#pragma once

#include <string>
#include <string_view>

namespace bulwark {

class EventSink {
public:
    virtual ~EventSink() = default;
    // Write whole lines; false when the destination failed (the reader is
    // gone, the disk is full, the file is read-only): error() says why.
    virtual bool write(std::string_view lines) = 0;
    // Open the destination again by its name (log rotation); false when it
    // cannot be opened (the old one stays in use).
    virtual bool reopen() { return true; }
    virtual const std::string& error() const = 0;
    // "standard output" or the path.
    virtual std::string name() const = 0;
};

class FdSink final : public EventSink {
public:
    // "-" is standard output; anything else is opened for appending.
    explicit FdSink(const std::string& path);
    ~FdSink() override;
    FdSink(const FdSink&) = delete;
    FdSink& operator=(const FdSink&) = delete;
    bool write(std::string_view lines) override;
    bool reopen() override;
    const std::string& error() const override { return error_; }
    std::string name() const override { return owned_ ? path_ : "standard output"; }

private:
    bool write_all(std::string_view bytes);
    std::string path_;
    int fd_ = 1;
    bool owned_ = false;
    // A failed write may have cut a line: the next write ends it first, so
    // every line that is written stays a line of its own.
    bool mid_line_ = false;
    std::string error_;
};

}  // namespace bulwark
