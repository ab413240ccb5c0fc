#include "monitor/monitor_compiler.hpp"

#include "policy/value_checks.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <set>

namespace bulwark {

std::vector<std::pair<uint16_t, uint8_t>> port_blocks(uint32_t first, uint32_t last)
{
    std::vector<std::pair<uint16_t, uint8_t>> out;
    uint32_t a = first;
    while (a <= last) {
        // The largest aligned block starting at `a` that ends by `last`.
        uint32_t bits = 0;  // host bits of the block
        while (bits < 16 && (a & ((2u << bits) - 1)) == 0 && a + (2u << bits) - 1 <= last) ++bits;
        out.emplace_back(static_cast<uint16_t>(a), static_cast<uint8_t>(16 - bits));
        a += 1u << bits;
    }
    return out;
}

namespace {

struct RuleRef {
    uint32_t policy = 0;
    uint32_t rule = 0;
};

// A path trie before folding: key string ("/etc/passwd", "/etc/ssh/") →
// the rules naming it, in file order.
using PathRules = std::map<std::string, std::vector<RuleRef>>;

// A [[monitor.connect]] CIDR, parsed and masked.
struct NetRule {
    uint32_t family = 0;          // BW_MON_FAMILY_*
    std::array<uint8_t, 16> addr{};
    uint32_t len = 0;
    const ConnectMonitor* monitor = nullptr;
    RuleRef ref;
};

bool prefix_equal(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, uint32_t bits)
{
    for (uint32_t i = 0; i < bits; ++i) {
        const uint8_t mask = static_cast<uint8_t>(0x80u >> (i % 8));
        if ((a[i / 8] & mask) != (b[i / 8] & mask)) return false;
    }
    return true;
}

std::string cidr_text(const NetRule& n)
{
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(n.family == BW_MON_FAMILY_IPV4 ? AF_INET : AF_INET6, n.addr.data(), buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(n.len);
}

class MonitorCompiler {
public:
    MonitorCompiler(const std::vector<Policy>& policies, const SystemView& system, const CompileOptions& options,
                    MapImage& image, Diagnostics& diags)
        : policies_(policies), system_(system), options_(options), image_(image), mon_(image.monitors), diags_(diags)
    {
        mon_.entries.push_back({BW_MON_PROCESS, "[monitor.process]"});
        mon_.entries.push_back({BW_MON_FILE, "(path not resolved)"});
    }

    void run()
    {
        for (size_t i = 0; i < policies_.size(); ++i) add_policy(static_cast<uint32_t>(i), policies_[i]);
        if (mon_.rules.size() > BW_MON_MAX_RULES) {
            diags_.error(mon_.rules[BW_MON_MAX_RULES].pos, "more than " + std::to_string(BW_MON_MAX_RULES) +
                                                               " monitor tables in one policy set; merge some");
            return;
        }
        fold_paths(file_rules_, mon_.file_paths, BW_MON_FILE, true);
        fold_paths(process_rules_, mon_.process_allowed, BW_MON_PROCESS, false);
        compile_syscalls();
        compile_connects();
        mon_.set.rules = static_cast<uint32_t>(mon_.rules.size());
        mon_.set.generation = options_.generation;
        check_capacity(mon_.file_paths.size(), "file paths");
        check_capacity(mon_.process_allowed.size(), "allowed programs");
        check_capacity(mon_.connect_ports.size(), "connect port blocks");
        check_capacity(mon_.syscall_allowed.size(), "allowed (uid, syscall) pairs");
    }

private:
    uint32_t add_rule(uint32_t policy, bw_monitor_kind kind, bw_mon_action action, uint32_t rate, const SourcePos& pos)
    {
        const auto index = static_cast<uint32_t>(mon_.rules.size());
        mon_.rules.push_back({policy, kind, action, rate, pos});
        bw_mon_rule_cfg cfg{};
        cfg.interval_ns = 1000000000ull / rate;
        cfg.burst_ns = cfg.interval_ns * (rate - 1);
        cfg.kind = kind;
        cfg.action = action;
        mon_.rule_cfg.push_back(cfg);
        mon_.set.applies[kind] |= 1ull << policy;
        return index;
    }

    uint32_t add_entry(bw_monitor_kind kind, std::string what)
    {
        mon_.entries.push_back({kind, std::move(what)});
        return static_cast<uint32_t>(mon_.entries.size() - 1);
    }

    void ref(uint32_t entry, uint32_t policy, uint32_t rule) { mon_.rule_refs.push_back({{entry, policy}, rule}); }

    void check_capacity(size_t n, const char* what)
    {
        if (n > BW_MON_MAX_KEYS) {
            diags_.error(policies_.empty() ? SourcePos{} : policies_.back().pos,
                         "the monitors need " + std::to_string(n) + " " + what + ", more than a monitor map holds (" +
                             std::to_string(BW_MON_MAX_KEYS) + "); use prefixes or split the policy set");
        }
    }

    // A path as written, and where it resolves when a symlink is on the way:
    // a process may name either, so both are keys.
    void add_path(PathRules& rules, const Located& path, RuleRef r)
    {
        rules[path.value].push_back(r);
        const bool prefix = path.value.back() == '/';
        const std::string bare = prefix && path.value.size() > 1 ? path.value.substr(0, path.value.size() - 1)
                                                                 : path.value;
        auto canonical = system_.canonical(bare);
        if (!canonical || *canonical == bare) return;
        if (prefix) {
            auto id = system_.identify(*canonical);
            if (!id || !id->is_dir) return;
        }
        std::string also = prefix && *canonical != "/" ? *canonical + "/" : *canonical;
        const size_t bytes = prefix ? also.size() : also.size() + 1;
        if (bytes > BW_MON_PATH_KEY) {
            diags_.warning(path.pos, path.value + " resolves to " + also + ", too long for a monitor key; only " +
                                         path.value + " itself is watched");
            return;
        }
        diags_.note(path.pos, path.value + " resolves to " + also + " (through a symlink); both are watched");
        rules[also].push_back(r);
    }

    void add_policy(uint32_t index, const Policy& p)
    {
        const bool audit = image_.policies.size() > index ? image_.policies[index].mode == Mode::audit
                                                          : (options_.global_audit || p.mode == Mode::audit);
        bool first_file = true;
        for (const FileMonitor& m : p.monitors.files) {
            const uint32_t rule = add_rule(index, BW_MON_FILE, BW_MON_REPORT, m.rate_limit, m.pos);
            if (first_file) ref(BW_MON_ENTRY_UNRESOLVED, index, rule);  // unresolved paths report here
            first_file = false;
            for (const auto* list : {&m.paths, &m.prefixes})
                for (const Located& path : *list) add_path(file_rules_, path, {index, rule});
        }
        for (const SyscallMonitor& m : p.monitors.syscalls) {
            const bw_mon_action action = m.action == SyscallAction::audit ? BW_MON_REPORT
                                         : audit                           ? BW_MON_WOULD_KILL
                                                                           : BW_MON_KILL;
            const uint32_t rule = add_rule(index, BW_MON_SYSCALLS, action, m.rate_limit, m.pos);
            syscall_monitors_.push_back({&m, {index, rule}});
        }
        if (p.monitors.process) {
            const ProcessMonitor& m = *p.monitors.process;
            const uint32_t rule = add_rule(index, BW_MON_PROCESS, BW_MON_REPORT, m.rate_limit, m.pos);
            ref(BW_MON_ENTRY_PROCESS, index, rule);
            for (const Located& path : m.allowed) add_path(process_rules_, path, {index, rule});
        }
        for (const ConnectMonitor& m : p.monitors.connects) {
            const uint32_t rule = add_rule(index, BW_MON_CONNECT, BW_MON_REPORT, m.rate_limit, m.pos);
            for (const Located& cidr : m.cidrs) add_cidr(cidr, m, {index, rule});
        }
    }

    // Every key gets, per policy, the most specific rule of that policy
    // covering it: its own, else the longest prefix key above it.
    void fold_paths(const PathRules& rules, std::vector<MonPathEntry>& out, bw_monitor_kind kind, bool refs)
    {
        for (const auto& [path, direct] : rules) {
            std::vector<const std::vector<RuleRef>*> covering{&direct};
            for (size_t i = path.size() - 1; i-- > 0;) {
                if (path[i] != '/') continue;
                auto it = rules.find(path.substr(0, i + 1));
                if (it != rules.end()) covering.push_back(&it->second);
            }
            MonPathEntry e;
            e.key = mon_path_key(path);
            e.value.entry = add_entry(kind, path);
            for (const auto* list : covering) {
                for (const RuleRef& r : *list) {
                    const uint64_t bit = 1ull << r.policy;
                    if (e.value.policies & bit) continue;
                    e.value.policies |= bit;
                    if (refs) ref(e.value.entry, r.policy, r.rule);
                }
            }
            out.push_back(e);
        }
    }

    void compile_syscalls()
    {
        struct UidRules {
            uint64_t policies = 0;
            uint64_t kill = 0;
            std::map<uint32_t, std::pair<uint32_t, SourcePos>> rule_of;  // policy → (rule, uid's position)
        };
        std::map<uint32_t, UidRules> uids;
        std::map<std::pair<uint32_t, uint32_t>, uint64_t> allowed;  // (uid, nr) → policies
        for (const auto& [m, r] : syscall_monitors_) {
            for (const UidSpec& spec : m->uids) {
                std::optional<uint32_t> uid;
                if (const auto* n = std::get_if<uint32_t>(&spec.value)) {
                    uid = *n;
                } else {
                    const auto& name = std::get<std::string>(spec.value);
                    uid = system_.uid_of_user(name);
                    if (!uid) {
                        diags_.error(spec.pos, "unknown user " + quote_value(name) +
                                                   " (not in /etc/passwd); create the user or write its numeric uid");
                        continue;
                    }
                }
                UidRules& u = uids[*uid];
                auto [it, fresh] = u.rule_of.emplace(r.policy, std::make_pair(r.rule, spec.pos));
                if (!fresh) {
                    diags_.error(spec.pos, "uid " + std::to_string(*uid) +
                                               " already has a [[monitor.syscalls]] allowlist in this policy (line " +
                                               std::to_string(it->second.second.line) + "); merge the two allow lists");
                    continue;
                }
                u.policies |= 1ull << r.policy;
                if (mon_.rule_cfg[r.rule].action == BW_MON_KILL) u.kill |= 1ull << r.policy;
                for (const SyscallName& s : m->allow) allowed[{*uid, s.nr}] |= 1ull << r.policy;
            }
        }
        for (const auto& [uid, u] : uids) {
            bw_mon_match v{};
            v.policies = u.policies;
            v.act = u.kill;
            v.entry = add_entry(BW_MON_SYSCALLS, "uid " + std::to_string(uid));
            for (const auto& [policy, rule] : u.rule_of) ref(v.entry, policy, rule.first);
            mon_.syscall_uids.emplace_back(uid, v);
        }
        for (const auto& [k, mask] : allowed) mon_.syscall_allowed.push_back({{k.first, k.second}, mask});
    }

    void add_cidr(const Located& cidr, const ConnectMonitor& m, RuleRef r)
    {
        NetRule n;
        const std::string& text = cidr.value;
        const size_t slash = text.find('/');
        const std::string addr = text.substr(0, slash);
        const bool v6 = addr.find(':') != std::string::npos;
        n.family = v6 ? BW_MON_FAMILY_IPV6 : BW_MON_FAMILY_IPV4;
        const uint32_t max = v6 ? 128 : 32;
        n.len = slash == std::string::npos ? max : static_cast<uint32_t>(std::stoul(text.substr(slash + 1)));
        if (inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), n.addr.data()) != 1 || n.len > max) {
            diags_.error(cidr.pos, "invalid CIDR " + quote_value(text));  // the parser checked; defensive
            return;
        }
        for (uint32_t bit = n.len; bit < 128; ++bit) n.addr[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
        n.monitor = &m;
        n.ref = r;
        nets_.push_back(n);
    }

    // Stage 1: one key per distinct network. Stage 2: under each, the port
    // space of each protocol cut where any covering rule's ports start or
    // end; each piece names, per policy, the most specific covering rule.
    void compile_connects()
    {
        std::map<std::tuple<uint32_t, std::array<uint8_t, 16>, uint32_t>, const NetRule*> keys;
        for (const NetRule& n : nets_) keys.emplace(std::make_tuple(n.family, n.addr, n.len), &n);

        for (const auto& [k, key_net] : keys) {
            const NetRule& kn = *key_net;
            std::vector<const NetRule*> cands;
            for (const NetRule& n : nets_)
                if (n.family == kn.family && n.len <= kn.len && prefix_equal(n.addr, kn.addr, n.len))
                    cands.push_back(&n);
            // Most specific first; equal: file order.
            std::stable_sort(cands.begin(), cands.end(), [](const NetRule* a, const NetRule* b) {
                if (a->len != b->len) return a->len > b->len;
                return a->ref.rule < b->ref.rule;
            });

            MonAddrEntry net;
            net.key.prefixlen = 32 + kn.len;
            net.key.family = kn.family;
            std::memcpy(net.key.addr, kn.addr.data(), 16);
            net.value.entry = add_entry(BW_MON_CONNECT, cidr_text(kn));
            for (const NetRule* c : cands) net.value.policies |= 1ull << c->ref.policy;
            mon_.connect_nets.push_back(net);

            for (const auto& [proto, bit, name] : {std::tuple<uint8_t, uint8_t, const char*>{6, proto_tcp, "tcp"},
                                                   std::tuple<uint8_t, uint8_t, const char*>{17, proto_udp, "udp"}}) {
                std::vector<const NetRule*> pc;
                for (const NetRule* c : cands)
                    if (c->monitor->protocols & bit) pc.push_back(c);
                if (pc.empty()) continue;
                std::set<uint32_t> cuts{0, 65536};
                for (const NetRule* c : pc)
                    for (const PortRange& pr : c->monitor->ports) {
                        cuts.insert(pr.first);
                        cuts.insert(uint32_t(pr.last) + 1);
                    }
                // Pieces with the rule each policy reports through; equal
                // neighbours merged.
                using Decision = std::map<uint32_t, uint32_t>;  // policy → rule
                std::vector<std::tuple<uint32_t, uint32_t, Decision>> pieces;
                for (auto it = cuts.begin(); std::next(it) != cuts.end(); ++it) {
                    const uint32_t lo = *it, hi = *std::next(it) - 1;
                    Decision d;
                    for (const NetRule* c : pc) {
                        const auto& ports = c->monitor->ports;
                        const bool covers = ports.empty() || std::any_of(ports.begin(), ports.end(), [&](const PortRange& pr) {
                                                return pr.first <= lo && lo <= pr.last;
                                            });
                        if (covers) d.emplace(c->ref.policy, c->ref.rule);  // first (most specific) wins
                    }
                    if (!pieces.empty() && std::get<1>(pieces.back()) + 1 == lo && std::get<2>(pieces.back()) == d)
                        std::get<1>(pieces.back()) = hi;
                    else
                        pieces.emplace_back(lo, hi, std::move(d));
                }
                for (const auto& [lo, hi, d] : pieces) {
                    if (d.empty()) continue;
                    bw_mon_match v{};
                    std::string what = cidr_text(kn) + " " + name + " " + std::to_string(lo);
                    if (hi != lo) what += "-" + std::to_string(hi);
                    v.entry = add_entry(BW_MON_CONNECT, std::move(what));
                    for (const auto& [policy, rule] : d) {
                        v.policies |= 1ull << policy;
                        ref(v.entry, policy, rule);
                    }
                    for (const auto& [first, bits] : port_blocks(lo, hi)) {
                        MonPortEntry e;
                        e.key.prefixlen = 40 + bits;
                        e.key.net = net.value.entry;
                        e.key.protocol = proto;
                        e.key.port[0] = static_cast<uint8_t>(first >> 8);
                        e.key.port[1] = static_cast<uint8_t>(first & 0xff);
                        e.value = v;
                        mon_.connect_ports.push_back(e);
                    }
                }
            }
        }
    }

    const std::vector<Policy>& policies_;
    const SystemView& system_;
    const CompileOptions& options_;
    MapImage& image_;
    MonitorImage& mon_;
    Diagnostics& diags_;

    PathRules file_rules_, process_rules_;
    std::vector<std::pair<const SyscallMonitor*, RuleRef>> syscall_monitors_;
    std::vector<NetRule> nets_;
};

}  // namespace

void compile_monitors(const std::vector<Policy>& policies, const SystemView& system, const CompileOptions& options,
                      MapImage& image, Diagnostics& diags)
{
    MonitorCompiler(policies, system, options, image, diags).run();
}

}  // namespace bulwark
