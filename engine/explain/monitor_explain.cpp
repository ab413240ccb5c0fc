#include "explain/monitor_explain.hpp"

#include "compile/connect_compiler.hpp"
#include "explain/explain.hpp"
#include "explain/rule_text.hpp"
#include "monitor/monitor_eval.hpp"
#include "monitor/syscall_table.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <ostream>

namespace bulwark {
namespace {

bw_monitor_kind kind_of(MonitoredOp::Kind k)
{
    switch (k) {
    case MonitoredOp::Kind::open: return BW_MON_FILE;
    case MonitoredOp::Kind::exec: return BW_MON_PROCESS;
    case MonitoredOp::Kind::connect: return BW_MON_CONNECT;
    case MonitoredOp::Kind::syscall: return BW_MON_SYSCALLS;
    }
    return BW_MON_FILE;
}

std::optional<MonitorHit> ask(const MonitorEvaluator& eval, const MonitoredOp& op, uint64_t in)
{
    switch (op.kind) {
    case MonitoredOp::Kind::open: return eval.file(in, op.path);
    case MonitoredOp::Kind::exec: return eval.process(in, op.path);
    case MonitoredOp::Kind::connect: return eval.connect(in, op.addr, op.port, op.protocol);
    case MonitoredOp::Kind::syscall: return eval.syscall(in, op.subject.uid, op.nr);
    }
    return std::nullopt;
}

const char* table_of(bw_monitor_kind k)
{
    switch (k) {
    case BW_MON_FILE: return "[[monitor.file]]";
    case BW_MON_SYSCALLS: return "[[monitor.syscalls]]";
    case BW_MON_PROCESS: return "[monitor.process]";
    case BW_MON_CONNECT: return "[[monitor.connect]]";
    default: return "[monitor]";
    }
}

// Why this match reports: what it matched, in the monitor's own terms.
std::string reason(const MonitorExplanation& e, const MonitorMatch& m)
{
    switch (e.kind) {
    case BW_MON_FILE: return "watches " + m.what;
    case BW_MON_PROCESS: return "the program is not in its allowed list";
    case BW_MON_CONNECT: return "watches " + m.what;
    case BW_MON_SYSCALLS: {
        const std::string name(syscall_name(e.nr));
        std::string out = m.what + ": " + (name.empty() ? "syscall " + std::to_string(e.nr) : name) +
                          " is not in its allow list";
        if (m.action == BW_MON_REPORT) out += " (reported on its first use by each process)";
        if (m.action == BW_MON_KILL) out += " (the process is killed; the syscall still runs)";
        return out;
    }
    default: return m.what;
    }
}

// IPv4 "a.b.c.d" (or IPv4-mapped IPv6), or IPv6, inside `cidr`.
bool holds(const std::string& cidr, const std::string& addr)
{
    const auto net = parse_network(cidr);
    uint8_t bytes[16] = {};
    const bool v6 = addr.find(':') != std::string::npos;
    if (!net || inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), bytes) != 1) return false;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const uint8_t* a = bytes;
    bool a_v4 = !v6;
    if (v6 && net->v4 && std::memcmp(bytes, mapped, 12) == 0) {
        a = bytes + 12;
        a_v4 = true;
    }
    if (a_v4 != net->v4) return false;
    for (uint32_t bit = 0; bit < net->len; ++bit) {
        const uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
        if ((a[bit / 8] & mask) != (net->addr[bit / 8] & mask)) return false;
    }
    return true;
}

std::string ports_text(const std::vector<PortRange>& ports)
{
    std::string out;
    for (const auto& r : ports)
        out += (out.empty() ? " port " : ", ") +
               (r.first == r.last ? std::to_string(r.first) : std::to_string(r.first) + "-" + std::to_string(r.last));
    return out;
}

// What the rule matched, in its own words: the longest of its paths and
// prefixes naming the path, the CIDRs holding the address (and its ports);
// `key` (the map key that matched, where less specific rules are folded in)
// when the rule names it only through a symlink it resolved.
std::string own_words(const Policy& p, const SourcePos& at, const MonitoredOp& op, const std::string& key)
{
    if (op.kind == MonitoredOp::Kind::open) {
        for (const FileMonitor& m : p.monitors.files) {
            if (m.pos.line != at.line) continue;
            for (const Located& l : m.paths)
                if (l.value == op.path) return l.value;
            const Located* best = nullptr;
            for (const Located& l : m.prefixes)
                if (op.path.compare(0, l.value.size(), l.value) == 0 && (!best || l.value.size() > best->value.size()))
                    best = &l;
            if (best) return best->value;
        }
    } else if (op.kind == MonitoredOp::Kind::connect) {
        for (const ConnectMonitor& m : p.monitors.connects) {
            if (m.pos.line != at.line) continue;
            std::string cidrs;
            for (const Located& c : m.cidrs)
                if (holds(c.value, op.addr)) cidrs += (cidrs.empty() ? "" : ", ") + c.value;
            if (cidrs.empty()) break;
            if (m.protocols != proto_any) cidrs += m.protocols == proto_tcp ? " tcp" : " udp";
            return cidrs + ports_text(m.ports);
        }
    }
    return key;
}

}  // namespace

