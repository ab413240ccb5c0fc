// bench-open-close: what file enforcement costs an open(2)+close(2), inside a
// guest (issue 2: "(a) with bulwark not running, (b) with bulwark enforcing
// 10,000 file rules on a cgroup the loop runs in, the file not matching any
// rule, (c) the same with the loop outside the scoped cgroup, interleaving
// runs; ns per operation and the ratios (b)/(a) and (c)/(a)").
//
// Like bench-exec-connect, one process does it all, so the configurations
// run interleaved in one boot: each round starts bulwark with 10,000 file
// rules (scoped to the cgroup /bench), alternates (b) and (c) batch by batch
// by moving itself in and out of that cgroup, stops bulwark and measures
// (a); a round's ratios compare its (b) and (c) with the (a) batches just
// before and after it. Timings are for reading, never for passing or
// failing anything.
//
//   bench-open-close [--rules N] [--ops N] [--batches N] [--rounds N] [--depth N]
//                    [--bulwark PATH] [--cgroup-root DIR]
//
// The file is /srv/bench/work/a/b/c/target by default (--depth 3): the walk
// looks up seven directories (c, b, a, work, bench, srv, /) and misses.
//
// The guests run under TCG on a shared host, so wall-clock ratios drift by
// more than the effect measured: besides the medians, the BPF programs' own
// run time per operation is read from the kernel (kernel.bpf_stats_enabled,
// in batches of their own) and reported as (a + BPF ns per op) / (a), and
// as T / (T - BPF ns per op) with T the same batch's wall clock (the host's
// preemptions stretch both alike). Each round also times an empty BPF-LSM
// program on file_open (bulwark stopped): the floor any program pays here.
// bench/guest --icount 0 makes the guest's clock count instructions, so
// every ratio becomes repeatable.
#include "guest_support.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <linux/bpf.h>
#include <map>
#include <poll.h>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace bench;

struct Options {
    int rules = 10000;
    int ops = 2000;      // open+close per batch
    int batches = 8;     // per configuration and round
    int rounds = 10;
    int depth = 3;       // directories between o.dir/work and the file
    std::string bulwark = "/bin/bulwark";
    std::string cgroup_root = "/sys/fs/cgroup";
    std::string dir = "/srv/bench";
};

// 10,000 [[file]] rules: half exact files, half directory trees, all in
// o.dir/deny (so that directory holds named children and every tree has an
// inode key); none covers the measured file in o.dir/work/a/b/c.
std::string make_policy(const Options& o)
{
    const std::string deny = o.dir + "/deny";
    mkdirs(deny);
    std::string paths, prefixes;
    for (int i = 0; i < o.rules; ++i) {
        if (i % 2 == 0) {
            const std::string f = deny + "/f" + std::to_string(i);
            write_file(f, "x");
            paths += "\"" + f + "\",";
        } else {
            const std::string d = deny + "/d" + std::to_string(i);
            mkdirs(d);
            prefixes += "\"" + d + "/\",";
        }
    }
    std::string policy = "[policy]\nname = \"bench\"\n\n[scope]\ncgroup = [\"/bench\"]\n\n[[file]]\n";
    if (!paths.empty()) policy += "paths = [" + paths + "]\n";
    if (!prefixes.empty()) policy += "prefixes = [" + prefixes + "]\n";
    policy += "action = \"deny\"\n";
    const std::string file = o.dir + "/bench.toml";
    write_file(file, policy);
    return file;
}

// open(O_RDONLY) + close of `target`, `ops` times: ns per operation.
double measure(const std::string& target, int ops)
{
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < ops; ++i) {
        int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) die("open " + target + " (it must not be denied)");
        ::close(fd);
    }
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / ops;
}

// Whatever bulwark printed after ready: a verdict here would mean the
// measured file was denied or audited, which it must not be.
void drain(Bulwark& b)
{
    char buf[4096];
    for (;;) {
        pollfd p{b.out, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) return;
        ssize_t n = ::read(b.out, buf, sizeof(buf));
        if (n <= 0) return;
        if (std::string(buf, static_cast<size_t>(n)).find("\"type\":\"verdict\"") != std::string::npos) {
            errno = 0;
            die("bulwark reported a verdict: the measured file must match no rule");
        }
    }
}

// Checks what bulwark printed after ready, then stops it.
void drain_and_stop(Bulwark& b)
{
    drain(b);
    stop_bulwark(b);
}

// ---- what the BPF programs themselves cost (kernel.bpf_stats_enabled) -----
// (prog_stats and set_bpf_stats: guest_support.hpp)

// ---- the floor: an empty BPF-LSM program on file_open ----------------------
// What any BPF-LSM program costs an open here (the trampoline, the stats'
// own clock reads), whatever it does: bulwark's (c) cannot go below it.
// Loaded with raw bpf(2) calls: "r0 = 0; exit", attached to the function
// bpf_lsm_file_open found in the kernel's BTF.

