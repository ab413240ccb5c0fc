// Helpers shared by bench-monitor-cost and bench-monitor-pipeline (host,
// root): a cgroup v2 directory of the benchmark's own, a temporary
// directory, child processes (bulwark, the chapter's loader, bpftrace)
// started and ended by pid, and the BPF programs' own run time read from
// the kernel (kernel.bpf_stats_enabled). Header-only: two small programs.
#pragma once

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <linux/bpf.h>
#include <map>
#include <stdexcept>
#include <sched.h>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace monbench {

// Thrown rather than exiting, so that the attachers we started are ended
// and the cgroup and temporary directory removed on the way out.
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] inline void die(const std::string& what)
{
    throw Failure(what + ": " + (errno ? std::strerror(errno) : "failed"));
}

// main() of a benchmark: runs `body`, reports a Failure, exits 1.
template <typename Body>
int guarded_main(const char* name, Body body)
{
    try {
        return body();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", name, e.what());
        return 1;
    }
}

inline void write_file(const std::string& path, const std::string& data, mode_t mode = 0644)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) die("open " + path);
    if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) die("write " + path);
    ::fchmod(fd, mode);
    ::close(fd);
}

inline std::string read_file(const std::string& path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
}

inline double median(std::vector<double> v)
{
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

inline double quantile(std::vector<double> v, double q)
{
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<size_t>(q * double(v.size() - 1) + 0.5)];
}

inline void pin_to_cpu(int cpu)
{
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
}

