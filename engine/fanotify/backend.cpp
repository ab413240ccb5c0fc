#include "fanotify/backend.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bulwark {
namespace {

constexpr uint64_t kPermissions = FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM;

int init_group()
{
    // FAN_REPORT_TID: the waiting thread, whose /proc/TID/syscall says
    // what its open asked for. Unlimited queue and marks: a full queue
    // would drop permission events, and each ignored file is one mark.
    return ::fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_REPORT_TID | FAN_UNLIMITED_QUEUE |
                               FAN_UNLIMITED_MARKS,
                           O_RDONLY | O_LARGEFILE | O_CLOEXEC);
}

// The nearest existing directory or file of `path` (a rule may name a file
// that does not exist yet; its filesystem is its parent's).
std::string existing(std::string path)
{
    struct stat st {};
    while (!path.empty() && ::stat(path.c_str(), &st) != 0) {
        const size_t slash = path.find_last_of('/', path.size() > 1 ? path.size() - 2 : 0);
        path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
    }
    return path.empty() ? "/" : path;
}

// Mount points from /proc/self/mountinfo (field 5, octal escapes undone).
std::vector<std::string> mount_points()
{
    std::vector<std::string> out;
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string id, parent, devno, root, point;
        if (!(fields >> id >> parent >> devno >> root >> point)) continue;
        std::string p;
        for (size_t i = 0; i < point.size(); ++i) {
            if (point[i] == '\\' && i + 3 < point.size()) {
                p += static_cast<char>(std::stoi(point.substr(i + 1, 3), nullptr, 8));
                i += 3;
            } else {
                p += point[i];
            }
        }
        out.push_back(p);
    }
    return out;
}

// tgkill(2) with signal 0 sends nothing: it succeeds only for a thread of
// this thread group (ESRCH for any other tid, EINVAL for 0, an opener
// outside our PID namespace). One syscall without a path lookup, where a
// stat of /proc/self/task/TID cost a /proc walk on every event.
bool is_own_thread(uint32_t tid)
{
    static const pid_t self = ::getpid();
    return tid != 0 && ::syscall(SYS_tgkill, self, static_cast<pid_t>(tid), 0) == 0;
}

}  // namespace

FanotifyWatch fanotify_watch(const std::vector<Policy>& policies, bool files, bool execs)
{
    FanotifyWatch w;
    auto add = [&](const std::vector<Located>& from) {
        for (const auto& v : from) w.paths.push_back(v.value);
    };
    for (const Policy& p : policies) {
        if (files) {
            for (const auto& r : p.files) {
                add(r.paths);
                add(r.prefixes);
            }
            w.everywhere |= p.defaults.file.given && p.defaults.file.action != Action::allow;
        }
        if (execs) {
            // Programs are run (FAN_OPEN_EXEC_PERM) and opened as code by
            // a loader (FAN_OPEN_PERM): both are decided.
            for (const auto& r : p.execs) {
                add(r.paths);
                add(r.prefixes);
            }
            w.everywhere |= p.defaults.exec.given && p.defaults.exec.action != Action::allow;
        }
    }
    return w;
}

void add_fanotify_stats(const FanotifyCounters& c, std::vector<uint64_t>& stats)
{
    if (stats.size() < BW_NR_STATS) stats.resize(BW_NR_STATS);
    stats[BW_STAT_DENIED] += c.denied;
    stats[BW_STAT_EXEC_DENIED] += c.exec_denied;
    stats[BW_STAT_WOULD_DENY] += c.would_deny;
    stats[BW_STAT_AUDITED] += c.audited;
}

bool fanotify_available(std::string& why_not)
{
    const int fd = ::fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY);
    if (fd < 0) {
        why_not = std::string("fanotify_init(FAN_CLASS_CONTENT) failed: ") + std::strerror(errno) +
                  (errno == EPERM ? " (needs CAP_SYS_ADMIN)"
                                  : errno == EINVAL || errno == ENOSYS
                                        ? " (a kernel without CONFIG_FANOTIFY_ACCESS_PERMISSIONS)"
                                        : "");
        return false;
    }
    ::close(fd);
    return true;
}

FanotifyBackend::FanotifyBackend(uint32_t self_tgid, std::string cgroup2_mount, Report report, unsigned threads)
    : decider_(self_tgid, std::move(cgroup2_mount)), report_(std::move(report))
{
    group_ = init_group();
    if (group_ < 0)
        throw Error(std::string("fanotify_init failed: ") + std::strerror(errno),
                    "the fanotify backend needs CAP_SYS_ADMIN and CONFIG_FANOTIFY_ACCESS_PERMISSIONS; see bulwark probe");
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_ < 0) {
        ::close(group_);
        throw Error(std::string("eventfd failed: ") + std::strerror(errno));
    }
    reader_ = std::thread([this] { read_loop(); });
    for (unsigned i = 0; i < std::max(1u, threads); ++i) answerers_.emplace_back([this] { answer_loop(); });
}

FanotifyBackend::~FanotifyBackend()
{
    stop();
}

