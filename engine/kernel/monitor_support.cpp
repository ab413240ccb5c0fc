#include "kernel/monitor_support.hpp"

#include "compile/system_view.hpp"
#include "kernel/bpf_handles.hpp"
#include "util/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulwark {
namespace {

bool is_dir(const char* path)
{
    struct stat st {};
    return ::stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

void ensure_tracefs()
{
    // libbpf looks in /sys/kernel/debug/tracing first, then /sys/kernel/tracing.
    if (is_dir("/sys/kernel/debug/tracing/events") || is_dir("/sys/kernel/tracing/events")) return;
    if (!is_dir("/sys/kernel/tracing") || ::mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0) {
        const int err = errno;
        throw Error("cannot mount tracefs on /sys/kernel/tracing (" + errno_text(err) +
                        "), which the file monitor's syscall tracepoints are attached through",
                    "mount it (mount -t tracefs tracefs /sys/kernel/tracing) and run again");
    }
}

bpf_link* attach_to_cgroup_root(bpf_program* prog)
{
    const auto mount = RealSystem().cgroup2_mount();
    if (!mount) {
        throw Error("cgroup v2 is not mounted, and the socket hooks of [[connect]] rules (without BPF-LSM) and of "
                    "[[monitor.connect]] tables attach to its root",
                    "mount it (mount -t cgroup2 none /sys/fs/cgroup), or remove those rules and tables");
    }
    UniqueFd root(::open(mount->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) {
        const int err = errno;
        throw Error("cannot open the cgroup v2 root " + *mount + ": " + errno_text(err));
    }
    return bpf_program__attach_cgroup(prog, root.get());
}

uint32_t own_mount_namespace()
{
    struct stat st {};
    if (::stat("/proc/self/ns/mnt", &st) != 0) {
        const int err = errno;
        throw Error("cannot read this process's mount namespace (/proc/self/ns/mnt): " + errno_text(err),
                    "mount /proc");
    }
    return static_cast<uint32_t>(st.st_ino);
}

}  // namespace bulwark
