// bench-exec-connect: what exec and connect enforcement cost, inside a guest
// (issue 3: "fork+exec of a small static program, and socket+connect+close
// to a loopback listener, each (a) without bulwark, (b) with 10,000 exec
// rules / 10,000 CIDR rules in scope and not matching, (c) out of scope").
//
// Like bench-open-close, one process does it all, so the configurations run
// interleaved in one boot: each round starts bulwark with both rule sets
// (scoped to the cgroup /bench), alternates (b) and (c) by moving itself in
// and out of that cgroup, stops bulwark and measures (a); a round's ratios
// compare its (b) and (c) with the (a) just before and after. Timings are
// for reading, never for passing or failing anything.
//
//   bench-exec-connect [--rules N] [--exec-ops N] [--connect-ops N] [--batches N]
//                      [--rounds N] [--prog PATH] [--bulwark PATH] [--cgroup-root DIR]
//
// The guests run under TCG on a shared host, so wall-clock ratios drift by
// more than the effect measured: each configuration is measured in many
// short batches (medians), (b) and (c) alternate batch by batch, and the BPF
// programs' own run time per operation is read from the kernel
// (kernel.bpf_stats_enabled) as a second, noise-free estimate of (b) - (a).
#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include "guest_support.hpp"

#include <fcntl.h>
#include <linux/bpf.h>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace bench;

struct Options {
    int rules = 10000;
    int exec_ops = 20;       // per batch
    int connect_ops = 100;   // per batch
    int batches = 8;         // per configuration and round
    int rounds = 10;
    std::string prog = "/usr/libexec/bwt/bwt-prog";
    std::string bulwark = "/bin/bulwark";
    std::string cgroup_root = "/sys/fs/cgroup";
    std::string dir = "/srv/bench-ec";
};

// 10,000 [[exec]] rules (half exact programs, half directory trees) and
// 10,000 [[connect]] CIDRs (half /32, half /24, in 10.0.0.0/8), none of
// which covers the measured program or 127.0.0.1.
std::string make_policy(const Options& o)
{
    const std::string deny = o.dir + "/deny";
    mkdirs(deny);
    std::string paths, prefixes, cidrs;
    for (int i = 0; i < o.rules; ++i) {
        if (i % 2 == 0) {
            const std::string f = deny + "/p" + std::to_string(i);
            write_file(f, "x", 0755);
            paths += "\"" + f + "\",";
            cidrs += "\"10." + std::to_string((i >> 8) & 0xff) + "." + std::to_string(i & 0xff) + ".1/32\",";
        } else {
            const std::string d = deny + "/d" + std::to_string(i);
            mkdirs(d);
            prefixes += "\"" + d + "/\",";
            cidrs += "\"10." + std::to_string(100 + ((i >> 8) & 0x7f)) + "." + std::to_string(i & 0xff) + ".0/24\",";
        }
    }
    std::string policy = "[policy]\nname = \"bench\"\n\n[scope]\ncgroup = [\"/bench\"]\n\n[[exec]]\n";
    if (!paths.empty()) policy += "paths = [" + paths + "]\n";
    if (!prefixes.empty()) policy += "prefixes = [" + prefixes + "]\n";
    policy += "action = \"deny\"\n\n[[connect]]\ncidrs = [" + cidrs + "]\naction = \"deny\"\n";
    const std::string file = o.dir + "/bench.toml";
    write_file(file, policy);
    return file;
}

double per_op_ns(std::chrono::steady_clock::time_point t0, int ops)
{
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / ops;
}

// fork + execve(prog) + waitpid, `ops` times.
double measure_exec(const std::string& prog, int ops)
{
    char* argv[] = {const_cast<char*>("prog"), nullptr};
    char* envp[] = {nullptr};
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < ops; ++i) {
        pid_t pid = ::fork();
        if (pid < 0) die("fork");
        if (pid == 0) {
            ::execve(prog.c_str(), argv, envp);
            _exit(127);
        }
        int status = 0;
        if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            errno = 0;
            die("the program did not run (it must not be denied)");
        }
    }
    return per_op_ns(t0, ops);
}

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

// socket + connect + close, `ops` times; the close resets (SO_LINGER 0) so
// that no TIME_WAIT socket holds a port.
double measure_connect(uint16_t port, int ops)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const linger reset{1, 0};
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < ops; ++i) {
        int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) die("socket");
        if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect (it must not be denied)");
        ::setsockopt(s, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        ::close(s);
    }
    return per_op_ns(t0, ops);
}

