#include "kernel/inner_maps.hpp"

#include "util/error.hpp"
#include "util/small_thread.hpp"

#include <bpf/bpf.h>
#include <cerrno>
#include <string>

namespace bulwark {

void InnerMaps::add(int outer, uint32_t slot, UniqueFd inner, const char* what)
{
    installs_.push_back(Install{outer, slot, std::move(inner), what});
}

void InnerMaps::install()
{
    std::vector<int> errors(installs_.size(), 0);
    auto write = [&](size_t i) {
        const Install& m = installs_[i];
        const int fd = m.inner.get();
        if (bpf_map_update_elem(m.outer, &m.slot, &fd, BPF_ANY) != 0) errors[i] = errno;
    };
    {
        // Small stacks: a bpf(2) call needs little, and an 8 MiB stack can
        // cost a 2 MiB huge page each (util/small_thread.hpp).
        std::vector<SmallThread> threads;
        threads.reserve(installs_.size());
        for (size_t i = 1; i < installs_.size(); ++i) {
            auto t = SmallThread::start_or_run([&write, i] { write(i); }, 64 * 1024);
            if (t) threads.push_back(std::move(*t));
        }
        if (!installs_.empty()) write(0);
    }  // joined
    for (size_t i = 0; i < installs_.size(); ++i)
        if (errors[i] != 0)
            throw Error(std::string("cannot install ") + installs_[i].what + " in slot " +
                        std::to_string(installs_[i].slot) + ": " + errno_text(errors[i]));
}

}  // namespace bulwark
