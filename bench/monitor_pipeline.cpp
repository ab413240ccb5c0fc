// bench-monitor-pipeline: how many monitor events a second bulwark's engine
// decodes and writes as JSON Lines, on one core, before its ring buffer
// drops any (issue 4).
//
// `bulwark run` (the real binary: its Boost.Asio loop, decoder and JSON
// Lines writer) runs a monitor-only policy pinned to one CPU, writing to
// /dev/null (or a file). bench/pipeline_gen.bpf.c, a `syscall` program run
// with BPF_PROG_TEST_RUN from another CPU, writes copies of a real monitor
// record (the README's samples) into bulwark's own `events` ring buffer —
// rates no syscall loop reaches. Measured:
//
//   saturated  the generator writes as fast as it can: the engine's rate is
//              how fast the ring buffer's consumer position advances
//   paced      offered rates, each for a while: records written, records
//              lost to a full ring buffer (the generator's own count, which
//              bulwark's `lost` counter also gets), and the engine's rate
//
// A short run to a file first checks that every record came out as one
// JSON line and shows a line and bulwark's `stats` line.
//
//   bench-monitor-pipeline [--bulwark PATH] [--cpu N] [--gen-cpu N] [--seconds S]
//                          [--rates R,R,...] [--repeats N] [--ring-mb N] [--kind file|syscalls]
//                          [--events FILE] [--nice N]
#include "monitor_bench.hpp"

// The templates' types, before the skeleton that declares globals of them.
#include "bulwark/abi.h"
#include "pipeline_gen.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <memory>
#include <sys/mman.h>

using namespace monbench;

