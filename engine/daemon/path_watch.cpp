#include "daemon/path_watch.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulwark {
namespace {

constexpr uint32_t kEntryEvents = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO;
constexpr uint32_t kSelfEvents = IN_DELETE_SELF | IN_MOVE_SELF;

bool is_dir(const std::string& path)
{
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

WatchPoints watch_points(const std::vector<std::string>& rule_paths)
{
    WatchPoints points;
    for (const auto& rule : rule_paths) {
        std::string path = rule;
        while (path.size() > 1 && path.back() == '/') path.pop_back();
        if (path.empty() || path[0] != '/' || path == "/") continue;
        // Up to the nearest directory that exists; watch it for the next name down.
        for (;;) {
            const size_t slash = path.rfind('/');
            const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
            const std::string name = path.substr(slash + 1);
            if (is_dir(dir) || dir == "/") {
                points[dir].emplace(name, rule);
                break;
            }
            path = dir;
        }
    }
    return points;
}

PathWatcher::PathWatcher(boost::asio::io_context& io, OnChange on_change, std::chrono::milliseconds debounce)
    : fd_(io), burst_(io, std::move(on_change), debounce)
{
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) throw Error("cannot watch rule paths (inotify_init1): " + errno_text(errno));
    fd_.assign(fd);
    wait();
}

PathWatcher::~PathWatcher()
{
    stop();
}

void PathWatcher::stop()
{
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ec;
    burst_.cancel();
    fd_.close(ec);
}

void PathWatcher::watch(const std::vector<std::string>& rule_paths)
{
    if (stopped_) return;
    for (const auto& [wd, _] : by_wd_) ::inotify_rm_watch(fd_.native_handle(), wd);
    by_wd_.clear();
    for (auto& [dir, names] : watch_points(rule_paths)) {
        const int wd = ::inotify_add_watch(fd_.native_handle(), dir.c_str(), kEntryEvents | kSelfEvents | IN_ONLYDIR);
        if (wd < 0) continue;  // gone since: its parent's watch (or the next publish) covers it
        auto& slot = by_wd_[wd];
        slot.first = dir;
        slot.second.insert(names.begin(), names.end());
    }
}

void PathWatcher::wait()
{
    fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        read_events();
        wait();
    });
}

void PathWatcher::read_events()
{
    alignas(inotify_event) char buf[16384];
    for (;;) {
        const ssize_t n = ::read(fd_.native_handle(), buf, sizeof buf);
        if (n <= 0) return;
        for (ssize_t at = 0; at < n;) {
            const auto* e = reinterpret_cast<const inotify_event*>(buf + at);
            at += ssize_t(sizeof(inotify_event) + e->len);
            if (e->mask & IN_Q_OVERFLOW) {
                burst_.note("(inotify queue overflow)");
                continue;
            }
            auto it = by_wd_.find(e->wd);
            if (it == by_wd_.end()) continue;
            const auto& names = it->second.second;
            if (e->mask & kSelfEvents) {
                if (!names.empty()) burst_.note(names.begin()->second);
                continue;
            }
            if (!(e->mask & kEntryEvents) || e->len == 0) continue;
            auto name = names.find(e->name);
            if (name != names.end()) burst_.note(name->second);
        }
    }
}

}  // namespace bulwark
