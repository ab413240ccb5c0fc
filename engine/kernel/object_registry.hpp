// Building blocks for object_registry.cpp: load any bpftool skeleton.
#pragma once

#include "kernel/bpf_programs.hpp"
#include "kernel/probe.hpp"
#include "util/error.hpp"

#include <cerrno>

namespace bulwark {

// Programs whose LSM hook this kernel lacks are not loaded (a missing hook
// fails the whole object otherwise); BpfPrograms reports them as missing.
void skip_missing_lsm_hooks(bpf_object* obj);

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
    if (configure) configure(skel);
    if (!maps.has("events") && bpf_map__set_max_entries(skel->maps.events, options.ringbuf_bytes) != 0)
        throw Error("cannot size the event ring buffer");
    bpf_program* prog;
    if (!options.load_programs) {
        bpf_object__for_each_program(prog, skel->obj) bpf_program__set_autoload(prog, false);
    } else {
        skip_missing_lsm_hooks(skel->obj);
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
