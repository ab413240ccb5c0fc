#include "compile/system_view.hpp"

#include "util/lsm_list.hpp"

#include <climits>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <pwd.h>
#include <sstream>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>

namespace bulwark {

uint32_t kernel_dev(uint64_t st_dev)
{
    return (static_cast<uint32_t>(major(st_dev)) << 20) | static_cast<uint32_t>(minor(st_dev));
}

FileIdentity identity_of(const struct stat& st)
{
    return FileIdentity{kernel_dev(st.st_dev), static_cast<uint64_t>(st.st_ino), S_ISDIR(st.st_mode),
                        static_cast<uint32_t>(st.st_nlink)};
}

namespace {

std::optional<std::string> real_path(const std::string& path)
{
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf) == nullptr) return std::nullopt;
    return std::string(buf);
}

}  // namespace

namespace {

constexpr unsigned long kOverlayfsMagic = 0x794C7630UL;  // OVERLAYFS_SUPER_MAGIC, linux/magic.h

// The descriptors RealSystem(true) holds: one per overlayfs directory path,
// replaced when the path names another directory. Never closed otherwise:
// a rule that names the directory may still be in force.
void pin_stacked_dir(const std::string& path, const FileIdentity& id)
{
    static std::mutex mutex;
    static std::map<std::string, std::pair<FileIdentity, int>> pins;
    std::lock_guard lock(mutex);
    auto it = pins.find(path);
    if (it != pins.end() && it->second.first == id) return;
    const int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !(identity_of(st) == id)) {
        ::close(fd);  // renamed meanwhile: the next compile sees it
        return;
    }
    if (it != pins.end()) {
        ::close(it->second.second);
        it->second = {id, fd};
    } else {
        pins.emplace(path, std::make_pair(id, fd));
    }
}

}  // namespace

// statfs once per device; a failed one is not remembered (nullptr), the
// next path on the device asks again.
RealSystem::Filesystem* RealSystem::filesystem(const std::string& path, uint32_t dev) const
{
    if (auto known = filesystems_.find(dev); known != filesystems_.end()) return &known->second;
    struct statfs fs {};
    if (::statfs(path.c_str(), &fs) != 0) return nullptr;
    return &filesystems_.emplace(dev, Filesystem{static_cast<unsigned long>(fs.f_type), false, std::nullopt}).first->second;
}

FileIdentity RealSystem::remember(const std::string& path, const struct stat& st, bool plain) const
{
    const FileIdentity id = identity_of(st);
    if (pin_stacked_dirs_ && S_ISDIR(st.st_mode)) {
        const Filesystem* fs = filesystem(path, id.dev);
        if (fs && fs->type == kOverlayfsMagic) pin_stacked_dir(path, id);
    }
    identities_.emplace(path, Known{id, plain});
    return id;
}

std::optional<FileIdentity> RealSystem::identify(const std::string& path) const
{
    if (auto known = identities_.find(path); known != identities_.end()) return known->second.id;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return remember(path, st, false);
    identities_.emplace(path, Known{});
    return std::nullopt;
}

const std::optional<std::string>& RealSystem::canonical_dir(std::string_view dir) const
{
    if (auto known = canonical_dirs_.find(dir); known != canonical_dirs_.end()) return known->second;
    std::string key(dir);
    auto resolved = real_path(key);
    return canonical_dirs_.emplace(std::move(key), std::move(resolved)).first->second;
}

// realpath(path) is realpath(directory) + "/" + name when the name is no
// symlink, ".", ".." or empty: one lstat per path instead of a readlink per
// component, and the lstat is the identity identify() is asked for next.
// A name already found to be no symlink (the same path in a second rule)
// needs no second lstat.
std::optional<std::string> RealSystem::canonical(const std::string& path) const
{
    const size_t slash = path.find_last_of('/');
    if (path.empty() || path[0] != '/' || slash == std::string::npos) return real_path(path);
    const std::string_view name = std::string_view(path).substr(slash + 1);
    if (name.empty() || name == "." || name == "..") return real_path(path);

    const auto& dir = canonical_dir(slash == 0 ? std::string_view("/") : std::string_view(path).substr(0, slash));
    if (!dir) return std::nullopt;  // realpath fails on the directory too
    std::string resolved;
    resolved.reserve(dir->size() + 1 + name.size());
    if (*dir != "/") resolved = *dir;
    resolved += '/';
    resolved += name;
    if (auto known = identities_.find(resolved); known != identities_.end() && known->second.plain) return resolved;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
    if (S_ISLNK(st.st_mode)) return real_path(path);
    remember(resolved, st, true);
    return resolved;
}