namespace {

struct Options {
    std::string bulwark = "build/bulwark";
    int cpu = 0, gen_cpu = 1;
    double seconds = 1.0;
    std::vector<double> rates = {250e3, 500e3, 750e3, 1e6, 1.25e6, 1.5e6, 2e6, 3e6};
    int repeats = 3;
    int ring_mb = 4;
    int nice = 0;                 // bulwark's nice value (the CPU is shared)
    uint32_t kind = BW_MON_FILE;
    std::string events = "/dev/null";
};

struct gen_args {
    uint32_t count, kind, written, lost;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU time of a process, all threads, in seconds, and the time its threads
// were runnable but waiting for a CPU (/proc/PID/task/*/schedstat: both in
// nanoseconds, where /proc/PID/stat counts clock ticks).
std::pair<double, double> cpu_seconds(pid_t pid)
{
    const std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return {0, 0};
    double run = 0, wait = 0;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        const std::string stat = read_file(dir + "/" + e->d_name + "/schedstat");
        char* end = nullptr;
        run += std::strtod(stat.c_str(), &end) / 1e9;
        wait += std::strtod(end, nullptr) / 1e9;
    }
    ::closedir(d);
    return {run, wait};
}

// An fd of the map named `name` that process `pid` holds (fdinfo map_id).
int map_fd_of(pid_t pid, const std::string& name)
{
    const std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
    DIR* d = ::opendir(dir.c_str());
    if (!d) die("opendir " + dir);
    int found = -1;
    while (dirent* e = ::readdir(d)) {
        const std::string info = read_file(dir + "/" + e->d_name);
        const size_t at = info.find("map_id:");
        if (at == std::string::npos) continue;
        const uint32_t id = static_cast<uint32_t>(std::strtoul(info.c_str() + at + 7, nullptr, 10));
        int fd = bpf_map_get_fd_by_id(id);
        if (fd < 0) continue;
        bpf_map_info mi{};
        uint32_t len = sizeof mi;
        if (bpf_obj_get_info_by_fd(fd, &mi, &len) == 0 && name == mi.name) {
            found = fd;
            break;
        }
        ::close(fd);
    }
    ::closedir(d);
    if (found < 0) {
        errno = 0;
        die("bulwark holds no map named " + name);
    }
    return found;
}

// The ring buffer's consumer and producer positions, mapped read-only.
class RingPositions {
public:
    explicit RingPositions(int fd)
    {
        const long page = ::sysconf(_SC_PAGESIZE);
        page_ = static_cast<size_t>(page);
        cons_ = ::mmap(nullptr, page_, PROT_READ, MAP_SHARED, fd, 0);
        prod_ = ::mmap(nullptr, page_, PROT_READ, MAP_SHARED, fd, page);
        if (cons_ == MAP_FAILED || prod_ == MAP_FAILED) die("mmap the ring buffer");
    }
    ~RingPositions()
    {
        ::munmap(cons_, page_);
        ::munmap(prod_, page_);
    }
    RingPositions(const RingPositions&) = delete;
    RingPositions& operator=(const RingPositions&) = delete;
    uint64_t consumer() const { return __atomic_load_n(static_cast<const uint64_t*>(cons_), __ATOMIC_ACQUIRE); }
    uint64_t producer() const { return __atomic_load_n(static_cast<const uint64_t*>(prod_), __ATOMIC_ACQUIRE); }

private:
    size_t page_ = 0;
    void* cons_ = nullptr;
    void* prod_ = nullptr;
};

void copy_str(char* dst, size_t size, const char* src) { std::snprintf(dst, size, "%s", src); }

// The README's sample events, as the monitors would write them.
void fill_templates(pipeline_gen_bpf* skel, uint64_t cgroup_id)
{
    auto header = [&](bw_monitor_event& m, uint32_t monitor, uint32_t rule, const char* comm, const char* exe) {
        m.h.kind = BW_KIND_MONITOR;
        m.h.verdict = BW_VERDICT_AUDIT;
        m.h.generation = 1;  // bulwark's first policy set
        m.h.policy = 0;
        m.h.pid = m.h.tid = 20494;
        m.h.ppid = 20493;
        m.h.cgroup_id = cgroup_id;
        copy_str(m.h.comm, sizeof m.h.comm, comm);
        copy_str(m.h.exe, sizeof m.h.exe, exe);
        m.monitor = monitor;
        m.rule = rule;
        m.action = BW_MON_REPORT;
    };
    bw_mon_file_event& f = skel->bss->file_tmpl;
    std::memset(&f, 0, sizeof f);
    header(f.m, BW_MON_FILE, 0, "cat", "/usr/bin/cat");
    f.syscall = 257;  // openat
    f.dirfd = -100;   // AT_FDCWD
    copy_str(f.path, sizeof f.path, "/etc/shadow");
    copy_str(f.given, sizeof f.given, "../etc/./shadow");
    bw_mon_syscall_event& s = skel->bss->sys_tmpl;
    std::memset(&s, 0, sizeof s);
    header(s.m, BW_MON_SYSCALLS, 1, "uname", "/usr/bin/uname");
    s.nr = 63;  // uname
    s.abi = BW_ABI_X86_64;
}

// bulwark with a monitor-only policy, the generator attached to its maps.
class Session {
public:
    Session(const Options& o, const TempDir& tmp, const Cgroup& cg, const std::string& events, int ring_mb)
        : bulwark_({"nice", "-n", std::to_string(o.nice), o.bulwark, "run", "--policy", tmp.path() + "/pipeline.toml",
                    "--events", events, "--ring-buffer-mb", std::to_string(ring_mb)},
                   tmp.path() + "/bulwark.log", o.cpu)
    {
        bulwark_.wait_for("SIGTERM or Ctrl-C detaches");
        events_fd_ = map_fd_of(bulwark_.pid(), "events");
        stats_fd_ = map_fd_of(bulwark_.pid(), "stats");
        skel_ = pipeline_gen_bpf__open();
        if (!skel_) die("open pipeline_gen");
        if (bpf_map__reuse_fd(skel_->maps.events, events_fd_) != 0 ||
            bpf_map__reuse_fd(skel_->maps.stats, stats_fd_) != 0)
            die("reuse bulwark's maps");
        if (pipeline_gen_bpf__load(skel_) != 0) die("load pipeline_gen");
        fill_templates(skel_, cg.id());
        ring_ = std::make_unique<RingPositions>(events_fd_);
        kind_ = o.kind;
        record_ = ((kind_ == BW_MON_FILE ? sizeof(bw_mon_file_event) : sizeof(bw_mon_syscall_event)) + 8 + 7) & ~7ul;
    }
    ~Session()
    {
        ring_.reset();
        pipeline_gen_bpf__destroy(skel_);
        ::close(events_fd_);
        ::close(stats_fd_);
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Writes up to `count` records; returns {written, lost}.
    std::pair<uint64_t, uint64_t> generate(uint32_t count)
    {
        gen_args a{count, kind_, 0, 0};
        LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &a, .ctx_size_in = sizeof a);
        if (bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.generate), &opts) != 0) die("BPF_PROG_TEST_RUN");
        return {a.written, a.lost};  // the kernel copies a syscall program's ctx back
    }
    uint64_t consumed_records() const { return ring_->consumer() / record_; }
    bool drained() const { return ring_->consumer() == ring_->producer(); }
    bool wait_drained(double timeout_s = 10) const
    {
        const auto t0 = Clock::now();
        while (!drained()) {
            if (seconds_since(t0) > timeout_s) return false;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        return true;
    }
    pid_t pid() const { return bulwark_.pid(); }
    int stop() { return bulwark_.stop(); }
    std::string log() const { return bulwark_.output(); }
    size_t record_bytes() const { return record_; }

private:
    Child bulwark_;
    int events_fd_ = -1, stats_fd_ = -1;
    pipeline_gen_bpf* skel_ = nullptr;
    std::unique_ptr<RingPositions> ring_;
    uint32_t kind_ = BW_MON_FILE;
    size_t record_ = 0;
};

