// Every BPF object bulwark can load: one row each. Add a row (and a
// bulwark_bpf() line in bpf/CMakeLists.txt) for a new object.
#include "kernel/object_registry.hpp"

#include "connect_cgroup.skel.h"
#include "enforce.skel.h"
#include "kernel/monitor_support.hpp"
#include "monitor_connect.skel.h"
#include "monitor_file.skel.h"
#include "monitor_process.skel.h"
#include "monitor_syscalls.skel.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string_view>

namespace bulwark {

namespace {

bool is_lsm(bpf_program* prog)
{
    return std::strncmp(bpf_program__section_name(prog), "lsm/", 4) == 0;
}

}  // namespace

int program_arity(const std::string& name)
{
    const auto sep = name.rfind("__");
    if (sep == std::string::npos) return -1;
    const std::string_view tail = std::string_view(name).substr(sep + 2);  // "<N>args"
    int n = 0;
    size_t digits = 0;
    for (; digits < tail.size() && digits < 2 && tail[digits] >= '0' && tail[digits] <= '9'; ++digits)
        n = n * 10 + (tail[digits] - '0');
    return digits > 0 && tail.substr(digits) == "args" ? n : -1;
}

bool program_wanted(bpf_program* prog, const ProgramOptions& options)
{
    if (!is_lsm(prog) || options.lsm_programs.empty()) return true;
    return std::find(options.lsm_programs.begin(), options.lsm_programs.end(), attach_point(prog)) !=
           options.lsm_programs.end();
}

void select_lsm_programs(bpf_object* obj, const ProgramOptions& options)
{
    BtfPtr vmlinux;  // parsed once, and only if some LSM program is wanted
    std::map<std::string, bool> by_arity;  // hooks with "__<N>args" programs: does one fit?
    bpf_program* prog;
    bpf_object__for_each_program(prog, obj)
    {
        if (!is_lsm(prog)) continue;
        if (!program_wanted(prog, options)) {
            bpf_program__set_autoload(prog, false);
            continue;
        }
        if (!vmlinux) vmlinux.reset(btf__load_vmlinux_btf());
        const std::string hook = attach_point(prog);
        const int arity = program_arity(bpf_program__name(prog));
        bool fits = lsm_hook_exists(vmlinux.get(), hook);
        if (fits && arity >= 0) {
            fits = arity == lsm_hook_arity(vmlinux.get(), hook);
            by_arity[hook] |= fits;
        }
        if (!fits) bpf_program__set_autoload(prog, false);
    }
    // The hook exists but no prototype bulwark knows: deciding nothing
    // there would fail open.
    for (const auto& [hook, fitted] : by_arity)
        if (!fitted)
            throw Error("this kernel's LSM hook " + hook + " takes " +
                            std::to_string(lsm_hook_arity(vmlinux.get(), hook)) +
                            " arguments, which no program of this bulwark reads",
                        "run a bulwark that knows this kernel's prototype of " + hook, exit_unsupported);
}

void keep_verifier_stats(LoadedObject& o, const std::string& trace)
{
    constexpr size_t kLogBytes = 16 << 10;     // the stats are a few lines
    constexpr size_t kTraceBytes = 40u << 20;  // a trace: ~1.5 KiB per instruction processed
    constexpr uint32_t kLogStats = 4;          // BPF_LOG_STATS
    constexpr uint32_t kLogLevel2 = 2;         // every path, not only the failing one
    size_t n = 0;
    bpf_program* prog;
    bpf_object__for_each_program(prog, o.obj) n += bpf_program__autoload(prog) ? 1 : 0;
    o.verifier_logs.reserve(n);  // the buffers must not move once handed out
    bpf_object__for_each_program(prog, o.obj)
    {
        if (!bpf_program__autoload(prog)) continue;
        const bool traced = attach_point(prog) == trace;
        auto& [point, log] =
            o.verifier_logs.emplace_back(attach_point(prog), std::string(traced ? kTraceBytes : kLogBytes, '\0'));
        bpf_program__set_log_buf(prog, log.data(), log.size());
        bpf_program__set_log_level(prog, traced ? kLogLevel2 | kLogStats : kLogStats);
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
        {"enforce", true, BULWARK_SKELETON(enforce), nullptr},
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
