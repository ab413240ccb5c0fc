// bench-monitor-cost: what each monitor costs the syscall it watches, on
// this host (issue 4; root; tracepoints load here, BPF-LSM does not).
//
//   open     openat + close of /etc/hostname, a file no configuration watches
//            (a) nothing attached
//            (b) the tutorial chapter's sys_enter_openat program, as written
//                (one path, "/etc/passwd"; bench/chapter_openat.bpf.c)
//            (b) the chapter's compare once per path, 1,000 paths
//            (c) the equivalent bpftrace one-liner, filtered to our cgroup
//            (d) bulwark's [[monitor.file]], 1 path and 1,000 paths
//   syscall  getppid(): (a), and bulwark's [[monitor.syscalls]] (raw_tp
//            sys_enter) with an allowlist for our uid that allows it
//   exec     fork + execve + waitpid of a tiny static program: (a), and
//            bulwark's [monitor.process] with 1,000 allowed entries, one of
//            which allows the program
//   connect  socket + connect + close to a loopback listener: (a), and
//            bulwark's [[monitor.connect]] with 1,000 CIDRs, none covering it
//
// Every bulwark policy is scoped to a cgroup v2 directory this benchmark
// creates and runs in; bpftrace filters on it too. The chapter's program
// has no scope (as written). Attachers run outside that cgroup.
//
// Each round runs every session (an attacher started, measured, stopped) in
// a rotated order; each session's batches are compared with (a) batches of
// the same workload measured just before and after it, so a ratio's two
// sides see the same host load. Reported: median over rounds of those
// ratios, and the programs' own run time per operation from the kernel
// (kernel.bpf_stats_enabled, in separate batches), with (a + that) / a.
// Timings are for reading, never for passing or failing anything.
#include "monitor_bench.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

using namespace monbench;

namespace {

struct Options {
    int rounds = 10;
    int batches = 8;          // wall-clock batches per session (and as many (a) around it)
    int stat_batches = 4;     // kernel run-time batches per session
    int paths = 1000;
    int open_ops = 20000, sys_ops = 200000, exec_ops = 40, connect_ops = 400;
    int cpu = 1;              // the workload's CPU; -1: not pinned
    std::string only;         // comma-separated workloads; empty: all
    std::string bulwark = "build/bulwark";
    std::string chapter = "build/bench/bench-chapter-openat";
    std::string bpftrace = "bpftrace";
    std::string prog = "build/guest-bin/bwt-prog";
};

enum class Work { open, syscall, exec, connect };

const char* work_name(Work w)
{
    switch (w) {
    case Work::open: return "open";
    case Work::syscall: return "syscall";
    case Work::exec: return "exec";
    case Work::connect: return "connect";
    }
    return "?";
}

// ---- the workloads ----------------------------------------------------

// A loopback TCP listener whose thread accepts and closes every connection.
struct Listener {
    int fd = -1;
    uint16_t port = 0;
    std::atomic<bool> stop{false};
    std::thread thread;

    Listener()
    {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) die("socket");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4096) != 0) die("listen");
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        thread = std::thread([this] {
            while (!stop) {
                pollfd p{fd, POLLIN, 0};
                if (::poll(&p, 1, 100) <= 0) continue;
                int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
                if (c >= 0) ::close(c);
            }
        });
    }
    ~Listener()
    {
        stop = true;
        thread.join();
        ::close(fd);
    }
};

struct Workloads {
    const Options& o;
    std::string prog;        // the exec'd program (a copy in our temp dir)
    Listener listener;

    int ops(Work w) const
    {
        switch (w) {
        case Work::open: return o.open_ops;
        case Work::syscall: return o.sys_ops;
        case Work::exec: return o.exec_ops;
        case Work::connect: return o.connect_ops;
        }
        return 0;
    }