struct Step {
    double offered = 0;   // records/s the generator tried to write
    double written = 0;   // records/s that found room
    double lost = 0;      // fraction of offered lost to a full ring buffer
    double engine = 0;    // records/s the engine consumed over the step
    double cpu = 0;       // bulwark's CPU time / wall time
    double per_cpu = 0;   // records consumed per second of bulwark's CPU time
    double waiting = 0;   // bulwark runnable but not running (another task had its CPU) / wall time
};

// `rate` 0: as fast as the generator can.
Step run_step(Session& s, double rate, double seconds)
{
    s.wait_drained();
    const uint64_t c0 = s.consumed_records();
    const auto [cpu0, wait0] = cpu_seconds(s.pid());
    uint64_t offered = 0, written = 0, lost = 0;
    const auto t0 = Clock::now();
    for (;;) {
        const double t = seconds_since(t0);
        if (t >= seconds) break;
        uint64_t due = rate > 0 ? static_cast<uint64_t>(rate * t) - std::min<uint64_t>(offered, uint64_t(rate * t))
                                : 4096;
        if (due == 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(50));
            continue;
        }
        due = std::min<uint64_t>(due, 8192);  // ~1/4 of what the smallest ring holds at most a call
        const auto [w, l] = s.generate(static_cast<uint32_t>(due));
        offered += due;
        written += w;
        lost += l;
    }
    const double wall = seconds_since(t0);
    const uint64_t c1 = s.consumed_records();
    const auto [cpu1, wait1] = cpu_seconds(s.pid());
    Step st;
    st.offered = double(offered) / wall;
    st.written = double(written) / wall;
    st.lost = offered ? double(lost) / double(offered) : 0;
    st.engine = double(c1 - c0) / wall;
    st.cpu = (cpu1 - cpu0) / wall;
    st.per_cpu = cpu1 > cpu0 ? double(c1 - c0) / (cpu1 - cpu0) : 0;
    st.waiting = (wait1 - wait0) / wall;
    return st;
}

