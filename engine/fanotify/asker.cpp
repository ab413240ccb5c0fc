#include "fanotify/asker.hpp"

#include "compile/system_view.hpp"

#include "bulwark/abi.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <mutex>
#include <sstream>
#include <unordered_map>
#include <sys/stat.h>
#include <sys/uio.h>
#include <thread>
#include <time.h>
#include <unistd.h>

namespace bulwark {
namespace {

// x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl;
// numbers never change). Other architectures answer "not an open we
// know", and the backend assumes read and write.
#if defined(__x86_64__)
constexpr long kOpen = 2, kCreat = 85, kOpenat = 257, kOpenByHandleAt = 304, kOpenat2 = 437;
constexpr long kExecve = 59, kExecveat = 322;
#else
constexpr long kOpen = -2, kCreat = -2, kOpenat = -2, kOpenByHandleAt = -2, kOpenat2 = -2;
constexpr long kExecve = -2, kExecveat = -2;
#endif

std::string proc(uint32_t tid, const char* what)
{
    return "/proc/" + std::to_string(tid) + "/" + what;
}

// A /proc file's text: one open, reads into a stack buffer, one close (an
// ifstream + ostringstream cost several allocations and syscalls per event).
std::optional<std::string> slurp(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string text;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return text;
}

// The number after "Key:\t" in /proc/TID/status (the first, for Uid:).
std::optional<uint32_t> status_field(const std::string& status, const char* key)
{
    const size_t at = status.find(std::string("\n") + key);
    const size_t begin = at == std::string::npos ? (status.rfind(key, 0) == 0 ? 0 : std::string::npos) : at + 1;
    if (begin == std::string::npos) return std::nullopt;
    const char* p = status.c_str() + begin + std::strlen(key);
    char* end = nullptr;
    const unsigned long v = std::strtoul(p, &end, 10);
    if (end == p) return std::nullopt;
    return static_cast<uint32_t>(v);
}

// Ancestor cgroup ids by level (the root's first): a cgroup v2 id is the
// inode number of its directory.
std::vector<uint64_t> walk_cgroup_ancestors(const std::string& mount, const std::string& path)
{
    std::vector<uint64_t> ids;
    struct stat st {};
    if (mount.empty() || ::stat(mount.c_str(), &st) != 0) return ids;
    ids.push_back(st.st_ino);
    for (size_t i = 1; i < path.size();) {
        size_t j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        if (::stat((mount + path.substr(0, j)).c_str(), &st) != 0) break;
        ids.push_back(st.st_ino);
        i = j + 1;
    }
    return ids;
}

// The ancestors of a cgroup path, cached by path. A cached chain is used
// only when its leaf still has the cached id (one stat instead of one per
// level): a cgroup v2 id is never reused during a boot, and a cgroup
// cannot move to another parent (rename(2) keeps it under the same one),
// so a leaf with the same id has the same ancestors. A path whose cgroup
// was removed, recreated or renamed fails the check and is walked again.
std::vector<uint64_t> cgroup_ancestors(const std::string& mount, const std::string& path)
{
    static std::mutex mutex;
    static std::unordered_map<std::string, std::vector<uint64_t>> chains;
    constexpr size_t kEntries = 4096;  // then it starts over
    const std::string key = mount + path;
    std::vector<uint64_t> cached;
    {
        std::lock_guard lock(mutex);
        if (auto hit = chains.find(key); hit != chains.end()) cached = hit->second;
    }
    if (!cached.empty()) {
        struct stat st {};
        if (::stat(key.c_str(), &st) == 0 && st.st_ino == cached.back()) return cached;
    }
    std::vector<uint64_t> ids = walk_cgroup_ancestors(mount, path);
    if (ids.empty()) return ids;
    std::lock_guard lock(mutex);
    if (chains.size() >= kEntries) chains.clear();
    chains[key] = ids;
    return ids;
}

std::optional<ExeIdentity> exe_of(uint32_t tid, const std::string& path)
{
    struct stat st {};
    if (::stat(proc(tid, "exe").c_str(), &st) != 0) return std::nullopt;
    ExeIdentity exe;
    exe.self = identity_of(st);
    const size_t slash = path.find_last_of('/');
    if (slash != std::string::npos && path.find(" (deleted)") == std::string::npos) {
        exe.name = path.substr(slash + 1);
        struct stat dir {};
        if (::stat(slash == 0 ? "/" : path.substr(0, slash).c_str(), &dir) == 0) {
            exe.parent_dev = kernel_dev(dir.st_dev);
            exe.parent_ino = dir.st_ino;
        }
    }
    return exe;
}

bool read_memory(uint32_t tid, uint64_t address, void* out, size_t size)
{
    iovec local{out, size};
    iovec remote{reinterpret_cast<void*>(address), size};
    return ::process_vm_readv(static_cast<pid_t>(tid), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
}

// A NUL-terminated string of the thread's memory, up to PATH_MAX bytes
// (read page by page: the string may end just before an unmapped page).
std::optional<std::string> read_string(uint32_t tid, uint64_t address)
{
    std::string out;
    while (out.size() < PATH_MAX) {
        const uint64_t page_left = 4096 - (address % 4096);
        std::string chunk(page_left, '\0');
        if (!read_memory(tid, address, chunk.data(), chunk.size())) return std::nullopt;
        const size_t nul = chunk.find('\0');
        if (nul != std::string::npos) return out + chunk.substr(0, nul);
        out += chunk;
        address += page_left;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> link_of(const std::string& path)
{
    char buf[PATH_MAX];
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
}

std::optional<Asker> read_asker(uint32_t tid, const std::string& cgroup2_mount, bool with_exe)
{
    const auto status = slurp(proc(tid, "status"));
    if (!status) return std::nullopt;
    Asker a;
    a.tid = tid;
    a.subject.tgid = status_field(*status, "Tgid:").value_or(tid);
    a.subject.uid = status_field(*status, "Uid:").value_or(0);
    a.ppid = status_field(*status, "PPid:").value_or(0);
    if (auto cg = slurp(proc(tid, "cgroup"))) {
        // The cgroup v2 line: "0::/path".
        std::istringstream lines(*cg);
        for (std::string line; std::getline(lines, line);)
            if (line.rfind("0::", 0) == 0) a.subject.cgroup_ancestors = cgroup_ancestors(cgroup2_mount, line.substr(3));
        if (!a.subject.cgroup_ancestors.empty()) a.cgroup_id = a.subject.cgroup_ancestors.back();
    }
    if (with_exe) {
        if (auto exe = link_of(proc(tid, "exe"))) {
            a.exe_path = *exe;
            a.subject.exe = exe_of(tid, *exe);
        }
    }
    return a;
}

void complete_asker(Asker& a)
{
    if (auto comm = slurp(proc(a.tid, "comm"))) {
        if (!comm->empty() && comm->back() == '\n') comm->pop_back();
        a.comm = *comm;
    }
    if (a.exe_path.empty())
        if (auto exe = link_of(proc(a.tid, "exe"))) a.exe_path = *exe;
}

std::optional<SyscallArgs> parse_syscall_line(std::string_view line)
{
    std::istringstream in{std::string(line)};
    std::string word;
    if (!(in >> word) || word == "running") return std::nullopt;
    SyscallArgs s;
    char* end = nullptr;
    s.nr = std::strtol(word.c_str(), &end, 10);
    if (*end != '\0' || s.nr < 0) return std::nullopt;
    for (auto& a : s.args) {
        if (!(in >> word)) return std::nullopt;
        a = std::strtoull(word.c_str(), &end, 0);
        if (*end != '\0') return std::nullopt;
    }
    return s;
}

std::optional<SyscallArgs> read_syscall(uint32_t tid)
{
    // The kernel shows "running" until the thread is off its CPU; one that
    // has just raised a permission event is on its way to sleep waiting
    // for our answer (it cannot get past it), so this ends within
    // microseconds. Bounded: after ~20 ms the caller assumes read+write.
    for (int attempt = 0; attempt < 1000; ++attempt) {
        const auto line = slurp(proc(tid, "syscall"));
        if (!line) return std::nullopt;
        if (line->rfind("running", 0) != 0) return parse_syscall_line(*line);
        if (attempt < 50) {
            std::this_thread::yield();
        } else {
            timespec pause{0, 20'000};
            ::nanosleep(&pause, nullptr);
        }
    }
    return std::nullopt;
}

uint32_t access_of_open_flags(uint64_t flags)
{
    uint32_t access = 0;
    switch (flags & O_ACCMODE) {
    case O_RDONLY: access = BW_ACCESS_READ; break;
    case O_WRONLY: access = BW_ACCESS_WRITE; break;
    default: access = BW_ACCESS_READ | BW_ACCESS_WRITE; break;
    }
    if (flags & O_TRUNC) access |= BW_ACCESS_WRITE;
    return access;
}

std::optional<uint32_t> open_access(const SyscallArgs& call, uint32_t tid)
{
    const auto& a = call.args;
    if (call.nr == kOpen) return access_of_open_flags(a[1]);
    if (call.nr == kOpenat || call.nr == kOpenByHandleAt) return access_of_open_flags(a[2]);
    if (call.nr == kCreat) return access_of_open_flags(O_WRONLY | O_TRUNC);
    // execve opens the program (and interpreters) for reading.
    if (call.nr == kExecve || call.nr == kExecveat) return uint32_t{BW_ACCESS_READ};
    if (call.nr == kOpenat2) {
        uint64_t flags = 0;  // struct open_how's first member
        if (a[2] < sizeof flags || !read_memory(tid, a[1], &flags, sizeof flags)) return std::nullopt;
        return access_of_open_flags(flags);
    }
    return std::nullopt;
}

std::optional<std::string> exec_target(const SyscallArgs& call, uint32_t tid)
{
    uint64_t name = 0;
    std::string base = proc(tid, "cwd");
    if (call.nr == kExecve) {
        name = call.args[0];
    } else if (call.nr == kExecveat) {
        name = call.args[1];
        const auto dirfd = static_cast<int>(call.args[0]);
        if (dirfd != AT_FDCWD) base = proc(tid, ("fd/" + std::to_string(dirfd)).c_str());
    } else {
        return std::nullopt;
    }
    auto path = read_string(tid, name);
    if (!path || path->empty()) return std::nullopt;  // execveat(fd, "", AT_EMPTY_PATH): the fd itself
    return (*path)[0] == '/' ? *path : base + "/" + *path;
}

bool runs_without_interpreter(uint32_t tid)
{
    const auto auxv = slurp(proc(tid, "auxv"));
    if (!auxv) return false;
    for (size_t at = 0; at + sizeof(Elf64_auxv_t) <= auxv->size(); at += sizeof(Elf64_auxv_t)) {
        Elf64_auxv_t e;
        std::memcpy(&e, auxv->data() + at, sizeof e);
        if (e.a_type == AT_NULL) break;
        if (e.a_type == AT_BASE) return e.a_un.a_val == 0;
    }
    return true;  // no AT_BASE at all: nothing was loaded for it
}

}  // namespace bulwark
