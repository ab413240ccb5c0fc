// Whether a policy's [scope] holds the process, in the policy's own words
// (explain/explain.hpp: scope_hold): key by key as
// Evaluator::policies_in_scope decides, so that explain's per-policy
// verdicts add up to the evaluator's, and saying which key leaves the
// process out or holds it only by what it was before.
#include "explain/explain.hpp"

#include "compile/scope_compiler.hpp"

#include <algorithm>

namespace bulwark {
namespace {

std::string uid_list(const Scope& s, const SystemView& system)
{
    std::string out;
    for (const auto& u : s.uids) {
        if (!out.empty()) out += ", ";
        if (const auto* n = std::get_if<uint32_t>(&u.value)) {
            out += std::to_string(*n);
        } else {
            const auto& name = std::get<std::string>(u.value);
            out += name;
            if (auto id = system.uid_of_user(name)) out += " = " + std::to_string(*id);
        }
    }
    return out;
}

std::string list_of(const std::vector<Located>& v)
{
    std::string out;
    for (const auto& l : v) out += (out.empty() ? "" : ", ") + l.value;
    return out;
}

}  // namespace

ScopeHold scope_hold(const Policy& p, const SystemView& system, const Subject& s, uint32_t full)
{
    ScopeHold out;
    const SubjectHistory& h = s.history;
    // One dimension: held now, or by what it was (`was`: the key of the
    // policy's that the history matched), or because its kind is out of room.
    auto dimension = [&](bool now, const std::string& was, uint32_t flag, const char* kind) {
        if (now) return true;
        if (!was.empty() || (full & flag)) {
            const std::string by = !was.empty() ? was : std::string("more scoped ") + kind +
                                                             " before than the kernel has room for";
            out.before += (out.before.empty() ? "" : ", ") + by;
            return true;
        }
        return false;
    };
    if (!p.scope.uids.empty()) {
        bool now = false;
        std::string was;
        for (const auto& u : p.scope.uids) {
            std::optional<uint32_t> uid;
            if (const auto* n = std::get_if<uint32_t>(&u.value)) uid = *n;
            else uid = system.uid_of_user(std::get<std::string>(u.value));
            if (!uid) continue;
            now = now || *uid == s.uid;
            if (was.empty() && std::find(h.uids.begin(), h.uids.end(), *uid) != h.uids.end())
                was = "uid " + std::to_string(*uid);
        }
        if (!dimension(now, was, BW_MARK_FULL_UID, "uids")) {
            out.why = "uid " + std::to_string(s.uid) + " is not in its [scope] uid (" + uid_list(p.scope, system) + ")";
            if (!h.uids.empty()) out.why += ", nor is any uid it had before";
            return out;
        }
    }
    if (!p.scope.cgroups.empty()) {
        bool now = false;
        std::string was;
        auto mount = system.cgroup2_mount();
        for (const auto& cg : p.scope.cgroups) {
            if (!mount) break;
            auto dir = resolve_cgroup(cg.value, *mount);
            auto id = dir ? system.identify(dir->path) : std::nullopt;
            if (!id) continue;
            auto holds = [&](const std::vector<uint64_t>& chain) {
                return std::find(chain.begin(), chain.end(), id->ino) != chain.end();
            };
            now = now || holds(s.cgroup_ancestors);
            // As Evaluator::marks: a cgroup too deep for the kernel's walk marks nothing.
            for (const auto& chain : h.cgroups)
                if (was.empty() && chain.size() <= BW_CGROUP_MAX_LEVEL && holds(chain)) was = "cgroup " + cg.value;
        }
        if (!dimension(now, was, BW_MARK_FULL_CGROUP, "cgroups")) {
            out.why = "the process's cgroup is not in or below its [scope] cgroup (" + list_of(p.scope.cgroups) + ")";
            if (!h.cgroups.empty()) out.why += ", nor was any cgroup it was in before";
            return out;
        }
    }
    if (!p.scope.executables.empty()) {
        bool now = false;
        std::string was;
        for (const auto& e : p.scope.executables) {
            auto exe = describe_exe(system, e.value);
            if (!exe) continue;
            if (s.exe)
                now = now || exe->self == s.exe->self ||
                      (exe->self.dev == s.exe->self.dev && exe->parent_ino == s.exe->parent_ino &&
                       exe->name == s.exe->name);
            // Programs it ran before count by inode only, as the kernel marks them.
            for (const auto& x : h.exes)
                if (was.empty() && x.self.ino == exe->self.ino && x.self.dev == exe->self.dev)
                    was = "executable " + e.value;
        }
        if (!dimension(now, was, BW_MARK_FULL_EXE, "programs")) {
            out.why = "the process's program is not its [scope] executable (" + list_of(p.scope.executables) + ")";
            if (!h.exes.empty()) out.why += ", nor is any program it ran before";
            return out;
        }
    }
    return out;
}

std::string scope_why(const Policy& p, const SystemView& system, const Subject& s)
{
    return scope_hold(p, system, s, s.history.full).why;
}

}  // namespace bulwark