    // One batch; nanoseconds per operation.
    double run(Work w) const
    {
        const int n = ops(w);
        const auto t0 = std::chrono::steady_clock::now();
        switch (w) {
        case Work::open:
            for (int i = 0; i < n; ++i) {
                int fd = ::openat(AT_FDCWD, "/etc/hostname", O_RDONLY | O_CLOEXEC);
                if (fd < 0) die("open /etc/hostname");
                ::close(fd);
            }
            break;
        case Work::syscall:
            for (int i = 0; i < n; ++i) ::syscall(SYS_getppid);
            break;
        case Work::exec: {
            char* argv[] = {const_cast<char*>("prog"), nullptr};
            char* envp[] = {nullptr};
            for (int i = 0; i < n; ++i) {
                pid_t pid = ::fork();
                if (pid < 0) die("fork");
                if (pid == 0) {
                    ::execve(prog.c_str(), argv, envp);
                    _exit(127);
                }
                int status = 0;
                if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    errno = 0;
                    die("the exec'd program did not run");
                }
            }
            break;
        }
        case Work::connect: {
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            a.sin_port = htons(listener.port);
            const linger reset{1, 0};  // no TIME_WAIT sockets piling up
            for (int i = 0; i < n; ++i) {
                int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (s < 0) die("socket");
                if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
                ::setsockopt(s, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
                ::close(s);
            }
            break;
        }
        }
        return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n;
    }
};

// ---- the configurations ------------------------------------------------

struct Config {
    std::string label;       // as printed
    Work work;
    std::vector<std::string> argv;
    std::string ready;       // marker in the attacher's output once attached
    std::vector<std::string> env;
};

std::string quoted_list(const std::vector<std::string>& v)
{
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "\"" : ", \"") + s + "\"";
    return "[" + out + "]";
}

// N watched paths, the same for the chapter's loop and for bulwark: files
// next to the ones that matter, none of them /etc/hostname.
std::vector<std::string> watched_paths(int n)
{
    std::vector<std::string> v;
    char buf[64];
    for (int i = 0; i < n; ++i) {
        std::snprintf(buf, sizeof buf, "/etc/bulwark-monbench/secret-%04d", i);
        v.push_back(buf);
    }
    return v;
}

std::string policy_head(const Cgroup& cg)
{
    return "[policy]\nname = \"bench\"\n\n[scope]\ncgroup = [\"" + cg.name() + "\"]\n\n";
}

