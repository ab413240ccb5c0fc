// The live policy set of `bulwark run`: publishes a compiled set (at start)
// and re-reads, compiles and publishes the whole set again on a reload
// (SIGHUP, `bulwark reload`), in one atomic step through the two-slot
// generation machinery (docs/decisions/002-generations.md). A reload that
// fails anywhere — parsing, compiling, a map that cannot be filled — writes
// a reload-failed line and leaves the live set exactly as it was: the new
// set is compiled completely before any map is touched, filled only into
// the slot that is not live, and made live by the one flip at the end.
// Also the keeper of what `bulwark status` reports (daemon/status.hpp).
#pragma once

#include "backend/backends.hpp"
#include "daemon/status.hpp"
#include "events/decoder.hpp"
#include "events/sink_writer.hpp"
#include "kernel/bpf_programs.hpp"
#include "kernel/policy_publisher.hpp"
#include "kernel/rule_hits.hpp"
#include "policy_loading.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bulwark {

struct LiveSetup {
    std::vector<std::string> policy_paths;  // --policy, re-read on each reload
    CompileOptions options;                 // --audit
    Backends backends;                      // --backend: the mechanism of each kind
    std::vector<std::string> objects;       // the BPF objects loaded at start (RunPlan::objects)
    std::vector<std::string> programs;      // and their LSM programs (RunPlan::programs)
    std::string socket;                     // the control socket's path, for status
};

struct ReloadOutcome {
    bool ok = false;
    std::string line;  // the ready or the reload-failed line (also written to the events)
};

class LiveEngine {
public:
    LiveEngine(LiveSetup setup, BpfPrograms& programs, PolicyPublisher& publisher, EventDecoder& decoder,
               RuleLedger& ledger, SinkWriter& writer);

    // Publishes the set compiled at start and writes its ready line.
    // `reason`: "start", or what was taken over from pins.
    void start(Compiled compiled, const std::string& reason = "start");
    // Re-read the policy paths, compile, publish; writes the ready or the
    // reload-failed line and says it on stderr and to systemd.
    ReloadOutcome reload(const std::string& reason);

    // Called with the paths the live set's rules name: after each publish,
    // and again at the start of each reload (so that a directory created
    // since is watched before the set is compiled: daemon/path_watch.hpp).
    void on_rule_paths(std::function<void(const std::vector<std::string>&)> hook) { on_paths_ = std::move(hook); }
    // A backend that decides in user space (fanotify): `prepare` is called
    // with each set before any map changes (it may throw Error: the set is
    // refused, nothing changed), `published` once the kernel's flip made it
    // live, with its generation and image.
    struct UserBackend {
        std::function<void(const std::vector<Policy>&)> prepare;
        std::function<void(uint32_t, std::shared_ptr<const MapImage>)> published;
        std::function<FanotifyTotals()> totals;  // for status ("fanotify")
    };
    void add_user_backend(UserBackend backend) { user_backends_.push_back(std::move(backend)); }

    uint32_t generation() const { return live_.generation; }
    int64_t generation_since_ns() const { return live_.since_ns; }
    const std::string& mode() const { return live_.mode; }
    size_t policy_count() const { return live_.files.size(); }
    uint64_t reloads_ok() const { return reloads_ok_; }
    uint64_t reloads_failed() const { return reloads_failed_; }
    // Everything `bulwark status` shows, counters read now.
    StatusSnapshot status() const;

private:
    struct Live {
        uint32_t generation = 0;
        int64_t since_ns = 0;
        std::string mode, reason;
        std::vector<PolicyFileStatus> files;
        std::vector<std::string> rule_paths;
    };
    // Publish; returns the ready line. Throws Error (nothing changed).
    std::string publish(Compiled compiled, const std::string& reason);
    // Why the BPF objects loaded at start cannot hold `compiled`, or "".
    std::string unloadable(const Compiled& compiled) const;
    ReloadOutcome refuse(const std::string& reason, std::vector<std::string> errors);

    LiveSetup setup_;
    BpfPrograms& programs_;
    PolicyPublisher& publisher_;
    EventDecoder& decoder_;
    RuleLedger& ledger_;
    SinkWriter& writer_;
    Live live_;
    int64_t started_ns_;
    ReloadStatus last_reload_;
    uint64_t reloads_ok_ = 0, reloads_failed_ = 0;
    std::function<void(const std::vector<std::string>&)> on_paths_;
    std::vector<UserBackend> user_backends_;
};

// Every path the rules of `policies` name (file and exec paths and
// prefixes, scope executables), as written.
std::vector<std::string> rule_paths(const std::vector<Policy>& policies);

}  // namespace bulwark
