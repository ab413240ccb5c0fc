// bulwark's own BPF objects, by id, in the bulwark_objects map
// (bpf/lsm/self_protect.bpf.c): a process in a tamper scope gets no fd of
// any of them through bpf(2) and cannot detach or replace its links
// (docs/decisions/011-self-protection.md, "bpf(2)").
#pragma once

#include "bulwark/own_objects_abi.h"

#include <cstddef>
#include <cstdint>

namespace bulwark {

// From now on, objects are registered in the bulwark_objects map `fd`
// (borrowed: it must outlive every call below); -1: nowhere (no enforce
// object loaded). The owner is this process: its executable and parent.
void set_own_objects_map(int fd);

// Registers the object open as `fd` (a program, map or link of bulwark's)
// under its id. Quietly does nothing without a map; throws Error when the
// object's id cannot be read or the map is full.
void own_object(bw_object_type type, int fd);

// Removes the entries of objects that no longer exist — the inner maps of
// generations two publishes back, a previous bulwark's programs and links
// after a takeover — and returns how many. Safe because the kernel gives
// ids cyclically: a freed id is not another object's until the 31-bit
// space wraps. Without pruning the map fills after a few hundred reloads.
size_t prune_own_objects();

}  // namespace bulwark
