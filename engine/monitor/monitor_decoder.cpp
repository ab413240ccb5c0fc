// Monitor records → {"type":"monitor",...} JSON lines. The common fields
// come first (time, monitor, policy, rule, action, suppressed, the process),
// then the monitor's own; a flag appears only when set.
#include "events/decoder.hpp"
#include "monitor/syscall_table.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstring>

namespace bulwark {
namespace {

std::string_view bounded(const char* s, size_t max)
{
    return std::string_view(s, strnlen(s, max));
}

// open(2) access mode as "read", "write", "read,write".
const char* open_access(uint32_t flags)
{
    switch (flags & 03) {
    case 0: return "read";
    case 1: return "write";
    default: return "read,write";
    }
}

template <typename Record>
bool copy_record(const void* data, size_t size, Record& r)
{
    if (size < sizeof(Record)) return false;
    std::memcpy(&r, data, sizeof(Record));
    return true;
}

std::string address_text(uint32_t family, const uint8_t* addr)
{
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(family == BW_MON_FAMILY_IPV4 ? AF_INET : AF_INET6, addr, buf, sizeof buf);
    return buf;
}

}  // namespace

void EventDecoder::write_monitor(JsonLine& line, const bw_monitor_event& m)
{
    const bw_event_header& h = m.h;
    auto it = images_.find(h.generation);
    static const std::string none;
    const std::string* policy = &none;
    const std::string* rule = &none;
    if (it != images_.end()) {
        const Generation& g = it->second;
        if (h.policy < g.image->policies.size()) policy = &g.image->policies[h.policy].name;
        if (m.rule < g.monitor_rules.size()) rule = &g.monitor_rules[m.rule];
    }
    line.field("type", "monitor")
        .raw("time", clock_.quoted_rfc3339(h.time_ns))
        .field("monitor", monitor_kind_name(m.monitor))
        .field("policy", *policy)
        .field("rule", *rule)
        .field("action", monitor_action_name(m.action))
        .field("suppressed", h.suppressed);
    write_process(line, h);
}

// One copy of the record (the ring buffer's memory is not ours to alias),
// sized by its kind and checked before anything is written.
bool EventDecoder::decode_monitor(const void* data, size_t size, std::string& out)
{
    uint32_t monitor = 0;
    if (size < sizeof(bw_monitor_event)) {
        ++counters_.malformed;
        return false;
    }
    std::memcpy(&monitor, static_cast<const char*>(data) + offsetof(bw_monitor_event, monitor), sizeof monitor);
    switch (monitor) {
    case BW_MON_FILE: {
        bw_mon_file_event file;
        if (!copy_record(data, size, file)) break;
        JsonLine line(out);
        write_monitor(line, file.m);
        const uint32_t flags = file.m.flags;
        const std::string_view path = bounded(file.path, sizeof(file.path));
        const std::string_view given = bounded(file.given, sizeof(file.given));
        line.field("syscall", syscall_name(file.syscall))
            .field("path", path)
            .field("access", open_access(file.open_flags));
        if (file.open_flags & 0100) line.field("create", true);  // O_CREAT
        if (given != path) line.field("given", given);
        if (flags & BW_MON_EVENT_UNRESOLVED) {
            line.field("path_unresolved", true)
                .field("reason", (flags & BW_MON_EVENT_NAME_UNREADABLE)
                                     ? "the name could not be read from the process's memory"
                                     : "the directory it is relative to could not be walked (too deep or too long)");
        }
        if (flags & BW_MON_EVENT_PATH_TRUNCATED) line.field("path_truncated", true);
        line.end();
        ++counters_.events;
        return true;
    }
    case BW_MON_SYSCALLS: {
        bw_mon_syscall_event sys;
        if (!copy_record(data, size, sys)) break;
        JsonLine line(out);
        write_monitor(line, sys.m);
        const char* abi = sys.abi == BW_ABI_IA32 ? "ia32" : sys.abi == BW_ABI_X32 ? "x32" : "x86_64";
        const std::string_view name = sys.abi == BW_ABI_X86_64 ? syscall_name(sys.nr) : std::string_view();
        line.field("syscall", name.empty() ? std::string_view("unknown") : name)
            .field("nr", sys.nr)
            .field("abi", abi);
        line.end();
        ++counters_.events;
        return true;
    }
    case BW_MON_PROCESS: {
        bw_mon_process_event proc;
        if (!copy_record(data, size, proc)) break;
        JsonLine line(out);
        write_monitor(line, proc.m);
        const uint32_t flags = proc.m.flags;
        const std::string_view path = bounded(proc.m.h.exe, sizeof(proc.m.h.exe));
        const std::string_view filename = bounded(proc.filename, sizeof(proc.filename));
        std::vector<std::string> why;
        if (flags & BW_MON_EVENT_PROGRAM) why.emplace_back("program");
        if (flags & BW_MON_EVENT_SCRIPT) why.emplace_back("script");
        line.field("path", path);
        if (flags & BW_MON_EVENT_SCRIPT || proc.script[0]) line.field("script", bounded(proc.script, sizeof(proc.script)));
        if (filename != path) line.field("filename", filename);
        line.field("parent_exe", bounded(proc.parent_exe, sizeof(proc.parent_exe))).field("not_allowed", why);
        if (flags & BW_MON_EVENT_OTHER_ROOT) line.field("other_mount_namespace", true);
        if (flags & BW_MON_EVENT_DELETED) line.field("deleted", true);
        if (flags & BW_MON_EVENT_PATH_TRUNCATED) line.field("path_truncated", true);
        line.end();
        ++counters_.events;
        return true;
    }
    case BW_MON_CONNECT: {
        bw_mon_connect_event conn;
        if (!copy_record(data, size, conn)) break;
        JsonLine line(out);
        write_monitor(line, conn.m);
        const uint32_t flags = conn.m.flags;
        line.field("addr", address_text(conn.family, conn.addr))
            .field("port", uint32_t(conn.port))
            .field("protocol", conn.protocol == 6 ? "tcp" : "udp")
            .field("family", conn.family == BW_MON_FAMILY_IPV4 ? "ipv4" : "ipv6")
            .field("call", conn.hook == BW_MON_HOOK_SENDMSG ? "sendmsg" : "connect");
        if (flags & BW_MON_EVENT_MAPPED) line.field("ipv4_mapped", true);
        line.end();
        ++counters_.events;
        return true;
    }
    default: break;
    }
    ++counters_.malformed;
    return false;
}

}  // namespace bulwark