// Every record out as one JSON line: a short run to a file.
void check_output(const Options& o, const TempDir& tmp, const Cgroup& cg)
{
    const std::string file = tmp.path() + "/events.jsonl";
    const uint32_t n = 20000;
    uint64_t written = 0;
    {
        Session s(o, tmp, cg, file, o.ring_mb);
        for (uint32_t i = 0; i < n / 1000; ++i) {
            written += s.generate(1000).first;
            s.wait_drained();
        }
        const int status = s.stop();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            errno = 0;
            die("bulwark exited with status " + std::to_string(status) + ":\n" + s.log());
        }
    }
    const std::string out = read_file(file);
    size_t lines = 0, monitor = 0;
    std::string sample, stats;
    for (size_t at = 0; at < out.size();) {
        size_t nl = out.find('\n', at);
        if (nl == std::string::npos) nl = out.size();
        const std::string line = out.substr(at, nl - at);
        ++lines;
        if (line.rfind("{\"type\":\"monitor\"", 0) == 0) {
            ++monitor;
            if (sample.empty()) sample = line;
        } else if (line.rfind("{\"type\":\"stats\"", 0) == 0) {
            stats = line;
        }
        at = nl + 1;
    }
    std::printf("check: %llu records written, %zu monitor lines out (%zu lines in all, %.0f bytes a monitor line)\n",
                static_cast<unsigned long long>(written), monitor, lines,
                monitor ? double(out.size()) / double(lines) : 0.0);
    std::printf("  %s\n  %s\n", sample.c_str(), stats.c_str());
    if (monitor != written || sample.find("\"policy\":\"pipeline\"") == std::string::npos) {
        errno = 0;
        die("the engine's output does not match what was written");
    }
}

