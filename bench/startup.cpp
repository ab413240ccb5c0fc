// bench-startup: what `bulwark run` costs before it prints `ready`, in a
// guest (the host refuses BPF-LSM). For the shipped default policy set and,
// with --rules N, for N rules of each kind (rule_sets.hpp):
//
//   ready    fork → the `ready` line of `bulwark run --policy SET`, --runs times
//   phases   the same steps in this process: parse, compile, load (open,
//            relocate, verify, create maps) per BPF object, publish (fill the
//            maps, flip the slot), and the verifier's own figures per
//            program (log_level BPF_LOG_STATS: instructions processed,
//            verification time)
//
// Under bench/guest --icount 0 the guest's clock counts instructions: a
// "second" is a billion instructions. Output: one `START {json}` line per
// figure and a summary. Timings are for reading, never for passing.
//
// --verifier-lines PROGRAM (an attach point: file_open, path_unlink, ...)
// keeps that program's whole verifier log (log_level 2) and prints the
// source lines the verifier processed most often: where its work goes
// (a branch that forks every path, a loop it walks level by level, a
// callback it checks again and again). --runs 0 skips the `ready` runs.
// The log takes ~1.5 KiB per instruction processed: 6.1, which refuses a
// load whose log overflows, cannot trace a program past ~25,000.
//
//   bench-startup [--bulwark /bin/bulwark] [--policy /policies/default] [--rules N] [--runs 3]
//                 [--verifier-lines PROGRAM]
#include "compile/compiler.hpp"
#include "compile/system_view.hpp"
#include "kernel/bpf_handles.hpp"
#include "kernel/bpf_programs.hpp"
#include "kernel/policy_publisher.hpp"
#include "monitor/run_plan.hpp"
#include "policy/parser.hpp"
#include "rule_sets.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <sys/utsname.h>
#include <unistd.h>
#include <vector>

