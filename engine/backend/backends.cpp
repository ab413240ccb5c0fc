#include "backend/backends.hpp"

#include "util/error.hpp"
#include "util/json.hpp"

namespace bulwark {
namespace {

constexpr const char* kUsage =
    "--backend takes auto, bpf-lsm, fallback, or KIND=MECHANISM with KIND file, exec or connect and MECHANISM "
    "auto, bpf-lsm, fanotify (file, exec) or cgroup-sock-addr (connect)";

std::optional<Mechanism> mechanism_named(const std::string& s)
{
    for (Mechanism m : {Mechanism::bpf_lsm, Mechanism::fanotify, Mechanism::cgroup_sock_addr})
        if (s == to_string(m)) return m;
    return std::nullopt;
}

bool offers(const BackendSupport& s, Mechanism m, std::string& why_not)
{
    switch (m) {
    case Mechanism::bpf_lsm: why_not = s.bpf_lsm_why_not; return s.bpf_lsm;
    case Mechanism::fanotify: why_not = s.fanotify_why_not; return s.fanotify;
    case Mechanism::cgroup_sock_addr: why_not = s.cgroup_sock_addr_why_not; return s.cgroup_sock_addr;
    case Mechanism::none: break;
    }
    why_not = "no mechanism";
    return false;
}

}  // namespace

const char* to_string(RuleKind k)
{
    switch (k) {
    case RuleKind::file: return "file";
    case RuleKind::exec: return "exec";
    case RuleKind::connect: return "connect";
    }
    return "?";
}

const char* to_string(Mechanism m)
{
    switch (m) {
    case Mechanism::none: return "none";
    case Mechanism::bpf_lsm: return "bpf-lsm";
    case Mechanism::fanotify: return "fanotify";
    case Mechanism::cgroup_sock_addr: return "cgroup-sock-addr";
    }
    return "?";
}

std::vector<Mechanism> candidates(RuleKind k)
{
    if (k == RuleKind::connect) return {Mechanism::bpf_lsm, Mechanism::cgroup_sock_addr};
    return {Mechanism::bpf_lsm, Mechanism::fanotify};
}

BackendRequest parse_backend_request(const std::vector<std::string>& values)
{
    BackendRequest r;
    for (const std::string& v : values) {
        if (v == "auto") {
            r.forced = {};
            continue;
        }
        if (v == "bpf-lsm") {
            r.forced.fill(Mechanism::bpf_lsm);
            continue;
        }
        if (v == "fallback") {
            for (RuleKind k : kRuleKinds) r.forced[static_cast<size_t>(k)] = candidates(k).back();
            continue;
        }
        const auto eq = v.find('=');
        std::optional<RuleKind> kind;
        for (RuleKind k : kRuleKinds)
            if (eq != std::string::npos && v.compare(0, eq, to_string(k)) == 0 && eq == std::string(to_string(k)).size())
                kind = k;
        if (!kind) throw Error("--backend \"" + v + "\" is not a backend", kUsage, exit_usage);
        const std::string name = v.substr(eq + 1);
        auto& slot = r.forced[static_cast<size_t>(*kind)];
        if (name == "auto") {
            slot.reset();
            continue;
        }
        const auto m = mechanism_named(name);
        bool usable = false;
        if (m)
            for (Mechanism c : candidates(*kind)) usable |= c == *m;
        if (!usable)
            throw Error("--backend \"" + v + "\": " + std::string(to_string(*kind)) + " rules cannot be decided by \"" +
                            name + "\"",
                        kUsage, exit_usage);
        slot = *m;
    }
    return r;
}

Backends choose_backends(const BackendSupport& support, const BackendRequest& request)
{
    Backends b;
    for (RuleKind k : kRuleKinds) {
        const size_t i = static_cast<size_t>(k);
        std::string why_not;
        if (const auto& forced = request.forced[i]) {
            // Forced BPF-LSM stays BPF-LSM where it cannot work: `bulwark run`
            // then refuses its rules with the kernel's reason. Another forced
            // backend that is not there leaves the kind with none.
            const bool there = offers(support, *forced, why_not);
            b.of[i] = there || *forced == Mechanism::bpf_lsm ? *forced : Mechanism::none;
            b.why[i] = there ? "forced with --backend" : "forced with --backend, but " + why_not;
            continue;
        }
        // Auto: the first that works. BPF-LSM's reason is long and the
        // same for every kind (bulwark probe prints it once): name it only.
        std::string reasons;
        b.of[i] = Mechanism::none;
        for (Mechanism m : candidates(k)) {
            if (offers(support, m, why_not)) {
                b.of[i] = m;
                b.why[i] = reasons.empty() ? "available" : reasons;
                break;
            }
            reasons += std::string(reasons.empty() ? "" : "; ") +
                       (m == Mechanism::bpf_lsm ? std::string("BPF-LSM cannot enforce here")
                                                : std::string(to_string(m)) + ": " + why_not);
        }
        if (b.of[i] == Mechanism::none) b.why[i] = reasons;
    }
    return b;
}

std::string Backends::json() const
{
    std::string line;
    JsonLine o(line);
    for (RuleKind k : kRuleKinds) o.field(to_string(k), to_string((*this)[k]));
    o.end();
    line.pop_back();  // the object, without JsonLine's newline
    return line;
}

}  // namespace bulwark