int run(int argc, char** argv)
{
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--bulwark") o.bulwark = v;
        else if (k == "--cpu") o.cpu = std::atoi(v.c_str());
        else if (k == "--gen-cpu") o.gen_cpu = std::atoi(v.c_str());
        else if (k == "--seconds") o.seconds = std::atof(v.c_str());
        else if (k == "--repeats") o.repeats = std::atoi(v.c_str());
        else if (k == "--ring-mb") o.ring_mb = std::atoi(v.c_str());
        else if (k == "--nice") o.nice = std::atoi(v.c_str());
        else if (k == "--events") o.events = v;
        else if (k == "--kind") o.kind = v == "syscalls" ? BW_MON_SYSCALLS : BW_MON_FILE;
        else if (k == "--rates") {
            o.rates.clear();
            for (size_t at = 0; at < v.size();) {
                size_t comma = v.find(',', at);
                if (comma == std::string::npos) comma = v.size();
                o.rates.push_back(std::atof(v.substr(at, comma - at).c_str()));
                at = comma + 1;
            }
        } else {
            std::fprintf(stderr, "usage: bench-monitor-pipeline [--bulwark PATH] [--cpu N] [--gen-cpu N] "
                                 "[--seconds S] [--rates R,R,...]\n"
                                 "       [--repeats N] [--ring-mb N] [--kind file|syscalls] [--events FILE]\n"
                                 "       [--nice N]\n");
            return 2;
        }
    }
    if (::geteuid() != 0) {
        std::fprintf(stderr, "bench-monitor-pipeline: needs root\n");
        return 2;
    }
    TempDir tmp;
    Cgroup cg;  // the policy's scope: nothing runs in it, so no real event interleaves
    write_file(tmp.path() + "/pipeline.toml",
               "[policy]\nname = \"pipeline\"\n\n[scope]\ncgroup = [\"" + cg.name() +
                   "\"]\n\n[[monitor.file]]\npaths = [\"/etc/shadow\"]\nrate_limit = 1000\n\n"
                   "[[monitor.syscalls]]\nuid = 1000\nallow = [\"read\", \"write\"]\naction = \"audit\"\n");
    pin_to_cpu(o.gen_cpu);
    check_output(o, tmp, cg);

    Session s(o, tmp, cg, o.events, o.ring_mb);
    std::printf("\nbulwark run pinned to CPU %d, --events %s, --ring-buffer-mb %d; generator on CPU %d; %s records "
                "of %zu bytes (%zu in the ring buffer: it holds %zu)\n",
                o.cpu, o.events.c_str(), o.ring_mb, o.gen_cpu, o.kind == BW_MON_FILE ? "file" : "syscalls",
                o.kind == BW_MON_FILE ? sizeof(bw_mon_file_event) : sizeof(bw_mon_syscall_event), s.record_bytes(),
                (size_t(o.ring_mb) << 20) / s.record_bytes());
    run_step(s, 0, 0.3);  // warm up
    std::vector<double> sat, sat_cpu, sat_per_cpu, sat_wait;
    for (int i = 0; i < o.repeats; ++i) {
        const Step st = run_step(s, 0, o.seconds);
        sat.push_back(st.engine);
        sat_cpu.push_back(st.cpu);
        sat_per_cpu.push_back(st.per_cpu);
        sat_wait.push_back(st.waiting);
    }
    // The CPU is shared with whatever else runs on it: the engine's own
    // capacity is what it decodes per second of CPU it actually got.
    std::printf("saturated: %.0f events/s per CPU-second of bulwark (min %.0f, max %.0f); wall clock %.0f events/s "
                "with bulwark running %.0f%% of the time on CPU %d and waiting for it %.0f%% (median of %d x %.1f s)\n",
                median(sat_per_cpu), quantile(sat_per_cpu, 0), quantile(sat_per_cpu, 1), median(sat),
                100 * median(sat_cpu), o.cpu, 100 * median(sat_wait), o.repeats, o.seconds);

    // target: the rate asked for; offered: what the generator managed (it
    // shares its CPU too); lost: of offered.
    std::printf("\n%10s %10s %10s %10s %10s %9s %10s %6s %6s %11s\n", "target/s", "offered/s", "written/s",
                "engine/s", "lost", "lossy", "max lost", "CPU", "wait", "per CPU-s");
    double drops_begin = 0, clean_max = 0;
    // Rates interleaved across repeats: the host's load drifts alike on all.
    std::vector<std::vector<Step>> by_rate(o.rates.size());
    for (int r = 0; r < o.repeats; ++r)
        for (size_t i = 0; i < o.rates.size(); ++i) by_rate[i].push_back(run_step(s, o.rates[i], o.seconds));
    for (size_t i = 0; i < o.rates.size(); ++i) {
        std::vector<double> offered, written, engine, lost, cpu, per_cpu, waiting;
        int lossy = 0;
        for (const Step& st : by_rate[i]) {
            offered.push_back(st.offered);
            written.push_back(st.written);
            engine.push_back(st.engine);
            lost.push_back(st.lost);
            cpu.push_back(st.cpu);
            per_cpu.push_back(st.per_cpu);
            waiting.push_back(st.waiting);
            lossy += st.lost > 0;
        }
        std::printf("%10.0f %10.0f %10.0f %10.0f %9.4f%% %5d/%-3d %9.4f%% %5.0f%% %5.0f%% %11.0f\n", o.rates[i],
                    median(offered), median(written), median(engine), 100 * median(lost), lossy, o.repeats,
                    100 * quantile(lost, 1), 100 * median(cpu), 100 * median(waiting), median(per_cpu));
        if (median(lost) > 0 && drops_begin == 0) drops_begin = o.rates[i];
        if (lossy == 0 && drops_begin == 0) clean_max = o.rates[i];
    }
    std::printf("(medians of %d steps of %.1f s a rate; lossy: steps that lost any record; CPU / wait: bulwark\n"
                " running / runnable but waiting for its CPU, share of the wall time)\n",
                o.repeats, o.seconds);
    std::printf("highest offered rate with no loss in any step: %.0f/s; median loss first > 0 at: %s\n", clean_max,
                drops_begin > 0 ? std::to_string(static_cast<long>(drops_begin)).append("/s").c_str()
                                : "none of the rates");
    const int status = s.stop();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errno = 0;
        die("bulwark exited with status " + std::to_string(status) + ":\n" + s.log());
    }
    std::printf("goal >= 1,000,000 events/s on one core: %.0f per CPU-second (%s); wall clock on a shared CPU: "
                "%.0f/s\n",
                median(sat_per_cpu), median(sat_per_cpu) >= 1e6 ? "met" : "NOT met", median(sat));
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    return guarded_main("bench-monitor-pipeline", [&] { return run(argc, argv); });
}
