#include "own_paths.hpp"

#include <filesystem>
#include <system_error>

namespace bulwark {
namespace {

namespace fs = std::filesystem;

// `path` made absolute and free of symlinks; a directory as a tree ("/x/").
void add(std::vector<OwnPath>& out, const std::string& path, const std::string& as)
{
    std::error_code ec;
    const fs::path canonical = fs::canonical(path, ec);
    if (ec) return;
    std::string p = canonical.string();
    if (fs::is_directory(canonical, ec) && p != "/") p += '/';
    for (const auto& o : out)
        if (o.path == p) return;
    out.push_back({std::move(p), as});
}

}  // namespace

std::vector<OwnPath> own_paths(const std::vector<std::string>& policies, const std::string& config,
                               const std::string& pin_dir)
{
    std::vector<OwnPath> out;
    for (const auto& p : policies) add(out, p, "policy");
    if (!config.empty()) add(out, config, "config");
    // The executable this process runs; after a package upgrade replaced
    // it, the file is gone ("... (deleted)") and nothing is protected.
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec && fs::exists(exe, ec)) add(out, exe.string(), "binary");
    if (!pin_dir.empty()) add(out, pin_dir, "pins");
    return out;
}

}  // namespace bulwark
