#include "metrics/http_server.hpp"

#include "util/error.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fcntl.h>
#include <optional>
#include <sstream>

namespace bulwark {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

tcp::endpoint parse_listen_address(const std::string& text)
{
    const std::string hint = "write ADDRESS:PORT, e.g. 127.0.0.1:9464 or [::1]:9464";
    std::string host, port;
    if (!text.empty() && text[0] == '[') {
        auto close = text.find("]:");
        if (close == std::string::npos) throw Error("bad metrics address \"" + text + "\"", hint, exit_usage);
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon)
            throw Error("bad metrics address \"" + text + "\": no port", hint, exit_usage);
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec) throw Error("bad metrics address \"" + text + "\": \"" + host + "\" is not an IP address", hint, exit_usage);
    char* end = nullptr;
    unsigned long p = std::strtoul(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p > 65535)
        throw Error("bad metrics address \"" + text + "\": \"" + port + "\" is not a port (0-65535)", hint, exit_usage);
    return tcp::endpoint(addr, static_cast<unsigned short>(p));
}

namespace {

constexpr int kMaxConnections = 16;
constexpr size_t kMaxRequest = 8192;
constexpr auto kTimeout = std::chrono::seconds(30);

}  // namespace

struct MetricsServer::State : std::enable_shared_from_this<MetricsServer::State> {
    State(asio::io_context& io, std::function<std::string()> r) : acceptor(io), render(std::move(r)) {}
    tcp::acceptor acceptor;
    std::function<std::string()> render;
    int connections = 0;
    bool stopped = false;

    void accept();
};

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(tcp::socket socket, std::shared_ptr<MetricsServer::State> server)
        : stream_(std::move(socket)), server_(std::move(server))
    {
        ++server_->connections;
    }
    ~Connection() { --server_->connections; }

    void read()
    {
        parser_.emplace();
        parser_->header_limit(kMaxRequest);
        parser_->body_limit(kMaxRequest);
        stream_.expires_after(kTimeout);
        http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec || self->server_->stopped) return;  // closed, timed out, malformed: drop it
            self->respond(self->parser_->release());
        });
    }

private:
    void respond(http::request<http::string_body> req)
    {
        auto res = std::make_shared<http::response<http::string_body>>();
        res->version(req.version());
        res->keep_alive(req.keep_alive());
        res->set(http::field::server, "bulwark");
        const bool get = req.method() == http::verb::get, head = req.method() == http::verb::head;
        std::string target(req.target());
        if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
        if (!get && !head) {
            res->result(http::status::method_not_allowed);
            res->set(http::field::allow, "GET, HEAD");
            res->set(http::field::content_type, "text/plain; charset=utf-8");
            res->body() = "GET /metrics\n";
        } else if (target != "/metrics") {
            res->result(http::status::not_found);
            res->set(http::field::content_type, "text/plain; charset=utf-8");
            res->body() = "bulwark serves /metrics\n";
        } else {
            res->result(http::status::ok);
            res->set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
            res->body() = server_->render();
        }
        res->prepare_payload();
        if (head) res->body().clear();
        stream_.expires_after(kTimeout);
        http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
            if (ec) return;
            if (res->keep_alive() && !self->server_->stopped) {
                self->read();
            } else {
                beast::error_code ignored;
                self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
            }
        });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_{kMaxRequest};
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<MetricsServer::State> server_;
};

}  // namespace

void MetricsServer::State::accept()
{
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (self->stopped) return;
        if (!ec) {
            if (self->connections >= kMaxConnections) {
                beast::error_code ignored;
                socket.close(ignored);  // too many at once: the scraper retries
            } else {
                std::make_shared<Connection>(std::move(socket), self)->read();
            }
        }
        self->accept();
    });
}

MetricsServer::MetricsServer(asio::io_context& io, const tcp::endpoint& where, std::function<std::string()> render)
    : state_(std::make_shared<State>(io, std::move(render)))
{
    beast::error_code ec;
    auto& a = state_->acceptor;
    a.open(where.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(where, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        std::ostringstream w;
        w << where;
        throw Error("cannot serve metrics on " + w.str() + ": " + ec.message(),
                    "choose another --metrics address (is another bulwark or exporter using it?)", exit_usage);
    }
    // Not inherited by programs bulwark runs (none today, but cheap).
    ::fcntl(a.native_handle(), F_SETFD, FD_CLOEXEC);
}

MetricsServer::~MetricsServer()
{
    stop();
}

void MetricsServer::start()
{
    state_->accept();
}

void MetricsServer::stop()
{
    if (state_->stopped) return;
    state_->stopped = true;
    beast::error_code ignored;
    state_->acceptor.close(ignored);
}

tcp::endpoint MetricsServer::local_endpoint() const
{
    beast::error_code ec;
    return state_->acceptor.local_endpoint(ec);
}

}  // namespace bulwark
