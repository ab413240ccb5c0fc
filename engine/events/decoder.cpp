#include "events/decoder.hpp"

#include "compile/evaluator.hpp"

#include <arpa/inet.h>
#include <cstddef>
#include <cstring>
#include <sys/socket.h>
#include <ctime>

namespace bulwark {
namespace {

std::string_view bounded(const char* s, size_t max)
{
    return std::string_view(s, strnlen(s, max));
}

int64_t clock_ns(clockid_t id)
{
    timespec ts{};
    clock_gettime(id, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

int64_t boot_to_unix_ns(uint64_t boot_ns)
{
    return clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME) + static_cast<int64_t>(boot_ns);
}

const char* kind_name(uint32_t kind)
{
    switch (kind) {
    case BW_KIND_FILE: return "file";
    case BW_KIND_EXEC: return "exec";
    case BW_KIND_CONNECT: return "connect";
    case BW_KIND_TAMPER: return "tamper";
    default: return "unknown";
    }
}

std::string access_name(uint32_t access)
{
    return access_names(access);
}

void EventDecoder::add_generation(uint32_t generation, std::shared_ptr<const MapImage> image)
{
    Generation g;
    for (uint32_t r = 0; r < image->monitors.rules.size(); ++r)
        g.monitor_rules.push_back(image->monitors.rule_location(r));
    g.image = std::move(image);
    images_[generation] = std::move(g);
    // Records wait in the ring buffer while the sink is slow, and reloads
    // may come in quick succession (a control socket loop): the images of
    // the last kKeptGenerations stay, so their records still name their rule.
    while (images_.size() > kKeptGenerations) images_.erase(images_.begin());
}

const MapImage* EventDecoder::image_of(uint32_t generation) const
{
    auto it = images_.find(generation);
    return it == images_.end() ? nullptr : it->second.image.get();
}

void EventDecoder::write_process(JsonLine& line, const bw_event_header& h)
{
    line.field("pid", h.pid)
        .field("tid", h.tid)
        .field("ppid", h.ppid)
        .field("uid", h.uid)
        .field("comm", bounded(h.comm, sizeof(h.comm)))
        .field("exe", bounded(h.exe, sizeof(h.exe)))
        .field("cgroup", cgroups_.name_of(h.cgroup_id));
}

bool EventDecoder::decode(const void* data, size_t size, std::string& out)
{
    if (size < sizeof(bw_event_header)) {
        ++counters_.malformed;
        return false;
    }
    // The kind alone: each record is copied once, whole, by its decoder
    // (a header carries a 512-byte path; copying it twice was a fifth of the cost).
    uint32_t kind = 0;
    std::memcpy(&kind, static_cast<const char*>(data) + offsetof(bw_event_header, kind), sizeof kind);
    if (kind == BW_KIND_MONITOR) return decode_monitor(data, size, out);
    if (kind == BW_KIND_FILE && size >= sizeof(bw_file_event)) {
        bw_file_event e;
        std::memcpy(&e, data, sizeof(e));
        return decode_file(e, out);
    }
    if (kind == BW_KIND_EXEC && size >= sizeof(bw_exec_event)) {
        bw_exec_event e;
        std::memcpy(&e, data, sizeof(e));
        return decode_exec(e, out);
    }
    if (kind == BW_KIND_CONNECT && size >= sizeof(bw_connect_event)) {
        bw_connect_event e;
        std::memcpy(&e, data, sizeof(e));
        return decode_connect(e, out);
    }
    if (kind == BW_KIND_TAMPER && size >= sizeof(bw_tamper_event)) {
        bw_tamper_event e;
        std::memcpy(&e, data, sizeof(e));
        return decode_tamper(e, out);
    }
    ++counters_.malformed;
    return false;
}

void EventDecoder::write_verdict(JsonLine& line, const bw_event_header& h)
{
    auto it = images_.find(h.generation);
    const MapImage* image = it == images_.end() ? nullptr : it->second.image.get();
    std::string policy, rule;
    if (image && h.policy < image->policies.size()) {
        policy = image->policies[h.policy].name;
        rule = image->rule_location(h.entry, h.policy, h.column);
    }
    line.field("type", "verdict")
        .raw("time", clock_.quoted_rfc3339(h.time_ns))
        .field("kind", kind_name(h.kind))
        .field("verdict", to_string(static_cast<bw_verdict>(h.verdict)))
        .field("policy", policy)
        .field("rule", rule);
    write_process(line, h);
}

bool EventDecoder::decode_exec(const bw_exec_event& e, std::string& out)
{
    const auto& h = e.h;
    JsonLine line(out);
    write_verdict(line, h);
    line.field("path", bounded(e.path, sizeof(e.path)));
    const std::string_view via = bounded(e.via, sizeof(e.via));
    switch (e.route) {
    case BW_ROUTE_INTERPRETER:
        line.field("route", "interpreter").field("script", via);
        break;
    case BW_ROUTE_MAP:
        line.field("route", "loader").field("loader", via);
        break;
    default:
        line.field("route", "exec");
        break;
    }
    if (h.flags & BW_EVENT_FILELESS) line.field("fileless", true);
    if (h.flags & BW_EVENT_PATH_NAME_ONLY) line.field("path_name_only", true);
    if (const char* why = fail_closed_reason(h.entry)) line.field("reason", why);
    if (h.flags & BW_EVENT_PATH_TRUNCATED) line.field("path_truncated", true);
    line.end();
    ++counters_.events;
    return true;
}

bool EventDecoder::decode_connect(const bw_connect_event& e, std::string& out)
{
    const auto& h = e.h;
    const bool v6 = e.family == AF_INET6;
    char addr[INET6_ADDRSTRLEN] = {};
    inet_ntop(v6 ? AF_INET6 : AF_INET, e.addr, addr, sizeof(addr));
    JsonLine line(out);
    write_verdict(line, h);
    line.field("addr", addr)
        .field("port", uint32_t(e.port))
        .field("protocol", e.protocol == BW_PROTO_TCP ? "tcp" : e.protocol == BW_PROTO_UDP ? "udp" : "other")
        .field("family", v6 ? "inet6" : "inet")
        .field("call", e.call == BW_CALL_SENDMSG ? "sendmsg" : "connect");
    line.end();
    ++counters_.events;
    return true;
}

}  // namespace bulwark
