// Pinned state (docs/decisions/008-live-engine.md, "Pins"): bulwark pins
// every map its programs share (policy slots, the live index, the ring
// buffer, stats, sticky-scope marks) under DIR/maps/ and every link under
// DIR/links/ on a bpffs directory. A bulwark that dies any way other than
// an orderly stop (SIGKILL, a crash, the OOM killer) leaves its programs
// attached and deciding from the maps as they were; the next `bulwark run`
// with the same directory adopts the maps, attaches its own programs
// beside the old ones, and only then removes the old links' pins: at no
// moment is nothing attached. An orderly stop removes the pins (and so
// detaches), unless --keep-on-exit.
#pragma once

#include "kernel/bpf_handles.hpp"
#include "kernel/shared_maps.hpp"

#include <string>
#include <vector>

namespace bulwark {

// The default --pin-dir, and the mount it needs.
inline constexpr const char* kDefaultPinDir = "/sys/fs/bpf/bulwark";
inline constexpr const char* kBpffsRoot = "/sys/fs/bpf";
bool bpffs_mounted(const std::string& path);

// A link's pin name, "PID-N-OBJECT-HOOK" (object and hook names have no
// '-'; PID the owner's tgid in the initial PID namespace), and the hook it
// names.
std::string link_pin_name(long pid, size_t n, const std::string& object_hook);
std::string hook_of_link_pin(const std::string& name);

class PinnedState {
public:
    // `dir` empty: nothing is pinned. Throws Error when `dir` (or, for a
    // directory to create, its parent) is not on a bpffs.
    explicit PinnedState(std::string dir);
    // What the constructor checks and creates (`dir`, maps/, links/), done
    // before the policies are compiled so that the compiler can protect the
    // directory (bulwark's own files); `dir` without a trailing '/'.
    static std::string prepare(std::string dir);

    bool enabled() const { return !dir_.empty(); }
    const std::string& dir() const { return dir_; }
    // What a previous bulwark left: its maps were adopted into `maps`
    // (before any object is loaded); false when there was nothing.
    bool adopt_maps(SharedMaps& maps) const;
    // After load and attach: pins the maps not pinned yet, pins `links`
    // (named "PID-N-HOOK", PID = `owner`: bulwark's tgid in the initial
    // PID namespace, unique among live processes whatever namespace each
    // bulwark ran in), then removes the pins of links this process did not
    // make — the previous bulwark's, whose programs then detach (one with
    // a name of ours, left by a dead bulwark whose pid was reused, is
    // replaced).
    void pin(const SharedMaps& maps, const std::vector<LinkPtr>& links, const std::vector<std::string>& hooks,
             long owner);
    // Orderly stop: remove every pin and the directories.
    void unpin_all() const;

private:
    std::string dir_;
};

}  // namespace bulwark
