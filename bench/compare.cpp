// bench-compare: bulwark against the alternatives, inside one guest boot
// (issue 6). For N = 10 … 100,000 rules of each kind ("these N files may not
// be opened, these N programs may not run, these N CIDRs may not be
// reached"), the same three loops — open+close, fork+exec+wait, and
// socket+connect+close — under five systems:
//
//   none         nothing enforcing (the limit)
//   bulwark_in   bulwark enforcing, the loop in scope (cgroup /bench), no rule matching
//   bulwark_out  bulwark enforcing, the loop out of scope
//   landlock     Landlock enforcing the closest equivalent allowlist (see landlock_rules)
//   pathstr      bench/pathstr.bpf.c: bpf_d_path + 256-byte hash keys, one lookup per component
//
// Each round starts bulwark and alternates bulwark_in / bulwark_out batch by
// batch, stops it, then alternates none / landlock / pathstr (pathstr is
// attached around its batches and detached after). Every loop runs in a
// forked worker process driven through a pipe — a plain one, or one that
// restricted itself with Landlock — so all systems run in identical
// processes. Every batch follows a cgroup move, in every system. Then a few
// batches per system with kernel.bpf_stats_enabled give the BPF programs'
// own time per operation.
//
// Before every timed batch the worker opens a file the rule set denies: it
// must fail (EPERM for bulwark in scope and pathstr, EACCES for Landlock)
// and succeed for bulwark out of scope and for none; a probe that does not
// stops the run (see probe()).
//
// Output: one `CMP {json}` line per measurement, for bench/report.py. Raw
// numbers only; medians and ratios are computed there. Timings are for
// reading, never for passing or failing anything.
//
//   bench-compare [--ns 10,1000,10000,100000] [--rounds 3] [--large-rounds 1] [--batches 6]
//                 [--stats-batches 2]
//                 [--open-ops 1000] [--exec-ops 6] [--connect-ops 30]
//                 [--prog PATH] [--bulwark PATH] [--cgroup-root DIR]
#include "guest_support.hpp"
#include "rule_sets.hpp"
#include "pathstr.skel.h"

#include <algorithm>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/landlock.h>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <set>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace bench;

// linux-libc-dev 6.1 predates Landlock ABI 4 (network rules): its own names.
constexpr uint64_t kNetConnectTcp = 1ull << 1;  // LANDLOCK_ACCESS_NET_CONNECT_TCP
constexpr int kRuleNetPort = 2;                 // LANDLOCK_RULE_NET_PORT
struct RulesetAttr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
};
struct NetPortAttr {
    uint64_t allowed_access;
    uint64_t port;
} __attribute__((packed));

struct Options {
    std::vector<int> ns = {10, 1000, 10000, 100000};
    int rounds = 3;
    int large_rounds = 1;  // rounds at N >= 100,000: each costs a bulwark start of ~20 billion instructions
    int batches = 6;
    int stats_batches = 2;
    int open_ops = 1000;
    int exec_ops = 6;
    int connect_ops = 30;
    std::string prog = "/usr/libexec/bwt/bwt-prog";
    std::string bulwark = "/bin/bulwark";
    std::string cgroup_root = "/sys/fs/cgroup";
    std::string dir = "/srv/cmp";
};

std::string g_kernel;

double now_s()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void emit(const std::string& json)
{
    std::printf("CMP {\"kernel\":\"%s\",%s}\n", g_kernel.c_str(), json.c_str());
    std::fflush(stdout);
}

// ---- the loops ---------------------------------------------------------------

double per_op_ns(double t0, int ops) { return (now_s() - t0) * 1e9 / ops; }

double measure_open(const std::string& target, int ops)
{
    const double t0 = now_s();
    for (int i = 0; i < ops; ++i) {
        int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) die("open " + target + " (it must not be denied)");
        ::close(fd);
    }
    return per_op_ns(t0, ops);
}