namespace {

std::string g_kernel;
std::string g_trace;  // --verifier-lines

// The source lines of a level-2 verifier log, by the number of
// instructions the verifier processed under each (BTF line info: a
// "; source @ file:line" line before the instructions it covers).
void print_verifier_lines(const std::string& log)
{
    std::map<std::string, uint64_t> by_line;
    std::string line_of = "(no line info)";
    uint64_t total = 0;
    for (size_t at = 0; at < log.size();) {
        size_t end = log.find('\n', at);
        if (end == std::string::npos) end = log.size();
        const std::string_view line(log.data() + at, end - at);
        at = end + 1;
        if (line.starts_with("; ")) {
            line_of = std::string(line.substr(2, 150));
            continue;
        }
        // An instruction: "123: (bf) r1 = r6 ..."
        const size_t colon = line.find(": (");
        if (colon == std::string_view::npos || colon == 0 || colon > 6) continue;
        if (line.substr(0, colon).find_first_not_of("0123456789") != std::string_view::npos) continue;
        ++by_line[line_of];
        ++total;
    }
    std::vector<std::pair<uint64_t, std::string>> ranked;
    for (const auto& [text, n] : by_line) ranked.emplace_back(n, text);
    std::sort(ranked.rbegin(), ranked.rend());
    std::printf("      instructions processed by source line (%llu in the log):\n",
                static_cast<unsigned long long>(total));
    for (size_t i = 0; i < ranked.size() && i < 40; ++i)
        std::printf("      %8llu  %s\n", static_cast<unsigned long long>(ranked[i].first), ranked[i].second.c_str());
}

double now_s()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void emit(const std::string& set, const std::string& json)
{
    std::printf("START {\"kernel\":\"%s\",\"set\":\"%s\",%s}\n", g_kernel.c_str(), set.c_str(), json.c_str());
    std::fflush(stdout);
}

std::string fmt(double v) { return std::to_string(v); }

void measure_ready(const std::string& bulwark, const std::string& set, const std::string& policy, int runs)
{
    std::vector<double> ready;
    for (int r = 0; r < runs; ++r) {
        bench::Bulwark b = bench::start_bulwark(bulwark, policy);
        ready.push_back(b.ready_s);
        bench::stop_bulwark(b);
        emit(set, "\"type\":\"ready\",\"run\":" + std::to_string(r) + ",\"ready_s\":" + fmt(b.ready_s));
    }
    std::printf("%-10s bulwark run → ready: first %.3f s, then", set.c_str(), ready.front());
    for (size_t i = 1; i < ready.size(); ++i) std::printf(" %.3f s", ready[i]);
    std::printf(" (guest clock)\n");
}

// The steps of `bulwark run` before `ready`, one by one, in this process.
void measure_phases(const std::string& set, const std::string& policy)
{
    using namespace bulwark;
    const double t0 = now_s();
    ParseResult parsed = load_policies({policy});
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
    const RunPlan plan = plan_run(parsed.policies, *compiled.image);
    ProgramOptions options;
    options.self_tgid = static_cast<uint32_t>(::getpid());
    options.verifier_stats = true;
    options.verifier_trace = g_trace;
    BpfPrograms programs(options, plan);
    const double t3 = now_s();
    PolicyPublisher publisher(programs.maps());
    publisher.publish(*compiled.image);
    const double t4 = now_s();
    emit(set, "\"type\":\"phases\",\"parse_s\":" + fmt(t1 - t0) + ",\"compile_s\":" + fmt(t2 - t1) +
                  ",\"load_s\":" + fmt(t3 - t2) + ",\"publish_s\":" + fmt(t4 - t3) + ",\"total_s\":" + fmt(t4 - t0));
    std::printf("%-10s parse %.3f s, compile %.3f s, load %.3f s, publish %.3f s: %.3f s\n", set.c_str(), t1 - t0,
                t2 - t1, t3 - t2, t4 - t3, t4 - t0);
    uint64_t insns = 0, verify_us = 0;
    for (const auto& o : programs.load_stats()) {
        emit(set, "\"type\":\"object\",\"object\":\"" + o.object + "\",\"load_s\":" + fmt(o.seconds));
        std::printf("  object %-18s %.3f s\n", o.object.c_str(), o.seconds);
        for (const auto& p : o.programs) {
            emit(set, "\"type\":\"verifier\",\"object\":\"" + o.object + "\",\"program\":\"" + p.program +
                          "\",\"insns\":" + std::to_string(p.insns_processed) +
                          ",\"verify_us\":" + std::to_string(p.verification_us));
            std::printf("    %-22s %9llu insns processed, verified in %llu us\n", p.program.c_str(),
                        static_cast<unsigned long long>(p.insns_processed),
                        static_cast<unsigned long long>(p.verification_us));
            std::string log = p.log;
            if (p.program == g_trace) {
                print_verifier_lines(log);
                const size_t stats = log.rfind("verification time");
                log = stats == std::string::npos ? "" : log.substr(stats);
            }
            for (auto& c : log)
                if (c == '\n') c = ';';
            std::printf("      %s\n", log.c_str());
            insns += p.insns_processed;
            verify_us += p.verification_us;
        }
    }
    std::printf("  verifier: %llu insns processed, %.3f s in all\n", static_cast<unsigned long long>(insns),
                verify_us / 1e6);
}

// The floor: what the kernel charges for one LSM program that only
// returns 0 (attach target lookup, JIT, allocation), loaded three times.
void measure_floor()
{
    bulwark::BtfPtr vmlinux(btf__load_vmlinux_btf());
    const int id = vmlinux ? btf__find_by_name_kind(vmlinux.get(), "bpf_lsm_file_open", BTF_KIND_FUNC) : -1;
    if (id < 0) return;
    const bpf_insn insns[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    for (int r = 0; r < 3; ++r) {
        std::string log(4096, '\0');
        LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_LSM_MAC,
                    .attach_btf_id = static_cast<uint32_t>(id), .log_level = 4, .log_size = 4096,
                    .log_buf = log.data());
        const double t0 = now_s();
        const int fd = bpf_prog_load(BPF_PROG_TYPE_LSM, "bw_floor", "GPL", insns, 2, &opts);
        const double t1 = now_s();
        if (fd < 0) {
            std::printf("floor: load failed: %s\n", std::strerror(errno));
            return;
        }
        ::close(fd);
        for (auto& c : log)
            if (c == '\n') c = ';';
        std::printf("floor: an LSM program returning 0: load %.3f s; %s\n", t1 - t0, log.c_str());
        emit("-", "\"type\":\"floor\",\"load_s\":" + fmt(t1 - t0));
    }
}

}  // namespace

int main(int argc, char** argv)
{
    std::string bulwark = "/bin/bulwark", policy = "/policies/default";
    int rules = 0, runs = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--bulwark") bulwark = v;
        else if (k == "--policy") policy = v;
        else if (k == "--rules") rules = std::atoi(v.c_str());
        else if (k == "--runs") runs = std::atoi(v.c_str());
        else if (k == "--verifier-lines") g_trace = v;
        else {
            std::fprintf(stderr, "usage: bench-startup [--bulwark PATH] [--policy PATH] [--rules N] [--runs R] "
                                 "[--verifier-lines PROGRAM]\n");
            return 2;
        }
    }
    struct utsname u {};
    ::uname(&u);
    g_kernel = u.release;
    std::printf("bench-startup on %s\n", u.release);

    // `bulwark run` first: its first start after boot is what a service
    // sees (the kernel parses its own BTF once, at the first load).
    // The floor first: its first load pays what the kernel does once per
    // boot for the first BPF-LSM program, whoever loads it.
    measure_floor();
    if (runs > 0) measure_ready(bulwark, "default", policy, runs);
    measure_phases("default", policy);
    if (rules > 0) {
        bench::mkdirs("/sys/fs/cgroup/bench");  // the rule set's scope
        const double t0 = now_s();
        const bench::RuleSet rs = bench::make_rules("/srv/startup", rules);
        std::printf("created %d files and directories in %.3f s\n", rules, now_s() - t0);
        const std::string set = "n" + std::to_string(rules);
        measure_ready(bulwark, set, rs.policy_file, 1);
        measure_phases(set, rs.policy_file);
    }
    emit("-", "\"type\":\"done\"");
    return 0;
}