void FanotifyBackend::mark(const std::string& path, uint64_t mask)
{
    const std::string at = existing(path);
    struct stat st {};
    if (::stat(at.c_str(), &st) != 0) return;
    for (auto& [dev, m] : marked_)
        if (dev == st.st_dev && (m & mask) == mask) return;
    if (::fanotify_mark(group_, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, AT_FDCWD, at.c_str()) != 0)
        throw Error("fanotify cannot watch the filesystem of " + at + ": " + std::strerror(errno),
                    "a rule path on this filesystem cannot be enforced by the fanotify backend; move the rule, "
                    "or run where BPF-LSM decides it (bulwark probe)");
    for (auto& [dev, m] : marked_)
        if (dev == st.st_dev) {
            m |= mask;
            return;
        }
    marked_.emplace_back(st.st_dev, mask);
}

void FanotifyBackend::watch(const std::vector<std::string>& paths, bool everywhere)
{
    std::lock_guard lock(marks_);
    for (const auto& p : paths) mark(p, kPermissions);
    if (!everywhere) return;
    for (const auto& p : mount_points()) {
        try {
            mark(p, kPermissions);
        } catch (const Error&) {
            // Filesystems that refuse a mark (some pseudo filesystems)
            // hold no files to open or programs to run.
        }
    }
}

void FanotifyBackend::publish(uint32_t generation, std::shared_ptr<const MapImage> image)
{
    std::lock_guard lock(marks_);
    decider_.publish(generation, std::move(image));
    // An ignore mark says "nobody can be denied this file" under the old
    // set; the new one may deny it.
    ::fanotify_mark(group_, FAN_MARK_FLUSH, 0, AT_FDCWD, nullptr);
}

size_t FanotifyBackend::filesystems_marked() const
{
    std::lock_guard lock(marks_);
    return marked_.size();
}

void FanotifyBackend::respond(int fd, bool allow)
{
    fanotify_response r{fd, static_cast<__u32>(allow ? FAN_ALLOW : FAN_DENY)};
    // A response that cannot be written leaves the opener waiting until
    // the group closes; it cannot fail short of a bad fd.
    while (::write(group_, &r, sizeof r) < 0 && errno == EINTR) {
    }
}

void FanotifyBackend::read_loop()
{
    alignas(fanotify_event_metadata) char buf[64 * 1024];
    for (;;) {
        pollfd fds[2] = {{group_, POLLIN, 0}, {wake_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[1].revents) break;
        const ssize_t n = ::read(group_, buf, sizeof buf);
        if (n <= 0) {
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            break;
        }
        std::vector<Request> batch;
        auto* m = reinterpret_cast<fanotify_event_metadata*>(buf);
        for (ssize_t left = n; FAN_EVENT_OK(m, left); m = FAN_EVENT_NEXT(m, left)) {
            if (m->vers != FANOTIFY_METADATA_VERSION || m->fd < 0) continue;
            const auto tid = static_cast<uint32_t>(m->pid);
            if (is_own_thread(tid)) {
                // Never ask: the asker may be the thread that would answer.
                respond(m->fd, true);
                ::close(m->fd);
                decider_.counters().own++;
                continue;
            }
            batch.push_back({m->fd, tid, (m->mask & FAN_OPEN_EXEC_PERM) != 0});
        }
        if (batch.empty()) continue;
        {
            std::lock_guard lock(queue_mutex_);
            queue_.insert(queue_.end(), batch.begin(), batch.end());
        }
        // One event wakes one answerer: notify_all woke every idle answerer
        // per event (a futex storm on 2 cores), and all but one slept again.
        if (batch.size() == 1)
            queue_ready_.notify_one();
        else
            queue_ready_.notify_all();
    }
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
    queue_ready_.notify_all();
}

void FanotifyBackend::answer_loop()
{
    for (;;) {
        Request r{};
        {
            std::unique_lock lock(queue_mutex_);
            queue_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            r = queue_.front();
            queue_.pop_front();
        }
        uint32_t generation = 0;
        FanotifyAnswer a;
        try {
            a = decider_.decide(r.fd, r.tid, r.exec, generation);
        } catch (const std::exception&) {
            // Out of memory and the like: answered (allow) below, never
            // left waiting, and counted (status "fanotify.failed").
            a = {};
            decider_.counters().failed++;
        }
        if (a.ignore) {
            std::lock_guard lock(marks_);
            if (decider_.generation() == generation)
                ::fanotify_mark(group_, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_OPEN_PERM, r.fd, nullptr);
        }
        // Reported before the answer, as the BPF programs do: the next
        // operation of the same process cannot be reported ahead of it.
        if (!a.record.empty() && report_) report_(std::move(a.record));
        respond(r.fd, a.allow);
        ::close(r.fd);
        auto& c = decider_.counters();
        c.events++;
        if (a.verdict == BW_VERDICT_DENY) {
            c.denied++;
            if (a.program) c.exec_denied++;
        } else if (a.verdict == BW_VERDICT_WOULD_DENY) {
            c.would_deny++;
        } else if (a.verdict == BW_VERDICT_AUDIT) {
            c.audited++;
        }
    }
}

void FanotifyBackend::stop()
{
    if (group_ < 0) return;
    const uint64_t one = 1;
    if (::write(wake_, &one, sizeof one) < 0) {
    }
    if (reader_.joinable()) reader_.join();
    for (auto& t : answerers_)
        if (t.joinable()) t.join();
    ::close(group_);
    ::close(wake_);
    group_ = wake_ = -1;
}

}  // namespace bulwark