MonitoredOp monitored(const ResolvedOp& op, const TestCase& tc)
{
    MonitoredOp m;
    m.subject = op.subject;
    switch (op.op) {
    case TestOp::open:
    case TestOp::create:
    case TestOp::remove:
    case TestOp::rename:
    case TestOp::link:
    case TestOp::truncate:
    case TestOp::metadata:  // file monitors report opens; callers skip the others
        m.kind = MonitoredOp::Kind::open;
        m.path = tc.path.value;  // the name as passed: file monitors match names
        break;
    case TestOp::exec:
        m.kind = MonitoredOp::Kind::exec;
        m.path = op.canonical;  // the process monitor walks the executed file: its real path
        break;
    case TestOp::connect:
        m.kind = MonitoredOp::Kind::connect;
        m.addr = tc.addr.value;
        m.port = tc.port;
        m.protocol = tc.protocol == proto_udp ? 17 : 6;
        break;
    }
    return m;
}

MonitorExplanation explain_monitors(const std::vector<Policy>& policies, const MapImage& image,
                                    const SystemView& system, const MonitoredOp& op)
{
    MonitorExplanation e;
    e.kind = kind_of(op.kind);
    e.nr = op.nr;
    const uint64_t having = image.monitors.set.applies[e.kind];
    e.watched = having != 0;
    const MonitorEvaluator eval(image);
    // Monitors decide scope from what the process is now: bw_mon_scope
    // (bpf/trace/lib/monitor.bpf.h) reads no marks, so the history is left out.
    Subject now = op.subject;
    now.history = {};
    for (uint32_t p = 0; p < policies.size() && p < 64; ++p) {
        if (!(having & (1ull << p))) continue;
        const std::string why = scope_why(policies[p], system, now);
        auto hit = ask(eval, op, 1ull << p);
        if (!hit) {
            if (e.kind == BW_MON_PROCESS && why.empty()) e.allowing.push_back(p);
            continue;
        }
        MonitorMatch m;
        m.policy = p;
        m.rule = hit->rule;
        m.action = hit->action;
        m.in_scope = why.empty();
        m.scope_why = why;
        const std::string key =
            hit->entry < image.monitors.entries.size() ? image.monitors.entries[hit->entry].what : std::string();
        m.what = own_words(policies[p], image.monitors.rules[hit->rule].pos, op, key);
        if (m.in_scope && !e.event) e.event = e.matches.size();  // the lowest policy in scope
        e.matches.push_back(std::move(m));
    }
    return e;
}

void print(const MonitorExplanation& e, const MapImage& image, std::ostream& out)
{
    if (!e.watched) return;
    const MonitorImage& mon = image.monitors;
    auto rule_text = [&](const MonitorMatch& m) {
        return location(mon.rules[m.rule].pos) + " (" + table_of(e.kind) + " of policy " + image.policies[m.policy].name +
               ", " + monitor_action_name(m.action) + ")";
    };
    out << "\nmonitors:\n";
    if (!e.event) {
        out << "  no monitor reports it";
        if (e.kind == BW_MON_PROCESS && !e.allowing.empty()) {
            out << " (allowed by";
            for (uint32_t p : e.allowing) out << ' ' << image.policies[p].name;
            out << ')';
        }
        out << '\n';
    }
    for (size_t i = 0; i < e.matches.size(); ++i) {
        const MonitorMatch& m = e.matches[i];
        const std::string why = reason(e, m);
        if (e.event && *e.event == i) {
            out << "  reported by " << rule_text(m) << " — " << why << '\n';
        } else if (m.in_scope) {
            out << "  also matches: " << rule_text(m) << " — " << why
                << "; one event per operation names the lowest-numbered policy in scope, policy "
                << image.policies[e.matches[*e.event].policy].name << '\n';
        } else {
            out << "  not in scope: " << rule_text(m) << " would report it, but " << m.scope_why << '\n';
        }
    }
}

}  // namespace bulwark