std::vector<Config> configs(const Options& o, const TempDir& tmp, const Cgroup& cg, const Cgroup& other,
                            const std::string& prog_dir)
{
    std::vector<Config> out;
    const std::string dir = tmp.path();
    auto bulwark = [&](const std::string& label, Work w, const std::string& file, const std::string& body) {
        write_file(dir + "/" + file, policy_head(cg) + body);
        out.push_back({label, w, {o.bulwark, "run", "--policy", dir + "/" + file, "--events", "/dev/null"},
                       "SIGTERM or Ctrl-C detaches", {}});
    };

    // open
    const std::vector<std::string> paths = watched_paths(o.paths);
    std::string list;
    for (const auto& p : paths) list += p + "\n";
    write_file(dir + "/paths.txt", list);
    out.push_back({"(b) chapter's program, 1 path", Work::open, {o.chapter}, "ready", {}});
    out.push_back({"(b) chapter's compare, " + std::to_string(o.paths) + " paths", Work::open,
                   {o.chapter, "--paths", dir + "/paths.txt"}, "ready", {}});
    // The chapter's logic in bpftrace: read the name, compare the first
    // 11 bytes with "/etc/passwd", print pid, uid, comm and name on a match.
    const std::string bt =
        "tracepoint:syscalls:sys_enter_openat /cgroup == cgroupid(\"" + cg.dir() +
        "\")/ { if (strncmp(str(args->filename), \"/etc/passwd\", 11) == 0) "
        "{ printf(\"%d %d %s %s\\n\", pid, uid, comm, str(args->filename)); } }";
    // BPFTRACE_STRLEN: bpftrace 0.17 reads at most 200 bytes (the chapter: 256).
    out.push_back({"(c) bpftrace one-liner", Work::open, {o.bpftrace, "-e", bt}, "Attaching", {"BPFTRACE_STRLEN=200"}});
    bulwark("(d) bulwark monitor.file, 1 path", Work::open, "file1.toml",
            "[[monitor.file]]\npaths = [\"/etc/passwd\"]\n");
    bulwark("(d) bulwark monitor.file, " + std::to_string(o.paths) + " paths", Work::open, "file1000.toml",
            "[[monitor.file]]\npaths = " + quoted_list(paths) + "\n");
    // The same, scoped to another cgroup: what every process out of scope pays.
    write_file(dir + "/file1000-other.toml",
               policy_head(other) + "[[monitor.file]]\npaths = " + quoted_list(paths) + "\n");
    out.push_back({"(d) same, workload out of scope", Work::open,
                   {o.bulwark, "run", "--policy", dir + "/file1000-other.toml", "--events", "/dev/null"},
                   "SIGTERM or Ctrl-C detaches", {}});

    // syscall: an allowlist for our uid that allows what the loop calls;
    // the rest of the benchmark's calls are reported once each (audit).
    bulwark("(d) bulwark monitor.syscalls", Work::syscall, "syscalls.toml",
            "[[monitor.syscalls]]\nuid = " + std::to_string(::getuid()) +
                "\nallow = [\"getppid\", \"read\", \"write\", \"openat\", \"close\", \"clock_nanosleep\", "
                "\"futex\", \"wait4\", \"clone\", \"execve\", \"exit_group\", \"socket\", \"connect\", "
                "\"setsockopt\", \"bpf\", \"rt_sigreturn\"]\naction = \"audit\"\n");

    // exec: 1,000 allowed entries, half programs, half trees; one allows ours.
    std::vector<std::string> allowed = {prog_dir + "/"};
    for (int i = 1; i < o.paths; ++i)
        allowed.push_back("/opt/bulwark-monbench/" + std::to_string(i) + (i % 2 ? "/" : "/prog"));
    bulwark("(d) bulwark monitor.process", Work::exec, "process.toml",
            "[monitor.process]\nallowed = " + quoted_list(allowed) + "\n");

    // connect: 1,000 CIDRs in 10.0.0.0/8, half /32, half /24.
    std::vector<std::string> cidrs;
    for (int i = 0; i < o.paths; ++i)
        cidrs.push_back("10." + std::to_string((i >> 8) & 0x7f) + "." + std::to_string(i & 0xff) +
                        (i % 2 ? ".0/24" : ".1/32"));
    bulwark("(d) bulwark monitor.connect", Work::connect, "connect.toml",
            "[[monitor.connect]]\ncidrs = " + quoted_list(cidrs) + "\n");

    if (!o.only.empty()) {
        std::vector<Config> kept;
        for (auto& c : out)
            if (("," + o.only + ",").find(std::string(",") + work_name(c.work) + ",") != std::string::npos)
                kept.push_back(std::move(c));
        out = std::move(kept);
    }
    return out;
}

// ---- results -----------------------------------------------------------

struct Result {
    std::vector<double> ratio;                 // per session: median(X) / median((a) around it)
    std::vector<double> ns;                    // X batches, ns per op
    std::vector<double> bpf_ns;                // per stats batch: programs' ns per op
    std::map<std::string, std::vector<double>> per_run, runs_per_op;
};

struct Baseline {
    std::vector<double> ns;                    // every (a) batch
};