// The BTF type id of the function `name` in /sys/kernel/btf/vmlinux, or 0.
uint32_t vmlinux_func_id(const std::string& name)
{
    int fd = ::open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    std::string btf;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) btf.append(buf, static_cast<size_t>(n));
    ::close(fd);
    auto u32 = [&](size_t off) {
        uint32_t v = 0;
        if (off + 4 <= btf.size()) std::memcpy(&v, btf.data() + off, 4);
        return v;
    };
    if (btf.size() < 24 || (u32(0) & 0xffff) != 0xeb9f) return 0;
    const size_t hdr = u32(4), types = hdr + u32(8), types_end = types + u32(12), strs = hdr + u32(16);
    uint32_t id = 1;
    for (size_t off = types; off + 12 <= types_end; ++id) {
        const uint32_t name_off = u32(off), info = u32(off + 4);
        const uint32_t kind = (info >> 24) & 0x1f, vlen = info & 0xffff;
        if (kind == 12 /* FUNC */ && strs + name_off < btf.size() &&
            std::strcmp(btf.c_str() + strs + name_off, name.c_str()) == 0)
            return id;
        off += 12;
        switch (kind) {
        case 1: case 14: case 17: off += 4; break;          // INT, VAR, DECL_TAG
        case 3: off += 12; break;                            // ARRAY
        case 4: case 5: case 15: case 19: off += 12 * size_t(vlen); break;  // STRUCT, UNION, DATASEC, ENUM64
        case 6: case 13: off += 8 * size_t(vlen); break;    // ENUM, FUNC_PROTO
        default: break;                                      // no data after the type
        }
    }
    return 0;
}

// An empty LSM program attached to file_open: the program fd and the link fd.
struct NullProg {
    int prog = -1, link = -1;
    bool ok() const { return link >= 0; }
};

NullProg attach_null_prog()
{
    NullProg p;
    const uint32_t btf_id = vmlinux_func_id("bpf_lsm_file_open");
    if (!btf_id) return p;
    const bpf_insn insns[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},  // r0 = 0
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    static const char license[] = "GPL";
    bpf_attr load{};
    load.prog_type = BPF_PROG_TYPE_LSM;
    load.expected_attach_type = BPF_LSM_MAC;
    load.insns = reinterpret_cast<uint64_t>(insns);
    load.insn_cnt = 2;
    load.license = reinterpret_cast<uint64_t>(license);
    load.attach_btf_id = btf_id;
    std::strncpy(load.prog_name, "bench_null", sizeof load.prog_name - 1);
    p.prog = static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load));
    if (p.prog < 0) return p;
    bpf_attr attach{};
    attach.raw_tracepoint.prog_fd = static_cast<uint32_t>(p.prog);
    p.link = static_cast<int>(::syscall(SYS_bpf, BPF_RAW_TRACEPOINT_OPEN, &attach, sizeof attach));
    if (p.link < 0) {
        ::close(p.prog);
        p.prog = -1;
    }
    return p;
}

void detach_null_prog(NullProg& p)
{
    if (p.link >= 0) ::close(p.link);
    if (p.prog >= 0) ::close(p.prog);
    p = {};
}

// Run time and count of one program, by fd.
std::pair<uint64_t, uint64_t> prog_run(int fd)
{
    bpf_prog_info info{};
    bpf_attr get{};
    get.info.bpf_fd = static_cast<uint32_t>(fd);
    get.info.info_len = sizeof info;
    get.info.info = reinterpret_cast<uint64_t>(&info);
    if (::syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &get, sizeof get) != 0) return {0, 0};
    return {info.run_time_ns, info.run_cnt};
}

struct Series {
    std::vector<double> a, b, c;              // ns per op, one value per batch
    std::vector<double> ratio_b, ratio_c;     // per round: median (b) or (c) / median of the (a) around it
    std::vector<double> hook_b, hook_c;       // BPF ns per op, one value per stats batch
    std::vector<double> share_b, share_c;     // per stats batch: wall / (wall - BPF time)
    std::map<std::string, std::vector<double>> ns_b, ns_c, runs_b, runs_c;  // per program
    std::vector<double> null_ns, null_share, null_wall;  // the empty program, per batch

    void round(const std::vector<double>& a_before, const std::vector<double>& a_after,
               const std::vector<double>& b_round, const std::vector<double>& c_round)
    {
        std::vector<double> around = a_before;
        around.insert(around.end(), a_after.begin(), a_after.end());
        const double ma = median(around);
        ratio_b.push_back(median(b_round) / ma);
        ratio_c.push_back(median(c_round) / ma);
        if (a.empty()) a.insert(a.end(), a_before.begin(), a_before.end());
        a.insert(a.end(), a_after.begin(), a_after.end());
        b.insert(b.end(), b_round.begin(), b_round.end());
        c.insert(c.end(), c_round.begin(), c_round.end());
    }

