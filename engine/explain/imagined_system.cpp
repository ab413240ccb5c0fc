#include "explain/imagined_system.hpp"

#include "compile/scope_compiler.hpp"
#include "policy/value_checks.hpp"

#include <algorithm>
#include <string_view>

namespace bulwark {
namespace {

std::vector<std::string> components(const std::string& path)
{
    std::vector<std::string> out;
    size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        size_t j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        if (j > i) out.push_back(path.substr(i, j - i));
        i = j;
    }
    return out;
}

std::string join(const std::string& base, const std::string& name)
{
    return (base == "/" ? "" : base) + "/" + name;
}

constexpr size_t npos = std::string::npos;

}  // namespace

std::optional<std::string> ImaginedSystem::resolve(const std::string& path, size_t& missing_from) const
{
    missing_from = npos;
    if (path.empty() || path[0] != '/') return std::nullopt;
    const std::string norm = lexically_normal(path, false);
    if (auto c = real_.canonical(norm)) return c;
    // The longest prefix that exists here, resolved; then the rest as written.
    const auto parts = components(norm);
    std::string base = "/", lexical;
    size_t real_parts = 0;
    for (; real_parts < parts.size(); ++real_parts) {
        lexical = join(lexical.empty() ? "/" : lexical, parts[real_parts]);
        auto c = real_.canonical(lexical);
        if (!c) break;
        base = *c;
    }
    std::string out = base;
    missing_from = base == "/" ? 1 : base.size() + 1;
    for (size_t i = real_parts; i < parts.size(); ++i) out = join(out, parts[i]);
    return out;
}

void ImaginedSystem::imagine(const std::string& path, bool dir)
{
    size_t missing_from = npos;
    auto full = resolve(path, missing_from);
    if (!full || missing_from == npos || paths_.count(*full)) return;
    const std::string base = missing_from <= 1 ? "/" : full->substr(0, missing_from - 1);
    auto base_id = real_.identify(base);
    if (!base_id || !base_id->is_dir) return;  // below a file: cannot be
    const auto rest = components(full->substr(missing_from - 1));
    std::string cur = base;
    for (size_t i = 0; i < rest.size(); ++i) {
        cur = join(cur, rest[i]);
        const bool is_dir = dir || i + 1 < rest.size();
        auto it = paths_.find(cur);
        if (it != paths_.end()) {
            if (!it->second.is_dir && i + 1 < rest.size()) return;  // below an imagined file
            continue;
        }
        paths_.emplace(cur, FileIdentity{base_id->dev, next_ino_++, is_dir, is_dir ? 2u : 1u});
        imagined_.push_back({is_dir ? ImaginedObject::Kind::dir : ImaginedObject::Kind::file, cur, 0});
    }
}

void ImaginedSystem::imagine_file(const std::string& path) { imagine(path, false); }
void ImaginedSystem::imagine_dir(const std::string& path) { imagine(path, true); }

void ImaginedSystem::imagine_user(const std::string& name)
{
    if (real_.uid_of_user(name) || users_.count(name)) return;
    users_.emplace(name, next_uid_);
    imagined_.push_back({ImaginedObject::Kind::user, name, next_uid_});
    ++next_uid_;
}

void ImaginedSystem::imagine_cgroup(const std::string& as_written)
{
    auto mount = cgroup2_mount();
    if (!mount) {
        mount_ = "/sys/fs/cgroup";
        imagine_dir(*mount_);
        mount = mount_;
    }
    if (auto dir = resolve_cgroup(as_written, *mount)) imagine_dir(dir->path);
}

void ImaginedSystem::imagine_for(const std::vector<Policy>& policies, const std::vector<TestCase>& cases)
{
    auto user = [&](const UidSpec& u) {
        if (const auto* name = std::get_if<std::string>(&u.value)) imagine_user(*name);
    };
    for (const Policy& p : policies) {
        for (const auto& u : p.scope.uids) user(u);
        for (const auto& cg : p.scope.cgroups) imagine_cgroup(cg.value);
        for (const auto& exe : p.scope.executables) imagine_file(exe.value);
        auto paths = [&](const std::vector<Located>& exact, const std::vector<Located>& prefixes) {
            for (const auto& l : exact) imagine_file(l.value);
            for (const auto& l : prefixes) imagine_dir(l.value);
        };
        for (const auto& r : p.files) paths(r.paths, r.prefixes);
        for (const auto& r : p.execs) paths(r.paths, r.prefixes);
        // Monitors name users too; their paths are names, matched as
        // written, so nothing is imagined for them.
        for (const auto& m : p.monitors.syscalls)
            for (const auto& u : m.uids) user(u);
    }
    for (const TestCase& tc : cases) {
        // A create names a file that is to be made: only its directory is
        // imagined; so is the target's of a rename or link.
        auto parent = [](const std::string& p) { return p.substr(0, std::max<size_t>(p.find_last_of('/'), 1)); };
        if (tc.op == TestOp::create) imagine_dir(parent(tc.path.value));
        else if (tc.op != TestOp::connect) imagine_file(tc.path.value);
        if (has_target(tc.op)) imagine_dir(parent(tc.target.value));
        if (tc.uid) user(*tc.uid);
        if (tc.cgroup) imagine_cgroup(tc.cgroup->value);
        if (tc.executable) imagine_file(tc.executable->value);
        for (const auto& u : tc.parent_uids) user(u);
        for (const auto& cg : tc.parent_cgroups) imagine_cgroup(cg.value);
        for (const auto& exe : tc.parent_executables) imagine_file(exe.value);
    }
}

std::optional<FileIdentity> ImaginedSystem::identify(const std::string& path) const
{
    size_t missing_from = npos;
    auto full = resolve(path, missing_from);
    if (!full) return std::nullopt;
    if (missing_from == npos) return real_.identify(*full);
    auto it = paths_.find(*full);
    if (it == paths_.end()) return std::nullopt;
    return it->second;
}

std::optional<std::string> ImaginedSystem::canonical(const std::string& path) const
{
    size_t missing_from = npos;
    auto full = resolve(path, missing_from);
    if (!full) return std::nullopt;
    if (missing_from == npos || paths_.count(*full)) return full;
    return std::nullopt;
}

std::optional<uint32_t> ImaginedSystem::uid_of_user(const std::string& name) const
{
    if (auto uid = real_.uid_of_user(name)) return uid;
    auto it = users_.find(name);
    if (it == users_.end()) return std::nullopt;
    return it->second;
}

std::optional<std::string> ImaginedSystem::cgroup2_mount() const
{
    if (auto m = real_.cgroup2_mount()) return m;
    return mount_;
}

}  // namespace bulwark