void print_work(Work w, const Options& o, const std::vector<Config>& cfgs, const std::map<std::string, Result>& res,
                const Baseline& a, const Workloads& wl)
{
    const char* what = w == Work::open      ? "openat + close of /etc/hostname (watched by no configuration)"
                       : w == Work::syscall ? "getppid() (allowed for our uid)"
                       : w == Work::exec    ? "fork + execve + waitpid of a static program (allowed)"
                                            : "socket + connect + close to 127.0.0.1 (no CIDR covers it)";
    const double ma = median(a.ns);
    std::printf("\n%s: %d ops a batch, %d rounds\n", what, wl.ops(w), o.rounds);
    std::printf("  %-36s %9s %17s %11s %10s\n", "configuration", "wall", "(p25..p75)", "BPF ns/op", "(a)+BPF");
    std::printf("  %-36s %9.3f %17s %11s %10.4f    (a) = %.0f ns/op, median of %zu batches\n",
                "(a) nothing attached", 1.0, "", "-", 1.0, ma, a.ns.size());
    for (const auto& c : cfgs) {
        if (c.work != w) continue;
        auto it = res.find(c.label);
        if (it == res.end()) continue;
        const Result& r = it->second;
        const double b = median(r.bpf_ns);
        char iqr[40];
        std::snprintf(iqr, sizeof iqr, "(%.3f..%.3f)", quantile(r.ratio, 0.25), quantile(r.ratio, 0.75));
        std::printf("  %-36s %9.3f %17s %11.1f %10.4f\n", c.label.c_str(), median(r.ratio), iqr, b, (ma + b) / ma);
        std::string detail;
        for (const auto& [name, v] : r.per_run) {
            char buf[160];
            std::snprintf(buf, sizeof buf, "%s%s %.1f ns/run (%.2f runs/op)", detail.empty() ? "" : ", ", name.c_str(),
                          median(v), median(r.runs_per_op.at(name)));
            detail += buf;
        }
        if (!detail.empty()) std::printf("      %s\n", detail.c_str());
    }
}