double measure_exec(const std::string& prog, int ops)
{
    char* argv[] = {const_cast<char*>("prog"), nullptr};
    char* envp[] = {nullptr};
    const double t0 = now_s();
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

// A loopback TCP listener. The loop accepts each connection itself, right
// after connect() returns (the handshake completes in the kernel), so no
// second thread's scheduling enters the measurement.
struct Listener {
    int fd = -1;
    uint16_t port = 0;

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
    }
    ~Listener() { ::close(fd); }
};

double measure_connect(int listener, uint16_t port, int ops)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const linger reset{1, 0};
    const double t0 = now_s();
    for (int i = 0; i < ops; ++i) {
        int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) die("socket");
        if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect (it must not be denied)");
        const int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) die("accept");
        ::setsockopt(s, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        ::close(s);
        ::close(c);
    }
    return per_op_ns(t0, ops);
}

const char* const kWorkloads[] = {"open", "exec", "connect"};

struct Workload {
    const Options& o;
    std::string target, prog;
    int listener;
    uint16_t port;

    double run(int w) const
    {
        switch (w) {
        case 0: return measure_open(target, o.open_ops);
        case 1: return measure_exec(prog, o.exec_ops);
        default: return measure_connect(listener, port, o.connect_ops);
        }
    }
    int ops(int w) const { return w == 0 ? o.open_ops : w == 1 ? o.exec_ops : o.connect_ops; }
};

// ---- BPF programs' own time (kernel.bpf_stats_enabled) --------------------------

double bpf_ns_between(const ProgStats& a, const ProgStats& b)
{
    uint64_t ns = 0;
    for (const auto& [name, v] : b) {
        auto it = a.find(name);
        ns += v.first - (it == a.end() ? 0 : it->second.first);
    }
    return double(ns);
}

// ---- bulwark -------------------------------------------------------------------

// fdinfo of a map fd (in `pid`'s fd table): memlock, map_id, map_type, max_entries.
struct MapInfo {
    long memlock = 0;
    unsigned id = 0, type = 0, max_entries = 0;
};

MapInfo map_info(pid_t pid, int fd)
{
    MapInfo m;
    const std::string text = read_file("/proc/" + std::to_string(pid) + "/fdinfo/" + std::to_string(fd));
    auto field = [&](const char* k) -> long {
        size_t pos = text.find(k);
        return pos == std::string::npos ? 0 : std::atol(text.c_str() + pos + std::strlen(k));
    };
    m.memlock = field("memlock:");
    m.id = static_cast<unsigned>(field("map_id:"));
    m.type = static_cast<unsigned>(field("map_type:"));
    m.max_entries = static_cast<unsigned>(field("max_entries:"));
    return m;
}

// Resident memory of a process, and the kernel memory (memlock) of every
// map it holds plus the inner maps its map-in-map outers point at.
std::pair<long, long> footprint_kib(pid_t pid)
{
    long rss = 0;
    const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
    if (size_t pos = status.find("VmRSS:"); pos != std::string::npos) rss = std::atol(status.c_str() + pos + 6);
    std::set<unsigned> seen;
    long memlock = 0;
    const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = ::opendir(fds.c_str());
    if (!d) return {rss, 0};
    while (dirent* e = ::readdir(d)) {
        char link[64] = {};
        if (::readlink((fds + "/" + e->d_name).c_str(), link, sizeof link - 1) <= 0 ||
            std::strcmp(link, "anon_inode:bpf-map") != 0)
            continue;
        const MapInfo m = map_info(pid, std::atoi(e->d_name));
        if (!seen.insert(m.id).second) continue;
        memlock += m.memlock;
        if (m.type != BPF_MAP_TYPE_ARRAY_OF_MAPS && m.type != BPF_MAP_TYPE_HASH_OF_MAPS) continue;
        const int outer = bpf_map_get_fd_by_id(m.id);
        if (outer < 0) continue;
        for (uint32_t slot = 0; slot < m.max_entries && slot < 64; ++slot) {
            uint32_t id = 0;
            if (bpf_map_lookup_elem(outer, &slot, &id) != 0 || !seen.insert(id).second) continue;
            const int inner = bpf_map_get_fd_by_id(id);
            if (inner < 0) continue;
            memlock += map_info(::getpid(), inner).memlock;
            ::close(inner);
        }
        ::close(outer);
    }
    ::closedir(d);
    return {rss, memlock / 1024};
}

