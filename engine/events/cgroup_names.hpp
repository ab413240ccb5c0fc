// cgroup v2 id → path below the cgroup2 mount ("/system.slice/x.service").
// The id is the inode number of the cgroup's directory; unknown ids are
// looked up by rescanning the hierarchy, at most once a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace bulwark {

class CgroupNames {
public:
    explicit CgroupNames(std::string mount);  // "" when cgroup v2 is not mounted
    // "" when unknown. Valid until the next call (a rescan may change it).
    const std::string& name_of(uint64_t id);

private:
    void rescan();
    std::string mount_;
    std::unordered_map<uint64_t, std::string> names_;
    std::chrono::steady_clock::time_point last_scan_{};
    bool scanned_ = false;
};

}  // namespace bulwark
