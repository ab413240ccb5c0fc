// The daemon's side of the control socket (daemon/control_protocol.hpp) on
// the engine's Boost.Asio loop: accept, check the peer (SO_PEERCRED, uid 0
// only), read one request line (at most kMaxControlRequest bytes, within
// 5 s), answer with the handler's line, close. A request is handled on the
// loop's thread, so requests (and reloads) never run concurrently.
#pragma once

#include "daemon/control_protocol.hpp"

#include <utility>  // before asio: g++ 12 + Boost 1.74 need std::exchange declared
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bulwark {

struct ControlReply {
    ControlReply(std::string l, bool h = false, std::function<void()> a = {})
        : line(std::move(l)), hold(h), after(std::move(a))
    {
    }
    std::string line;             // one JSON line, with its newline
    bool hold = false;            // keep the connection open until close_held() (stop)
    std::function<void()> after;  // run once the line is written (or could not be)
};
using ControlHandler = std::function<ControlReply(ControlCommand)>;

class ControlServer {
public:
    // Binds `path`: its directory is created mode 0700 when missing, the
    // socket is mode 0600. A stale socket (nothing answers) is replaced;
    // throws Error when another process answers there or binding fails.
    ControlServer(boost::asio::io_context& io, std::string path);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    void start(ControlHandler handler);
    // Stop accepting and remove the socket; held connections stay open.
    void stop();
    // Close the connections kept by a `hold` reply (the stop request's).
    void close_held();
    const std::string& path() const { return path_; }

private:
    struct Session;
    void accept();
    void serve(std::shared_ptr<Session> s);
    void answer(std::shared_ptr<Session> s, ControlReply reply);

    boost::asio::io_context& io_;
    std::string path_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    ControlHandler handler_;
    std::vector<std::shared_ptr<Session>> held_;
    unsigned long inode_ = 0;  // of the socket file bound
    bool stopped_ = false;
};

}  // namespace bulwark
