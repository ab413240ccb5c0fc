#include "daemon/control_server.hpp"

#include "util/error.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <filesystem>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace bulwark {
namespace fs = std::filesystem;
using boost::asio::local::stream_protocol;

namespace {

// The socket's directory: created 0700 when missing. An existing default
// directory (/run/bulwark) is made 0700 too; another existing directory
// is the operator's and stays as it is.
void prepare_directory(const std::string& path)
{
    const fs::path dir = fs::path(path).parent_path();
    if (dir.empty()) return;
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) throw Error("cannot create " + dir.string() + " for the control socket: " + ec.message());
        ::chmod(dir.c_str(), 0700);
    } else if (dir == fs::path(kDefaultControlSocket).parent_path()) {
        ::chmod(dir.c_str(), 0700);
    }
}

// A socket file at `path` that nothing answers on is a leftover (a
// crashed or killed bulwark): remove it. One that answers is another
// bulwark's.
void clear_stale(const std::string& path)
{
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) return;
    if (!S_ISSOCK(st.st_mode))
        throw Error(path + " exists and is not a socket", "remove it, or give bulwark run another --socket PATH");
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof(a.sun_path) - 1);
    const bool answers = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    if (fd >= 0) ::close(fd);
    if (answers)
        throw Error("another bulwark is running: its control socket " + path + " answers",
                    "stop it first (bulwark stop --socket " + path + "), or give this one another --socket PATH");
    ::unlink(path.c_str());
}

}  // namespace

struct ControlServer::Session {
    explicit Session(boost::asio::io_context& io) : socket(io), timer(io), buf(kMaxControlRequest) {}
    stream_protocol::socket socket;
    boost::asio::steady_timer timer;
    boost::asio::streambuf buf;
    std::string out;
};

ControlServer::ControlServer(boost::asio::io_context& io, std::string path)
    : io_(io), path_(std::move(path)), acceptor_(io)
{
    if (path_.size() >= sizeof(sockaddr_un::sun_path))
        throw Error("control socket path too long: " + path_, "use a path shorter than 108 bytes");
    prepare_directory(path_);
    clear_stale(path_);
    boost::system::error_code ec;
    acceptor_.open(stream_protocol(), ec);
    // Created 0600 (the mask only for the bind, on this thread, before
    // any other thread of bulwark's exists), then checked with chmod.
    const mode_t old = ::umask(0177);
    if (!ec) acceptor_.bind(stream_protocol::endpoint(path_), ec);
    ::umask(old);
    if (!ec) acceptor_.listen(16, ec);
    if (ec) throw Error("cannot listen on the control socket " + path_ + ": " + ec.message());
    ::chmod(path_.c_str(), 0600);
    struct stat st{};
    if (::lstat(path_.c_str(), &st) == 0) inode_ = st.st_ino;
}

ControlServer::~ControlServer()
{
    stop();
    close_held();
}

void ControlServer::start(ControlHandler handler)
{
    handler_ = std::move(handler);
    accept();
}

void ControlServer::stop()
{
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    // Only our own socket: another bulwark may have bound the path since.
    struct stat st{};
    if (::lstat(path_.c_str(), &st) == 0 && st.st_ino == inode_) ::unlink(path_.c_str());
}

void ControlServer::close_held()
{
    for (auto& s : held_) {
        boost::system::error_code ec;
        s->socket.close(ec);
    }
    held_.clear();
}

void ControlServer::accept()
{
    auto s = std::make_shared<Session>(io_);
    acceptor_.async_accept(s->socket, [this, s](const boost::system::error_code& ec) {
        if (stopped_ || ec == boost::asio::error::operation_aborted) return;
        if (!ec) serve(s);
        accept();
    });
}

void ControlServer::serve(std::shared_ptr<Session> s)
{
    // The peer's credentials (SO_PEERCRED: as of connect), checked once
    // its request is read, so that a refused client reads the refusal
    // rather than a reset connection.
    ucred cred{};
    socklen_t len = sizeof(cred);
    std::string refused;
    if (::getsockopt(s->socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        refused = "refused: cannot read the peer's credentials: " + errno_text(errno);
    else if (auto why = refuse_peer(cred.uid))
        refused = *why;
    s->timer.expires_after(std::chrono::seconds(5));
    s->timer.async_wait([s](const boost::system::error_code& ec) {
        if (ec) return;
        boost::system::error_code ignored;
        s->socket.close(ignored);
    });
    boost::asio::async_read_until(s->socket, s->buf, '\n', [this, s, refused](const boost::system::error_code& ec,
                                                                              size_t n) {
        s->timer.cancel();
        if (!refused.empty() && (!ec || ec == boost::asio::error::not_found)) {
            answer(s, {control_error(refused)});
            return;
        }
        if (ec == boost::asio::error::not_found) {
            answer(s, {control_error("request longer than " + std::to_string(kMaxControlRequest) + " bytes")});
            return;
        }
        if (ec) return;  // the peer went away, or the timer closed it
        std::string line(boost::asio::buffers_begin(s->buf.data()), boost::asio::buffers_begin(s->buf.data()) + n - 1);
        std::string error;
        auto command = parse_control_request(line, error);
        if (!command) {
            answer(s, {control_error(error)});
            return;
        }
        answer(s, handler_(*command));
    });
}

void ControlServer::answer(std::shared_ptr<Session> s, ControlReply reply)
{
    s->out = std::move(reply.line);
    boost::asio::async_write(s->socket, boost::asio::buffer(s->out),
                             [this, s, hold = reply.hold, after = std::move(reply.after)](
                                 const boost::system::error_code&, size_t) {
                                 if (hold)
                                     held_.push_back(s);
                                 else {
                                     boost::system::error_code ignored;
                                     s->socket.shutdown(stream_protocol::socket::shutdown_both, ignored);
                                     s->socket.close(ignored);
                                 }
                                 if (after) after();
                             });
}

}  // namespace bulwark
