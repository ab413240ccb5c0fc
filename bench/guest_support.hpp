// What the guest benchmarks share (bench-open-close, bench-exec-connect,
// bench-compare): files and cgroups set up with errors that stop the run,
// medians, and the BPF programs' own run time (kernel.bpf_stats_enabled).
// Header-only: each benchmark is one static binary dropped into a guest.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <initializer_list>
#include <linux/bpf.h>
#include <map>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/syscall.h>
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

inline void set_bpf_stats(bool on)
{
    int fd = ::open("/proc/sys/kernel/bpf_stats_enabled", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, on ? "1" : "0", 1) != 1) die("kernel.bpf_stats_enabled");
    ::close(fd);
}

}  // namespace bench
