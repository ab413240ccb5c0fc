// bench-scale: bulwark's scale and footprint on the host (issue 6). The host
// refuses LSM programs, but the policy maps load here (the host kernel
// tests publish to them too), so this measures what `bulwark run` does
// before it prints `ready`, minus the programs' verification: policy files
// parsed → map image compiled → maps created → maps filled (published), and
// then the swap to a changed policy set while the first is live. Also the
// process's resident memory and the kernel memory of every map it holds
// (fdinfo `memlock`, what `bpftool map show` prints as memlock).
//
//   bench-scale --make-tree DIR --count N     create DIR/fI (even i) and DIR/dI/ (odd i), i < N
//   bench-scale --tree DIR --rules N [--reps R] [--cpu]
//
// --cpu times with this process's CPU time instead of the wall clock: on a
// shared host the wall clock also counts the time others held the CPUs.
//
// One run per size (a fresh process, so that resident memory is this
// size's). Prints one JSON line. Timings are for reading only.
#include "compile/compiler.hpp"
#include "compile/system_view.hpp"
#include "kernel/bpf_programs.hpp"
#include "kernel/policy_publisher.hpp"
#include "monitor/run_plan.hpp"
#include "policy/parser.hpp"

#include <algorithm>
#include <bpf/bpf.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <vector>

using namespace bulwark;

namespace {

bool g_cpu_clock = false;  // --cpu: this process's CPU time (user + system), not the wall clock

double now_s()
{
    if (g_cpu_clock) {
        timespec ts{};
        ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "bench-scale: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

void make_tree(const std::string& dir, int count)
{
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) die("mkdir " + dir);
    for (int i = 0; i < count; ++i) {
        const std::string p = dir + (i % 2 == 0 ? "/f" : "/d") + std::to_string(i);
        if (i % 2 == 0) {
            int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd < 0) die("create " + p);
            ::close(fd);
        } else if (::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) {
            die("mkdir " + p);
        }
    }
}

std::string ipv4(uint32_t a)
{
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." + std::to_string((a >> 8) & 0xff) +
           "." + std::to_string(a & 0xff);
}

// `rules` rules in all: a third [[file]] entries, a third [[exec]] entries
// (the same names: half exact files of the tree, half its directories as
// trees), a third [[connect]] CIDRs (half /32 in 10.0.0.0/8, half /24 from 20.0.0.0).
// `variant` shifts the last 1% of every list: the "changed policy set".
std::string make_policy(const std::string& tree, int rules, int variant)
{
    const int paths = rules / 3, cidrs = rules - 2 * paths;
    const int changed_from = paths - std::max(1, paths / 100);
    std::string exact = "[", prefixes = "[", nets = "[";
    for (int k = 0; k < paths; ++k) {
        const int i = (variant && k >= changed_from) ? k + paths : k;  // other entries of the tree
        if (i % 2 == 0) exact += "\"" + tree + "/f" + std::to_string(i) + "\",";
        else prefixes += "\"" + tree + "/d" + std::to_string(i) + "/\",";
    }
    const int cidr_changed_from = cidrs - std::max(1, cidrs / 100);
    for (int k = 0; k < cidrs; ++k) {
        const uint32_t v = static_cast<uint32_t>((variant && k >= cidr_changed_from) ? k + cidrs : k) / 2;
        nets += k % 2 == 0 ? "\"" + ipv4((10u << 24) | v) + "/32\","
                           : "\"" + ipv4((20u << 24) + (v << 8)) + "/24\",";
    }
    std::string p = "[policy]\nname = \"scale\"\n\n";
    for (const char* kind : {"file", "exec"}) {
        p += std::string("[[") + kind + "]]\npaths = " + exact + "]\nprefixes = " + prefixes + "]\naction = \"deny\"\n\n";
    }
    p += "[[connect]]\ncidrs = " + nets + "]\naction = \"deny\"\n";
    return p;
}

struct Compiled {
    std::vector<Policy> policies;
    MapImage image;
    double parse_s = 0, compile_s = 0;
};

Compiled parse_and_compile(const std::string& file)
{
    Compiled c;
    const double t0 = now_s();
    ParseResult parsed = load_policies({file});
    const double t1 = now_s();
    if (parsed.diagnostics.has_errors()) {
        parsed.diagnostics.print(std::cerr);
        std::exit(1);
    }
    RealSystem system;
    CompileResult compiled = compile(parsed.policies, system, {});
    const double t2 = now_s();
    if (!compiled.image) {
        compiled.diagnostics.print(std::cerr);
        std::exit(1);
    }
    c.policies = std::move(parsed.policies);
    c.image = std::move(*compiled.image);
    c.parse_s = t1 - t0;
    c.compile_s = t2 - t1;
    return c;
}

long status_kib(const char* field)
{
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
    return 0;
}

// fdinfo of a map fd: memlock, map_id, map_type, max_entries.
struct MapInfo {
    long memlock = 0;
    unsigned id = 0, type = 0, max_entries = 0;
};

MapInfo map_info(int fd)
{
    MapInfo m;
    std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
    for (std::string line; std::getline(in, line);) {
        std::istringstream s(line);
        std::string k;
        s >> k;
        if (k == "memlock:") s >> m.memlock;
        else if (k == "map_id:") s >> m.id;
        else if (k == "map_type:") s >> m.type;
        else if (k == "max_entries:") s >> m.max_entries;
    }
    return m;
}

// Kernel memory of every map this process holds, and of the inner maps its
// map-in-map outers point at, each counted once.
long maps_memlock()
{
    std::set<unsigned> seen;
    long total = 0;
    DIR* d = ::opendir("/proc/self/fd");
    std::vector<int> fds;
    while (dirent* e = ::readdir(d)) {
        char link[256] = {};
        const std::string p = std::string("/proc/self/fd/") + e->d_name;
        if (::readlink(p.c_str(), link, sizeof link - 1) > 0 && std::strcmp(link, "anon_inode:bpf-map") == 0)
            fds.push_back(std::atoi(e->d_name));
    }
    ::closedir(d);
    for (int fd : fds) {
        const MapInfo m = map_info(fd);
        if (!seen.insert(m.id).second) continue;
        total += m.memlock;
        if (m.type != BPF_MAP_TYPE_ARRAY_OF_MAPS && m.type != BPF_MAP_TYPE_HASH_OF_MAPS) continue;
        for (uint32_t slot = 0; slot < m.max_entries && slot < 64; ++slot) {
            uint32_t id = 0;
            if (bpf_map_lookup_elem(fd, &slot, &id) != 0) continue;
            if (!seen.insert(id).second) continue;
            int inner = bpf_map_get_fd_by_id(id);
            if (inner < 0) continue;
            total += map_info(inner).memlock;
            ::close(inner);
        }
    }
    return total;
}

}  // namespace

