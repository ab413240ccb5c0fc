#include "live_engine.hpp"

#include "events/service_lines.hpp"
#include "kernel/event_stream.hpp"
#include "monitor/run_plan.hpp"
#include "util/error.hpp"
#include "util/sd_notify.hpp"
#include "util/sha256.hpp"

#include "bulwark/abi.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <time.h>
#include <unistd.h>

namespace bulwark {
namespace {

std::string file_sha256(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return in ? sha256_hex(text.str()) : "";
}

const char* mode_word(const std::string& mode)
{
    return mode == "enforce" ? "enforcing" : mode == "audit" ? "auditing" : "monitoring";
}

std::string monotonic_usec()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::to_string(uint64_t(ts.tv_sec) * 1'000'000 + uint64_t(ts.tv_nsec) / 1000);
}

// One write: the sink writer's thread may be saying something on stderr too.
void say(const std::string& text)
{
    std::cerr << text << std::flush;
}

}  // namespace

std::vector<std::string> rule_paths(const std::vector<Policy>& policies)
{
    std::vector<std::string> out;
    auto add = [&](const std::vector<Located>& values) {
        for (const auto& v : values) out.push_back(v.value);
    };
    for (const Policy& p : policies) {
        add(p.scope.executables);
        for (const auto& r : p.files) {
            add(r.paths);
            add(r.prefixes);
        }
        for (const auto& r : p.execs) {
            add(r.paths);
            add(r.prefixes);
        }
    }
    return out;
}

LiveEngine::LiveEngine(LiveSetup setup, BpfPrograms& programs, PolicyPublisher& publisher, EventDecoder& decoder,
                       RuleLedger& ledger, SinkWriter& writer)
    : setup_(std::move(setup)),
      programs_(programs),
      publisher_(publisher),
      decoder_(decoder),
      ledger_(ledger),
      writer_(writer),
      started_ns_(unix_now_ns())
{
}

std::string LiveEngine::unloadable(const Compiled& compiled) const
{
    const RunPlan plan = plan_run(compiled.policies, compiled.image, setup_.backends);
    std::string missing;
    auto lacking = [&](const std::vector<std::string>& wanted, const std::vector<std::string>& loaded) {
        for (const auto& w : wanted)
            if (std::find(loaded.begin(), loaded.end(), w) == loaded.end()) missing += (missing.empty() ? "" : ", ") + w;
    };
    lacking(plan.objects, setup_.objects);
    lacking(plan.programs, setup_.programs);
    if (missing.empty()) return "";
    return "the new set needs BPF programs this bulwark did not load at start (" + missing +
           "): restart bulwark to load them (bulwark run loads only what its first set needs)";
}

std::string LiveEngine::publish(Compiled compiled, const std::string& reason)
{
    const RunPlan plan = plan_run(compiled.policies, compiled.image, setup_.backends);
    Live next;
    next.mode = plan.mode;
    next.reason = reason;
    next.rule_paths = rule_paths(compiled.policies);
    for (const auto& p : compiled.image.policies)
        next.files.push_back({p.name, p.file, file_sha256(p.file), p.mode == Mode::audit ? "audit" : "enforce"});

    for (const auto& b : user_backends_) b.prepare(compiled.policies);
    auto image = std::make_shared<const MapImage>(std::move(compiled.image));
    // Before records can name it; a failed publish leaves an entry no
    // record names, replaced by the next attempt's.
    decoder_.add_generation(publisher_.generation() + 1, image);
    ledger_.add_generation(publisher_.generation() + 1, image);
    next.generation = publisher_.publish(*image);
    for (const auto& b : user_backends_) b.published(next.generation, image);
    next.since_ns = unix_now_ns();
    live_ = std::move(next);
    if (on_paths_) on_paths_(live_.rule_paths);

    ReadyLine ready;
    ready.generation = live_.generation;
    ready.mode = live_.mode;
    ready.reason = reason;
    for (const auto& f : live_.files) ready.policies.push_back(f.policy);
    ready.programs = programs_.attached();
    ready.missing_hooks = programs_.missing();
    ready.backends = setup_.backends.json();
    std::string line = ready_line(ready);
    writer_.submit(line);
    return line;
}

