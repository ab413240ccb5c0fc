// A machine for offline checks: this machine as it is, plus the users,
// cgroups, files and directories that policies and test cases name but
// that do not exist here. `bulwark test` and `bulwark explain` run on it so
// that a web server's policy can be tested on a laptop without nginx, and
// `bulwark lint` analyses rules on it so that a rule is not skipped because
// its directory is missing here.
//
// Whatever exists is taken from the real machine — symlinks included, so a
// rule on /bin/sh is still matched at /usr/bin/sh on a merged-/usr system.
// Only what is missing is made up: a directory or file below its nearest
// existing ancestor, on that ancestor's device, with an inode number no
// real file has; a user with a uid no real user has. imagined() lists
// every made-up object, so tools can say so and the guest tests can create
// exactly those before they compare the kernel with the evaluator.
#pragma once

#include "compile/system_view.hpp"
#include "policy/model.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bulwark {

struct ImaginedObject {
    enum class Kind : uint8_t { user, dir, file } kind = Kind::dir;
    std::string name;             // the user name, or the canonical path
    uint32_t uid = 0;             // users: the uid made up for it
};

class ImaginedSystem final : public SystemView {
public:
    explicit ImaginedSystem(const SystemView& real) : real_(real) {}

    // Each does nothing when the object exists (really or already imagined),
    // or when it cannot be imagined (a path below an existing file).
    void imagine_file(const std::string& path);
    void imagine_dir(const std::string& path);
    void imagine_user(const std::string& name);
    // A cgroup as a policy or case writes it (relative to the cgroup2
    // mount, or absolute under it); the mount itself is imagined at
    // /sys/fs/cgroup when cgroup v2 is not mounted here.
    void imagine_cgroup(const std::string& as_written);
    // Everything rules, scopes and cases name: rule paths and prefixes,
    // [scope] users, cgroups and executables, [[monitor.syscalls]] users,
    // the cases' paths, users, cgroups and executables, now and before.
    void imagine_for(const std::vector<Policy>& policies, const std::vector<TestCase>& cases);

    const std::vector<ImaginedObject>& imagined() const { return imagined_; }

    std::optional<FileIdentity> identify(const std::string& path) const override;
    std::optional<std::string> canonical(const std::string& path) const override;
    std::optional<uint32_t> uid_of_user(const std::string& name) const override;
    std::optional<std::string> cgroup2_mount() const override;
    std::optional<std::string> unmatchable(const std::string& path) const override { return real_.unmatchable(path); }
    std::optional<std::string> lsm_list() const override { return real_.lsm_list(); }

private:
    // `path` resolved through the real machine as far as it exists, then
    // lexically through what is imagined; `missing_from` is the index in
    // the result where the first component that does not exist here starts
    // (npos when all of it exists really).
    std::optional<std::string> resolve(const std::string& path, size_t& missing_from) const;
    void imagine(const std::string& path, bool dir);

    const SystemView& real_;
    std::map<std::string, FileIdentity> paths_;  // canonical path → identity
    std::map<std::string, uint32_t> users_;
    std::optional<std::string> mount_;           // imagined cgroup2 mount
    std::vector<ImaginedObject> imagined_;
    uint64_t next_ino_ = kFirstIno;
    uint32_t next_uid_ = kFirstUid;

public:
    // Out of the way of real numbers: inode numbers near 2^63, uids near 2^31.
    static constexpr uint64_t kFirstIno = 0x7fff000000000000ull;
    static constexpr uint32_t kFirstUid = 2100000000u;
};

}  // namespace bulwark
