// The client's side of the control socket (daemon/control_protocol.hpp),
// for `bulwark reload`, `stop` and `status`: blocking, every wait bounded.
#pragma once

#include "daemon/control_protocol.hpp"
#include "util/error.hpp"

#include <string>

namespace bulwark {

// Nothing answers at the socket's path: no bulwark is running there.
class NoDaemon : public Error {
public:
    using Error::Error;
};

class ControlClient {
public:
    // Connects; throws NoDaemon (no socket, or nothing listening) or Error
    // (permission denied: not root).
    explicit ControlClient(const std::string& path);
    ~ControlClient();
    ControlClient(const ControlClient&) = delete;
    ControlClient& operator=(const ControlClient&) = delete;

    // Sends the request; returns the answer line (without its newline).
    // Throws Error when no whole line comes within timeout_ms.
    std::string call(ControlCommand command, int timeout_ms);
    // After the answer: true once the daemon closed the connection (it
    // does on exit after `stop`), false after timeout_ms.
    bool wait_closed(int timeout_ms);

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace bulwark
