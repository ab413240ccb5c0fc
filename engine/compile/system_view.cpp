#include "compile/system_view.hpp"

#include <climits>
#include <cstdlib>
#include <fstream>
#include <pwd.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

std::optional<FileIdentity> RealSystem::identify(const std::string& path) const
{
    if (auto known = identities_.find(path); known != identities_.end()) return known->second;
    struct stat st {};
    std::optional<FileIdentity> id;
    if (::stat(path.c_str(), &st) == 0) id = identity_of(st);
    identities_.emplace(path, id);
    return id;
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
std::optional<std::string> RealSystem::canonical(const std::string& path) const
{
    const size_t slash = path.find_last_of('/');
    if (path.empty() || path[0] != '/' || slash == std::string::npos) return real_path(path);
    const std::string_view name = std::string_view(path).substr(slash + 1);
    if (name.empty() || name == "." || name == "..") return real_path(path);

    const auto& dir = canonical_dir(slash == 0 ? std::string_view("/") : std::string_view(path).substr(0, slash));
    if (!dir) return std::nullopt;  // realpath fails on the directory too
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
    if (S_ISLNK(st.st_mode)) return real_path(path);
    std::string resolved;
    resolved.reserve(dir->size() + 1 + name.size());
    if (*dir != "/") resolved = *dir;
    resolved += '/';
    resolved += name;
    identities_.emplace(resolved, identity_of(st));
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

}  // namespace bulwark