    void add(bool in_scope, const ProgStats& before, const ProgStats& after, int ops, double wall_ns_per_op)
    {
        double total = 0;
        for (const auto& [name, v] : after) {
            auto it = before.find(name);
            const uint64_t ns = v.first - (it == before.end() ? 0 : it->second.first);
            const uint64_t runs = v.second - (it == before.end() ? 0 : it->second.second);
            if (!runs) continue;
            (in_scope ? ns_b : ns_c)[name].push_back(double(ns) / ops);
            (in_scope ? runs_b : runs_c)[name].push_back(double(runs) / ops);
            total += double(ns) / ops;
        }
        (in_scope ? hook_b : hook_c).push_back(total);
        if (wall_ns_per_op > total) (in_scope ? share_b : share_c).push_back(wall_ns_per_op / (wall_ns_per_op - total));
    }
};

std::string spread(const std::vector<double>& v)
{
    if (v.empty()) return "-";
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f-%.3f", *lo, *hi);
    return buf;
}

void print(const Options& o, const std::string& target, const Series& s)
{
    const double ma = median(s.a), mb = median(s.b), mc = median(s.c);
    const double hb = median(s.hook_b), hc = median(s.hook_c);
    std::printf("open+close of %s (no rule covers it; the walk looks up %d directories): %d rules, %d rounds "
                "of %d batches of %d ops\n",
                target.c_str(), o.depth + 4, o.rules, o.rounds, o.batches, o.ops);
    std::printf("  (a) bulwark not running        %8.0f ns/op   1.000\n", ma);
    std::printf("  (b) in scope, %5d rules      %8.0f ns/op   %.3f   (goal <= 1.05; rounds %s)\n", o.rules, mb,
                median(s.ratio_b), spread(s.ratio_b).c_str());
    std::printf("  (c) out of scope (cgroup)      %8.0f ns/op   %.3f   (goal <= 1.01; rounds %s)\n", mc,
                median(s.ratio_c), spread(s.ratio_c).c_str());
    std::printf("  ratios: median over rounds of (median of the round's batches) / (median of the (a) batches\n"
                "  just before and after it); ns/op: medians of all batches\n");
    std::printf("  BPF programs' own time per op (kernel.bpf_stats_enabled; median of %zu batches), and (a) + that:\n",
                s.hook_b.size());
    std::printf("      (b) %8.0f ns   %.4f   (goal <= 1.05)\n", hb, (ma + hb) / ma);
    std::printf("      (c) %8.0f ns   %.4f   (goal <= 1.01)\n", hc, (ma + hc) / ma);
    std::printf("  The same time as a share of each stats batch's own wall clock, T / (T - BPF time) (median of\n"
                "  batches; host preemption stretches both alike, so this moves least with the host's load):\n");
    std::printf("      (b) %.4f   (batches %s)\n", median(s.share_b), spread(s.share_b).c_str());
    std::printf("      (c) %.4f   (batches %s)\n", median(s.share_c), spread(s.share_c).c_str());
    if (!s.null_ns.empty())
        std::printf("  Floor: an empty BPF-LSM program on file_open, bulwark stopped: %.0f ns/op (bpf_stats), "
                    "share %.4f;\n  its batches' wall clock / (a) %.3f (median of %zu batches)\n",
                    median(s.null_ns), median(s.null_share), median(s.null_wall) / ma, s.null_ns.size());
    else
        std::printf("  Floor: the empty BPF-LSM program did not load or attach\n");
    for (bool in_scope : {true, false}) {
        const auto& ns = in_scope ? s.ns_b : s.ns_c;
        const auto& runs = in_scope ? s.runs_b : s.runs_c;
        std::printf("      %s per program:", in_scope ? "(b)" : "(c)");
        for (const auto& [name, v] : ns) {
            const double n = median(v), r = median(runs.at(name));
            std::printf("  %s %.0f ns/op (%.2f runs/op, %.0f ns/run)", name.c_str(), n, r, r > 0 ? n / r : 0.0);
        }
        std::printf("\n");
    }
}

}  // namespace

