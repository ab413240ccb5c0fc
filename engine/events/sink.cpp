#include "events/sink.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace bulwark {

namespace {

int open_events(const std::string& path)
{
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

}  // namespace

FdSink::FdSink(const std::string& path) : path_(path)
{
    if (path.empty() || path == "-") return;
    fd_ = open_events(path);
    if (fd_ < 0) throw Error("cannot open events file " + path + ": " + errno_text(errno), "", exit_usage);
    owned_ = true;
}

FdSink::~FdSink()
{
    if (owned_) ::close(fd_);
}

bool FdSink::reopen()
{
    if (!owned_) return true;
    int fd = open_events(path_);
    if (fd < 0) {
        error_ = "cannot reopen " + path_ + ": " + errno_text(errno);
        return false;
    }
    ::close(fd_);
    fd_ = fd;
    mid_line_ = false;  // a new file starts at a line boundary
    return true;
}

bool FdSink::write_all(std::string_view bytes)
{
    while (!bytes.empty()) {
        ssize_t n = ::write(fd_, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            error_ = errno_text(errno);
            return false;
        }
        if (n == 0) {
            error_ = "write returned 0";
            return false;
        }
        mid_line_ = bytes[static_cast<size_t>(n) - 1] != '\n';
        bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

bool FdSink::write(std::string_view lines)
{
    if (mid_line_ && !write_all("\n")) return false;
    return write_all(lines);
}

}  // namespace bulwark
