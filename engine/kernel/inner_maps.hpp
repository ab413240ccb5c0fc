// Installing inner maps in their outer maps (map-in-map): the one step of
// a publish whose cost does not depend on the policy's size.
#pragma once

#include "kernel/bpf_handles.hpp"

#include <cstdint>
#include <vector>

namespace bulwark {

// The inner maps of one publish, collected, then written into their outer
// maps' slot together. The kernel waits for an RCU grace period after each
// such write (maybe_wait_bpf_programs() in kernel/bpf/syscall.c: no running
// program may still see the old inner map when the call returns), a few
// milliseconds each, whatever the maps hold. install() issues the writes
// from a thread each, so the waits share grace periods: one wait for the
// publish instead of one per map (docs/decisions/002-generations.md).
class InnerMaps {
public:
    // `what`: the outer map's name, for the error.
    void add(int outer, uint32_t slot, UniqueFd inner, const char* what);

    // Writes every map added. All are attempted; then the first failure is
    // thrown. The outer maps hold the inner ones from then on.
    void install();

private:
    struct Install {
        int outer;
        uint32_t slot;
        UniqueFd inner;
        const char* what;
    };
    std::vector<Install> installs_;
};

}  // namespace bulwark
