// bulwark run: load, enforce, monitor, report (docs/operations.md). Prints
// {"type":"ready"} once the policy set is live; on SIGINT/SIGTERM detaches
// every hook, drains the ring buffer, prints {"type":"stats"} and exits 0.
// BPF-LSM objects load only for rules (monitor/run_plan.hpp).
#include "commands.hpp"
#include "compile/system_view.hpp"
#include "events/decoder.hpp"
#include "events/sink.hpp"
#include "kernel/event_stream.hpp"
#include "kernel/libbpf_log.hpp"
#include "kernel/bpf_programs.hpp"
#include "kernel/policy_publisher.hpp"
#include "kernel/probe.hpp"
#include "monitor/run_plan.hpp"
#include "policy_loading.hpp"
#include "util/error.hpp"

#include <utility>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>
#include <csignal>
#include <iostream>
#include <unistd.h>

namespace po = boost::program_options;

namespace bulwark {
namespace {

void write_ready(EventSink& sink, uint32_t generation, const char* mode, const MapImage& image,
                 const std::vector<std::string>& programs)
{
    std::vector<std::string> names;
    for (const auto& p : image.policies) names.push_back(p.name);
    std::string line;
    JsonLine(line)
        .field("type", "ready")
        .field("generation", generation)
        .field("mode", mode)
        .field("policies", names)
        .field("programs", programs)
        .end();
    sink.write(line);
}

void write_stats(EventSink& sink, uint32_t generation, const EventDecoder& decoder, const std::vector<uint64_t>& s)
{
    std::string line;
    JsonLine(line)
        .field("type", "stats")
        .field("generation", generation)
        .field("events", decoder.counters().events)
        .field("malformed", decoder.counters().malformed)
        .field("lost", s[BW_STAT_EVENTS_LOST])
        .field("deny_lost", s[BW_STAT_DENY_EVENTS_LOST])
        .field("denied", s[BW_STAT_DENIED])
        .field("would_deny", s[BW_STAT_WOULD_DENY])
        .field("audited", s[BW_STAT_AUDITED])
        .field("exec_denied", s[BW_STAT_EXEC_DENIED])
        .field("connect_denied", s[BW_STAT_CONNECT_DENIED])
        .field("walk_too_deep", s[BW_STAT_WALK_TOO_DEEP])
        .field("map_missing", s[BW_STAT_MAP_MISSING])
        .field("monitor_events", s[BW_STAT_MON_REPORTED])
        .field("suppressed", s[BW_STAT_MON_SUPPRESSED])
        .field("unresolved", s[BW_STAT_MON_UNRESOLVED])
        .field("killed", s[BW_STAT_MON_KILLED])
        .field("kill_failed", s[BW_STAT_MON_KILL_FAILED])
        .end();
    sink.write(line);
}

// The kernel must enforce the set's rules. When it cannot and the set also
// holds monitors, say which rules stand in the way: the monitors alone
// would run.
void require_enforcement(const RunPlan& plan)
{
    try {
        require_lsm_enforcement(probe_kernel());
    } catch (const Error& e) {
        if (!plan.monitors) throw;
        std::string rules;
        for (const auto& r : plan.lsm_rules) rules += (rules.empty() ? "" : ", ") + r;
        throw Error(std::string(e.what()) + "; these rules need BPF-LSM: " + rules,
                    "monitors run without BPF-LSM: remove those rules (or load them on a kernel that enforces, "
                    "see bulwark probe) to run the monitors alone here",
                    e.exit_code());
    }
}

}  // namespace

int cmd_run(const Args& args)
{
    std::vector<std::string> policies;
    std::string events = "-";
    bool audit = false, verbose = false;
    uint32_t ring_mb = 4;
    po::options_description desc(
        "usage: bulwark run --policy PATH... [--audit] [--events FILE]\n\n"
        "Load the policies, enforce their rules in the kernel (BPF-LSM), run their\n"
        "monitors (tracepoints; no BPF-LSM needed), and write every verdict and\n"
        "monitor event as a JSON line. PATH is a policy file or a directory of *.toml.\n\n"
        "examples:\n"
        "  bulwark run --policy policies/default --events -\n"
        "  bulwark run --policy web.toml --audit --events /var/log/bulwark.jsonl\n\n"
        "options");
    desc.add_options()("help,h", "this help")(
        "policy,p", po::value(&policies)->multitoken()->required(), "policy file or directory (repeatable)")(
        "audit", po::bool_switch(&audit), "report would-be denials, block nothing")(
        "events", po::value(&events), "JSON Lines destination, - for stdout (default)")(
        "ring-buffer-mb", po::value(&ring_mb), "event ring buffer size in MiB, a power of two (default 4)")(
        "verbose,v", po::bool_switch(&verbose), "libbpf debug output on stderr");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(desc).run(), vm);
        if (vm.count("help")) {
            std::cout << desc << '\n';
            return exit_ok;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "bulwark run: " << e.what() << "\n\n" << desc << '\n';
        return exit_usage;
    }
    if (ring_mb == 0 || (ring_mb & (ring_mb - 1)) != 0) {
        std::cerr << "bulwark run: --ring-buffer-mb must be a power of two\n";
        return exit_usage;
    }

    CompileOptions options;
    options.global_audit = audit;
    auto compiled = load_and_compile(policies, options, std::cerr);
    if (!compiled) return exit_policy_errors;

    // LSM objects only for rules; monitors run on any kernel with tracepoints.
    const RunPlan plan = plan_run(compiled->policies, compiled->image);
    if (plan.enforcement) require_enforcement(plan);
    install_libbpf_logging(verbose);
    std::signal(SIGPIPE, SIG_IGN);

    FdSink sink(events);
    BpfPrograms programs({static_cast<uint32_t>(::getpid()), ring_mb << 20}, plan.objects);
    PolicyPublisher publisher(programs.maps());
    CgroupNames cgroups(RealSystem().cgroup2_mount().value_or(""));
    EventDecoder decoder(cgroups);
    boost::asio::io_context io;
    EventStream stream(io, programs.maps().fd("events"), decoder, sink);

    auto image = std::make_shared<const MapImage>(std::move(compiled->image));
    decoder.add_generation(publisher.generation() + 1, image);  // before records can name it
    const uint32_t generation = publisher.publish(*image);

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        programs.detach();
        stream.stop();
        io.stop();
    });
    stream.start();
    const char* mode = audit ? "audit" : plan.enforcement ? "enforce" : "monitor";
    write_ready(sink, generation, mode, *image, programs.attached());
    std::cerr << "bulwark: " << (audit ? "auditing " : plan.enforcement ? "enforcing " : "monitoring ")
              << image->policies.size()
              << " policies (generation " << generation << ") through";
    for (const auto& p : programs.attached()) std::cerr << ' ' << p;
    std::cerr << "; SIGTERM or Ctrl-C detaches\n";

    io.run();
    programs.detach();
    stream.drain();
    write_stats(sink, generation, decoder, read_stats(programs.maps().fd("stats")));
    return stream.sink_failed() ? exit_failure : exit_ok;
}

}  // namespace bulwark
