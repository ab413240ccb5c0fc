#include "kernel/bpf_programs.hpp"

#include "kernel/object_registry.hpp"
#include "kernel/own_objects.hpp"

#include "bulwark/abi.h"
#include "util/error.hpp"

#include <algorithm>
#include <iostream>
#include <bpf/bpf.h>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace bulwark {

std::string attach_point(bpf_program* prog)
{
    std::string section = bpf_program__section_name(prog);
    auto slash = section.find('/');
    return slash == std::string::npos ? section : section.substr(slash + 1);
}

namespace {

// "processed 1234 insns (limit ...", "verification time 56 usec"
uint64_t stat_after(const std::string& log, const char* label)
{
    auto at = log.rfind(label);  // the statistics end the log
    if (at == std::string::npos) return 0;
    return std::strtoull(log.c_str() + at + std::strlen(label), nullptr, 10);
}

ObjectLoadStats load_stats_of(const LoadedObject& o, double seconds)
{
    ObjectLoadStats s{o.name, seconds, {}};
    for (const auto& [point, log] : o.verifier_logs)
        s.programs.push_back({point, stat_after(log, "processed "), stat_after(log, "verification time "),
                              std::string(log.c_str())});
    return s;
}

}  // namespace

BpfPrograms::BpfPrograms(const ProgramOptions& options, const std::vector<std::string>& objects)
    : pins_(options.pin_dir), keep_on_exit_(options.keep_on_exit)
{
    if (pins_.adopt_maps(maps_) && maps_.has("live_slot")) {
        bw_live live{};
        const uint32_t zero = 0;
        if (bpf_map_lookup_elem(maps_.fd("live_slot"), &zero, &live) == 0) taken_over_ = live.generation;
    }
    std::vector<std::string> hooks;
    for (const auto& spec : object_specs()) {
        if (std::find(objects.begin(), objects.end(), spec.name) == objects.end()) continue;
        const auto t0 = std::chrono::steady_clock::now();
        objects_.push_back(spec.load(options, maps_));
        load_stats_.push_back(load_stats_of(
            *objects_.back(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
        if (!options.load_programs) continue;
        bpf_program* prog;
        bpf_object__for_each_program(prog, objects_.back()->obj)
        {
            if (!bpf_program__autoload(prog)) {
                const std::string point = attach_point(prog);
                if (program_wanted(prog, options) &&
                    std::find(missing_.begin(), missing_.end(), point) == missing_.end())
                    missing_.push_back(point);
                continue;
            }
            LinkPtr link(spec.attach ? spec.attach(prog) : bpf_program__attach(prog));
            if (!link) {
                int err = errno;
                throw Error("cannot attach " + std::string(bpf_program__section_name(prog)) + ": " + errno_text(err));
            }
            links_.push_back(std::move(link));
            attached_.push_back(attach_point(prog));
            hooks.push_back(spec.name + "-" + attach_point(prog));
        }
    }
    // A hook with one program per prototype (select_lsm_programs) leaves
    // the others unloaded: it is missing only if none of them attached.
    std::erase_if(missing_, [this](const std::string& hook) {
        return std::find(attached_.begin(), attached_.end(), hook) != attached_.end();
    });
    // bulwark's own objects, for self-protection (bpf/lsm/self_protect.bpf.c):
    // registered before the previous bulwark's links go, so that nothing of
    // the new one is unprotected while the old one's pins are removed.
    if (options.load_programs && maps_.has("bulwark_objects")) {
        set_own_objects_map(maps_.fd("bulwark_objects"));
        for (const auto& o : objects_) {
            bpf_program* prog;
            bpf_object__for_each_program(prog, o->obj) own_object(BW_OBJ_PROG, bpf_program__fd(prog));
            bpf_map* map;
            bpf_object__for_each_map(map, o->obj) own_object(BW_OBJ_MAP, bpf_map__fd(map));
        }
        for (const auto& name : maps_.names()) own_object(BW_OBJ_MAP, maps_.fd(name));
        for (const auto& link : links_) own_object(BW_OBJ_LINK, bpf_link__fd(link.get()));
    }
    // Every program attached: now the previous bulwark's may detach.
    // Then forget the previous bulwark's programs and links, gone now.
    if (options.load_programs) {
        pins_.pin(maps_, links_, hooks, options.self_tgid ? static_cast<long>(options.self_tgid) : ::getpid());
        prune_own_objects();
    }
}

namespace {

ProgramOptions with_programs(ProgramOptions options, const RunPlan& plan)
{
    options.lsm_programs = plan.programs;
    return options;
}

}  // namespace

BpfPrograms::BpfPrograms(const ProgramOptions& options, const RunPlan& plan)
    : BpfPrograms(with_programs(options, plan), plan.objects)
{
}

BpfPrograms::~BpfPrograms()
{
    if (taken_over_ && !serving_ && pins_.enabled() && !links_.empty()) {
        std::cerr << "bulwark: the programs taken over stay attached and pinned in " << pins_.dir()
                  << ", enforcing generation " << taken_over_
                  << " as before: fix the error and start bulwark again (it takes over), or remove " << pins_.dir()
                  << " to end enforcement\n";
        keep_on_exit_ = true;
    }
    detach();
    set_own_objects_map(-1);
}

void BpfPrograms::detach()
{
    if (links_.empty()) return;
    // Closing a pinned link's fd leaves it attached; removing the pins
    // first makes closing it detach.
    if (!keep_on_exit_) pins_.unpin_all();
    links_.clear();
}

std::vector<BpfPrograms::RunStats> BpfPrograms::run_stats() const
{
    std::vector<RunStats> out;
    for (const auto& o : objects_) {
        bpf_program* prog;
        bpf_object__for_each_program(prog, o->obj)
        {
            const int fd = bpf_program__fd(prog);
            if (fd < 0) continue;  // not loaded (hook missing)
            bpf_prog_info info{};
            __u32 len = sizeof(info);
            if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) continue;
            out.push_back(RunStats{attach_point(prog), info.run_time_ns, info.run_cnt});
        }
    }
    return out;
}

}  // namespace bulwark
