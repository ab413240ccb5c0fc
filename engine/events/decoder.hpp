// Ring buffer records → JSON Lines (docs/events.md). The decoder
// keeps the map image of every generation it may still see, so that a
// record names the rule of the policy set that decided it.
#pragma once

#include "bulwark/abi.h"
#include "compile/map_image.hpp"
#include "events/cgroup_names.hpp"
#include "events/event_clock.hpp"
#include "util/json.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bulwark {

struct DecodeCounters {
    uint64_t events = 0;         // records decoded
    uint64_t malformed = 0;      // records too short or of an unknown kind
};

class EventDecoder {
public:
    static constexpr size_t kKeptGenerations = 8;  // images kept, the live one included

    explicit EventDecoder(CgroupNames& cgroups) : cgroups_(cgroups) {}

    void add_generation(uint32_t generation, std::shared_ptr<const MapImage> image);
    // Appends one JSON line for the record to `out`; false if malformed.
    bool decode(const void* data, size_t size, std::string& out);
    const DecodeCounters& counters() const { return counters_; }

    // Names of bulwark's own BPF objects, by (enum bw_object_type, id), for
    // tamper events ("name"): the engine's programs, maps and links.
    void set_object_names(std::map<std::pair<uint32_t, uint32_t>, std::string> names);

    // Fields every record carries: time, pid, tid, ppid, uid, comm, exe, cgroup.
    void write_process(JsonLine& line, const bw_event_header& h);

private:
    // type, time, kind, verdict, policy, rule, then the process fields.
    void write_verdict(JsonLine& line, const bw_event_header& h);
    // File and tamper records: events/file_decoder.cpp.
    bool decode_file(const bw_file_event& e, std::string& out);
    bool decode_tamper(const bw_tamper_event& e, std::string& out);
    bool decode_exec(const bw_exec_event& e, std::string& out);
    bool decode_connect(const bw_connect_event& e, std::string& out);
    // Monitor records (type "monitor"): monitor/monitor_decoder.cpp.
    bool decode_monitor(const void* data, size_t size, std::string& out);
    // type, time, monitor, policy, rule, action, suppressed, then the process fields.
    void write_monitor(JsonLine& line, const bw_monitor_event& m);
    const MapImage* image_of(uint32_t generation) const;

    // A generation's image and the text its events repeat, made once
    // rather than per event: "file.toml:12" for each monitor rule.
    struct Generation {
        std::shared_ptr<const MapImage> image;
        std::vector<std::string> monitor_rules;
    };

    const std::string* object_name(uint32_t type, uint32_t id) const;

    CgroupNames& cgroups_;
    std::map<uint32_t, Generation> images_;
    std::map<std::pair<uint32_t, uint32_t>, std::string> object_names_;
    EventClock clock_;
    DecodeCounters counters_;
};

// The wall-clock time of a CLOCK_BOOTTIME timestamp, in ns since the epoch.
int64_t boot_to_unix_ns(uint64_t boot_ns);
const char* kind_name(uint32_t kind);      // enum bw_kind: "file", "exec", "connect", "tamper"
std::string access_name(uint32_t access);  // "read", "write", "read,write" (compile/columns.hpp)
const char* file_op_name(uint32_t op);     // enum bw_file_op: "open", "create", ...
const char* file_call_name(uint32_t call); // enum bw_file_call: "mknod", "unlink", ...
// The "reason" of a verdict decided fail-closed at entry number `entry`
// (BW_ENTRY_TOO_DEEP, _NO_MOUNT, _DISCONNECTED); nullptr for any other.
const char* fail_closed_reason(uint32_t entry);
// bw_tamper_event.mode (PTRACE_MODE_* bits): "attach" or "read"; and whose
// credentials the kernel checked: "fs" (a /proc/PID file, mostly), "real"
// (a syscall: ptrace, process_vm_readv, pidfd_getfd, kcmp), "unknown".
const char* ptrace_mode_name(uint32_t mode);
const char* ptrace_creds_name(uint32_t mode);

}  // namespace bulwark