// utime + stime of a process, in seconds (/proc/PID/stat fields 14 and 15).
double cpu_seconds(pid_t pid)
{
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    size_t pos = stat.rfind(')');
    if (pos == std::string::npos) return 0;
    unsigned long long utime = 0, stime = 0;
    if (std::sscanf(stat.c_str() + pos + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                    &stime) != 2)
        return 0;
    return double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

// ---- what the BPF programs themselves cost (kernel.bpf_stats_enabled) -----

// Programs' ns and runs between two snapshots, per operation.
struct HookCost {
    std::map<std::string, std::pair<double, double>> per_op;  // ns per op, runs per op
    double total_ns_per_op = 0;
};

HookCost hook_cost(const ProgStats& before, const ProgStats& after, int ops)
{
    HookCost c;
    for (const auto& [name, v] : after) {
        auto it = before.find(name);
        const uint64_t ns = v.first - (it == before.end() ? 0 : it->second.first);
        const uint64_t runs = v.second - (it == before.end() ? 0 : it->second.second);
        if (!runs) continue;
        c.per_op[name] = {double(ns) / ops, double(runs) / ops};
        c.total_ns_per_op += double(ns) / ops;
    }
    return c;
}

struct Series {
    std::vector<double> a, b, c;             // ns per op, one value per batch
    std::vector<double> hook_b, hook_c;      // BPF ns per op, one value per stats batch
    std::map<std::string, std::vector<double>> ns_b, ns_c, runs_b, runs_c;  // per hook

    std::vector<double> ratio_b, ratio_c;    // per round: median (b) or (c) / median of the (a) around it

    // One round: (a) batches before and after, (b) and (c) batches between.
    void round(const std::vector<double>& a_before, const std::vector<double>& a_after,
               const std::vector<double>& b_round, const std::vector<double>& c_round)
    {
        std::vector<double> around = a_before;
        around.insert(around.end(), a_after.begin(), a_after.end());
        const double ma = median(around);
        ratio_b.push_back(median(b_round) / ma);
        ratio_c.push_back(median(c_round) / ma);
        a.insert(a.end(), a_after.begin(), a_after.end());
        if (a.size() == a_after.size()) a.insert(a.end(), a_before.begin(), a_before.end());
        b.insert(b.end(), b_round.begin(), b_round.end());
        c.insert(c.end(), c_round.begin(), c_round.end());
    }

    void add(bool in_scope, const HookCost& cost)
    {
        (in_scope ? hook_b : hook_c).push_back(cost.total_ns_per_op);
        for (const auto& [name, v] : cost.per_op) {
            (in_scope ? ns_b : ns_c)[name].push_back(v.first);
            (in_scope ? runs_b : runs_c)[name].push_back(v.second);
        }
    }
};

void print(const char* what, const Options& o, int batch, const Series& s)
{
    const double ma = median(s.a), mb = median(s.b), mc = median(s.c);
    const double hb = median(s.hook_b), hc = median(s.hook_c);
    std::printf("%s: %d rules, %d rounds of %d batches of %d ops\n", what, o.rules, o.rounds, o.batches, batch);
    std::printf("  (a) bulwark not running        %10.0f ns/op   1.000\n", ma);
    std::printf("  (b) in scope, %5d rules      %10.0f ns/op   %.3f   (goal <= 1.03)\n", o.rules, mb,
                median(s.ratio_b));
    std::printf("  (c) out of scope (cgroup)      %10.0f ns/op   %.3f\n", mc, median(s.ratio_c));
    std::printf("  ratios: median over rounds of (median of the round's batches) / (median of the (a) batches\n"
                "  just before and after it); ns/op: medians of all batches\n");
    std::printf("  BPF programs' own time per op (kernel.bpf_stats_enabled; median of %zu batches), and (a) + that:\n",
                s.hook_b.size());
    std::printf("      (b) %8.0f ns   %.4f\n", hb, (ma + hb) / ma);
    std::printf("      (c) %8.0f ns   %.4f\n", hc, (ma + hc) / ma);
    for (bool in_scope : {true, false}) {
        const auto& ns = in_scope ? s.ns_b : s.ns_c;
        const auto& runs = in_scope ? s.runs_b : s.runs_c;
        std::printf("      %s per hook:", in_scope ? "(b)" : "(c)");
        for (const auto& [name, v] : ns) {
            const double n = median(v), r = median(runs.at(name));
            std::printf("  %s %.0f ns/op (%.1f runs/op, %.0f ns/run)", name.c_str(), n, r, r > 0 ? n / r : 0.0);
        }
        std::printf("\n");
    }
}

}  // namespace