int run(int argc, char** argv)
{
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--rounds") o.rounds = std::atoi(v.c_str());
        else if (k == "--batches") o.batches = std::atoi(v.c_str());
        else if (k == "--stat-batches") o.stat_batches = std::atoi(v.c_str());
        else if (k == "--paths") o.paths = std::atoi(v.c_str());
        else if (k == "--open-ops") o.open_ops = std::atoi(v.c_str());
        else if (k == "--sys-ops") o.sys_ops = std::atoi(v.c_str());
        else if (k == "--exec-ops") o.exec_ops = std::atoi(v.c_str());
        else if (k == "--connect-ops") o.connect_ops = std::atoi(v.c_str());
        else if (k == "--cpu") o.cpu = std::atoi(v.c_str());
        else if (k == "--only") o.only = v;
        else if (k == "--bulwark") o.bulwark = v;
        else if (k == "--chapter") o.chapter = v;
        else if (k == "--bpftrace") o.bpftrace = v;
        else if (k == "--prog") o.prog = v;
        else {
            std::fprintf(stderr,
                         "usage: bench-monitor-cost [--rounds N] [--batches N] [--stat-batches N] [--paths N]\n"
                         "       [--open-ops N] [--sys-ops N] [--exec-ops N] [--connect-ops N] [--cpu N|-1]\n"
                         "       [--only open,syscall,exec,connect] [--bulwark PATH] [--chapter PATH]\n"
                         "       [--bpftrace PATH] [--prog PATH]\n");
            return 2;
        }
    }
    if (::geteuid() != 0) {
        std::fprintf(stderr, "bench-monitor-cost: needs root\n");
        return 2;
    }
    TempDir tmp;
    const std::string prog_dir = tmp.path() + "/bin";
    if (::mkdir(prog_dir.c_str(), 0755) != 0) die("mkdir " + prog_dir);
    const std::string prog_bytes = read_file(o.prog);
    if (prog_bytes.empty()) die("read " + o.prog);
    write_file(prog_dir + "/prog", prog_bytes, 0755);

    Cgroup cg, other("-other");  // `other`: an empty cgroup, for a policy the workload is not in
    std::vector<Config> cfgs = configs(o, tmp, cg, other, prog_dir);
    cg.join();
    pin_to_cpu(o.cpu);
    Workloads wl{o, prog_dir + "/prog", {}};

    std::map<std::string, Result> res;
    std::map<Work, Baseline> base;
    for (const auto& c : cfgs) wl.run(c.work);  // warm caches and the listener
    const auto t_start = std::chrono::steady_clock::now();
    for (int r = 0; r < o.rounds; ++r) {
        for (size_t k = 0; k < cfgs.size(); ++k) {
            // Rotate the order each round: no configuration always follows another.
            const Config& c = cfgs[(k + static_cast<size_t>(r)) % cfgs.size()];
            std::vector<double> around, x;
            for (int b = 0; b < o.batches; ++b) around.push_back(wl.run(c.work));
            Child attacher(c.argv, tmp.path() + "/attacher.log", -1, c.env, cg.root_procs());
            attacher.wait_for(c.ready);
            // bpftrace prints "Attaching" before it loads and attaches: wait
            // for its programs, then a little more for the attachment.
            std::unique_ptr<ProcessProgs> progs;
            for (int i = 0; i < 300 && (!progs || progs->size() == 0); ++i) {
                if (progs) std::this_thread::sleep_for(std::chrono::milliseconds(100));
                progs = std::make_unique<ProcessProgs>(attacher.pid());
            }
            if (progs->size() == 0) {
                errno = 0;
                die(c.label + ": the attacher holds no BPF program");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            wl.run(c.work);
            for (int b = 0; b < o.batches; ++b) x.push_back(wl.run(c.work));
            Result& rr = res[c.label];
            {
                BpfStatsOn stats;
                for (int b = 0; b < o.stat_batches; ++b) {
                    const auto s0 = progs->snapshot();
                    wl.run(c.work);
                    const auto s1 = progs->snapshot();
                    const OpCost cost = op_cost(s0, s1, static_cast<uint64_t>(wl.ops(c.work)));
                    rr.bpf_ns.push_back(cost.ns_per_op);
                    for (const auto& [name, v] : cost.ns_per_run) rr.per_run[name].push_back(v);
                    for (const auto& [name, v] : cost.runs_per_op) rr.runs_per_op[name].push_back(v);
                }
            }
            const int status = attacher.stop();
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                errno = 0;
                die(c.label + ": the attacher exited with status " + std::to_string(status) + ":\n" +
                    attacher.output());
            }
            for (int b = 0; b < o.batches; ++b) around.push_back(wl.run(c.work));
            rr.ratio.push_back(median(x) / median(around));
            rr.ns.insert(rr.ns.end(), x.begin(), x.end());
            auto& a = base[c.work].ns;
            a.insert(a.end(), around.begin(), around.end());
            std::fprintf(stderr, "round %d/%d  %-36s wall %.3f  BPF %.1f ns/op\n", r + 1, o.rounds, c.label.c_str(),
                         rr.ratio.back(), rr.bpf_ns.empty() ? 0.0 : rr.bpf_ns.back());
        }
    }
    cg.leave();
    const double minutes = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count() / 60;

    std::printf("bench-monitor-cost: %d rounds in %.1f min; workload pinned to CPU %d; %d watched paths / "
                "allowed programs / CIDRs\n",
                o.rounds, minutes, o.cpu, o.paths);
    std::printf("wall: median over rounds of median(batches attached) / median((a) batches just before and "
                "after); (p25..p75) of those ratios\n");
    std::printf("BPF ns/op: the attached programs' own run time per operation (kernel.bpf_stats_enabled), "
                "median of batches; (a)+BPF = (a + that) / a\n");
    for (Work w : {Work::open, Work::syscall, Work::exec, Work::connect})
        if (base.count(w)) print_work(w, o, cfgs, res, base[w], wl);

    // The goal, on the programs' own time (the wall clock's noise
    // here is larger than the effect): bulwark with N paths vs the chapter with one.
    const std::string b1 = "(b) chapter's program, 1 path";
    const std::string dn = "(d) bulwark monitor.file, " + std::to_string(o.paths) + " paths";
    if (res.count(b1) && res.count(dn)) {
        const double cb = median(res[b1].bpf_ns), cd = median(res[dn].bpf_ns);
        std::printf("\ngoal: bulwark with %d paths costs less than the chapter with 1: BPF %.1f vs %.1f ns/op (%s); "
                    "wall %.3f vs %.3f\n",
                    o.paths, cd, cb, cd < cb ? "met" : "NOT met", median(res[dn].ratio), median(res[b1].ratio));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    return guarded_main("bench-monitor-cost", [&] { return run(argc, argv); });
}