void LiveEngine::start(Compiled compiled, const std::string& reason)
{
    publish(std::move(compiled), reason);
}

ReloadOutcome LiveEngine::refuse(const std::string& reason, std::vector<std::string> errors)
{
    ++reloads_failed_;
    last_reload_ = {"failed", unix_now_ns(), live_.generation, reason, errors};
    std::string line = reload_failed_line({last_reload_.time_ns, live_.generation, reason, std::move(errors)});
    writer_.submit(line);
    std::ostringstream text;
    text << "bulwark: reload (" << reason << ") failed; generation " << live_.generation << " stays in force:\n";
    for (const auto& e : last_reload_.errors) text << "  " << e << '\n';
    say(text.str());
    sd_notify("READY=1\nSTATUS=" + live_.mode + ", generation " + std::to_string(live_.generation) +
              " (the last reload failed)");
    return {false, std::move(line)};
}

ReloadOutcome LiveEngine::reload(const std::string& reason)
{
    sd_notify("RELOADING=1\nMONOTONIC_USEC=" + monotonic_usec() + "\nSTATUS=reloading (" + reason + ")");
    if (on_paths_) on_paths_(live_.rule_paths);
    CompileOutcome out;
    try {
        out = compile_policies(setup_.policy_paths, setup_.options);
    } catch (const std::exception& e) {
        return refuse(reason, {std::string("error: ") + e.what()});
    }
    std::vector<std::string> errors;
    std::ostringstream warnings;
    for (const auto& d : out.diagnostics.all()) {
        if (d.severity == Severity::error)
            errors.push_back(format(d));
        else
            warnings << "  " << format(d) << '\n';
    }
    if (!warnings.str().empty()) say("bulwark: reload (" + reason + "):\n" + warnings.str());
    if (!out.compiled) {
        if (errors.empty()) errors.push_back("error: the policy set did not compile");
        return refuse(reason, std::move(errors));
    }
    if (std::string why = unloadable(*out.compiled); !why.empty()) return refuse(reason, {"error: " + why});
    std::string line;
    try {
        line = publish(std::move(*out.compiled), reason);
    } catch (const std::exception& e) {
        return refuse(reason, {std::string("error: ") + e.what()});
    }
    ++reloads_ok_;
    last_reload_ = {"ok", unix_now_ns(), live_.generation, reason, {}};
    std::ostringstream text;
    text << "bulwark: reloaded (" << reason << "): " << mode_word(live_.mode) << ' ' << live_.files.size()
         << " policies (generation " << live_.generation << ")\n";
    say(text.str());
    sd_notify("READY=1\nSTATUS=" + live_.mode + ", generation " + std::to_string(live_.generation));
    return {true, std::move(line)};
}

StatusSnapshot LiveEngine::status() const
{
    StatusSnapshot s;
    s.source = "engine";
    s.pid = ::getpid();
    s.socket = setup_.socket;
    s.generation = live_.generation;
    s.generation_since_ns = live_.since_ns;
    s.mode = live_.mode;
    s.reason = live_.reason;
    s.policy_files = live_.files;
    s.programs = programs_.attached();
    s.missing_hooks = programs_.missing();
    s.backends = setup_.backends.json();
    for (const auto& b : user_backends_)
        if (b.totals) s.fanotify = b.totals();
    s.started_ns = started_ns_;
    s.now_ns = unix_now_ns();
    s.last_reload = last_reload_;
    s.reloads_ok = reloads_ok_;
    s.reloads_failed = reloads_failed_;
    s.events = decoder_.counters().events;
    const SinkCounters sink = writer_.counters();
    s.written = sink.written;
    s.sink_lost = sink.lost;
    s.sink_deny_lost = sink.deny_lost;
    const auto kernel = read_stats(programs_.maps().fd("stats"));
    s.lost = kernel[BW_STAT_EVENTS_LOST];
    s.deny_lost = kernel[BW_STAT_DENY_EVENTS_LOST];
    s.rules = ledger_.rules(live_.generation);
    s.unnamed_hits = ledger_.unnamed();
    return s;
}

}  // namespace bulwark