int main(int argc, char** argv)
{
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--rules") o.rules = std::atoi(v.c_str());
        else if (k == "--exec-ops") o.exec_ops = std::atoi(v.c_str());
        else if (k == "--connect-ops") o.connect_ops = std::atoi(v.c_str());
        else if (k == "--rounds") o.rounds = std::atoi(v.c_str());
        else if (k == "--batches") o.batches = std::atoi(v.c_str());
        else if (k == "--prog") o.prog = v;
        else if (k == "--bulwark") o.bulwark = v;
        else if (k == "--cgroup-root") o.cgroup_root = v;
        else {
            std::fprintf(stderr, "usage: bench-exec-connect [--rules N] [--exec-ops N] [--connect-ops N] "
                                 "[--batches N] [--rounds N] [--prog PATH] [--bulwark PATH] [--cgroup-root DIR]\n");
            return 2;
        }
    }
    // The measured program: a copy of the tiny static one, three levels deep
    // (the walk looks up each level), covered by no rule.
    const std::string prog = o.dir + "/work/a/b/c/prog";
    mkdirs(o.dir + "/work/a/b/c");
    write_file(prog, read_file(o.prog), 0755);
    const std::string policy = make_policy(o);
    const std::string scoped = o.cgroup_root + "/bench";
    mkdirs(scoped);
    Listener listener;

    Series exec, conn;
    std::vector<double> bulwark_cpu_share;  // bulwark's own CPU time / wall time, per round
    const int exec_batch = o.exec_ops, conn_batch = o.connect_ops;
    measure_exec(prog, exec_batch);  // warm the caches
    measure_connect(listener.port, conn_batch);
    // (a) is measured before and after every bulwark session, and each
    // round's (b) and (c) are compared with the (a) around them: the host's
    // load drifts over minutes, much less within one round. (a) moves
    // between the same cgroups as (b) and (c) do — moving a process costs
    // the kernel — so each batch follows a move in every configuration.
    // Every timed batch runs in a fresh child (in_child): (b) must, since
    // scope sticks, and (a) and (c) do too, so that all three pay the same
    // for being a just-forked process.
    auto timed = [&](const std::string& cgroup, std::vector<double>& e, std::vector<double>& c) {
        const ChildBatch got = in_child(cgroup, [&](ChildBatch& b) {
            b.values.push_back(measure_exec(prog, exec_batch));
            b.values.push_back(measure_connect(listener.port, conn_batch));
        });
        e.push_back(got.values.at(0));
        c.push_back(got.values.at(1));
    };
    auto measure_a = [&](std::vector<double>& ea, std::vector<double>& ca) {
        for (int k = 0; k < o.batches; ++k) timed(k % 2 ? scoped : o.cgroup_root, ea, ca);
    };
    std::vector<double> before_e, before_c;
    measure_a(before_e, before_c);
    for (int r = 0; r < o.rounds; ++r) {
        std::vector<double> rb_e, rc_e, rb_c, rc_c;  // this round's (b), (c): exec, connect
        Bulwark bw = start_bulwark(o.bulwark, policy, 300000);
        const double bw_cpu0 = cpu_seconds(bw.pid);
        const auto wall0 = std::chrono::steady_clock::now();
        // (b) and (c) batch by batch, so that the host's load drifts alike on both.
        for (int k = 0; k < o.batches; ++k) {
            timed(scoped, rb_e, rb_c);
            timed(o.cgroup_root, rc_e, rc_c);
        }
        // The programs' own run time, in batches of their own (the stats cost a little).
        set_bpf_stats(true);
        // exec, then connect, with the stats read between (by this
        // process: in scope, bpf(2) on bulwark's programs is refused).
        ProgStats at[3];
        auto stats_batch = [&](ChildBatch& c) {
            c.mark();
            measure_exec(prog, exec_batch);
            c.mark();
            measure_connect(listener.port, conn_batch);
            c.mark();
        };
        auto read_stats = [&](int i) { at[i] = prog_stats(); };
        for (int k = 0; k < o.batches; ++k) {
            in_child(scoped, stats_batch, read_stats);
            exec.add(true, hook_cost(at[0], at[1], exec_batch));
            conn.add(true, hook_cost(at[1], at[2], conn_batch));
            join_cgroup(o.cgroup_root);
            int marks = 0;
            ChildBatch here;
            here.mark = [&] { read_stats(marks++); };
            stats_batch(here);
            exec.add(false, hook_cost(at[0], at[1], exec_batch));
            conn.add(false, hook_cost(at[1], at[2], conn_batch));
        }
        set_bpf_stats(false);
        join_cgroup(o.cgroup_root);
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
        bulwark_cpu_share.push_back((cpu_seconds(bw.pid) - bw_cpu0) / wall);
        stop_bulwark(bw);

        std::vector<double> after_e, after_c;
        measure_a(after_e, after_c);
        exec.round(before_e, after_e, rb_e, rc_e);
        conn.round(before_c, after_c, rb_c, rc_c);
        std::fprintf(stderr,
                     "round %d: exec (b)/(a) %.3f (c)/(a) %.3f | connect (b)/(a) %.3f (c)/(a) %.3f | "
                     "exec (a) %.0f ns connect (a) %.0f ns\n",
                     r + 1, exec.ratio_b.back(), exec.ratio_c.back(), conn.ratio_b.back(), conn.ratio_c.back(),
                     median(after_e), median(after_c));
        before_e = std::move(after_e);
        before_c = std::move(after_c);
    }
    print("fork+exec+wait of a static program no rule covers", o, exec_batch, exec);
    print("socket+connect+close to a loopback listener no CIDR covers", o, conn_batch, conn);
    std::printf("bulwark's own CPU while (b) and (c) ran: %.2f%% of one CPU (median of rounds)\n",
                100 * median(bulwark_cpu_share));
    return 0;
}
