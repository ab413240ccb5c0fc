#include "kernel/shared_maps.hpp"

#include "util/error.hpp"

#include <cstring>
#include <fcntl.h>

namespace bulwark {

bool is_shared_map(const char* name)
{
    return name != nullptr && std::strchr(name, '.') == nullptr;
}

void SharedMaps::reuse_in(bpf_object* obj) const
{
    bpf_map* map;
    bpf_object__for_each_map(map, obj)
    {
        const char* name = bpf_map__name(map);
        if (!is_shared_map(name)) continue;
        auto it = fds_.find(name);
        if (it == fds_.end()) continue;
        if (int err = bpf_map__reuse_fd(map, it->second.get()); err != 0)
            throw Error(std::string("cannot share map ") + name + ": " + errno_text(err),
                        "a pinned map that does not fit is another version's: stop that bulwark (bulwark stop), "
                        "or remove its --pin-dir");
    }
}

void SharedMaps::adopt_from(bpf_object* obj)
{
    bpf_map* map;
    bpf_object__for_each_map(map, obj)
    {
        const char* name = bpf_map__name(map);
        if (!is_shared_map(name) || fds_.count(name)) continue;
        int fd = ::fcntl(bpf_map__fd(map), F_DUPFD_CLOEXEC, 3);
        if (fd < 0) throw Error(std::string("cannot keep map ") + name + ": " + errno_text(errno));
        fds_.emplace(name, UniqueFd(fd));
    }
}

std::vector<std::string> SharedMaps::names() const
{
    std::vector<std::string> out;
    for (const auto& [name, fd] : fds_) out.push_back(name);
    return out;
}

int SharedMaps::fd(const std::string& name) const
{
    auto it = fds_.find(name);
    if (it == fds_.end()) throw Error("internal: map " + name + " was not created by any BPF object");
    return it->second.get();
}

}  // namespace bulwark
