#include "monitor/run_plan.hpp"

namespace bulwark {
namespace {

std::string where(const SourcePos& pos, const char* what)
{
    return basename_of(pos.file) + ":" + std::to_string(pos.line) + " " + what;
}

}  // namespace

RunPlan plan_run(const std::vector<Policy>& policies, const MapImage& image)
{
    RunPlan plan;
    bool file = false, exec = false, connect = false;
    for (const Policy& p : policies) {
        for (const auto& r : p.files) plan.lsm_rules.push_back(where(r.pos, "[[file]]"));
        for (const auto& r : p.execs) plan.lsm_rules.push_back(where(r.pos, "[[exec]]"));
        for (const auto& r : p.connects) plan.lsm_rules.push_back(where(r.pos, "[[connect]]"));
        file |= !p.files.empty();
        exec |= !p.execs.empty();
        connect |= !p.connects.empty();
        // A default other than allow decides without any rule.
        const std::pair<const Default*, const char*> defaults[] = {
            {&p.defaults.file, "[defaults] file"}, {&p.defaults.exec, "[defaults] exec"},
            {&p.defaults.connect, "[defaults] connect"}};
        for (const auto& [d, name] : defaults) {
            if (!d->given || d->action == Action::allow) continue;
            plan.lsm_rules.push_back(where(d->pos, name));
        }
        file |= p.defaults.file.given && p.defaults.file.action != Action::allow;
        exec |= p.defaults.exec.given && p.defaults.exec.action != Action::allow;
        connect |= p.defaults.connect.given && p.defaults.connect.action != Action::allow;
    }
    const auto& mon = image.monitors;
    plan.monitors = !mon.empty();
    // A set with neither rules nor monitors keeps the enforcing hook
    // loaded (and so needs BPF-LSM), as before monitors existed.
    plan.enforcement = !plan.lsm_rules.empty() || !plan.monitors;
    if (plan.enforcement) {
        if (file || (!exec && !connect)) plan.objects.push_back("file_open");
        if (exec) {
            plan.objects.push_back("exec");
            plan.objects.push_back("exec_map");
        }
        if (connect) plan.objects.push_back("connect");
    }
    if (mon.has(BW_MON_FILE)) plan.objects.push_back("monitor_file");
    if (mon.has(BW_MON_SYSCALLS)) plan.objects.push_back("monitor_syscalls");
    if (mon.has(BW_MON_PROCESS)) plan.objects.push_back("monitor_process");
    if (mon.has(BW_MON_CONNECT)) plan.objects.push_back("monitor_connect");
    return plan;
}

}  // namespace bulwark
