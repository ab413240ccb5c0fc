#include "daemon/mount_watch.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sstream>
#include <unistd.h>

namespace bulwark {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo (show_path).
std::string unescape(const std::string& field)
{
    std::string out;
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            const std::string oct = field.substr(i + 1, 3);
            if (oct.find_first_not_of("01234567") == std::string::npos) {
                out += static_cast<char>(std::stoi(oct, nullptr, 8));
                i += 3;
                continue;
            }
        }
        out += field[i];
    }
    return out;
}

std::string without_slash(std::string path)
{
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

// Is `mount_point` the rule path `rule`, or above it?
bool covers(const std::string& mount_point, const std::string& rule)
{
    const std::string r = without_slash(rule);
    if (mount_point == r) return true;
    if (mount_point == "/") return !r.empty() && r[0] == '/';
    return r.size() > mount_point.size() && r.compare(0, mount_point.size(), mount_point) == 0 &&
           r[mount_point.size()] == '/';
}

}  // namespace

std::set<std::string> mount_points(const std::string& mountinfo)
{
    std::set<std::string> out;
    std::istringstream lines(mountinfo);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string id, parent, devno, root, point;
        if (fields >> id >> parent >> devno >> root >> point) out.insert(unescape(point));
    }
    return out;
}

std::string covering_change(const std::set<std::string>& before, const std::set<std::string>& after,
                            const std::vector<std::string>& rule_paths)
{
    auto first_in = [&](const std::set<std::string>& a, const std::set<std::string>& b) -> std::string {
        for (const auto& point : a) {
            if (b.count(point)) continue;
            for (const auto& rule : rule_paths)
                if (covers(point, rule)) return point;
        }
        return "";
    };
    std::string appeared = first_in(after, before);
    return appeared.empty() ? first_in(before, after) : appeared;
}

MountWatcher::MountWatcher(boost::asio::io_context& io, OnChange on_change, std::chrono::milliseconds debounce)
    : fd_(io), burst_(io, std::move(on_change), debounce)
{
    const int fd = ::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error("cannot watch mounts (/proc/self/mountinfo): " + errno_text(errno));
    fd_.assign(fd);
    points_ = read_points();
    wait();
}

MountWatcher::~MountWatcher()
{
    stop();
}

void MountWatcher::stop()
{
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ec;
    burst_.cancel();
    fd_.close(ec);
}

void MountWatcher::watch(const std::vector<std::string>& rule_paths)
{
    if (stopped_) return;
    rule_paths_ = rule_paths;
    points_ = read_points();
}

std::set<std::string> MountWatcher::read_points()
{
    std::string text;
    char buf[65536];
    if (::lseek(fd_.native_handle(), 0, SEEK_SET) < 0) return points_;
    for (;;) {
        const ssize_t n = ::read(fd_.native_handle(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, size_t(n));
    }
    return mount_points(text);
}

void MountWatcher::wait()
{
    // The kernel marks the table's change as an exceptional condition
    // (POLLPRI | POLLERR, fs/proc_namespace.c mounts_poll).
    fd_.async_wait(boost::asio::posix::stream_descriptor::wait_error, [this](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        table_changed();
        wait();
    });
}

void MountWatcher::table_changed()
{
    std::set<std::string> now = read_points();
    const std::string point = covering_change(points_, now, rule_paths_);
    points_ = std::move(now);
    if (!point.empty()) burst_.note(point);
}

}  // namespace bulwark
