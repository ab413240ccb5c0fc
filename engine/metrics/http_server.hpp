// The metrics endpoint: HTTP/1.1 over TCP with Boost.Beast, on the engine's
// Boost.Asio loop. GET (or HEAD) /metrics answers the Prometheus text
// exposition that `render` returns at that moment; anything else is 404
// (405 for other methods). Bounded: 16 connections at a time, 8 KiB
// requests, 30 s per request. No TLS and no authentication: bind it to
// loopback unless the metrics must be reachable (docs/operations.md).
#pragma once

#include <utility>  // before asio: g++ 12 + Boost 1.74 need std::exchange declared
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>

namespace bulwark {

// "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464" → an endpoint; throws
// Error (exit_usage) with what to write instead.
boost::asio::ip::tcp::endpoint parse_listen_address(const std::string& text);

class MetricsServer {
public:
    MetricsServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& where,
                  std::function<std::string()> render);
    ~MetricsServer();
    void start();
    void stop();
    // Where it listens (the port, when :0 was asked).
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    struct State;  // shared with the connections it accepted

private:
    std::shared_ptr<State> state_;
};

}  // namespace bulwark
