#include "monitor/run_plan.hpp"

#include <algorithm>
#include <tuple>

namespace bulwark {
namespace {

std::string where(const SourcePos& pos, const char* what)
{
    return basename_of(pos.file) + ":" + std::to_string(pos.line) + " " + what;
}

// The BPF-LSM hooks of kind `k`, from the one "enforce" object; of the
// file hooks beyond file_open, those of the columns some policy can decide.
void add_lsm(RunPlan& plan, RuleKind k, const MapImage& image)
{
    if (plan.objects.empty() || plan.objects.front() != "enforce") plan.objects.insert(plan.objects.begin(), "enforce");
    auto& p = plan.programs;
    if (k == RuleKind::file) {
        p.push_back("file_open");
        const bw_policy_set& set = image.policy_set;
        for (const FileHook& h : kFileHooks) {
            uint64_t decided = 0;
            for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c)
                if (h.access & (1u << c)) decided |= set.can_deny[c] | set.can_audit[c];
            if (decided) p.push_back(h.hook);
        }
    }
    if (k == RuleKind::exec) p.insert(p.end(), {"bprm_check_security", "mmap_file", "file_mprotect"});
    if (k == RuleKind::connect) p.insert(p.end(), {"socket_connect", "socket_sendmsg"});
}

// What fanotify cannot see of a [[file]] rule's rights: it sees opens
// (reading, writing, O_TRUNC) and nothing else.
std::string unseen_rights(uint8_t access)
{
    std::string out;
    auto add = [&](uint8_t bit, const char* what) {
        if (access & bit) out += (out.empty() ? "" : ", ") + std::string(what);
    };
    add(access_write, "truncate(2)");
    add(access_create, "create");
    add(access_delete, "delete");
    add(access_rename, "rename and link");
    add(access_metadata, "metadata");
    return out;
}

// Sorts the rules fanotify decides that need more than it sees into
// plan.unseen_enforced (a denial that would not happen) and
// plan.unseen_audited (a report that would not be written).
void note_unseen(RunPlan& plan, const Policy& p, Mode mode, bool files, bool execs)
{
    auto note = [&](const SourcePos& pos, const char* what, Action action, const std::string& missed) {
        if (missed.empty() || action == Action::allow) return;
        const std::string line = where(pos, what) + " (fanotify does not see: " + missed + ")";
        (mode == Mode::enforce && action == Action::deny ? plan.unseen_enforced : plan.unseen_audited).push_back(line);
    };
    if (files) {
        for (const auto& r : p.files) note(r.pos, "[[file]]", r.action, unseen_rights(r.access));
        if (p.defaults.file.given)
            note(p.defaults.file.pos, "[defaults] file", p.defaults.file.action, unseen_rights(access_any));
    }
    if (execs)
        for (const auto& r : p.execs)
            if (r.fileless) note(r.pos, "[[exec]]", r.action, "fileless programs (memfd_create) are on no watched filesystem");
}

}  // namespace

const char* const kStickyScopeHooks[3] = {"task_alloc", "bprm_creds_for_exec", "task_fix_setuid"};
const char* const kSelfProtectHooks[5] = {"task_kill", "ptrace_access_check", "bpf_map", "bpf_prog", "bpf"};

const FileHook kFileHooks[17] = {
    {BW_ACCESS_WRITE, "path_truncate", true},       {BW_ACCESS_WRITE, "file_truncate", false},
    {BW_ACCESS_CREATE, "path_mknod", true},         {BW_ACCESS_CREATE, "path_mkdir", true},
    {BW_ACCESS_CREATE, "path_symlink", true},       {BW_ACCESS_DELETE, "path_unlink", true},
    {BW_ACCESS_DELETE, "path_rmdir", true},         {BW_ACCESS_RENAME, "path_rename", true},
    {BW_ACCESS_RENAME, "path_link", true},          {BW_ACCESS_METADATA, "path_chmod", true},
    {BW_ACCESS_METADATA, "path_chown", true},       {BW_ACCESS_METADATA, "inode_setxattr", true},
    {BW_ACCESS_METADATA, "inode_removexattr", true}, {BW_ACCESS_METADATA, "inode_setattr", true},
    {BW_ACCESS_TREE_CHANGE, "sb_mount", true},      {BW_ACCESS_TREE_CHANGE, "move_mount", true},
    {BW_ACCESS_TREE_CHANGE, "sb_umount", true},
};

std::vector<std::string> required_missing(const RunPlan& plan, const std::function<bool(const std::string&)>& exists)
{
    std::vector<std::string> out;
    for (const auto& prog : plan.programs) {
        bool optional = false;
        for (const FileHook& h : kFileHooks) optional |= h.hook == prog && !h.required;
        if (!optional && !exists(prog)) out.push_back(prog);
    }
    return out;
}

