#include "compile/executable_scope.hpp"

#include "compile/raw_key.hpp"

#include <cstring>
#include <map>

namespace bulwark {
namespace {

std::string dirname_of(const std::string& p)
{
    auto slash = p.find_last_of('/');
    return slash == 0 ? "/" : p.substr(0, slash);
}

}  // namespace

void compile_executable_scopes(const std::vector<Policy>& policies, const SystemView& system,
                               const CompileOptions& options, MapImage& image, Diagnostics& diags)
{
    auto& set = image.policy_set;
    // Raw key bytes → (key, mask); ordered so the image is deterministic.
    std::map<std::string, std::pair<bw_inode_key, uint64_t>> inodes;
    std::map<std::string, std::pair<bw_name_key, uint64_t>> names;

    for (size_t i = 0; i < policies.size(); ++i) {
        const Policy& p = policies[i];
        const uint64_t bit = 1ull << i;
        if (p.scope.executables.empty()) {
            set.executable_free |= bit;
            continue;
        }
        for (const auto& exe : p.scope.executables) {
            std::string path = exe.value;
            std::optional<FileIdentity> self;
            if (auto c = system.canonical(path)) {
                if (*c != path)
                    diags.note(exe.pos, path + " resolves to " + *c +
                                            " (through a symlink); the scope names the program there");
                path = *c;
                self = system.identify(path);
                if (self && self->is_dir) {
                    diags.error(exe.pos, "executable " + exe.value +
                                             " is a directory; name the program file (e.g. /usr/sbin/nginx)");
                    continue;
                }
            } else {
                auto parent = system.canonical(dirname_of(path));
                if (!parent) {
                    diags.warning(exe.pos, "neither " + path + " nor its directory exists; the scope matches no "
                                                       "process until they exist and the policies are reloaded");
                    continue;
                }
                diags.warning(exe.pos, path + " does not exist yet; the scope matches it once a program is "
                                              "installed under that name");
                path = (*parent == "/" ? "" : *parent) + path.substr(path.find_last_of('/'));
            }
            if (self) {
                bw_inode_key k{};
                k.ino = self->ino;
                k.dev = self->dev;
                k.role = BW_ROLE_SELF;
                auto& slot = inodes[raw(k)];
                slot.first = k;
                slot.second |= bit;
            }
            const std::string name = path.substr(path.find_last_of('/') + 1);
            auto parent = system.identify(dirname_of(path));
            if (!parent) continue;
            bw_name_key k{};
            k.parent_ino = parent->ino;
            k.parent_dev = parent->dev;
            k.role = BW_ROLE_SELF;
            std::memcpy(k.name, name.data(), std::min(name.size(), sizeof(k.name) - 1));
            auto& slot = names[raw(k)];
            slot.first = k;
            slot.second |= bit;
        }
    }
    if (inodes.size() > options.max_scope_keys || names.size() > options.max_scope_keys) {
        diags.error(policies.empty() ? SourcePos{} : policies.back().scope.pos,
                    "more executable scope entries than the maps hold (" + std::to_string(options.max_scope_keys) +
                        "); split the policy set");
    }
    for (auto& [k, v] : inodes) image.scope_exe_inodes.push_back(v);
    for (auto& [k, v] : names) image.scope_exe_names.push_back(v);
}

}  // namespace bulwark
