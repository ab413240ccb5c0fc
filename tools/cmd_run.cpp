// bulwark run: load, enforce, monitor, report (docs/operations.md). Prints
// {"type":"ready"} once the policy set is live (and tells systemd READY=1),
// and again after each reload (SIGHUP, or `bulwark reload` on the control
// socket, which also serves `status` and `stop`: live_engine.hpp);
// a {"type":"stats"} line every --stats-interval seconds and a
// {"type":"lost"} line as soon as events are lost; on SIGINT/SIGTERM
// (or `bulwark stop`) detaches every hook, drains the ring buffer, prints
// {"type":"stats"} and exits 0. SIGUSR1 reopens the events file. Options also come from
// /etc/bulwark/bulwark.toml (run_config.hpp). BPF-LSM objects load only for
// rules (monitor/run_plan.hpp).
#include "backend_choice.hpp"
#include "commands.hpp"
#include "compile/system_view.hpp"
#include "daemon/control_server.hpp"
#include "daemon/mount_watch.hpp"
#include "daemon/path_watch.hpp"
#include "daemon/status.hpp"
#include "events/decoder.hpp"
#include "events/ocsf.hpp"
#include "events/service_lines.hpp"
#include "events/sink.hpp"
#include "events/sink_writer.hpp"
#include "fanotify/backend.hpp"
#include "kernel/bpf_programs.hpp"
#include "kernel/event_stream.hpp"
#include "kernel/libbpf_log.hpp"
#include "kernel/policy_publisher.hpp"
#include "kernel/probe.hpp"
#include "kernel/rule_hits.hpp"
#include "kernel/self_identity.hpp"
#include "kernel/stats_reporter.hpp"
#include "live_engine.hpp"
#include "metrics/http_server.hpp"
#include "metrics/prometheus.hpp"
#include "monitor/run_plan.hpp"
#include "own_paths.hpp"
#include "policy_loading.hpp"
#include "run_config.hpp"
#include "run_options.hpp"
#include "util/error.hpp"
#include "util/sd_notify.hpp"

#include <utility>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <unistd.h>

namespace po = boost::program_options;