int main(int argc, char** argv)
{
    std::string tree, make;
    int rules = 0, count = 0, reps = 3;
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        if (k == "--cpu") {
            g_cpu_clock = true;
            continue;
        }
        const std::string v = i + 1 < argc ? argv[++i] : "";
        if (k == "--tree") tree = v;
        else if (k == "--make-tree") make = v;
        else if (k == "--count") count = std::atoi(v.c_str());
        else if (k == "--rules") rules = std::atoi(v.c_str());
        else if (k == "--reps") reps = std::atoi(v.c_str());
        else {
            std::fprintf(stderr,
                         "usage: bench-scale --make-tree DIR --count N | --tree DIR --rules N [--reps R] [--cpu]\n");
            return 2;
        }
    }
    if (!make.empty()) {
        const double t0 = now_s();
        make_tree(make, count);
        std::printf("{\"type\":\"tree\",\"count\":%d,\"create_s\":%.3f}\n", count, now_s() - t0);
        return 0;
    }
    if (tree.empty() || rules <= 0) return 2;
    const std::string dir = tree + ".pol-" + std::to_string(::getpid());
    ::mkdir(dir.c_str(), 0755);
    const std::string a = dir + "/a.toml", b = dir + "/b.toml";
    std::ofstream(a) << make_policy(tree, rules, 0);
    std::ofstream(b) << make_policy(tree, rules, 1);

    // First what `bulwark run` holds once `ready`: one set live, its
    // policies and image kept (the decoder names rules from them).
    long rss = 0, hwm = 0, memlock = 0;
    std::vector<double> swap;
    {
        Compiled live = parse_and_compile(a);
        const RunPlan plan = plan_run(live.policies, live.image);
        BpfPrograms programs({static_cast<uint32_t>(::getpid()), 4u << 20, false}, plan);
        PolicyPublisher pub(programs.maps());
        pub.publish(live.image);
        rss = status_kib("VmRSS:");
        hwm = status_kib("VmHWM:");
        memlock = maps_memlock();
        // Then swaps to the changed set and back, while a set is live.
        for (int r = 0; r < reps; ++r) {
            const double t0 = now_s();
            Compiled next = parse_and_compile(r % 2 == 0 ? b : a);
            pub.publish(next.image);
            swap.push_back(now_s() - t0);
        }
    }

    // Compile and load from nothing, `reps` times (maps made anew each time).
    std::vector<double> parse, comp, maps, publish, total;
    size_t keys = 0;
    for (int r = 0; r < reps; ++r) {
        const double t0 = now_s();
        Compiled c = parse_and_compile(a);
        const double t1 = now_s();
        const RunPlan plan = plan_run(c.policies, c.image);
        BpfPrograms programs({static_cast<uint32_t>(::getpid()), 4u << 20, false}, plan);
        const double t2 = now_s();
        PolicyPublisher pub(programs.maps());
        pub.publish(c.image);
        const double t3 = now_s();
        parse.push_back(c.parse_s);
        comp.push_back(c.compile_s);
        maps.push_back(t2 - t1);
        publish.push_back(t3 - t2);
        total.push_back(t3 - t0);
        keys = c.image.inode_rules.size() + c.image.name_rules.size() + c.image.connect_v4.size() +
               c.image.connect_v6.size() + c.image.connect_ports.size();
    }
    std::printf("{\"type\":\"scale\",\"rules\":%d,\"map_keys\":%zu,\"reps\":%d,\"parse_s\":%.4f,\"compile_s\":%.4f,"
                "\"maps_s\":%.4f,\"publish_s\":%.4f,\"total_s\":%.4f,\"swap_s\":%.4f,\"rss_kib\":%ld,"
                "\"hwm_kib\":%ld,\"maps_kib\":%ld}\n",
                rules, keys, reps, median(parse), median(comp), median(maps), median(publish), median(total),
                median(swap), rss, hwm, memlock / 1024);
    std::remove(a.c_str());
    std::remove(b.c_str());
    ::rmdir(dir.c_str());
    return 0;
}