// Let the kernel's deferred work run before a batch: after a cgroup move, an
// attach or a detach (trampoline updates, RCU callbacks) kworkers have work
// queued that would otherwise land inside the next batch — which matters
// under -icount, where every guest instruction counts, whoever runs it.
// Idle time costs nothing there (sleep=off skips it).
void settle(int ms = 100)
{
    ::usleep(static_cast<useconds_t>(ms) * 1000);
}

// ---- pathstr (bench/pathstr.bpf.c), its tiny loader ---------------------------------

struct PathStr {
    pathstr_bpf* skel = nullptr;

    PathStr(const RuleSet& r, const std::vector<uint64_t>& cgroup_ids)
    {
        skel = pathstr_bpf__open_and_load();
        if (!skel) die("pathstr: load");
        auto put = [](bpf_map* m, const std::string& s) {
            char key[256] = {};
            std::memcpy(key, s.data(), std::min<size_t>(s.size(), 255));
            const uint32_t kinds = 3;  // file and exec rules name the same entries
            if (bpf_map__update_elem(m, key, sizeof key, &kinds, sizeof kinds, BPF_ANY) != 0) die("pathstr: fill");
        };
        for (const auto& s : r.exact) put(skel->maps.ps_exact, s);
        for (const auto& s : r.prefixes) put(skel->maps.ps_prefix, s);
        for (uint64_t id : cgroup_ids) {
            const uint32_t one = 1;
            if (bpf_map__update_elem(skel->maps.ps_scope, &id, sizeof id, &one, sizeof one, BPF_ANY) != 0)
                die("pathstr: scope");
        }
    }
    ~PathStr() { pathstr_bpf__destroy(skel); }
    void attach()
    {
        if (pathstr_bpf__attach(skel) != 0) die("pathstr: attach");
        settle(300);
    }
    void detach()
    {
        pathstr_bpf__detach(skel);
        settle(300);
    }
};

// ---- Landlock --------------------------------------------------------------------