int main(int argc, char** argv)
{
    Options o;
    for (int i = 1; i < argc; i += 2) {
        const std::string k = argv[i], v = i + 1 < argc ? argv[i + 1] : "";
        if (k == "--rules") o.rules = std::atoi(v.c_str());
        else if (k == "--ops") o.ops = std::atoi(v.c_str());
        else if (k == "--batches") o.batches = std::atoi(v.c_str());
        else if (k == "--rounds") o.rounds = std::atoi(v.c_str());
        else if (k == "--depth") o.depth = std::atoi(v.c_str());
        else if (k == "--bulwark") o.bulwark = v;
        else if (k == "--cgroup-root") o.cgroup_root = v;
        else {
            std::fprintf(stderr, "usage: bench-open-close [--rules N] [--ops N] [--batches N] [--rounds N] "
                                 "[--depth N] [--bulwark PATH] [--cgroup-root DIR]\n");
            return 2;
        }
    }
    if (o.rules < 0 || o.ops < 1 || o.batches < 1 || o.rounds < 1 || o.depth < 0 || o.depth > 50) {
        std::fprintf(stderr, "bench-open-close: --ops, --batches and --rounds must be positive, --depth 0-50\n");
        return 2;
    }
    std::string parent = o.dir + "/work";
    for (int i = 0; i < o.depth; ++i) parent += "/" + std::string(1, char('a' + i % 26));
    const std::string target = parent + "/target";
    mkdirs(parent);
    write_file(target, "not covered by any rule\n");
    const std::string policy = make_policy(o);
    const std::string scoped = o.cgroup_root + "/bench";
    mkdirs(scoped);

    Series s;
    measure(target, o.ops);  // warm the dentry cache
    // (a) is measured before and after every bulwark session, and each
    // round's (b) and (c) are compared with the (a) around them: the host's
    // load drifts over minutes, much less within one round. (a) moves
    // between the same cgroups as (b) and (c) do, so every batch follows a
    // cgroup move in every configuration.
    // Every timed batch runs in a fresh child (in_child): (b) must, since
    // scope sticks, and (a) and (c) do too, so that all three pay the same
    // for being a just-forked process (copy-on-write faults and all).
    auto timed = [&](const std::string& cgroup) {
        return in_child(cgroup, [&](ChildBatch& c) { c.values.push_back(measure(target, o.ops)); }).values.at(0);
    };
    auto measure_a = [&](std::vector<double>& out) {
        for (int k = 0; k < o.batches; ++k) out.push_back(timed(k % 2 ? scoped : o.cgroup_root));
    };
    std::vector<double> before;
    measure_a(before);
    for (int r = 0; r < o.rounds; ++r) {
        std::vector<double> rb, rc;
        Bulwark bw = start_bulwark(o.bulwark, policy, 300000);
        // (b) and (c) batch by batch, so that the host's load drifts alike on both.
        for (int k = 0; k < o.batches; ++k) {
            rb.push_back(timed(scoped));
            rc.push_back(timed(o.cgroup_root));
        }
        // The programs' own run time, in batches of their own (the stats cost a little).
        set_bpf_stats(true);
        for (int k = 0; k < o.batches; ++k) {
            ProgStats around[2];
            const ChildBatch in = in_child(
                scoped,
                [&](ChildBatch& c) {
                    c.mark();
                    c.values.push_back(measure(target, o.ops));
                    c.mark();
                },
                [&](int i) { around[i] = prog_stats(); });
            s.add(true, around[0], around[1], o.ops, in.values.at(0));
            join_cgroup(o.cgroup_root);
            const ProgStats s0 = prog_stats();
            const double wall = measure(target, o.ops);
            s.add(false, s0, prog_stats(), o.ops, wall);
        }
        set_bpf_stats(false);
        join_cgroup(o.cgroup_root);
        drain_and_stop(bw);

        // The floor: an empty program in bulwark's place, with the stats on.
        NullProg null = attach_null_prog();
        if (null.ok()) {
            set_bpf_stats(true);
            for (int k = 0; k < o.batches; ++k) {
                join_cgroup(k % 2 ? scoped : o.cgroup_root);
                const auto r0 = prog_run(null.prog);
                const double wall = measure(target, o.ops);
                const auto r1 = prog_run(null.prog);
                const double ns = double(r1.first - r0.first) / o.ops;
                s.null_ns.push_back(ns);
                s.null_wall.push_back(wall);
                if (wall > ns) s.null_share.push_back(wall / (wall - ns));
            }
            set_bpf_stats(false);
            join_cgroup(o.cgroup_root);
            detach_null_prog(null);
        }

        std::vector<double> after;
        measure_a(after);
        s.round(before, after, rb, rc);
        auto last = [&](const std::vector<double>& v) {
            return median(std::vector<double>(v.end() - std::min<std::ptrdiff_t>(o.batches, std::ssize(v)), v.end()));
        };
        std::fprintf(stderr,
                     "round %d: (a) %.0f ns  (b)/(a) %.3f  (c)/(a) %.3f  | BPF (b) %.0f ns/op %.4f  (c) %.0f ns/op "
                     "%.4f\n",
                     r + 1, median(after), s.ratio_b.back(), s.ratio_c.back(), last(s.hook_b), last(s.share_b),
                     last(s.hook_c), last(s.share_c));
        before = std::move(after);
    }
    print(o, target, s);
    return 0;
}
