// Loading and attaching bulwark's BPF objects. Each object is a bpftool
// skeleton described in the registry (object_registry.cpp); the first one
// loaded creates the shared maps, the others reuse them. A program whose
// hook this kernel lacks is not loaded (and reported), so one build serves
// 6.1 to 6.18. Detaching is destroying the links: after detach() no
// program of bulwark's runs, whatever happens to the maps.
#pragma once

#include "kernel/bpf_handles.hpp"
#include "kernel/shared_maps.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bulwark {

struct ProgramOptions {
    uint32_t self_tgid = 0;          // never denied, never reported
    uint32_t ringbuf_bytes = 4u << 20;
    // false: create the maps only, load and attach no program (host tests
    // of map publishing).
    bool load_programs = true;
};

// A loaded skeleton, type-erased.
struct LoadedObject {
    std::string name;
    bpf_object* obj = nullptr;
    std::function<void()> destroy;
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
    ~BpfPrograms();
    BpfPrograms(const BpfPrograms&) = delete;
    BpfPrograms& operator=(const BpfPrograms&) = delete;

    const SharedMaps& maps() const { return maps_; }
    // Programs attached, by hook or tracepoint name, e.g. {"file_open"}.
    const std::vector<std::string>& attached() const { return attached_; }
    // Programs not loaded because this kernel lacks their hook.
    const std::vector<std::string>& missing() const { return missing_; }
    void detach();
    // The kernel's run time and run count of each loaded program (both 0
    // unless kernel.bpf_stats_enabled is on), by attach point.
    struct RunStats {
        std::string program;
        uint64_t run_time_ns = 0, run_count = 0;
    };
    std::vector<RunStats> run_stats() const;

private:
    SharedMaps maps_;
    std::vector<std::unique_ptr<LoadedObject>> objects_;
    std::vector<LinkPtr> links_;
    std::vector<std::string> attached_, missing_;
};

// The hook or tracepoint a program attaches to: "lsm/file_open" → "file_open".
std::string attach_point(bpf_program* prog);

}  // namespace bulwark