long ll_create(const RulesetAttr* attr, size_t size, uint32_t flags)
{
    return ::syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

int landlock_abi()
{
    const long v = ll_create(nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v < 0 ? 0 : static_cast<int>(v);
}

constexpr uint64_t kLlFile = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE;
constexpr uint64_t kLlHandled = kLlFile | LANDLOCK_ACCESS_FS_READ_DIR;

// The closest Landlock equivalent of "everything except the N denied
// entries": Landlock only allows, so the ruleset allows every sibling of
// every directory on the way from / to the deny directory (and nothing
// inside it). Returns the ruleset fd; `rules` counts the rules added.
int landlock_ruleset(const RuleSet& r, int abi, uint16_t port, int& rules)
{
    RulesetAttr attr{kLlHandled, abi >= 4 ? kNetConnectTcp : 0};
    const int fd = static_cast<int>(ll_create(&attr, abi >= 4 ? sizeof attr : sizeof attr.handled_access_fs, 0));
    if (fd < 0) die("landlock_create_ruleset");
    rules = 0;
    // The directories on the way: "/", "/srv", "/srv/cmp", "/srv/cmp/nN".
    std::vector<std::string> way = {"/"};
    for (size_t i = 1; i < r.deny_dir.size(); ++i)
        if (r.deny_dir[i] == '/') way.push_back(r.deny_dir.substr(0, i));
    way.push_back(r.deny_dir);
    for (size_t k = 0; k + 1 < way.size(); ++k) {
        DIR* d = ::opendir(way[k].c_str());
        if (!d) die("opendir " + way[k]);
        while (dirent* e = ::readdir(d)) {
            const std::string name = e->d_name;
            if (name == "." || name == "..") continue;
            const std::string path = (way[k] == "/" ? "" : way[k]) + "/" + name;
            if (path == way[k + 1]) continue;
            const int pfd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
            if (pfd < 0) continue;  // a dangling symlink
            struct stat st{};
            ::fstat(pfd, &st);
            landlock_path_beneath_attr pb{};
            pb.allowed_access = S_ISDIR(st.st_mode) ? kLlHandled : kLlFile;
            pb.parent_fd = pfd;
            if (::syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0)
                die("landlock_add_rule " + path);
            ::close(pfd);
            ++rules;
        }
        ::closedir(d);
    }
    if (abi >= 4) {
        NetPortAttr np{kNetConnectTcp, port};
        if (::syscall(SYS_landlock_add_rule, fd, kRuleNetPort, &np, 0) != 0) die("landlock_add_rule port");
        ++rules;
    }
    return fd;
}

// Every loop runs in a worker process, so that every system is measured in
// an identical process: this program re-executed (`--worker`), small, with
// nothing of the parent's memory — fork() copies page tables, so a worker
// forked from a parent holding 100,000 rules would make every fork+exec of
// the loop several times dearer than a shell's. A plain worker serves none,
// bulwark and pathstr; Landlock's restricts itself first. Requests are
// (workload, cgroup) bytes; the worker moves itself into the cgroup, lets
// deferred kernel work settle, runs one batch and answers ns per operation.
constexpr int kJoinOnly = 0xfe, kNoMove = 0xff;

// The probe before every timed batch (issue 14: benchmarks that prove
// themselves): opening `path`, a file the rule set denies, must fail with
// `want` (an errno) where a system is in force for this worker's cgroup —
// EPERM for bulwark in scope and the path-string reference, EACCES for
// Landlock, which answers that — and must succeed (`want` 0) where none
// is: bulwark out of scope, nothing running. A probe that disagrees ends
// the worker, and with it the run: a broken scope or a detached program
// would otherwise look like zero overhead.
bool probe(const std::string& path, int want, const std::string& cgroup)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    const int got = fd < 0 ? errno : 0;
    if (fd >= 0) ::close(fd);
    if (got == want) return true;
    std::fprintf(stderr, "bench-compare: probe failed in cgroup %s: open(%s) gave %s, want %s; stopping the run\n",
                 cgroup.c_str(), path.c_str(), got ? std::strerror(got) : "success",
                 want ? std::strerror(want) : "success");
    return false;
}

int worker_loop(int in, int out, const Workload& wl, const std::vector<std::string>& cgroups,
                const std::string& probe_path, const std::string& landlock_dir, int abi, const std::string& spot_check)
{
    size_t cgroup = 0;
    double hello[2] = {0, 0};
    if (!landlock_dir.empty()) {
        const double t0 = now_s();
        RuleSet r;
        r.deny_dir = landlock_dir;
        int n = 0;
        const int ruleset = landlock_ruleset(r, abi, wl.port, n);
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("no_new_privs");
        if (::syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) die("landlock_restrict_self");
        ::close(ruleset);
        hello[0] = n;
        hello[1] = now_s() - t0;
        // The rule set must deny what it stands for (spot check).
        if (!spot_check.empty()) {
            int fd = ::open(spot_check.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd >= 0 || errno != EACCES) {
                std::fprintf(stderr, "bench-compare: landlock did not deny %s\n", spot_check.c_str());
                return 1;
            }
        }
    }
    if (::write(out, hello, sizeof hello) != sizeof hello) return 1;
    for (;;) {
        unsigned char req[3];  // workload, cgroup, the probe's errno
        if (::read(in, req, 3) != 3 || req[0] == 'q') return 0;
        if (req[1] != kNoMove) {
            cgroup = req[1];
            join_cgroup(cgroups.at(cgroup));
            settle();
        }
        if (req[0] != kJoinOnly && !probe(probe_path, req[2], cgroups.at(cgroup))) return 1;
        const double v = req[0] == kJoinOnly ? 0.0 : wl.run(req[0]);
        if (::write(out, &v, sizeof v) != sizeof v) return 1;
    }
}

// bench-compare --worker IN OUT LISTEN_FD PORT TARGET PROG OPEN_OPS EXEC_OPS CONNECT_OPS CG0 CG1 CG2 PROBE
//               [LANDLOCK_DIR ABI SPOT_CHECK]
int worker_main(int argc, char** argv)
{
    if (argc < 15) return 2;
    Options o;
    o.open_ops = std::atoi(argv[8]);
    o.exec_ops = std::atoi(argv[9]);
    o.connect_ops = std::atoi(argv[10]);
    const Workload wl{o, argv[6], argv[7], std::atoi(argv[4]), static_cast<uint16_t>(std::atoi(argv[5]))};
    const std::vector<std::string> cgroups = {argv[11], argv[12], argv[13]};
    const std::string landlock_dir = argc >= 18 ? argv[15] : "";
    const int abi = argc >= 18 ? std::atoi(argv[16]) : 0;
    const std::string spot = argc >= 18 ? argv[17] : "";
    return worker_loop(std::atoi(argv[2]), std::atoi(argv[3]), wl, cgroups, argv[14], landlock_dir, abi, spot);
}

struct Worker {
    pid_t pid = -1;
    int to = -1, from = -1;
    int rules = 0;
    double build_s = 0;

    // `probe`: a file the rule set denies, opened before every batch.
    Worker(const Workload& wl, const std::vector<std::string>& cgroups, const std::string& probe,
           const RuleSet* landlock = nullptr, int abi = 0)
    {
        int down[2], up[2];
        if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0) die("pipe");
        std::vector<std::string> args = {"bench-compare", "--worker", std::to_string(down[0]), std::to_string(up[1]),
                                         std::to_string(wl.listener), std::to_string(wl.port), wl.target, wl.prog,
                                         std::to_string(wl.o.open_ops), std::to_string(wl.o.exec_ops),
                                         std::to_string(wl.o.connect_ops)};
        for (const auto& c : cgroups) args.push_back(c);
        args.push_back(probe);
        if (landlock) {
            args.push_back(landlock->deny_dir);
            args.push_back(std::to_string(abi));
            args.push_back(landlock->exact.empty() ? "" : landlock->exact[0]);
        }
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid = ::fork();
        if (pid < 0) die("fork");
        if (pid == 0) {
            for (int fd : {down[0], up[1], wl.listener}) ::fcntl(fd, F_SETFD, 0);
            ::execv("/proc/self/exe", argv.data());
            _exit(127);
        }
        ::close(down[0]);
        ::close(up[1]);
        to = down[1];
        from = up[0];
        double hello[2];
        if (::read(from, hello, sizeof hello) != sizeof hello) die("worker failed");
        rules = static_cast<int>(hello[0]);
        build_s = hello[1];
    }
    // One batch of loop `w` (or kJoinOnly), after a move to cgroups[cgroup]
    // (or kNoMove), once the probe gave `probe_errno` (0: the open works).
    double run(int w, int cgroup, int probe_errno)
    {
        const unsigned char req[3] = {static_cast<unsigned char>(w), static_cast<unsigned char>(cgroup),
                                      static_cast<unsigned char>(probe_errno)};
        double v = 0;
        if (::write(to, req, 3) != 3 || ::read(from, &v, sizeof v) != sizeof v) {
            errno = 0;
            die("a worker stopped (a failed probe, see above): no batch of this run is trusted");
        }
        return v;
    }
    ~Worker()
    {
        const unsigned char q[3] = {'q', 0, 0};
        if (::write(to, q, 3) != 3) {}
        int status = 0;
        ::waitpid(pid, &status, 0);
        ::close(to);
        ::close(from);
    }
};

