// Rules follow their files. Rules are compiled to inode identities, so a
// protected directory deleted and recreated, or a file replaced by a
// package upgrade (write file.dpkg-new, rename it over file), would drop
// out of its rule. PathWatcher watches, with inotify, the directory that
// holds each path a rule names (for a path whose directories do not exist
// yet: the nearest existing ancestor, for the next name down), and calls
// back — once per burst, after `debounce` — with the first rule path whose
// directory entry was created, deleted or renamed. The engine then
// republishes the whole set (docs/decisions/008-live-engine.md says why
// inotify on the parents, not fanotify).
#pragma once

#include "daemon/debounce.hpp"

#include <utility>  // before asio: g++ 12 + Boost 1.74 need std::exchange declared
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace bulwark {

// Directory to watch → the names in it that matter → the rule path each
// stands for. Paths are absolute; a trailing '/' (a prefix) is the
// directory itself. "/" has no parent and is not watched.
using WatchPoints = std::map<std::string, std::map<std::string, std::string>>;
WatchPoints watch_points(const std::vector<std::string>& rule_paths);

class PathWatcher {
public:
    using OnChange = std::function<void(const std::string& rule_path)>;
    PathWatcher(boost::asio::io_context& io, OnChange on_change, std::chrono::milliseconds debounce);
    ~PathWatcher();
    PathWatcher(const PathWatcher&) = delete;
    PathWatcher& operator=(const PathWatcher&) = delete;

    // Watch for these rule paths only (replaces every earlier watch).
    void watch(const std::vector<std::string>& rule_paths);
    void stop();
    size_t directories() const { return by_wd_.size(); }

private:
    void wait();
    void read_events();

    boost::asio::posix::stream_descriptor fd_;
    Debounced burst_;  // the first rule path of a burst, after `debounce`
    std::map<int, std::pair<std::string, std::map<std::string, std::string>>> by_wd_;
    bool stopped_ = false;
};

}  // namespace bulwark
