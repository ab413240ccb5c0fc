// The fanotify backend's decisions: a permission event (the opened file's
// fd, the waiting thread, open or exec) → allow or deny, the verdict
// record to report, and whether the file may get an ignore mark. Decides
// with the reference evaluator over the live map image — by the opened
// file's identity and its dentry chain, so symlinks, "..", /proc/self/fd/N,
// hardlinks and bind mounts are decided as the BPF-LSM programs decide
// them — and for the process's scope as /proc shows it now.
//
// Thread-safe: several answering threads call decide() at once; publish()
// swaps the set they decide with.
#pragma once

#include "compile/evaluator.hpp"
#include "compile/map_image.hpp"

#include "util/fanotify_totals.hpp"

#include "bulwark/abi.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace bulwark {

// What the backend counts. The verdicts are merged into the stats line and
// metrics with the kernel's counters of the same meaning (enum bw_stat);
// the rest is status's "fanotify" and the bulwark_fanotify_* metrics.
struct FanotifyCounters {
    std::atomic<uint64_t> events{0};        // permission events decided and answered
    std::atomic<uint64_t> denied{0};        // BW_STAT_DENIED
    std::atomic<uint64_t> exec_denied{0};   // BW_STAT_EXEC_DENIED
    std::atomic<uint64_t> would_deny{0};    // BW_STAT_WOULD_DENY
    std::atomic<uint64_t> audited{0};       // BW_STAT_AUDITED
    std::atomic<uint64_t> ignored{0};       // ignore marks set: files nobody can be denied
    std::atomic<uint64_t> own{0};           // bulwark's own opens, allowed unasked
    std::atomic<uint64_t> cache_hits{0};    // files whose dentry chain was known
    std::atomic<uint64_t> unknown_call{0};  // opens whose flags could not be read: read and write assumed
    std::atomic<uint64_t> failed{0};        // decisions that threw: answered allow

    FanotifyTotals totals() const { return {events, ignored, own, cache_hits, unknown_call, failed}; }
};

struct FanotifyAnswer {
    bool allow = true;
    bool ignore = false;
    bw_verdict verdict = BW_VERDICT_ALLOW;  // of the record, when there is one
    bool program = false;                   // the record is an exec event
    std::vector<unsigned char> record;   // a bw_file_event or bw_exec_event, or empty
};

class FanotifyDecider {
public:
    // `self_tgid`: bulwark's own process, never decided.
    FanotifyDecider(uint32_t self_tgid, std::string cgroup2_mount);

    void publish(uint32_t generation, std::shared_ptr<const MapImage> image);
    uint32_t generation() const;

    // `fd`: the event's file; `tid`: the waiting thread; `exec`: a
    // FAN_OPEN_EXEC_PERM event (else FAN_OPEN_PERM).
    FanotifyAnswer decide(int fd, uint32_t tid, bool exec, uint32_t& generation) const;

    FanotifyCounters& counters() { return counters_; }

private:
    // Entries of a set's object cache before it starts over.
    static constexpr size_t kCacheEntries = 1 << 16;
    struct Set {
        uint32_t generation = 0;
        std::shared_ptr<const MapImage> image;
        std::unique_ptr<Evaluator> evaluator;
        // How the walk sees a file, by (name, dev, ino), for this
        // generation only: a rule path that changes makes a new generation
        // (daemon/path_watch.hpp), and with it an empty cache.
        mutable std::mutex cache_mutex;
        mutable std::unordered_map<std::string, FileObject> objects;
    };
    std::shared_ptr<const Set> current() const;
    FileObject object(const Set& set, int fd, const std::string& path) const;

    uint32_t self_tgid_;
    std::string cgroup2_mount_;
    mutable std::mutex mutex_;
    std::shared_ptr<const Set> set_;
    mutable FanotifyCounters counters_;
};

}  // namespace bulwark
