// File records (kind "file": every operation on a path, docs/events.md)
// and tamper records (kind "tamper": attempts on bulwark itself) → JSON.
#include "events/decoder.hpp"

#include <cstring>
#include <string.h>

namespace bulwark {
namespace {

std::string_view bounded(const char* s, size_t max)
{
    return std::string_view(s, strnlen(s, max));
}

// Operations with a second end: rename, link, and move_mount of an
// attached mount (`path` the mount moved, `target` where it goes; a
// detached mount's move has only `path`, where it is attached).
bool has_target(uint32_t op, uint32_t call, const char* target)
{
    return op == BW_OP_RENAME || op == BW_OP_LINK || (call == BW_FCALL_MOVE_MOUNT && target[0]);
}

}  // namespace

const char* file_op_name(uint32_t op)
{
    static const char* names[] = {"open", "create", "delete", "rename", "link", "truncate", "metadata", "mount"};
    static_assert(sizeof(names) / sizeof(names[0]) == BW_OP_MOUNT + 1);
    return op < sizeof(names) / sizeof(names[0]) ? names[op] : "unknown";
}

const char* file_call_name(uint32_t call)
{
    static const char* names[] = {"open",   "mknod",  "mkdir",    "symlink", "unlink",   "rmdir",
                                  "rename", "exchange", "link",   "truncate", "chmod",   "chown",
                                  "setxattr", "removexattr", "utimes", "mount", "move_mount", "umount"};
    static_assert(sizeof(names) / sizeof(names[0]) == BW_NR_FCALLS);
    return call < BW_NR_FCALLS ? names[call] : "unknown";
}

const char* fail_closed_reason(uint32_t entry)
{
    switch (entry) {
    case BW_ENTRY_TOO_DEEP: return "path deeper than the walk limit (fail-closed)";
    case BW_ENTRY_NO_MOUNT: return "its filesystem is mounted more often than bulwark follows (fail-closed)";
    case BW_ENTRY_DISCONNECTED: return "opened by a file handle, with no path to its mount's root (fail-closed)";
    default: return nullptr;
    }
}

const char* bpf_call_name(uint32_t cmd)
{
    switch (cmd) {
    case BW_BPF_PROG_LOAD: return "prog-load";
    case BW_BPF_OBJ_GET: return "obj-get";
    case BW_BPF_PROG_GET_FD_BY_ID: return "prog-get-fd-by-id";
    case BW_BPF_MAP_GET_FD_BY_ID: return "map-get-fd-by-id";
    case BW_BPF_LINK_UPDATE: return "link-update";
    case BW_BPF_LINK_GET_FD_BY_ID: return "link-get-fd-by-id";
    case BW_BPF_LINK_DETACH: return "link-detach";
    default: return "fd";        // bpf_map / bpf_prog hooks: an fd about to be made
    }
}

const char* ptrace_mode_name(uint32_t mode)
{
    return (mode & 0x2u) ? "attach" : "read";  // PTRACE_MODE_ATTACH, else PTRACE_MODE_READ
}

const char* ptrace_creds_name(uint32_t mode)
{
    if (mode & 0x8u) return "fs";    // PTRACE_MODE_FSCREDS: mostly /proc/PID files
    if (mode & 0x10u) return "real"; // PTRACE_MODE_REALCREDS: ptrace(2), process_vm_*, pidfd_getfd, kcmp
    return "unknown";
}

const char* object_type_name(uint32_t type)
{
    switch (type) {
    case BW_OBJ_PROG: return "program";
    case BW_OBJ_MAP: return "map";
    case BW_OBJ_LINK: return "link";
    default: return "unknown";
    }
}

bool EventDecoder::decode_file(const bw_file_event& e, std::string& out)
{
    const auto& h = e.h;
    JsonLine line(out);
    write_verdict(line, h);
    line.field("op", file_op_name(e.op));
    if (e.op != BW_OP_OPEN) line.field("call", file_call_name(e.call));
    line.field("path", bounded(e.path, sizeof(e.path))).field("access", access_name(e.access));
    if (has_target(e.op, e.call, e.target)) line.field("target", bounded(e.target, sizeof(e.target)));
    if (h.flags & BW_EVENT_REFER)
        line.field("reason", "the file would leave a denial behind (a rule at its old name, none at its new one)");
    if (const char* why = fail_closed_reason(h.entry)) line.field("reason", why);
    if (h.flags & BW_EVENT_PATH_TRUNCATED) line.field("path_truncated", true);
    if (h.flags & BW_EVENT_TARGET_TRUNCATED) line.field("target_truncated", true);
    line.end();
    ++counters_.events;
    return true;
}

bool EventDecoder::decode_tamper(const bw_tamper_event& e, std::string& out)
{
    const auto& h = e.h;
    JsonLine line(out);
    write_verdict(line, h);
    switch (e.op) {
    case BW_TAMPER_SIGNAL: {
        // The number as the kernel has it, and its name where it has one
        // (real-time signals have none: SIGRTMIN+n is libc's numbering).
        const char* abbrev = sigabbrev_np(static_cast<int>(e.signal));
        line.field("op", "signal").field("object", "process").field("target_pid", e.target_pid);
        line.field("signal", e.signal);
        if (abbrev) line.field("signal_name", "SIG" + std::string(abbrev));
        break;
    }
    case BW_TAMPER_PTRACE:
        line.field("op", "ptrace")
            .field("object", "process")
            .field("target_pid", e.target_pid)
            .field("mode", ptrace_mode_name(e.mode))
            .field("creds", ptrace_creds_name(e.mode));
        break;
    case BW_TAMPER_BPF:
    case BW_TAMPER_BPF_LOAD: {
        line.field("op", e.op == BW_TAMPER_BPF ? "bpf" : "bpf-load").field("call", bpf_call_name(e.call));
        if (e.op == BW_TAMPER_BPF) {
            line.field("object", object_type_name(e.object_type)).field("id", e.object_id);
            line.field("target_pid", e.target_pid);  // the bulwark whose programs decided
            if (const std::string* name = object_name(e.object_type, e.object_id)) line.field("name", *name);
        }
        break;
    }
    case BW_TAMPER_FILE: {
        const MapImage* image = image_of(h.generation);
        std::string what = "file";
        if (image && h.entry < image->entries.size() && !image->entries[h.entry].protected_as.empty())
            what = image->entries[h.entry].protected_as;
        line.field("op", file_op_name(e.file_op))
            .field("call", file_call_name(e.call))
            .field("object", what)
            .field("path", bounded(e.path, sizeof(e.path)));
        if (has_target(e.file_op, e.call, e.target))
            line.field("target", bounded(e.target, sizeof(e.target)));
        break;
    }
    default:
        line.field("op", "unknown");
        break;
    }
    line.end();
    ++counters_.events;
    return true;
}

void EventDecoder::set_object_names(std::map<std::pair<uint32_t, uint32_t>, std::string> names)
{
    object_names_ = std::move(names);
}

const std::string* EventDecoder::object_name(uint32_t type, uint32_t id) const
{
    auto it = object_names_.find({type, id});
    return it == object_names_.end() ? nullptr : &it->second;
}

}  // namespace bulwark
