// Rules follow their files across mounts too. A mount on a directory a
// rule names, or on one of its ancestors, replaces what the rule's path
// leads to: the rule was compiled to the identities below it and would no
// longer apply there (issue 15). MountWatcher waits for the kernel's
// signal that bulwark's mount namespace changed (POLLPRI on
// /proc/self/mountinfo), compares the mount points before and after, and
// calls back — once per burst, after `debounce` — with the first mount
// point that appeared or went away at or above a rule path. The engine
// then republishes the whole set. Mounts in other namespaces do not show
// here; the BPF walk consults the key of every directory a mount covers
// (docs/decisions/016-mounts-and-handles.md), so those open no hole either.
#pragma once

#include "daemon/debounce.hpp"

#include <utility>  // before asio: g++ 12 + Boost 1.74 need std::exchange declared
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace bulwark {

// The mount points of a /proc/PID/mountinfo text (field 5, octal escapes
// such as \040 decoded).
std::set<std::string> mount_points(const std::string& mountinfo);

// The first mount point in one of `before` and `after` but not the other
// that is a rule path (a trailing '/' ignored) or an ancestor of one; ""
// when no rule path is affected. A mount inside a rule's tree changes
// nothing a rule was compiled to: the walk crosses it to the tree above.
std::string covering_change(const std::set<std::string>& before, const std::set<std::string>& after,
                            const std::vector<std::string>& rule_paths);

class MountWatcher {
public:
    using OnChange = std::function<void(const std::string& mount_point)>;
    MountWatcher(boost::asio::io_context& io, OnChange on_change, std::chrono::milliseconds debounce);
    ~MountWatcher();
    MountWatcher(const MountWatcher&) = delete;
    MountWatcher& operator=(const MountWatcher&) = delete;

    // Compare against these rule paths from now on (the mount table is read
    // again, so a change before this call is not reported).
    void watch(const std::vector<std::string>& rule_paths);
    void stop();

private:
    void wait();
    void table_changed();
    std::set<std::string> read_points();

    boost::asio::posix::stream_descriptor fd_;
    Debounced burst_;  // the first mount point of a burst, after `debounce`
    std::vector<std::string> rule_paths_;
    std::set<std::string> points_;
    bool stopped_ = false;
};

}  // namespace bulwark
