// Loading and attaching bulwark's BPF objects. Each object is a bpftool
// skeleton described in the registry (object_registry.cpp); the first one
// loaded creates the shared maps, the others reuse them. The enforcing
// programs are one object ("enforce", linked from bpf/lsm/*.bpf.c), of
// which only the programs a policy set needs are loaded
// (ProgramOptions::lsm_programs, from RunPlan::programs): the verifier's
// work is most of start-up. A program whose hook this kernel lacks is not
// loaded (and reported), so one build serves 6.1 to 6.18. Detaching is
// destroying the links: after detach() no program of bulwark's runs,
// whatever happens to the maps.
#pragma once

#include "kernel/bpf_handles.hpp"
#include "kernel/pinned_state.hpp"
#include "kernel/shared_maps.hpp"
#include "monitor/run_plan.hpp"

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bulwark {

struct ProgramOptions {
    uint32_t self_tgid = 0;          // never denied, never reported
    uint32_t ringbuf_bytes = 4u << 20;
    // false: create the maps only, load and attach no program (host tests
    // of map publishing).
    bool load_programs = true;
    // Ask the verifier for its statistics (log_level BPF_LOG_STATS) and
    // keep them: BpfPrograms::load_stats() (bench/startup.cpp).
    bool verifier_stats = false;
    // With verifier_stats: the attach point of one program whose whole
    // verifier log (log_level 2, every instruction of every path) is kept
    // instead of the statistics alone (bench-startup --verifier-lines).
    std::string verifier_trace = {};
    // The LSM programs to load, by attach point ("file_open",
    // "bprm_check_security", ...); the others of an LSM object are not
    // loaded. Empty: every one. Monitor objects always load whole.
    std::vector<std::string> lsm_programs = {};
    // Where the maps and links are pinned (kernel/pinned_state.hpp); "":
    // nowhere. A previous bulwark's pins there are taken over.
    std::string pin_dir = {};
    // At detach(), leave the pins (and so the programs) in place.
    bool keep_on_exit = false;
    // May change bulwark's own files (its parent; 0: nobody). Last: the
    // fields above are given in order by tests.
    uint32_t self_parent_tgid = 0;
};

// What loading one object cost: wall time of open + load (relocation,
// verification, map creation), and the verifier's own figures per program.
struct VerifierStats {
    std::string program;             // attach point, "file_open"
    uint64_t insns_processed = 0;    // "processed N insns"
    uint64_t verification_us = 0;    // "verification time N usec"
    std::string log;                 // the verifier's whole statistics text
};
struct ObjectLoadStats {
    std::string object;
    double seconds = 0;
    std::vector<VerifierStats> programs;
};

// A loaded skeleton, type-erased.
struct LoadedObject {
    std::string name;
    bpf_object* obj = nullptr;
    std::function<void()> destroy;
    // (attach point, verifier log) per program loaded, with verifier_stats.
    std::vector<std::pair<std::string, std::string>> verifier_logs;
    ~LoadedObject()
    {
        if (destroy) destroy();
    }
};

// What the registry says about one BPF object.
struct ObjectSpec {
    std::string name;                // "file_open", "exec", "monitor_file", …
    bool lsm = false;                // needs BPF-LSM (refused on some kernels)
    // open → set .rodata → share maps → load
    std::function<std::unique_ptr<LoadedObject>(const ProgramOptions&, SharedMaps&)> load;
    // Attach one program; nullptr: bpf_program__attach (LSM, tracepoints).
    std::function<bpf_link*(bpf_program*)> attach;
};

const std::vector<ObjectSpec>& object_specs();

class BpfPrograms {
public:
    // Loads and attaches the objects named in `objects` (registry order).
    BpfPrograms(const ProgramOptions& options, const std::vector<std::string>& objects);
    // What `bulwark run` loads for a policy set: plan.objects, and of the
    // LSM objects only plan.programs.
    BpfPrograms(const ProgramOptions& options, const RunPlan& plan);
    ~BpfPrograms();
    BpfPrograms(const BpfPrograms&) = delete;
    BpfPrograms& operator=(const BpfPrograms&) = delete;

    const SharedMaps& maps() const { return maps_; }
    // Programs attached, by hook or tracepoint name, e.g. {"file_open"}.
    const std::vector<std::string>& attached() const { return attached_; }
    // Programs wanted but not loaded because this kernel lacks their hook.
    const std::vector<std::string>& missing() const { return missing_; }
    // Detaches every program — or, with keep_on_exit and pins, leaves them
    // to the pins and only closes this process's handles.
    void detach();
    // The generation a previous bulwark left in force, adopted from the
    // pins (0: nothing was pinned).
    uint32_t taken_over() const { return taken_over_; }
    // The engine has published its set: from now on a stop detaches. Until
    // then, a bulwark that took over and fails to start leaves its programs
    // pinned, deciding from the adopted maps (the previous engine's set):
    // a failed upgrade must not end enforcement.
    void serving() { serving_ = true; }
    const std::string& pin_dir() const { return pins_.dir(); }
    // The kernel's run time and run count of each loaded program (both 0
    // unless kernel.bpf_stats_enabled is on), by attach point.
    struct RunStats {
        std::string program;
        uint64_t run_time_ns = 0, run_count = 0;
    };
    std::vector<RunStats> run_stats() const;
    // One entry per object loaded, in load order (verifier figures only
    // with ProgramOptions::verifier_stats).
    const std::vector<ObjectLoadStats>& load_stats() const { return load_stats_; }

private:
    PinnedState pins_;
    bool keep_on_exit_ = false;
    uint32_t taken_over_ = 0;
    bool serving_ = false;
    SharedMaps maps_;
    std::vector<std::unique_ptr<LoadedObject>> objects_;
    std::vector<LinkPtr> links_;
    std::vector<std::string> attached_, missing_;
    std::vector<ObjectLoadStats> load_stats_;
};

// The hook or tracepoint a program attaches to: "lsm/file_open" → "file_open".
std::string attach_point(bpf_program* prog);

}  // namespace bulwark
