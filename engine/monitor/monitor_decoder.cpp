// Monitor records → {"type":"monitor",...} JSON lines. The common fields
// come first (time, monitor, policy, rule, action, suppressed, the process),
// then the monitor's own; a flag appears only when set.
#include "events/decoder.hpp"
#include "monitor/syscall_table.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

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

bool EventDecoder::decode_monitor(const void* data, size_t size, std::string& out)
{
    bw_monitor_event m;
    if (!copy_record(data, size, m)) {
        ++counters_.malformed;
        return false;
    }
    const bw_event_header& h = m.h;

    // Check the record's own size before writing anything.
    bw_mon_file_event file;
    bw_mon_syscall_event sys;
    bw_mon_process_event proc;
    bw_mon_connect_event conn;
    bool ok = false;
    switch (m.monitor) {
    case BW_MON_FILE: ok = copy_record(data, size, file); break;
    case BW_MON_SYSCALLS: ok = copy_record(data, size, sys); break;
    case BW_MON_PROCESS: ok = copy_record(data, size, proc); break;
    case BW_MON_CONNECT: ok = copy_record(data, size, conn); break;
    default: break;
    }
    if (!ok) {
        ++counters_.malformed;
        return false;
    }

    const MapImage* image = image_of(h.generation);
    std::string policy, rule;
    if (image && h.policy < image->policies.size()) policy = image->policies[h.policy].name;
    if (image) rule = image->monitors.rule_location(m.rule);

    JsonLine line(out);
    line.field("type", "monitor")
        .field("time", rfc3339_utc(boot_to_unix_ns(h.time_ns)))
        .field("monitor", monitor_kind_name(m.monitor))
        .field("policy", policy)
        .field("rule", rule)
        .field("action", monitor_action_name(m.action))
        .field("suppressed", h.suppressed);
    write_process(line, h);

    switch (m.monitor) {
    case BW_MON_FILE: {
        const std::string_view path = bounded(file.path, sizeof(file.path));
        const std::string_view given = bounded(file.given, sizeof(file.given));
        line.field("syscall", syscall_name(file.syscall))
            .field("path", path)
            .field("access", open_access(file.open_flags));
        if (file.open_flags & 0100) line.field("create", true);  // O_CREAT
        if (given != path) line.field("given", given);
        if (m.flags & BW_MON_EVENT_UNRESOLVED) {
            line.field("path_unresolved", true)
                .field("reason", (m.flags & BW_MON_EVENT_NAME_UNREADABLE)
                                     ? "the name could not be read from the process's memory"
                                     : "the directory it is relative to could not be walked (too deep or too long)");
        }
        if (m.flags & BW_MON_EVENT_PATH_TRUNCATED) line.field("path_truncated", true);
        break;
    }
    case BW_MON_SYSCALLS: {
        const char* abi = sys.abi == BW_ABI_IA32 ? "ia32" : sys.abi == BW_ABI_X32 ? "x32" : "x86_64";
        const std::string_view name = sys.abi == BW_ABI_X86_64 ? syscall_name(sys.nr) : std::string_view();
        line.field("syscall", name.empty() ? std::string_view("unknown") : name)
            .field("nr", sys.nr)
            .field("abi", abi);
        break;
    }
    case BW_MON_PROCESS: {
        const std::string_view path = bounded(h.exe, sizeof(h.exe));
        const std::string_view filename = bounded(proc.filename, sizeof(proc.filename));
        std::vector<std::string> why;
        if (m.flags & BW_MON_EVENT_PROGRAM) why.emplace_back("program");
        if (m.flags & BW_MON_EVENT_SCRIPT) why.emplace_back("script");
        line.field("path", path);
        if (m.flags & BW_MON_EVENT_SCRIPT || proc.script[0]) line.field("script", bounded(proc.script, sizeof(proc.script)));
        if (filename != path) line.field("filename", filename);
        line.field("parent_exe", bounded(proc.parent_exe, sizeof(proc.parent_exe))).field("not_allowed", why);
        if (m.flags & BW_MON_EVENT_OTHER_ROOT) line.field("other_mount_namespace", true);
        if (m.flags & BW_MON_EVENT_DELETED) line.field("deleted", true);
        if (m.flags & BW_MON_EVENT_PATH_TRUNCATED) line.field("path_truncated", true);
        break;
    }
    case BW_MON_CONNECT: {
        line.field("addr", address_text(conn.family, conn.addr))
            .field("port", uint32_t(conn.port))
            .field("protocol", conn.protocol == 6 ? "tcp" : "udp")
            .field("family", conn.family == BW_MON_FAMILY_IPV4 ? "ipv4" : "ipv6")
            .field("call", conn.hook == BW_MON_HOOK_SENDMSG ? "sendmsg" : "connect");
        if (m.flags & BW_MON_EVENT_MAPPED) line.field("ipv4_mapped", true);
        break;
    }
    default: break;
    }
    line.end();
    ++counters_.events;
    return true;
}

}  // namespace bulwark
