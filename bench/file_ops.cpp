// bench-file-ops: what bulwark's file-operation hooks (path_rename,
// path_link, path_unlink, path_mkdir, path_rmdir: bpf/lsm/file_ops.bpf.c)
// cost the operations they decide, in and out of scope, against nothing
// enforcing and against Landlock protecting the same tree. Runs in a guest
// (bench/guest --bench file-ops; BPF-LSM), as root.
//
// The policy write-protects PROTECTED/ (`access = ["write"]`: nothing in
// the tree may change) for the processes of one cgroup. Every timed loop
// works in WORK/, beside it, where everything is allowed: what is timed is
// the hooks deciding "allow" — the walk up from the directory, the lookups
// — which every rename, link, unlink, mkdir and rmdir on the machine pays.
//   rename: rename(WORK/a, WORK/b), rename(WORK/b, WORK/a)   (2 ops)
//   link:   link(WORK/a, WORK/l), unlink(WORK/l)             (2 ops)
//   mkdir:  mkdir(WORK/d), rmdir(WORK/d)                      (2 ops)
// Systems, each timed in a forked child (the same process shape for all):
//   none      nothing enforcing (bulwark not running)
//   landlock  the child restricts itself: Landlock handles every
//             changing right (MAKE_*, REMOVE_*, REFER, TRUNCATE where the
//             ABI has them) and allows them beneath WORK/ only
//   out       bulwark running, the child outside the policy's cgroup
//   in        bulwark running, the child in the policy's cgroup
// Before each timed batch the child proves what is in force: rename of
// WORK/probe into PROTECTED/ must fail with EPERM (in), EACCES or EXDEV
// (landlock), and succeed (none, out: renamed back). A batch whose probe
// fails stops the run. Per round: none and Landlock batches, bulwark
// started, out and in batches, bulwark stopped, none again. Prints JSON
// lines (ns per op per batch) and, per round, the medians with their
// ratios to that round's `none` (before and after). Timings never pass or
// fail anything.
//
//   bench-file-ops [--bulwark PATH] [--ops N] [--batches N] [--rounds N] [--dir DIR]
#include "guest_support.hpp"

#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <array>

namespace {

using namespace bench;

struct Options {
    std::string bulwark = "/bin/bulwark";
    std::string dir = "/tmp/bench-file-ops";
    int ops = 2000;      // iterations per batch (each two operations)
    int batches = 5;
    int rounds = 2;
};

enum class Loop { rename, link, mkdir };
constexpr std::array<Loop, 3> kLoops{Loop::rename, Loop::link, Loop::mkdir};
const char* name_of(Loop l) { return l == Loop::rename ? "rename" : l == Loop::link ? "link" : "mkdir"; }

enum class System { none, landlock, out, in, none_after };
const char* name_of(System s)
{
    switch (s) {
    case System::none: return "none";
    case System::landlock: return "landlock";
    case System::out: return "out";
    case System::in: return "in";
    case System::none_after: return "none-after";
    }
    return "?";
}

struct Paths {
    std::string work, protected_dir, cgroup;
};

// Landlock ABI here (0: none).
int landlock_abi()
{
    const long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v < 0 ? 0 : static_cast<int>(v);
}

// Restricts this process: every changing right handled, allowed beneath `work` only.
void landlock_restrict(const std::string& work, int abi)
{
    uint64_t handled = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                       LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
                       LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
                       LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
    if (abi >= 2) handled |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) handled |= 1ull << 14;  // LANDLOCK_ACCESS_FS_TRUNCATE (6.2+ headers)
    struct {
        uint64_t handled_access_fs;
    } attr{handled};
    const int fd = static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0));
    if (fd < 0) die("landlock_create_ruleset");
    landlock_path_beneath_attr pb{};
    pb.allowed_access = handled;
    pb.parent_fd = ::open(work.c_str(), O_PATH | O_CLOEXEC);
    if (pb.parent_fd < 0) die("open " + work);
    if (::syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) die("landlock_add_rule");
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("PR_SET_NO_NEW_PRIVS");
    if (::syscall(SYS_landlock_restrict_self, fd, 0) != 0) die("landlock_restrict_self");
    ::close(pb.parent_fd);
    ::close(fd);
}

