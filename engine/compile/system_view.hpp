// What the compiler needs to know about the machine: file identities, user
// names, cgroups. An interface so that the compiler and the reference
// evaluator are tested against a fake machine without root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct stat;

namespace bulwark {

// A file as the kernel identifies it. `dev` is the kernel's encoding
// (major << 20 | minor), the one BPF reads from super_block.s_dev.
struct FileIdentity {
    uint32_t dev = 0;
    uint64_t ino = 0;
    bool is_dir = false;
    uint32_t nlink = 1;
    bool operator==(const FileIdentity&) const = default;
};

class SystemView {
public:
    virtual ~SystemView() = default;
    // Identity of the object an absolute path names, following symlinks.
    virtual std::optional<FileIdentity> identify(const std::string& path) const = 0;
    // The path with every symlink, ".", ".." resolved (realpath); nullopt
    // when some component does not exist.
    virtual std::optional<std::string> canonical(const std::string& path) const = 0;
    virtual std::optional<uint32_t> uid_of_user(const std::string& name) const = 0;
    // Where cgroup v2 is mounted (e.g. /sys/fs/cgroup or /sys/fs/cgroup/unified).
    virtual std::optional<std::string> cgroup2_mount() const = 0;
    // Why the kernel's objects for the existing `path` do not carry the
    // identity identify() gives (so no key compiled from it can match), or
    // nullopt when they do. btrfs: stat(2) reports a subvolume's own
    // anonymous device, the kernel's inodes the filesystem's
    // (super_block.s_dev), and inode numbers repeat across subvolumes.
    virtual std::optional<std::string> unmatchable(const std::string& path) const
    {
        (void)path;
        return std::nullopt;
    }
    // The running kernel's active LSM list (util/lsm_list.hpp), or nullopt
    // when that is not known. "bpf" in it says BPF-LSM may be there; only
    // loading a program proves it (bulwark probe).
    virtual std::optional<std::string> lsm_list() const { return std::nullopt; }
};

// The machine this process runs on, as one compile sees it: a policy set
// names many files in few directories, so directories are resolved once and
// identities remembered (realpath(3) alone reads every component of every
// path). Make one per compile: it does not see renames made after it looked.
class RealSystem final : public SystemView {
public:
    // pin_stacked_dirs: hold an O_PATH descriptor, for the life of the
    // process, on every overlayfs directory identified. Overlayfs numbers
    // a directory's inode when it builds it, from a counter when its layers
    // are on different filesystems: an inode the kernel evicts comes back
    // with another number and would drop out of its rule. A held
    // descriptor keeps the dentry, so the inode and its number stay. For
    // the compile of the policies bulwark enforces, not for lookups of the
    // files it decides (docs/decisions/013-overlayfs.md).
    explicit RealSystem(bool pin_stacked_dirs = false) : pin_stacked_dirs_(pin_stacked_dirs) {}
    std::optional<FileIdentity> identify(const std::string& path) const override;
    std::optional<std::string> canonical(const std::string& path) const override;
    std::optional<uint32_t> uid_of_user(const std::string& name) const override;
    std::optional<std::string> cgroup2_mount() const override;
    std::optional<std::string> unmatchable(const std::string& path) const override;
    std::optional<std::string> lsm_list() const override;

private:
    // `plain`: the stat came from lstat(2) and found no symlink.
    FileIdentity remember(const std::string& path, const struct stat& st, bool plain) const;
    const std::optional<std::string>& canonical_dir(std::string_view dir) const;
    struct Filesystem;
    Filesystem* filesystem(const std::string& path, uint32_t dev) const;
    bool pin_stacked_dirs_ = false;

    // Looked up with string_views: no copy of a path to look it up.
    struct PathHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    template <typename V>
    using PathMap = std::unordered_map<std::string, V, PathHash, std::equal_to<>>;
    mutable PathMap<std::optional<std::string>> canonical_dirs_;
    struct Known {
        std::optional<FileIdentity> id;
        bool plain = false;  // no symlink: canonical() needs no lstat here
    };
    mutable PathMap<Known> identities_;
    // What statfs(2) (and for btrfs mountinfo) say of each device's
    // filesystem: a rule set names thousands of paths on a few devices,
    // and a device is one filesystem (btrfs subvolumes and overlayfs
    // layers get devices of their own).
    struct Filesystem {
        unsigned long type = 0;                  // statfs f_type
        bool checked = false;                    // unmatchable() looked at it
        std::optional<std::string> unmatchable;  // then: its reason, after the path
    };
    mutable std::unordered_map<uint32_t, Filesystem> filesystems_;
};

// userspace st_dev → the kernel's internal dev_t encoding
uint32_t kernel_dev(uint64_t st_dev);
// The identity the BPF side sees for a stat(2) result.
FileIdentity identity_of(const struct stat& st);

}  // namespace bulwark
