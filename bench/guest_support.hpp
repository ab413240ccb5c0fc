// What the guest benchmarks share (bench-open-close, bench-exec-connect,
// bench-compare): files and cgroups set up with errors that stop the run,
// medians, and the BPF programs' own run time (kernel.bpf_stats_enabled).
// Header-only: each benchmark is one static binary dropped into a guest.
#pragma once

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <initializer_list>
#include <csignal>
#include <linux/bpf.h>
#include <poll.h>
#include <map>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace bench {

[[noreturn]] inline void die(const std::string& what)
{
    std::fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what.c_str(), std::strerror(errno));
    std::exit(1);
}

inline void mkdirs(const std::string& path)
{
    for (size_t i = 1; i <= path.size(); ++i) {
        if (i == path.size() || path[i] == '/') {
            const std::string cur = path.substr(0, i);
            if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) die("mkdir " + cur);
        }
    }
}

inline void write_file(const std::string& path, const std::string& data, mode_t mode = 0644)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) die("open " + path);
    if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) die("write " + path);
    ::fchmod(fd, mode);  // the umask does not decide an executable's mode
    ::close(fd);
}

inline std::string read_file(const std::string& path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open " + path);
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
}

// Moves this process into the cgroup directory `dir`.
inline void join_cgroup(const std::string& dir)
{
    write_file(dir + "/cgroup.procs", std::to_string(::getpid()));
}

inline double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// Run time (ns) and run count of loaded BPF programs, by name (the kernel
// keeps 15 bytes of it). Raw bpf(2): the benchmarks link no libbpf.
using ProgStats = std::map<std::string, std::pair<uint64_t, uint64_t>>;

// Every program whose name starts with one of `prefixes`.
inline ProgStats prog_stats(std::initializer_list<std::string_view> prefixes = {"bulwark_"})
{
    ProgStats out;
    uint32_t id = 0;
    for (;;) {
        bpf_attr attr{};
        attr.start_id = id;
        if (::syscall(SYS_bpf, BPF_PROG_GET_NEXT_ID, &attr, sizeof attr) != 0) break;
        id = attr.next_id;
        bpf_attr by_id{};
        by_id.prog_id = id;
        int fd = static_cast<int>(::syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &by_id, sizeof by_id));
        if (fd < 0) continue;
        bpf_prog_info info{};
        bpf_attr get{};
        get.info.bpf_fd = static_cast<uint32_t>(fd);
        get.info.info_len = sizeof info;
        get.info.info = reinterpret_cast<uint64_t>(&info);
        if (::syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &get, sizeof get) == 0) {
            const std::string name(info.name, strnlen(info.name, sizeof info.name));
            for (std::string_view p : prefixes) {
                if (name.rfind(p, 0) != 0) continue;
                auto& v = out[name];
                v.first += info.run_time_ns;
                v.second += info.run_cnt;
                break;
            }
        }
        ::close(fd);
    }
    return out;
}

// A batch run in a child (in_child): the numbers it sends back, and
// mark(), which stops the child until the parent has run its on_mark.
struct ChildBatch {
    std::vector<double> values;
    std::function<void()> mark;
};

namespace wire {
[[noreturn]] inline void broken(const char* what)
{
    std::fprintf(stderr, "%s: a batch in a child: %s\n", program_invocation_short_name, what);
    std::exit(1);
}
inline void send(int fd, const void* data, size_t size)
{
    for (size_t at = 0; at < size;) {
        const ssize_t n = ::write(fd, static_cast<const char*>(data) + at, size - at);
        if (n <= 0) ::_exit(1);
        at += static_cast<size_t>(n);
    }
}
inline void receive(int fd, void* data, size_t size)
{
    for (size_t at = 0; at < size;) {
        const ssize_t n = ::read(fd, static_cast<char*>(data) + at, size - at);
        if (n <= 0) broken("it ended early");
        at += static_cast<size_t>(n);
    }
}
}  // namespace wire