// A directory under /tmp, removed recursively when done.
class TempDir {
public:
    TempDir()
    {
        char tmpl[] = "/tmp/bulwark-monbench.XXXXXX";
        if (!::mkdtemp(tmpl)) die("mkdtemp");
        path_ = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A cgroup v2 directory of our own under the unified hierarchy; the
// benchmark process moves in, and back to the root before it is removed.
// Policies and the bpftrace filter are scoped to it.
class Cgroup {
public:
    explicit Cgroup(const std::string& suffix = "", std::string mount = "/sys/fs/cgroup/unified")
        : mount_(std::move(mount))
    {
        name_ = "/bulwark-monbench-" + std::to_string(::getpid()) + suffix;
        dir_ = mount_ + name_;
        if (::mkdir(dir_.c_str(), 0755) != 0) die("mkdir " + dir_);
    }
    ~Cgroup()
    {
        leave();
        // Children we started have been reaped; retry briefly while the
        // kernel lets go of exited tasks.
        for (int i = 0; i < 100 && ::rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Cgroup(const Cgroup&) = delete;
    Cgroup& operator=(const Cgroup&) = delete;

    void join() const { write_file(dir_ + "/cgroup.procs", std::to_string(::getpid())); }
    void leave() const
    {
        int fd = ::open((mount_ + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) return;
        const std::string pid = std::to_string(::getpid());
        (void)!::write(fd, pid.data(), pid.size());
        ::close(fd);
    }
    const std::string& name() const { return name_; }  // "/bulwark-monbench-N", as policies name it
    const std::string& dir() const { return dir_; }
    std::string root_procs() const { return mount_ + "/cgroup.procs"; }
    uint64_t id() const
    {
        struct stat st {};
        if (::stat(dir_.c_str(), &st) != 0) die("stat " + dir_);
        return st.st_ino;  // == bpf_get_current_cgroup_id() (docs/kernel.md)
    }

private:
    std::string mount_, dir_, name_;
};

// A child process with stdout and stderr in a log file; waits for a
// readiness marker in that log; ended by its pid (SIGTERM, then SIGKILL
// after a grace period) and reaped when this object goes.
class Child {
public:
    // `cgroup_procs`: a cgroup.procs file the child moves into first (the
    // attachers run outside the measured cgroup).
    Child(const std::vector<std::string>& argv, const std::string& log, int cpu = -1,
          const std::vector<std::string>& env = {}, const std::string& cgroup_procs = "")
        : log_(log)
    {
        ::unlink(log.c_str());  // a previous child's log must not look like this one's readiness
        pid_ = ::fork();
        if (pid_ < 0) die("fork");
        if (pid_ == 0) {
            // A session of its own, hence a scheduler autogroup of its own
            // (kernel.sched_autogroup_enabled): otherwise it shares the
            // benchmark's CPU weight with the benchmark's own threads.
            ::setsid();
            if (!cgroup_procs.empty()) {
                int cg = ::open(cgroup_procs.c_str(), O_WRONLY | O_CLOEXEC);
                if (cg < 0 || ::write(cg, "0", 1) != 1) _exit(125);
                ::close(cg);
            }
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int null = ::open("/dev/null", O_RDONLY);
            if (fd < 0 || null < 0) _exit(126);
            ::dup2(null, 0);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            if (cpu >= 0) {
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(cpu, &set);
                ::sched_setaffinity(0, sizeof set, &set);
            } else {
                // Undo the benchmark's own pinning: attachers run anywhere.
                cpu_set_t set;
                CPU_ZERO(&set);
                for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &set);
                ::sched_setaffinity(0, sizeof set, &set);
            }
            for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            _exit(127);
        }
    }
    ~Child() { stop(); }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    std::string output() const { return read_file(log_); }

    // Wait until `marker` appears in the log; dies if the child exits first.
    void wait_for(const std::string& marker, int timeout_s = 300)
    {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
        while (output().find(marker) == std::string::npos) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                errno = 0;
                die("child exited before \"" + marker + "\":\n" + output());
            }
            if (std::chrono::steady_clock::now() > end) {
                errno = 0;
                die("timed out waiting for \"" + marker + "\":\n" + output());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    // SIGTERM, wait up to `grace_s`, then SIGKILL; returns the wait status.
    int stop(int grace_s = 30)
    {
        if (pid_ <= 0) return status_;
        ::kill(pid_, SIGTERM);
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(grace_s);
        for (;;) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                status_ = status;
                break;
            }
            if (std::chrono::steady_clock::now() > end) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status_, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        pid_ = -1;
        return status_;
    }

private:
    pid_t pid_ = -1;
    int status_ = 0;
    std::string log_;
};

// ---- the BPF programs' own run time (kernel.bpf_stats_enabled) ----------

inline long bpf_sys(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

// Sets kernel.bpf_stats_enabled while alive and puts the old value back.
class BpfStatsOn {
public:
    BpfStatsOn()
    {
        old_ = read_file("/proc/sys/kernel/bpf_stats_enabled");
        set("1");
    }
    ~BpfStatsOn() { set(old_.empty() ? "0" : old_.substr(0, 1)); }
    BpfStatsOn(const BpfStatsOn&) = delete;
    BpfStatsOn& operator=(const BpfStatsOn&) = delete;

private:
    static void set(const std::string& v)
    {
        int fd = ::open("/proc/sys/kernel/bpf_stats_enabled", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || ::write(fd, v.data(), v.size()) != static_cast<ssize_t>(v.size())) die("bpf_stats_enabled");
        ::close(fd);
    }
    std::string old_;
};

struct ProgRun {
    std::string name;
    uint64_t ns = 0, runs = 0;
};

// The BPF programs a process holds (prog_id lines of /proc/PID/fdinfo):
// whatever it loaded, bulwark, the chapter's loader or bpftrace alike. The
// program fds are kept open so that each snapshot is one syscall a program.
class ProcessProgs {
public:
    explicit ProcessProgs(pid_t pid)
    {
        const std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
        DIR* d = ::opendir(dir.c_str());
        if (!d) die("opendir " + dir);
        std::vector<uint32_t> ids;
        while (dirent* e = ::readdir(d)) {
            const std::string info = read_file(dir + "/" + e->d_name);
            const size_t at = info.find("prog_id:");
            if (at == std::string::npos) continue;
            const uint32_t id = static_cast<uint32_t>(std::strtoul(info.c_str() + at + 8, nullptr, 10));
            if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
        }
        ::closedir(d);
        for (uint32_t id : ids) {
            bpf_attr attr{};
            attr.prog_id = id;
            int fd = static_cast<int>(bpf_sys(BPF_PROG_GET_FD_BY_ID, attr));
            if (fd >= 0) fds_.push_back(fd);
        }
    }
    ~ProcessProgs()
    {
        for (int fd : fds_) ::close(fd);
    }
    ProcessProgs(const ProcessProgs&) = delete;
    ProcessProgs& operator=(const ProcessProgs&) = delete;

    size_t size() const { return fds_.size(); }

    std::vector<ProgRun> snapshot() const
    {
        std::vector<ProgRun> out;
        for (int fd : fds_) {
            bpf_prog_info info{};
            bpf_attr attr{};
            attr.info.bpf_fd = static_cast<uint32_t>(fd);
            attr.info.info_len = sizeof info;
            attr.info.info = reinterpret_cast<uint64_t>(&info);
            if (bpf_sys(BPF_OBJ_GET_INFO_BY_FD, attr) != 0) {
                out.push_back({"?", 0, 0});  // keep indices aligned across snapshots
                continue;
            }
            out.push_back({std::string(info.name, strnlen(info.name, sizeof info.name)), info.run_time_ns,
                           info.run_cnt});
        }
        return out;
    }

private:
    std::vector<int> fds_;
};

// What the programs cost one operation, between two snapshots over `ops`
// operations. A program that ran at least once per two operations is
// counted as running once per operation, at its mean time per run: other
// processes' runs in the same interval (other engineers' builds open files
// too) add to the count, not to what one operation of ours pays.
struct OpCost {
    double ns_per_op = 0;                       // sum over the programs the op triggers
    std::map<std::string, double> ns_per_run;   // by program name
    std::map<std::string, double> runs_per_op;  // > 1: others' runs mixed in
};

inline OpCost op_cost(const std::vector<ProgRun>& before, const std::vector<ProgRun>& after, uint64_t ops)
{
    OpCost c;
    for (size_t i = 0; i < after.size() && i < before.size(); ++i) {
        const uint64_t runs = after[i].runs - before[i].runs, ns = after[i].ns - before[i].ns;
        if (!runs || !ops) continue;
        const double per_op = double(runs) / double(ops);
        if (per_op < 0.5) continue;  // not on this operation's path
        const double per_run = double(ns) / double(runs);
        c.ns_per_run[after[i].name] += per_run;
        c.runs_per_op[after[i].name] += per_op;
        c.ns_per_op += per_run;
    }
    return c;
}

}  // namespace monbench
