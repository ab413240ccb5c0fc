#include "explain/test_run.hpp"

#include "compile/evaluator.hpp"
#include "explain/operation.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

namespace bulwark {

namespace fs = std::filesystem;

std::vector<CaseResult> run_cases(const MapImage& image, const SystemView& system, const std::vector<TestCase>& cases)
{
    Evaluator eval(image);
    std::vector<CaseResult> out;
    for (const TestCase& tc : cases) {
        CaseResult r;
        r.tc = &tc;
        auto resolved = resolve_op(tc, system);
        if (const auto* err = std::get_if<std::string>(&resolved)) {
            r.error = *err;
            out.push_back(std::move(r));
            continue;
        }
        const auto& op = std::get<ResolvedOp>(resolved);
        r.uid = op.subject.uid;
        r.parent_uids = op.subject.history.uids;
        r.canonical = op.canonical;
        const Outcome o = decide(eval, op);
        r.got = to_verdict(o.verdict);
        if (o.verdict != BW_VERDICT_ALLOW) {
            r.policy = o.policy;
            r.column = o.column;
            r.rule = image.deciding_rule(o.entry, o.policy, o.column);
        }
        r.passed = r.got == tc.expect;
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<TestSet> find_test_sets(const std::vector<std::string>& paths, std::vector<std::string>& missing)
{
    std::vector<TestSet> sets;
    TestSet direct{"command line", {}};
    for (const std::string& path : paths) {
        std::error_code ec;
        const auto st = fs::status(path, ec);
        if (ec || !fs::exists(st)) {
            missing.push_back(path);
            continue;
        }
        if (!fs::is_directory(st)) {
            direct.files.push_back(path);
            continue;
        }
        // Directory → its *.toml files, for it and every directory below.
        std::map<std::string, std::vector<std::string>> by_dir;
        auto add = [&](const fs::path& p) {
            std::error_code e2;
            if (p.extension() == ".toml" && fs::is_regular_file(p, e2))
                by_dir[p.parent_path().string()].push_back(p.string());
        };
        const std::string root = path.size() > 1 && path.back() == '/' ? path.substr(0, path.size() - 1) : path;
        for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
             !ec && it != end; it.increment(ec))
            add(it->path());
        for (auto& [dir, files] : by_dir) {
            std::sort(files.begin(), files.end());
            sets.push_back({dir, std::move(files)});
        }
    }
    if (!direct.files.empty()) sets.push_back(std::move(direct));
    return sets;
}

}  // namespace bulwark
