#include "kernel/bpf_programs.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <bpf/bpf.h>
#include <cerrno>

namespace bulwark {

std::string attach_point(bpf_program* prog)
{
    std::string section = bpf_program__section_name(prog);
    auto slash = section.find('/');
    return slash == std::string::npos ? section : section.substr(slash + 1);
}

BpfPrograms::BpfPrograms(const ProgramOptions& options, const std::vector<std::string>& objects)
{
    for (const auto& spec : object_specs()) {
        if (std::find(objects.begin(), objects.end(), spec.name) == objects.end()) continue;
        objects_.push_back(spec.load(options, maps_));
        if (!options.load_programs) continue;
        bpf_program* prog;
        bpf_object__for_each_program(prog, objects_.back()->obj)
        {
            if (!bpf_program__autoload(prog)) {
                missing_.push_back(attach_point(prog));
                continue;
            }
            LinkPtr link(spec.attach ? spec.attach(prog) : bpf_program__attach(prog));
            if (!link) {
                int err = errno;
                throw Error("cannot attach " + std::string(bpf_program__section_name(prog)) + ": " + errno_text(err));
            }
            links_.push_back(std::move(link));
            attached_.push_back(attach_point(prog));
        }
    }
}

BpfPrograms::~BpfPrograms()
{
    detach();
}

void BpfPrograms::detach()
{
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