std::optional<uint32_t> RealSystem::uid_of_user(const std::string& name) const
{
    // /etc/passwd only: a statically linked binary cannot load NSS modules,
    // and a policy must not depend on a directory service being reachable.
    std::ifstream in("/etc/passwd");
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> fields;
        std::stringstream ss(line);
        std::string f;
        while (std::getline(ss, f, ':')) fields.push_back(f);
        if (fields.size() >= 3 && fields[0] == name) {
            try {
                return static_cast<uint32_t>(std::stoul(fields[2]));
            } catch (...) {
                return std::nullopt;
            }
        }
    }
    return std::nullopt;
}

std::optional<std::string> RealSystem::cgroup2_mount() const
{
    std::ifstream in("/proc/self/mounts");
    std::string dev, dir, type;
    std::string rest;
    while (in >> dev >> dir >> type) {
        std::getline(in, rest);
        if (type == "cgroup2") return dir;
    }
    return std::nullopt;
}

std::optional<std::string> RealSystem::lsm_list() const
{
    return read_lsm_list();
}

namespace {

constexpr unsigned long kBtrfsMagic = 0x9123683EUL;  // BTRFS_SUPER_MAGIC, linux/magic.h

// The device number of the superblock of mount `mnt_id`, as
// /proc/self/mountinfo gives it (its third field, "major:minor").
std::optional<uint32_t> mount_dev(uint64_t mnt_id)
{
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        uint64_t id = 0, parent = 0;
        std::string devno;
        if (!(fields >> id >> parent >> devno) || id != mnt_id) continue;
        unsigned maj = 0, min = 0;
        if (std::sscanf(devno.c_str(), "%u:%u", &maj, &min) != 2) return std::nullopt;
        return (maj << 20) | min;
    }
    return std::nullopt;
}

// unmatchable()'s reason for a btrfs `path`, after the path; nullopt when
// stat's device is the superblock's.
std::optional<std::string> btrfs_mismatch(const std::string& path)
{
    struct statx stx {};
    std::optional<uint32_t> sb_dev;
    if (::statx(AT_FDCWD, path.c_str(), 0, STATX_INO | STATX_MNT_ID, &stx) == 0 && (stx.stx_mask & STATX_MNT_ID))
        sb_dev = mount_dev(stx.stx_mnt_id);
    const uint32_t seen = (stx.stx_dev_major << 20) | stx.stx_dev_minor;
    if (sb_dev && *sb_dev == seen) return std::nullopt;  // e.g. a btrfs whose subvolume numbers agree
    std::ostringstream why;
    why << " is on btrfs, where stat(2) reports the subvolume's device (" << stx.stx_dev_major << ":"
        << stx.stx_dev_minor << ") and the kernel's inodes carry the filesystem's";
    if (sb_dev) why << " (" << (*sb_dev >> 20) << ":" << (*sb_dev & 0xfffff) << ")";
    else why << " (not found in /proc/self/mountinfo)";
    why << "; inode numbers also repeat across subvolumes, so no rule here can be matched in the kernel";
    return why.str();
}

}  // namespace

// Once per device: every path on it gets the same answer (the superblock
// and stat's device are the device's, whichever path or mount reaches it).
std::optional<std::string> RealSystem::unmatchable(const std::string& path) const
{
    const auto id = identify(path);
    if (!id) return std::nullopt;
    Filesystem* fs = filesystem(path, id->dev);
    if (!fs || fs->type != kBtrfsMagic) return std::nullopt;
    if (!fs->checked) {
        fs->unmatchable = btrfs_mismatch(path);
        fs->checked = true;
    }
    if (!fs->unmatchable) return std::nullopt;
    return path + *fs->unmatchable;
}

}  // namespace bulwark