// Runs `batch` in a forked child that first joins the cgroup `dir`, and
// returns the values it sent back. With BPF-LSM a scope sticks: a process
// that has been in a policy's scope stays in it (docs/decisions/012), so a
// benchmark that measured in and out of scope in one process measured in
// scope twice. In-scope batches run in children; the benchmark itself
// never joins the scoped cgroup while bulwark runs. Each mark() in the
// child runs on_mark(i) in the parent, i = 0, 1, ...: the parent reads
// what the child may not (bulwark's program stats: in scope, bpf(2) on
// bulwark's objects is refused) exactly between the child's steps.
template <typename Batch, typename OnMark>
ChildBatch in_child(const std::string& dir, Batch batch, OnMark on_mark)
{
    int up[2], down[2];
    if (::pipe2(up, O_CLOEXEC) != 0 || ::pipe2(down, O_CLOEXEC) != 0) die("pipe");
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        ::close(up[0]);
        ::close(down[1]);
        join_cgroup(dir);
        ChildBatch out;
        out.mark = [&] {
            wire::send(up[1], "m", 1);
            char go = 0;
            if (::read(down[0], &go, 1) != 1) ::_exit(1);
        };
        batch(out);
        const auto n = static_cast<uint32_t>(out.values.size());
        wire::send(up[1], "d", 1);
        wire::send(up[1], &n, sizeof n);
        wire::send(up[1], out.values.data(), n * sizeof(double));
        ::_exit(0);
    }
    ::close(up[1]);
    ::close(down[0]);
    ChildBatch out;
    for (int marks = 0;;) {
        char what = 0;
        wire::receive(up[0], &what, 1);
        if (what == 'd') break;
        if (what != 'm') wire::broken("an unknown message");
        on_mark(marks++);
        if (::write(down[1], "g", 1) != 1) wire::broken("it ended early");
    }
    uint32_t n = 0;
    wire::receive(up[0], &n, sizeof n);
    out.values.resize(n);
    wire::receive(up[0], out.values.data(), n * sizeof(double));
    ::close(up[0]);
    ::close(down[1]);
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        wire::broken(("it failed (cgroup " + dir + ")").c_str());
    return out;
}

template <typename Batch>
ChildBatch in_child(const std::string& dir, Batch batch)
{
    return in_child(dir, batch, [](int) {});
}

inline void set_bpf_stats(bool on)
{
    int fd = ::open("/proc/sys/kernel/bpf_stats_enabled", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, on ? "1" : "0", 1) != 1) die("kernel.bpf_stats_enabled");
    ::close(fd);
}

// A running `bulwark run --policy POLICY --events -`; its events on `out`.
struct Bulwark {
    pid_t pid = -1;
    int out = -1;
    double ready_s = 0;  // from fork to the ready line
};

// Starts bulwark and waits for its ready line (its readiness signal).
inline Bulwark start_bulwark(const std::string& binary, const std::string& policy, int ready_timeout_ms = 600000)
{
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) die("pipe");
    Bulwark b;
    const auto t0 = std::chrono::steady_clock::now();
    b.pid = ::fork();
    if (b.pid < 0) die("fork");
    if (b.pid == 0) {
        ::dup2(pipefd[1], 1);
        int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 2);
        execl(binary.c_str(), "bulwark", "run", "--policy", policy.c_str(), "--events", "-", (char*)nullptr);
        _exit(127);
    }
    ::close(pipefd[1]);
    b.out = pipefd[0];
    std::string seen;
    char buf[4096];
    while (seen.find("\"type\":\"ready\"") == std::string::npos) {
        pollfd p{b.out, POLLIN, 0};
        if (::poll(&p, 1, ready_timeout_ms) <= 0) die("bulwark did not become ready");
        ssize_t n = ::read(b.out, buf, sizeof(buf));
        if (n <= 0) die("bulwark exited before ready");
        seen.append(buf, static_cast<size_t>(n));
    }
    b.ready_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return b;
}

// SIGTERM, and bulwark must detach and exit 0, or the run stops.
inline void stop_bulwark(Bulwark& b)
{
    ::kill(b.pid, SIGTERM);
    int status = 0;
    ::waitpid(b.pid, &status, 0);
    ::close(b.out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "%s: bulwark exited with status %d\n", program_invocation_short_name, status);
        std::exit(1);
    }
}

}  // namespace bench
