#include "daemon/control_client.hpp"

#include <cerrno>
#include <chrono>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace bulwark {
namespace {

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point deadline)
{
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

}  // namespace

ControlClient::ControlClient(const std::string& path) : path_(path)
{
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof(a.sun_path)) throw Error("control socket path too long: " + path);
    path.copy(a.sun_path, sizeof(a.sun_path) - 1);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw Error("cannot create a socket: " + errno_text(errno));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) return;
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == ENOENT || err == ECONNREFUSED || err == ENOTDIR)
        throw NoDaemon("no bulwark is running: nothing answers on " + path,
                       "start it (systemctl start bulwark, or bulwark run --policy ...); a daemon started with "
                       "--socket PATH needs the same --socket here");
    if (err == EACCES || err == EPERM)
        throw Error("cannot connect to " + path + ": " + errno_text(err), "the control socket is root only: run as root");
    throw Error("cannot connect to " + path + ": " + errno_text(err));
}

ControlClient::~ControlClient()
{
    if (fd_ >= 0) ::close(fd_);
}

std::string ControlClient::call(ControlCommand command, int timeout_ms)
{
    const std::string request = control_request(command);
    // A daemon that refuses the peer answers and closes without reading:
    // the send may then fail (EPIPE), and the answer is still there to read.
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()) &&
        errno != EPIPE && errno != ECONNRESET)
        throw Error("cannot send the request to " + path_ + ": " + errno_text(errno));
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string got;
    for (;;) {
        if (auto nl = got.find('\n'); nl != std::string::npos) return got.substr(0, nl);
        pollfd p{fd_, POLLIN, 0};
        const int left = ms_left(deadline);
        if (left == 0 || ::poll(&p, 1, left) != 1)
            throw Error("no answer from " + path_ + " within " + std::to_string(timeout_ms / 1000) + " s");
        char buf[65536];
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw Error("the daemon closed " + path_ + " without an answer");
        got.append(buf, static_cast<size_t>(n));
    }
}

bool ControlClient::wait_closed(int timeout_ms)
{
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        pollfd p{fd_, POLLIN, 0};
        const int left = ms_left(deadline);
        if (left == 0 || ::poll(&p, 1, left) != 1) return false;
        char buf[4096];
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return true;
    }
}

}  // namespace bulwark