// The probe: rename WORK/probe into PROTECTED/. 0 when it went through (and
// was renamed back), else the errno.
int probe(const Paths& p)
{
    const std::string from = p.work + "/probe", to = p.protected_dir + "/probe";
    if (::rename(from.c_str(), to.c_str()) != 0) return errno;
    if (::rename(to.c_str(), from.c_str()) != 0) die("rename back " + to);
    return 0;
}

bool probe_ok(System s, int got)
{
    switch (s) {
    case System::in: return got == EPERM;
    case System::landlock: return got == EACCES || got == EXDEV;
    default: return got == 0;
    }
}

// One batch of `loop`, `ops` iterations: ns per operation.
double batch(const Paths& p, Loop loop, int ops)
{
    const std::string a = p.work + "/a", b = p.work + "/b", l = p.work + "/l", d = p.work + "/d";
    timespec t0{}, t1{};
    ::clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < ops; ++i) {
        bool ok = true;
        switch (loop) {
        case Loop::rename: ok = ::rename(a.c_str(), b.c_str()) == 0 && ::rename(b.c_str(), a.c_str()) == 0; break;
        case Loop::link: ok = ::link(a.c_str(), l.c_str()) == 0 && ::unlink(l.c_str()) == 0; break;
        case Loop::mkdir: ok = ::mkdir(d.c_str(), 0755) == 0 && ::rmdir(d.c_str()) == 0; break;
        }
        if (!ok) die(std::string(name_of(loop)) + " in " + p.work);
    }
    ::clock_gettime(CLOCK_MONOTONIC, &t1);
    const double ns = double(t1.tv_sec - t0.tv_sec) * 1e9 + double(t1.tv_nsec - t0.tv_nsec);
    return ns / (2.0 * ops);
}

// Runs one batch in a forked child placed and restricted as `s` says; ns
// per op. The child proves first what is in force.
double run_batch(const Paths& p, System s, Loop loop, int ops, int abi)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) die("pipe");
    const pid_t pid = ::fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        ::close(fds[0]);
        if (s == System::in) join_cgroup(p.cgroup);
        if (s == System::landlock) landlock_restrict(p.work, abi);
        const int got = probe(p);
        double v = -1;
        if (probe_ok(s, got)) v = batch(p, loop, ops);
        else std::fprintf(stderr, "bench-file-ops: %s: the probe gave %s\n", name_of(s), std::strerror(got));
        if (::write(fds[1], &v, sizeof v) != sizeof v) _exit(1);
        _exit(0);
    }
    ::close(fds[1]);
    double v = -1;
    if (::read(fds[0], &v, sizeof v) != sizeof v) v = -1;
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (v < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "bench-file-ops: the %s batch of %s did not run as it must: stopping\n", name_of(s),
                     name_of(loop));
        std::exit(1);
    }
    return v;
}

void emit(const std::string& line) { std::printf("{%s}\n", line.c_str()); std::fflush(stdout); }

}  // namespace

