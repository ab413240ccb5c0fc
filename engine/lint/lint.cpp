#include "lint/lint.hpp"

#include "compile/compiler.hpp"
#include "lint/checks.hpp"
#include "util/json.hpp"

#include <algorithm>
#include <map>

namespace bulwark {
namespace {

void add(Diagnostics& out, const Diagnostic& d)
{
    switch (d.severity) {
    case Severity::error: out.error(d.pos, d.message); break;
    case Severity::warning: out.warning(d.pos, d.message); break;
    case Severity::note: out.note(d.pos, d.message); break;
    }
}

}  // namespace

namespace {

using Group = std::vector<Diagnostic>;

// A diagnostic and the notes that explain it; with `attach` false every
// note stands alone (a note about a path is not about the warning above it).
void add_groups(std::vector<Group>& groups, const Diagnostics& d, bool attach)
{
    bool open = false;
    for (const Diagnostic& x : d.all()) {
        if (x.severity == Severity::note && attach && open) {
            groups.back().push_back(x);
            continue;
        }
        groups.push_back({x});
        open = x.severity != Severity::note;
    }
}

Diagnostics flatten(std::vector<Group> groups, const std::vector<std::string>& files)
{
    std::map<std::string, size_t> file_order;
    for (const auto& f : files) file_order.emplace(f, file_order.size());
    for (const auto& g : groups) file_order.emplace(g[0].pos.file, file_order.size());
    std::stable_sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) {
        const auto& pa = a[0].pos;
        const auto& pb = b[0].pos;
        return std::tuple(file_order[pa.file], pa.line, pa.column) < std::tuple(file_order[pb.file], pb.line, pb.column);
    });
    Diagnostics out;
    for (const auto& g : groups)
        for (const Diagnostic& x : g) add(out, x);
    return out;
}

}  // namespace

std::string diagnostics_json(const Diagnostics& d, size_t policies)
{
    std::string out = "{\"diagnostics\":[";
    size_t warnings = 0, notes = 0;
    bool first = true;
    for (const Diagnostic& x : d.all()) {
        warnings += x.severity == Severity::warning;
        notes += x.severity == Severity::note;
        std::string line;
        JsonLine(line)
            .field("file", x.pos.file)
            .field("line", x.pos.line)
            .field("column", x.pos.column)
            .field("severity", to_string(x.severity))
            .field("message", x.message)
            .end();
        line.pop_back();  // the newline that ends a JSON line
        out += (first ? "" : ",") + line;
        first = false;
    }
    std::string tail;
    JsonLine(tail)
        .field("errors", uint64_t(d.error_count()))
        .field("warnings", uint64_t(warnings))
        .field("notes", uint64_t(notes))
        .field("policies", uint64_t(policies))
        .end();
    return out + "]," + tail.substr(1);  // the counts' object, without its '{'
}

Diagnostics sorted(const Diagnostics& d, const std::vector<std::string>& files)
{
    std::vector<Group> groups;
    add_groups(groups, d, true);
    return flatten(std::move(groups), files);
}

Diagnostics lint_policies(const std::vector<Policy>& policies, const SystemView& machine, const LintOptions& options)
{
    std::vector<Group> groups;
    ImaginedSystem imagined(machine);
    imagined.imagine_for(policies, {});
    const CompileResult compiled = compile(policies, imagined);
    Diagnostics from_compiler;
    for (const Diagnostic& d : compiled.diagnostics.all()) {
        // The compiler notes that a path resolves through a symlink; lint
        // says so itself, naming the symlink (machine_checks.cpp for rules,
        // monitor_checks.cpp for monitors).
        if (d.severity == Severity::note && d.message.find("(through a symlink)") != std::string::npos) continue;
        add(from_compiler, d);
    }
    add_groups(groups, from_compiler, true);

    const lint::RuleKeys keys = lint::rule_keys(policies, imagined);
    auto run = [&](void (*check)(lint::Context&), bool attach) {
        Diagnostics out;
        lint::Context ctx{policies, machine, imagined, keys, options, out};
        check(ctx);
        add_groups(groups, out, attach);
    };
    run(lint::machine_checks, false);
    run(lint::monitor_checks, false);
    if (compiled.image) {
        run(lint::shadow_checks, true);
        run(lint::overlap_checks, true);
        run(lint::lockout_checks, true);
        run(lint::connect_checks, true);
        run(lint::scope_checks, true);
    }
    std::vector<std::string> files;
    for (const Policy& p : policies) files.push_back(p.file);
    return flatten(std::move(groups), files);
}

}  // namespace bulwark
