#include "compile/scope_compiler.hpp"

#include "compile/executable_scope.hpp"

#include <map>

namespace bulwark {

std::optional<CgroupDir> resolve_cgroup(const std::string& as_written, const std::string& mount)
{
    std::string rel = as_written;
    if (rel == mount) {
        rel.clear();
    } else if (rel.size() > mount.size() && rel.compare(0, mount.size(), mount) == 0 && rel[mount.size()] == '/') {
        rel = rel.substr(mount.size());
    }
    CgroupDir dir{mount, 0};
    size_t i = 0;
    while (i < rel.size()) {
        while (i < rel.size() && rel[i] == '/') ++i;
        size_t j = rel.find('/', i);
        if (j == std::string::npos) j = rel.size();
        if (j > i) {
            std::string comp = rel.substr(i, j - i);
            if (comp == "." || comp == "..") return std::nullopt;
            dir.path += "/" + comp;
            ++dir.level;
        }
        i = j;
    }
    return dir;
}

void compile_scopes(const std::vector<Policy>& policies, const SystemView& system,
                    const CompileOptions& options, MapImage& image, Diagnostics& diags)
{
    std::map<uint32_t, uint64_t> uids;
    std::map<uint64_t, uint64_t> cgroups;
    auto& set = image.policy_set;
    std::optional<std::string> mount;
    bool mount_looked_up = false;

    for (size_t i = 0; i < policies.size(); ++i) {
        const Policy& p = policies[i];
        const uint64_t bit = 1ull << i;

        if (p.scope.uids.empty()) set.uid_free |= bit;
        for (const auto& spec : p.scope.uids) {
            std::optional<uint32_t> uid;
            if (const auto* n = std::get_if<uint32_t>(&spec.value)) {
                uid = *n;
            } else {
                const auto& name = std::get<std::string>(spec.value);
                uid = system.uid_of_user(name);
                if (!uid) {
                    diags.error(spec.pos, "unknown user \"" + name +
                                              "\" (not in /etc/passwd); create the user or write its numeric uid");
                    continue;
                }
            }
            uids[*uid] |= bit;
        }

        if (p.scope.cgroups.empty()) set.cgroup_free |= bit;
        for (const auto& cg : p.scope.cgroups) {
            if (!mount_looked_up) {
                mount = system.cgroup2_mount();
                mount_looked_up = true;
            }
            if (!mount) {
                diags.error(cg.pos, "cgroup v2 is not mounted on this machine, so a cgroup scope cannot be "
                                    "enforced; mount it (mount -t cgroup2 none /sys/fs/cgroup) or remove the key");
                continue;
            }
            auto dir = resolve_cgroup(cg.value, *mount);
            if (!dir) {
                diags.error(cg.pos, "cgroup \"" + cg.value + "\" contains \".\" or \"..\"; write the path below " +
                                        *mount);
                continue;
            }
            auto id = system.identify(dir->path);
            if (!id || !id->is_dir) {
                diags.error(cg.pos, "cgroup directory " + dir->path +
                                        " does not exist; create it (mkdir) before loading, or fix the path (relative to " +
                                        *mount + ")");
                continue;
            }
            if (dir->level >= BW_CGROUP_MAX_LEVEL) {
                diags.error(cg.pos, "cgroup " + dir->path + " is " + std::to_string(dir->level) +
                                        " levels deep; scopes reach at most level " +
                                        std::to_string(BW_CGROUP_MAX_LEVEL - 1));
                continue;
            }
            cgroups[id->ino] |= bit;
            set.cgroup_levels |= 1ull << dir->level;
        }

    }
    compile_executable_scopes(policies, system, options, image, diags);

    if (uids.size() > options.max_scope_keys || cgroups.size() > options.max_scope_keys) {
        diags.error(policies.empty() ? SourcePos{} : policies.back().scope.pos,
                    "more scope entries than the maps hold (" + std::to_string(options.max_scope_keys) +
                        "); split the policy set");
    }
    image.scope_uids.assign(uids.begin(), uids.end());
    image.scope_cgroups.assign(cgroups.begin(), cgroups.end());
}

}  // namespace bulwark