RunPlan plan_run(const std::vector<Policy>& policies, const MapImage& image, const Backends& backends)
{
    RunPlan plan;
    std::array<std::vector<std::string>, 3> rules;  // by RuleKind
    auto add = [&](RuleKind k, std::string what) { rules[static_cast<size_t>(k)].push_back(std::move(what)); };
    std::vector<std::string> with_rules;  // names of the policies that decide something
    auto count = [&] { return rules[0].size() + rules[1].size() + rules[2].size(); };
    for (const Policy& p : policies) {
        const size_t rules_before = count();
        for (const auto& r : p.files) add(RuleKind::file, where(r.pos, "[[file]]"));
        for (const auto& r : p.execs) add(RuleKind::exec, where(r.pos, "[[exec]]"));
        for (const auto& r : p.connects) add(RuleKind::connect, where(r.pos, "[[connect]]"));
        // A default other than allow decides without any rule.
        const std::tuple<const Default*, RuleKind, const char*> defaults[] = {
            {&p.defaults.file, RuleKind::file, "[defaults] file"},
            {&p.defaults.exec, RuleKind::exec, "[defaults] exec"},
            {&p.defaults.connect, RuleKind::connect, "[defaults] connect"}};
        for (const auto& [d, kind, name] : defaults) {
            if (!d->given || d->action == Action::allow) continue;
            add(kind, where(d->pos, name));
        }
        if (count() > rules_before) with_rules.push_back(p.name);
    }
    const auto& mon = image.monitors;
    plan.monitors = !mon.empty();
    bool any_rule = false;
    for (const auto& r : rules) any_rule |= !r.empty();
    // A set with neither rules nor monitors keeps an enforcing hook loaded
    // (with BPF-LSM: file_open, as before monitors existed).
    plan.enforcement = any_rule || !plan.monitors;
    if (plan.enforcement && !any_rule) {
        plan.needs_lsm = backends[RuleKind::file] == Mechanism::bpf_lsm;
        if (plan.needs_lsm) add_lsm(plan, RuleKind::file, image);
        else if (backends[RuleKind::connect] == Mechanism::cgroup_sock_addr) plan.objects.push_back("connect_cgroup");
    }
    for (RuleKind k : kRuleKinds) {
        const auto& of_kind = rules[static_cast<size_t>(k)];
        if (of_kind.empty()) continue;
        const Mechanism m = backends[k];
        for (const auto& r : of_kind) {
            if (m == Mechanism::bpf_lsm) plan.lsm_rules.push_back(r);
            if (m == Mechanism::none) plan.refused.push_back(r);
        }
        if (m == Mechanism::bpf_lsm) {
            plan.needs_lsm = true;
            add_lsm(plan, k, image);
        }
        if (m == Mechanism::cgroup_sock_addr) plan.objects.push_back("connect_cgroup");
        if (m == Mechanism::fanotify) plan.fanotify.push_back(k);
        if (m == Mechanism::none) plan.refused_kinds.push_back(k);
    }
    const bool fan_files = backends[RuleKind::file] == Mechanism::fanotify;
    const bool fan_execs = backends[RuleKind::exec] == Mechanism::fanotify;
    if (fan_files || fan_execs) {
        for (size_t i = 0; i < policies.size(); ++i) {
            const Mode mode = i < image.policies.size() ? image.policies[i].mode : policies[i].mode;
            note_unseen(plan, policies[i], mode, fan_files, fan_execs);
        }
    }
    // The fanotify backend decides in user space, but the maps every
    // object shares (events, stats, the policy slots) come with a BPF
    // object: with nothing else loaded, the connect backend's (which
    // decides nothing without connect rules).
    if (!plan.fanotify.empty() && std::find(plan.objects.begin(), plan.objects.end(), "enforce") == plan.objects.end() &&
        std::find(plan.objects.begin(), plan.objects.end(), "connect_cgroup") == plan.objects.end())
        plan.objects.push_back("connect_cgroup");
    // Sticky scope and self-protection: with the enforce object always,
    // since a reload may scope a set that had no scope at start, or give
    // rules to a policy that had none.
    if (!plan.objects.empty() && plan.objects.front() == "enforce") {
        plan.programs.insert(plan.programs.end(), std::begin(kStickyScopeHooks), std::end(kStickyScopeHooks));
        plan.programs.insert(plan.programs.end(), std::begin(kSelfProtectHooks), std::end(kSelfProtectHooks));
    }
    bool enforcing = false, any = false;
    for (const auto& info : image.policies) {
        if (!with_rules.empty() && std::find(with_rules.begin(), with_rules.end(), info.name) == with_rules.end())
            continue;
        any = true;
        enforcing |= info.mode == Mode::enforce;
    }
    plan.mode = !plan.enforcement ? "monitor" : enforcing || !any ? "enforce" : "audit";
    if (mon.has(BW_MON_FILE)) plan.objects.push_back("monitor_file");
    if (mon.has(BW_MON_SYSCALLS)) plan.objects.push_back("monitor_syscalls");
    if (mon.has(BW_MON_PROCESS)) plan.objects.push_back("monitor_process");
    if (mon.has(BW_MON_CONNECT)) plan.objects.push_back("monitor_connect");
    return plan;
}

}  // namespace bulwark
