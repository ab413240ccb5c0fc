// Every BPF object bulwark can load: one row each. Add a row (and a
// bulwark_bpf() line in bpf/CMakeLists.txt) for a new object.
#include "kernel/object_registry.hpp"

#include "connect.skel.h"
#include "connect_cgroup.skel.h"
#include "exec.skel.h"
#include "exec_map.skel.h"
#include "file_open.skel.h"
#include "kernel/monitor_support.hpp"
#include "monitor_connect.skel.h"
#include "monitor_file.skel.h"
#include "monitor_process.skel.h"
#include "monitor_syscalls.skel.h"

#include <cstring>

namespace bulwark {

void skip_missing_lsm_hooks(bpf_object* obj)
{
    bpf_program* prog;
    bpf_object__for_each_program(prog, obj)
    {
        const char* section = bpf_program__section_name(prog);
        if (std::strncmp(section, "lsm/", 4) != 0) continue;
        if (!lsm_hook_exists(section + 4)) bpf_program__set_autoload(prog, false);
    }
}

namespace {

// The monitors (bpf/trace/): tracepoints and cgroup hooks, no BPF-LSM.
bpf_link* attach_tracepoint(bpf_program* prog)
{
    ensure_tracefs();
    return bpf_program__attach(prog);
}

std::unique_ptr<LoadedObject> load_monitor_process(const ProgramOptions& o, SharedMaps& m)
{
    return load_skeleton<monitor_process_bpf>(
        "monitor_process", monitor_process_bpf__open, monitor_process_bpf__load, monitor_process_bpf__destroy, o, m,
        [](monitor_process_bpf* skel) { skel->rodata->host_mnt_ns = own_mount_namespace(); });
}

}  // namespace

const std::vector<ObjectSpec>& object_specs()
{
    static const std::vector<ObjectSpec> specs{
        {"file_open", true, BULWARK_SKELETON(file_open), nullptr},
        {"exec", true, BULWARK_SKELETON(exec), nullptr},
        {"exec_map", true, BULWARK_SKELETON(exec_map), nullptr},
        {"connect", true, BULWARK_SKELETON(connect), nullptr},
        // Backends without BPF-LSM (docs/decisions/010-backends.md).
        {"connect_cgroup", false, BULWARK_SKELETON(connect_cgroup), attach_to_cgroup_root},
        {"monitor_file", false, BULWARK_SKELETON(monitor_file), attach_tracepoint},
        {"monitor_syscalls", false, BULWARK_SKELETON(monitor_syscalls), nullptr},
        {"monitor_process", false, load_monitor_process, nullptr},
        {"monitor_connect", false, BULWARK_SKELETON(monitor_connect), attach_to_cgroup_root},
    };
    return specs;
}

}  // namespace bulwark
