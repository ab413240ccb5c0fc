// The fanotify backend (docs/decisions/010-backends.md): enforces [[file]]
// read rules and [[exec]] rules where BPF-LSM cannot, with fanotify
// permission events (FAN_CLASS_CONTENT; FAN_OPEN_PERM, FAN_OPEN_EXEC_PERM)
// on the filesystems that hold rule paths (FAN_MARK_FILESYSTEM; every
// mounted filesystem when an exec default decides everything).
//
// One reader thread reads the events and hands them to answering threads
// (FanotifyDecider decides). The reader never opens a file, and answers
// bulwark's own threads' events at once without asking: a worker's own
// opens (of /proc, of a rule path) can therefore never wait for itself.
// If bulwark dies, the kernel answers every pending and later event
// "allow" as it closes the group: a dead bulwark enforces nothing here
// (unlike BPF-LSM's pinned programs); a stopped (SIGSTOP) bulwark leaves
// the openers waiting, killably, until it runs again.
#pragma once

#include "fanotify/decider.hpp"
#include "policy/model.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bulwark {

class FanotifyBackend {
public:
    // `report` is called (from an answering thread) with each verdict
    // record; it must be quick and thread-safe (post it to the engine).
    using Report = std::function<void(std::vector<unsigned char>)>;
    // Throws Error when fanotify is unavailable (fanotify_init fails).
    FanotifyBackend(uint32_t self_tgid, std::string cgroup2_mount, Report report, unsigned threads = 4);
    ~FanotifyBackend();
    FanotifyBackend(const FanotifyBackend&) = delete;
    FanotifyBackend& operator=(const FanotifyBackend&) = delete;

    // Before a new policy set goes live: mark the filesystems holding
    // `paths` (FAN_OPEN_PERM, FAN_OPEN_EXEC_PERM), or with `everywhere`
    // every mounted filesystem (a default that denies or audits decides
    // every file). Throws Error when a rule path's filesystem cannot be
    // marked. Marks only grow: a filesystem left unmarked could let an
    // open through that a later set denies.
    void watch(const std::vector<std::string>& paths, bool everywhere);
    // The set is live: decide with it from now on, and flush the ignore
    // marks set under the previous one.
    void publish(uint32_t generation, std::shared_ptr<const MapImage> image);
    // Stop answering: closing the group lets every waiting open through.
    void stop();

    FanotifyCounters& counters() { return decider_.counters(); }
    size_t filesystems_marked() const;

private:
    struct Request {
        int fd;
        uint32_t tid;
        bool exec;
    };
    void read_loop();
    void answer_loop();
    void respond(int fd, bool allow);
    void mark(const std::string& path, uint64_t mask);

    FanotifyDecider decider_;
    Report report_;
    int group_ = -1, wake_ = -1;
    mutable std::mutex marks_;             // ignore marks against publish's flush
    std::vector<std::pair<uint64_t, uint64_t>> marked_;  // (st_dev, mask) already marked
    std::mutex queue_mutex_;
    std::condition_variable queue_ready_;
    std::deque<Request> queue_;
    bool stopping_ = false;
    std::thread reader_;
    std::vector<std::thread> answerers_;
};

// What a policy set needs watched (FanotifyBackend::watch): the paths of
// its [[file]] rules (`files`: fanotify decides them) and [[exec]] rules
// (`execs`), or every filesystem where a default decides.
struct FanotifyWatch {
    std::vector<std::string> paths;
    bool everywhere = false;
};
FanotifyWatch fanotify_watch(const std::vector<Policy>& policies, bool files, bool execs);

// Adds the backend's verdict counters to the kernel's (enum bw_stat), so
// that the stats line and the metrics count both backends' verdicts.
void add_fanotify_stats(const FanotifyCounters& c, std::vector<uint64_t>& stats);

// Whether this kernel gives fanotify permission events to this process
// (fanotify_init(FAN_CLASS_CONTENT) succeeds); `why_not` says why not.
bool fanotify_available(std::string& why_not);

}  // namespace bulwark
