// The maps every BPF object shares, by name: created by the first object
// loaded, reused by the others (bpf_map__reuse_fd) so that all hooks read
// one policy set, write one ring buffer and count in one stats map.
#pragma once

#include "kernel/bpf_handles.hpp"

#include <map>
#include <string>
#include <vector>

namespace bulwark {

class SharedMaps {
public:
    // Before load: point every map the registry already holds at its fd.
    void reuse_in(bpf_object* obj) const;
    // After load: take (a dup of) every named map the object created.
    void adopt_from(bpf_object* obj);

    // A map from elsewhere (a pin), used by every object loaded after.
    void adopt(const std::string& name, UniqueFd fd) { fds_[name] = std::move(fd); }
    std::vector<std::string> names() const;

    int fd(const std::string& name) const;  // throws Error when unknown
    bool has(const std::string& name) const { return fds_.count(name) > 0; }

private:
    std::map<std::string, UniqueFd> fds_;
};

// Internal maps (.rodata, .bss, …) belong to one object; named maps are shared.
bool is_shared_map(const char* name);

}  // namespace bulwark
