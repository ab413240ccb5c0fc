#include "events/cgroup_names.hpp"

#include <filesystem>
#include <sys/stat.h>

namespace bulwark {

CgroupNames::CgroupNames(std::string mount) : mount_(std::move(mount)) {}

void CgroupNames::rescan()
{
    namespace fs = std::filesystem;
    last_scan_ = std::chrono::steady_clock::now();
    scanned_ = true;
    if (mount_.empty()) return;
    struct stat st {};
    if (::stat(mount_.c_str(), &st) == 0) names_.insert_or_assign(static_cast<uint64_t>(st.st_ino), std::string(1, '/'));
    std::error_code ec;
    for (fs::recursive_directory_iterator it(mount_, fs::directory_options::skip_permission_denied, ec), end;
         it != end && !ec; it.increment(ec)) {
        if (!it->is_directory(ec)) continue;
        if (::stat(it->path().c_str(), &st) != 0) continue;
        names_[st.st_ino] = it->path().string().substr(mount_.size());
    }
}

const std::string& CgroupNames::name_of(uint64_t id)
{
    static const std::string unknown;
    auto it = names_.find(id);
    if (it != names_.end()) return it->second;
    if (!scanned_ || std::chrono::steady_clock::now() - last_scan_ > std::chrono::seconds(1)) {
        rescan();
        it = names_.find(id);
        if (it != names_.end()) return it->second;
    }
    return unknown;
}

}  // namespace bulwark