int main(int argc, char** argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bench-file-ops: %s wants a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--bulwark") o.bulwark = value();
        else if (a == "--dir") o.dir = value();
        else if (a == "--ops") o.ops = std::atoi(value().c_str());
        else if (a == "--batches") o.batches = std::atoi(value().c_str());
        else if (a == "--rounds") o.rounds = std::atoi(value().c_str());
        else {
            std::fprintf(stderr, "usage: bench-file-ops [--bulwark PATH] [--ops N] [--batches N] [--rounds N] [--dir DIR]\n");
            return 2;
        }
    }
    if (o.ops < 1 || o.batches < 1 || o.rounds < 1) {
        std::fprintf(stderr, "bench-file-ops: --ops, --batches and --rounds want positive numbers\n");
        return 2;
    }
    Paths p{o.dir + "/work", o.dir + "/protected", ""};
    mkdirs(p.work);
    mkdirs(p.protected_dir);
    write_file(p.work + "/a", "a\n");
    write_file(p.work + "/probe", "probe\n");
    write_file(p.protected_dir + "/keep", "keep\n");
    // cgroup v2: the guests mount it at /sys/fs/cgroup.
    const std::string cg_rel = "bench-file-ops";
    p.cgroup = "/sys/fs/cgroup/" + cg_rel;
    if (::mkdir(p.cgroup.c_str(), 0755) != 0 && errno != EEXIST) die("mkdir " + p.cgroup);
    const std::string policy = o.dir + "/policy.toml";
    write_file(policy, "[policy]\nname = \"bench\"\nmode = \"enforce\"\n[scope]\ncgroup = \"" + cg_rel +
                           "\"\n[[file]]\nprefixes = [\"" + p.protected_dir +
                           "/\"]\naccess = [\"write\"]\naction = \"deny\"\n");
    const int abi = landlock_abi();
    emit("\"type\":\"env\",\"landlock_abi\":" + std::to_string(abi) + ",\"ops\":" + std::to_string(o.ops) +
         ",\"batches\":" + std::to_string(o.batches) +
         ",\"rounds\":" + std::to_string(o.rounds));

    // Rounds of: batches without bulwark (nothing, Landlock), then bulwark
    // started and batches out of and in its scope, then bulwark stopped.
    // Each round's table compares batches of that round only: a guest's
    // clock drifts over its first minutes (boot-time work), and a
    // comparison across rounds would carry the drift.
    for (int round = 0; round < o.rounds; ++round) {
        std::map<std::pair<Loop, System>, std::vector<double>> ns;
        auto record = [&](System s, Loop l, double v, int k) {
            ns[{l, s}].push_back(v);
            emit(std::string("\"type\":\"batch\",\"round\":") + std::to_string(round) + ",\"system\":\"" +
                 name_of(s) + "\",\"loop\":\"" + name_of(l) + "\",\"batch\":" + std::to_string(k) +
                 ",\"ns_per_op\":" + std::to_string(v));
        };
        for (int k = 0; k < o.batches; ++k)
            for (Loop l : kLoops) {
                record(System::none, l, run_batch(p, System::none, l, o.ops, abi), k);
                if (abi > 0) record(System::landlock, l, run_batch(p, System::landlock, l, o.ops, abi), k);
            }
        Bulwark bw = start_bulwark(o.bulwark, policy);
        emit("\"type\":\"bulwark\",\"round\":" + std::to_string(round) + ",\"ready_s\":" + std::to_string(bw.ready_s));
        for (int k = 0; k < o.batches; ++k)
            for (Loop l : kLoops) {
                record(System::out, l, run_batch(p, System::out, l, o.ops, abi), k);
                record(System::in, l, run_batch(p, System::in, l, o.ops, abi), k);
            }
        stop_bulwark(bw);
        // Nothing again, after bulwark: the drift within the round.
        for (int k = 0; k < o.batches; ++k)
            for (Loop l : kLoops) record(System::none_after, l, run_batch(p, System::none, l, o.ops, abi), k);

        std::printf("\nround %d: ns per operation (median of %d batches of %d x 2 operations) and ratio to none "
                    "(before and after bulwark):\n",
                    round, o.batches, o.ops);
        std::printf("%-8s %18s %18s %18s %18s %18s\n", "loop", "none", "landlock", "bulwark out", "bulwark in",
                    "none after");
        for (Loop l : kLoops) {
            std::vector<double> both = ns[{l, System::none}];
            both.insert(both.end(), ns[{l, System::none_after}].begin(), ns[{l, System::none_after}].end());
            const double base = median(both);
            std::printf("%-8s", name_of(l));
            for (System s : {System::none, System::landlock, System::out, System::in, System::none_after}) {
                const auto& v = ns[{l, s}];
                if (v.empty()) std::printf(" %18s", "-");
                else std::printf(" %9.0f (%5.3f)", median(v), median(v) / base);
            }
            std::printf("\n");
            std::fflush(stdout);
        }
    }
    ::rmdir(p.cgroup.c_str());
    return 0;
}
