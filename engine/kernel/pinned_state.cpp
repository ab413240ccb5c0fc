#include "kernel/pinned_state.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <dirent.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace bulwark {
namespace {

bool on_bpffs(const std::string& path)
{
    struct statfs fs {};
    return ::statfs(path.c_str(), &fs) == 0 && static_cast<unsigned long>(fs.f_type) == BPF_FS_MAGIC;
}

std::vector<std::string> entries(const std::string& dir)
{
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') out.push_back(e->d_name);
    ::closedir(d);
    return out;
}

void make_dir(const std::string& path)
{
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error("cannot create the pin directory " + path + ": " + errno_text(errno));
}

}  // namespace

bool bpffs_mounted(const std::string& path)
{
    return on_bpffs(path);
}

PinnedState::PinnedState(std::string dir) : dir_(prepare(std::move(dir))) {}

std::string PinnedState::prepare(std::string dir)
{
    if (dir.empty()) return dir;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    const std::string parent = dir.substr(0, dir.find_last_of('/') == 0 ? 1 : dir.find_last_of('/'));
    if (!on_bpffs(on_bpffs(dir) ? dir : parent))
        throw Error("--pin-dir " + dir + " is not on a bpffs",
                    "mount one (mount -t bpf bpf /sys/fs/bpf), or give --pin-dir a directory on one; "
                    "--pin-dir \"\" runs without pins (a crash then ends enforcement)",
                    exit_usage);
    make_dir(dir);
    make_dir(dir + "/maps");
    make_dir(dir + "/links");
    return dir;
}

bool PinnedState::adopt_maps(SharedMaps& maps) const
{
    if (!enabled()) return false;
    bool any = false;
    for (const auto& name : entries(dir_ + "/maps")) {
        const int fd = bpf_obj_get((dir_ + "/maps/" + name).c_str());
        if (fd < 0) throw Error("cannot open the pinned map " + dir_ + "/maps/" + name + ": " + errno_text(errno));
        maps.adopt(name, UniqueFd(fd));
        any = true;
    }
    return any;
}

std::string link_pin_name(long pid, size_t n, const std::string& object_hook)
{
    return std::to_string(pid) + "-" + std::to_string(n) + "-" + object_hook;
}

std::string hook_of_link_pin(const std::string& name)
{
    const size_t dash = name.rfind('-');
    return dash == std::string::npos ? name : name.substr(dash + 1);
}

void PinnedState::pin(const SharedMaps& maps, const std::vector<LinkPtr>& links, const std::vector<std::string>& hooks,
                      long owner)
{
    if (!enabled()) return;
    for (const auto& name : maps.names()) {
        const std::string path = dir_ + "/maps/" + name;
        if (::access(path.c_str(), F_OK) == 0) continue;
        if (bpf_obj_pin(maps.fd(name), path.c_str()) != 0)
            throw Error("cannot pin map " + name + " at " + path + ": " + errno_text(errno));
    }
    // Everything here now is a previous bulwark's: pin() runs once per process.
    const auto before = entries(dir_ + "/links");
    std::vector<std::string> mine;
    for (size_t i = 0; i < links.size(); ++i) {
        mine.push_back(link_pin_name(owner, i, hooks[i]));
        const std::string path = dir_ + "/links/" + mine.back();
        // A previous bulwark that had our pid (reused, or the same number
        // in a restarted container's namespace before the owner was the
        // global tgid) pinned this name: ours is attached already, so its
        // link may go now.
        ::unlink(path.c_str());
        if (int err = bpf_link__pin(links[i].get(), path.c_str()); err != 0)
            throw Error("cannot pin the link of " + hooks[i] + " at " + path + ": " + errno_text(-err));
    }
    // Ours are attached and pinned: the previous bulwark's may go.
    for (const auto& name : before)
        if (std::find(mine.begin(), mine.end(), name) == mine.end()) ::unlink((dir_ + "/links/" + name).c_str());
}

void PinnedState::unpin_all() const
{
    if (!enabled()) return;
    for (const char* sub : {"/links", "/maps"}) {
        for (const auto& name : entries(dir_ + sub)) ::unlink((dir_ + sub + "/" + name).c_str());
        ::rmdir((dir_ + sub).c_str());
    }
    ::rmdir(dir_.c_str());
}

}  // namespace bulwark