namespace bulwark {
namespace {

// The kernel must enforce the rules given to BPF-LSM: when it cannot,
// say which rules stand in the way and what else would run them.
void require_enforcement(const RunPlan& plan)
{
    try {
        require_lsm_enforcement(probe_kernel());
    } catch (const Error& e) {
        if (plan.lsm_rules.empty()) throw;
        std::string rules;
        for (const auto& r : plan.lsm_rules) rules += (rules.empty() ? "" : ", ") + r;
        throw Error(std::string(e.what()) + "; these rules need BPF-LSM: " + rules,
                    e.hint() + (plan.monitors ? "; monitors run without BPF-LSM" : "") +
                        "; --backend auto (the default) uses the other backends where BPF-LSM cannot run "
                        "(see bulwark probe)",
                    e.exit_code());
    }
}

bool bpf_stats_enabled()
{
    std::ifstream in("/proc/sys/kernel/bpf_stats_enabled");
    int v = 0;
    return (in >> v) && v != 0;
}

}  // namespace

int cmd_run(const Args& args)
{
    std::vector<std::string> policies, backend;
    std::string events = "-", config, socket = kDefaultControlSocket;
    EventsFormat format;
    RingBufferMb ring_mb;
    ListenAddress metrics;
    uint32_t stats_interval = 60;
    bool audit = false, verbose = false, keep_on_exit = false;
    std::string pin_dir = kDefaultPinDir;
    po::options_description desc(
        "usage: bulwark run --policy PATH... [--audit] [--events FILE] [--config FILE]\n\n"
        "Load the policies, enforce their rules in the kernel (BPF-LSM), run their\n"
        "monitors (tracepoints; no BPF-LSM needed), and write every verdict and\n"
        "monitor event as a JSON line. PATH is a policy file or a directory of *.toml.\n"
        "Options also come from /etc/bulwark/bulwark.toml (or --config FILE): each key\n"
        "is a long option name below; an option given here overrides its key.\n"
        "SIGTERM, SIGINT or `bulwark stop` detaches everything; SIGHUP or `bulwark reload`\n"
        "re-reads the policies and swaps the whole set atomically (a set with errors is\n"
        "refused, the previous one stays); `bulwark status` says what is in force;\n"
        "SIGUSR1 reopens the events file.\n\n"
        "examples:\n"
        "  bulwark run --policy policies/default --events -\n"
        "  bulwark run --policy web.toml --audit --events /var/log/bulwark.jsonl\n"
        "  bulwark run --config /etc/bulwark/bulwark.toml --metrics 127.0.0.1:9464\n\n"
        "options");
    desc.add_options()("help,h", "this help")(
        "config", po::value(&config), "options file (default /etc/bulwark/bulwark.toml, when it exists)")(
        "policy,p", po::value(&policies)->multitoken()->required(), "policy file or directory (repeatable)")(
        "audit", po::bool_switch(&audit), "report would-be denials, block nothing")(
        "backend", po::value(&backend)->composing(),
        "auto (default), bpf-lsm, fallback, or KIND=MECHANISM (file|exec|connect = auto|bpf-lsm|fanotify|"
        "cgroup-sock-addr); repeatable")(
        "events", po::value(&events), "events destination, - for stdout (default)")(
        "events-format", po::value(&format), "json (default) or ocsf (OCSF 1.4.0, one object a line)")(
        "stats-interval", po::value(&stats_interval), "seconds between stats lines (default 60; 0: at exit only)")(
        "ring-buffer-mb", po::value(&ring_mb), "event ring buffer size in MiB, a power of two (default 4)")(
        "metrics", po::value(&metrics), "serve Prometheus metrics at http://ADDRESS:PORT/metrics (default off)")(
        "socket", po::value(&socket), "control socket for reload, status, stop (default /run/bulwark/control.sock)")(
        "pin-dir", po::value(&pin_dir),
        "bpffs directory holding the pinned programs and maps, taken over at start (default /sys/fs/bpf/bulwark "
        "when /sys/fs/bpf is a bpffs; \"\": no pins)")(
        "keep-on-exit", po::bool_switch(&keep_on_exit), "an orderly stop leaves the pinned programs enforcing")(
        "verbose,v", po::bool_switch(&verbose), "libbpf debug output on stderr");
    po::variables_map vm;
    std::string config_file;  // the options file read, if any
    try {
        po::store(po::command_line_parser(args).options(desc).run(), vm);
        if (vm.count("help")) {
            std::cout << desc << '\n';
            return exit_ok;
        }
        config_file = vm.count("config") ? vm["config"].as<std::string>() : "";
        if (config_file.empty() && ::access(kDefaultConfig, F_OK) == 0) config_file = kDefaultConfig;
        if (!config_file.empty()) {
            Diagnostics diags;
            apply_config_file(config_file, desc, ConfigPaths{{"policy", "events", "socket", "pin-dir"}}, vm, diags);
            if (diags.has_errors()) {
                diags.print(std::cerr);
                return exit_usage;
            }
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "bulwark run: " << e.what() << "\n\n" << desc << '\n';
        return exit_usage;
    }
    // Checked before anything is loaded: a bad address is a usage error.
    std::optional<boost::asio::ip::tcp::endpoint> metrics_at;
    if (!metrics.value.empty()) metrics_at = parse_listen_address(metrics.value);

    // Which mechanism decides each kind here; rules no backend decides are refused.
    const Backends backends = choose_run_backends(backend);
    // The default pin directory only where a bpffs is mounted for it; a
    // directory asked for by name must be on one (pinned_state.hpp).
    if (!vm.count("pin-dir") && !bpffs_mounted(kBpffsRoot)) {
        std::cerr << "bulwark: note: " << kBpffsRoot
                  << " is not a bpffs: nothing is pinned, so enforcement ends with this process "
                     "(mount -t bpf bpf /sys/fs/bpf to keep it across a crash or restart)\n";
        pin_dir.clear();
    }
    // Made before the policies are compiled: they protect it.
    pin_dir = PinnedState::prepare(pin_dir);

    CompileOptions options;
    options.global_audit = audit;
    // bulwark's own files are protected where the path hooks decide files:
    // the fanotify backend sees opens only (docs/decisions/011).
    if (backends[RuleKind::file] == Mechanism::bpf_lsm) options.own_paths = own_paths(policies, config_file, pin_dir);
    auto compiled = load_and_compile(policies, options, std::cerr);
    if (!compiled) return exit_policy_errors;

    // LSM objects only for rules; monitors run on any kernel with tracepoints.
    const RunPlan plan = plan_run(compiled->policies, compiled->image, backends);
    require_backends(plan, backends);
    require_fanotify_coverage(plan);
    if (plan.needs_lsm) require_enforcement(plan);
    std::cerr << unsticky_scope_warning(compiled->policies, backends) << fanotify_unseen_warning(plan) << std::flush;
    if (plan.needs_lsm) require_lsm_hooks(plan);
    install_libbpf_logging(verbose);
    std::signal(SIGPIPE, SIG_IGN);

    boost::asio::io_context io;
    // Before anything is loaded: a SIGHUP that comes early waits for the
    // loop instead of ending the process.
    boost::asio::signal_set hangup(io, SIGHUP);
    // SIGINT/SIGTERM too: one that comes between the ready line and the
    // loop must still be an orderly stop (unpinning), not the default
    // death that leaves the pinned programs enforcing.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    // Bound before the writer's thread exists (it sets the umask for the
    // bind); refuses to start when another bulwark answers there.
    ControlServer control(io, socket);
    FdSink sink(events);
    std::optional<OcsfTranslator> ocsf;
    SinkWriter::Transform transform;
    if (format.value == "ocsf") {
        ocsf.emplace();
        transform = [&ocsf](std::string_view in, std::string& out) { ocsf->translate(in, out); };
    }
    EventStream* stream_ptr = nullptr;
    SinkWriter writer(sink, transform, 1u << 20, [&] {
        boost::asio::post(io, [&] {
            if (stream_ptr) stream_ptr->resume();
        });
    });

    ProgramOptions load_options;
    // The number the kernel's programs compare with bpf_get_current_pid_tgid()
    // and task->tgid: bulwark's tgid in the initial PID namespace, learned
    // from the kernel (getpid() is another process's number when bulwark
    // runs in a container's PID namespace). Also names the link pins.
    load_options.self_tgid = learn_self_tgid();
    load_options.self_parent_tgid = learn_self_parent_tgid();
    load_options.ringbuf_bytes = ring_mb.value << 20;
    load_options.pin_dir = pin_dir;
    load_options.keep_on_exit = keep_on_exit;
    BpfPrograms programs(load_options, plan);
    PolicyPublisher publisher(programs.maps());
    CgroupNames cgroups(RealSystem().cgroup2_mount().value_or(""));
    EventDecoder decoder(cgroups);
    RuleLedger ledger(programs.maps().fd("rule_hits"));
    EventStream stream(io, programs.maps().fd("events"), decoder, writer);
    stream_ptr = &stream;

    LiveEngine engine({policies, options, backends, plan.objects, plan.programs, control.path()}, programs, publisher,
                      decoder, ledger, writer);
    // Rules follow their files: a rule path's directory entry that changes
    // republishes the set (daemon/path_watch.hpp).
    PathWatcher watcher(io, [&](const std::string& path) { engine.reload("rule path changed: " + path); },
                        std::chrono::milliseconds(100));
    // ... and across mounts: one on a rule path or above it (daemon/mount_watch.hpp).
    MountWatcher mounts(io, [&](const std::string& point) { engine.reload("mount changed: " + point); },
                        std::chrono::milliseconds(100));
    engine.on_rule_paths([&](const std::vector<std::string>& paths) {
        watcher.watch(paths);
        mounts.watch(paths);
    });
    // The fanotify backend decides in this process; its verdict records go
    // through the same decoder as the kernel's, on the engine's thread.
    std::optional<FanotifyBackend> fanotify;
    const bool fan_files = backends[RuleKind::file] == Mechanism::fanotify;
    const bool fan_execs = backends[RuleKind::exec] == Mechanism::fanotify;
    if (fan_files || fan_execs) {
        // getpid(), not self_tgid: fanotify reports the opener's pid as seen
        // from the PID namespace of the process reading the events (the
        // kernel's pid_vnr(), as for any pid a system call returns), which
        // is bulwark's own namespace — the one getpid() counts in (an opener
        // outside that namespace comes as pid 0, never as bulwark).
        fanotify.emplace(static_cast<uint32_t>(::getpid()), RealSystem().cgroup2_mount().value_or(""),
                         [&](std::vector<unsigned char> record) {
                             boost::asio::post(io, [&, record = std::move(record)] {
                                 // Counted as the kernel counts its own verdicts, in the same map.
                                 bw_event_header h;
                                 if (record.size() >= sizeof(h)) {
                                     std::memcpy(&h, record.data(), sizeof(h));
                                     ledger.hit(h);
                                 }
                                 std::string line;
                                 if (decoder.decode(record.data(), record.size(), line)) writer.submit(std::move(line));
                             });
                         });
        engine.add_user_backend(
            {[&](const std::vector<Policy>& set) {
                 const FanotifyWatch w = fanotify_watch(set, fan_files, fan_execs);
                 fanotify->watch(w.paths, w.everywhere);
             },
             [&](uint32_t generation, std::shared_ptr<const MapImage> image) {
                 fanotify->publish(generation, std::move(image));
             },
             [&] { return fanotify->counters().totals(); }});
    }
    engine.start(std::move(*compiled),
                 programs.taken_over() ? "takeover of generation " + std::to_string(programs.taken_over()) + " from " +
                                             programs.pin_dir()
                                       : "start");

    const int stats_fd = programs.maps().fd("stats");
    auto snapshot = [&] {
        StatsLine s;
        s.generation = engine.generation();
        s.decoded = decoder.counters();
        s.kernel = read_stats(stats_fd);
        if (fanotify) add_fanotify_stats(fanotify->counters(), s.kernel);
        s.sink = writer.counters();
        return s;
    };
    StatsReporter reporter(io, writer, snapshot, std::chrono::seconds(stats_interval));

    std::optional<MetricsServer> metrics_server;
    if (metrics_at) {
        metrics_server.emplace(io, *metrics_at, [&] {
            MetricsSnapshot m;
            m.verdicts = ledger.verdicts();
            m.kernel = read_stats(stats_fd);
            if (fanotify) {
                add_fanotify_stats(fanotify->counters(), m.kernel);
                m.fanotify = fanotify->counters().totals();
            }
            m.decoded = decoder.counters();
            m.sink = writer.counters();
            m.generation = engine.generation();
            m.generation_since_ns = engine.generation_since_ns();
            m.reloads_ok = engine.reloads_ok();
            m.reloads_failed = engine.reloads_failed();
            m.now_ns = unix_now_ns();
            m.attached = programs.attached();
            m.missing = programs.missing();
            m.bpf_stats_enabled = bpf_stats_enabled();
            if (m.bpf_stats_enabled)
                for (const auto& r : programs.run_stats())
                    m.run_stats.push_back(ProgramRunStats{r.program, r.run_time_ns, r.run_count});
            return render_prometheus(m);
        });
        metrics_server->start();
    }

    // An orderly stop: SIGINT, SIGTERM or `bulwark stop`.
    bool stopping = false;
    auto shutdown = [&] {
        if (stopping) return;
        stopping = true;
        sd_notify("STOPPING=1");
        control.stop();
        watcher.stop();
        mounts.stop();
        if (fanotify) fanotify->stop();
        programs.detach();
        stream.stop();
        reporter.stop();
        if (metrics_server) metrics_server->stop();
        hangup.cancel();
        io.stop();
    };
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec) shutdown();
    });
    std::function<void()> wait_hangup = [&] {
        hangup.async_wait([&](const boost::system::error_code& ec, int) {
            if (ec || stopping) return;
            engine.reload("SIGHUP");
            wait_hangup();
        });
    };
    wait_hangup();
    boost::asio::signal_set reopen(io, SIGUSR1);
    std::function<void()> wait_reopen = [&] {
        reopen.async_wait([&](const boost::system::error_code& ec, int) {
            if (ec) return;
            writer.reopen();
            wait_reopen();
        });
    };
    wait_reopen();
    control.start([&](ControlCommand command) -> ControlReply {
        switch (command) {
        case ControlCommand::status: return {status_json(engine.status())};
        case ControlCommand::reload: return {engine.reload("bulwark reload").line};
        case ControlCommand::stop: return {stopping_line(engine.generation()), true, [&] { shutdown(); }};
        }
        return {control_error("unknown command")};
    });

    stream.start();
    reporter.start();
    // One write: the sink writer's thread may be saying something on stderr too.
    std::ostringstream say;
    const std::string& mode = engine.mode();
    say << "bulwark: " << (mode == "enforce" ? "enforcing " : mode == "audit" ? "auditing " : "monitoring ")
        << engine.policy_count() << " policies (generation " << engine.generation() << ") through";
    for (const auto& p : programs.attached()) say << ' ' << p;
    if (fanotify) say << " fanotify (" << fanotify->filesystems_marked() << " filesystems watched)";
    if (!programs.missing().empty()) {
        say << "; hooks this kernel lacks:";
        for (const auto& p : programs.missing()) say << ' ' << p;
    }
    if (metrics_server) say << "; metrics at http://" << metrics_server->local_endpoint() << "/metrics";
    say << "; control socket " << control.path() << "; SIGTERM or Ctrl-C detaches\n";
    std::cerr << say.str() << std::flush;
    // The policy set is live in the kernel: only now may a service manager
    // believe bulwark is up.
    sd_notify("READY=1\nSTATUS=" + mode + ", generation " + std::to_string(engine.generation()));
    programs.serving();

    io.run();
    programs.detach();
    stream.drain();
    reporter.write_final();
    writer.close();
    // `bulwark stop` returns once everything is detached and written.
    control.close_held();
    return writer.ever_failed() ? exit_failure : exit_ok;
}

}  // namespace bulwark
