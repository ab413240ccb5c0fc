// Building blocks for object_registry.cpp: load any bpftool skeleton.
#pragma once

#include "kernel/bpf_programs.hpp"
#include "kernel/probe.hpp"
#include "util/error.hpp"

#include <cerrno>

namespace bulwark {

// Of an LSM object, only the programs `options.lsm_programs` names are
// loaded, and of those only where this kernel has the hook (a missing hook
// fails the whole object otherwise); BpfPrograms reports those as missing.
// A program named "<name>__<N>args" is one of several for a hook whose
// prototype changed between kernels: it is loaded only where the hook
// takes N arguments (bulwark_inode_setattr__2args, __3args); throws Error
// when the hook exists and none of them fits.
void select_lsm_programs(bpf_object* obj, const ProgramOptions& options);

// N of a program named "<name>__<N>args"; -1 for any other name.
int program_arity(const std::string& name);

// Is `prog` one the options ask for (an LSM program named in lsm_programs,
// or any other)?
bool program_wanted(bpf_program* prog, const ProgramOptions& options);

// Gives every program still to load a log buffer for the verifier's
// statistics (BPF_LOG_STATS), kept in `o.verifier_logs`.
void keep_verifier_stats(LoadedObject& o, const std::string& trace);

// open → set .rodata → share maps → load, for any bpftool skeleton type
// whose .rodata has `self_tgid` and whose maps include `events`.
// `configure` sets an object's own .rodata before it is loaded.
template <typename Skel>
std::unique_ptr<LoadedObject> load_skeleton(const char* name, Skel* (*open)(), int (*load)(Skel*),
                                            void (*destroy)(Skel*), const ProgramOptions& options, SharedMaps& maps,
                                            void (*configure)(Skel*) = nullptr)
{
    Skel* skel = open();
    if (!skel) throw Error(std::string("cannot open BPF object ") + name + ": " + errno_text(errno));
    auto o = std::make_unique<LoadedObject>();
    o->name = name;
    o->obj = skel->obj;
    o->destroy = [skel, destroy] { destroy(skel); };
    skel->rodata->self_tgid = options.self_tgid;
    skel->rodata->self_parent_tgid = options.self_parent_tgid;
    if (configure) configure(skel);
    if (!maps.has("events") && bpf_map__set_max_entries(skel->maps.events, options.ringbuf_bytes) != 0)
        throw Error("cannot size the event ring buffer");
    bpf_program* prog;
    if (!options.load_programs) {
        bpf_object__for_each_program(prog, skel->obj) bpf_program__set_autoload(prog, false);
    } else {
        select_lsm_programs(skel->obj, options);
        if (options.verifier_stats) keep_verifier_stats(*o, options.verifier_trace);
    }
    maps.reuse_in(skel->obj);
    if (int err = load(skel); err != 0)
        throw Error(std::string("the kernel refused BPF object ") + name + ": " + errno_text(err),
                    "run bulwark run --verbose for libbpf's log, which includes the verifier's");
    maps.adopt_from(skel->obj);
    return o;
}

#define BULWARK_SKELETON(name) \
    [](const ProgramOptions& o, SharedMaps& m) { \
        return load_skeleton<name##_bpf>(#name, name##_bpf__open, name##_bpf__load, name##_bpf__destroy, o, m); \
    }

}  // namespace bulwark