std::vector<int> parse_list(const std::string& s)
{
    std::vector<int> out;
    size_t pos = 0;
    while (pos < s.size()) {
        size_t comma = s.find(',', pos);
        if (comma == std::string::npos) comma = s.size();
        out.push_back(std::atoi(s.substr(pos, comma - pos).c_str()));
        pos = comma + 1;
    }
    return out;
}

std::string fmt(const char* f, double v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc > 1 && std::strcmp(argv[1], "--worker") == 0) return worker_main(argc, argv);
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--ns") o.ns = parse_list(v);
        else if (k == "--rounds") o.rounds = std::atoi(v.c_str());
        else if (k == "--large-rounds") o.large_rounds = std::atoi(v.c_str());
        else if (k == "--batches") o.batches = std::atoi(v.c_str());
        else if (k == "--stats-batches") o.stats_batches = std::atoi(v.c_str());
        else if (k == "--open-ops") o.open_ops = std::atoi(v.c_str());
        else if (k == "--exec-ops") o.exec_ops = std::atoi(v.c_str());
        else if (k == "--connect-ops") o.connect_ops = std::atoi(v.c_str());
        else if (k == "--prog") o.prog = v;
        else if (k == "--bulwark") o.bulwark = v;
        else if (k == "--cgroup-root") o.cgroup_root = v;
        else {
            std::fprintf(stderr, "usage: bench-compare [--ns 10,1000,...] [--rounds N] [--large-rounds N] [--batches N] "
                                 "[--stats-batches N] [--open-ops N] [--exec-ops N] [--connect-ops N] [--prog PATH] "
                                 "[--bulwark PATH]\n");
            return 2;
        }
    }
    utsname u{};
    ::uname(&u);
    g_kernel = u.release;
    const int abi = landlock_abi();
    emit("\"type\":\"env\",\"landlock_abi\":" + std::to_string(abi) + ",\"cpus\":" +
         std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + ",\"open_ops\":" + std::to_string(o.open_ops) +
         ",\"exec_ops\":" + std::to_string(o.exec_ops) + ",\"connect_ops\":" + std::to_string(o.connect_ops) +
         ",\"rounds\":" + std::to_string(o.rounds) + ",\"large_rounds\":" + std::to_string(o.large_rounds) +
         ",\"batches\":" + std::to_string(o.batches));

    // The measured file and program, six levels deep, covered by no rule.
    mkdirs(o.dir + "/work/a/b/c");
    Listener listener;
    const Workload wl{o, o.dir + "/work/a/b/c/target", o.dir + "/work/a/b/c/prog", listener.fd, listener.port};
    write_file(wl.target, "not covered by any rule\n");
    write_file(wl.prog, read_file(o.prog), 0755);
    const std::string root = o.cgroup_root, scoped = o.cgroup_root + "/bench", other = o.cgroup_root + "/other";
    mkdirs(scoped);
    mkdirs(other);
    struct stat st_root{}, st_other{};
    ::stat(root.c_str(), &st_root);
    ::stat(other.c_str(), &st_other);
    const std::vector<uint64_t> pathstr_scope = {st_root.st_ino, st_other.st_ino};

    // Every rule set first, so that the deny trees of all N exist while any is measured.
    std::vector<RuleSet> sets;
    for (int n : o.ns) {
        const double t0 = now_s();
        sets.push_back(make_rules(o.dir, n));
        emit("\"type\":\"setup\",\"n\":" + std::to_string(n) + ",\"create_s\":" + fmt("%.3f", now_s() - t0));
    }
    for (int w = 0; w < 3; ++w) wl.run(w);  // warm the caches

    auto result = [&](int n, int round, const char* sys, int w, double ns) {
        emit("\"type\":\"batch\",\"n\":" + std::to_string(n) + ",\"round\":" + std::to_string(round) +
             ",\"system\":\"" + sys + "\",\"workload\":\"" + kWorkloads[w] + "\",\"ns_per_op\":" + fmt("%.1f", ns));
    };
    // Batches with the programs' own time (kernel.bpf_stats_enabled).
    auto stats_batches = [&](Worker& worker, int n, int round, const char* sys, int cgroup, int probe_errno) {
        set_bpf_stats(true);
        for (int k = 0; k < o.stats_batches; ++k) {
            for (int w = 0; w < 3; ++w) {
                worker.run(kJoinOnly, cgroup, 0);  // the move's own open of cgroup.procs stays out
                const ProgStats a = prog_stats();
                worker.run(w, kNoMove, probe_errno);
                const ProgStats b = prog_stats();
                emit("\"type\":\"bpf\",\"n\":" + std::to_string(n) + ",\"round\":" + std::to_string(round) +
                     ",\"system\":\"" + sys + "\",\"workload\":\"" + kWorkloads[w] +
                     "\",\"bpf_ns_per_op\":" + fmt("%.1f", bpf_ns_between(a, b) / wl.ops(w)));
            }
        }
        set_bpf_stats(false);
    };
    // Worker cgroups: 0 the root, 1 another unscoped one, 2 bulwark's scope.
    const std::vector<std::string> cgroups = {root, other, scoped};

    for (const RuleSet& rs : sets) {
        const int n = rs.n;
        const int rounds = n >= 100000 ? std::min(o.rounds, o.large_rounds) : o.rounds;
        const std::string probe = rs.exact.at(0);  // denied by every system, for reading
        for (int r = 0; r < rounds; ++r) {
            // bulwark running: in and out of scope, batch by batch.
            Bulwark bw = start_bulwark(o.bulwark, rs.policy_file);
            settle(500);
            const auto [rss_kib, maps_kib] = footprint_kib(bw.pid);
            emit("\"type\":\"bulwark_ready\",\"n\":" + std::to_string(n) + ",\"round\":" + std::to_string(r) +
                 ",\"ready_s\":" + fmt("%.3f", bw.ready_s) + ",\"rss_kib\":" + std::to_string(rss_kib) +
                 ",\"maps_kib\":" + std::to_string(maps_kib));
            {
                // Two workers: a process that has been in a policy's scope
                // stays in it (sticky scope, docs/decisions/012), so the
                // one measured out of scope never enters /bench.
                Worker in_scope(wl, cgroups, probe);
                Worker out_of_scope(wl, cgroups, probe);
                for (int b = 0; b < o.batches; ++b) {
                    for (int s = 0; s < 2; ++s) {
                        const bool in = (s + b) % 2 == 0;
                        for (int w = 0; w < 3; ++w)
                            result(n, r, in ? "bulwark_in" : "bulwark_out", w,
                                   in ? in_scope.run(w, 2, EPERM) : out_of_scope.run(w, (w + b) % 2, 0));
                    }
                }
                stats_batches(in_scope, n, r, "bulwark_in", 2, EPERM);
                stats_batches(out_of_scope, n, r, "bulwark_out", 0, 0);
            }
            stop_bulwark(bw);
            settle(500);

            // Nothing, Landlock and the path-string reference, batch by batch.
            PathStr ps(rs, pathstr_scope);
            Worker plain(wl, cgroups, probe);
            Worker ll(wl, cgroups, probe, &rs, abi);
            emit("\"type\":\"landlock\",\"n\":" + std::to_string(n) + ",\"round\":" + std::to_string(r) +
                 ",\"rules\":" + std::to_string(ll.rules) + ",\"build_s\":" + fmt("%.3f", ll.build_s));
            for (int b = 0; b < o.batches; ++b) {
                for (int s = 0; s < 3; ++s) {
                    const int sys = (s + b) % 3;
                    if (sys == 2) ps.attach();
                    for (int w = 0; w < 3; ++w) {
                        const int cg = (w + b) % 2;
                        if (sys == 1) result(n, r, "landlock", w, ll.run(w, cg, EACCES));
                        else result(n, r, sys == 0 ? "none" : "pathstr", w, plain.run(w, cg, sys == 0 ? 0 : EPERM));
                    }
                    if (sys == 2) ps.detach();
                }
            }
            ps.attach();
            stats_batches(plain, n, r, "pathstr", 0, EPERM);
            ps.detach();
            std::fprintf(stderr, "bench-compare: N=%d round %d done\n", n, r + 1);
        }
    }
    emit("\"type\":\"done\"");
    return 0;
}
