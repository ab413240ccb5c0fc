#include "explain/operation.hpp"

#include "compile/scope_compiler.hpp"

namespace bulwark {
namespace {

std::string uid_text(const UidSpec& u)
{
    if (const auto* n = std::get_if<uint32_t>(&u.value)) return std::to_string(*n);
    return std::get<std::string>(u.value);
}

// How the kernel names `path`: its canonical form, or, when it does not
// exist, its directory's followed by its name.
std::string kernel_name(const SystemView& system, const std::string& path)
{
    if (auto c = system.canonical(path)) return *c;
    const auto slash = path.find_last_of('/');
    auto parent = system.canonical(slash == 0 ? "/" : path.substr(0, slash));
    return (parent && *parent != "/" ? *parent : "") + path.substr(slash);
}

}  // namespace

std::string access_text(uint8_t access)
{
    if ((access & (access_read | access_write)) == (access_read | access_write)) return "read,write";
    return access == access_write ? "write" : "read";
}

bw_kind kind_of(TestOp op)
{
    if (op == TestOp::exec) return BW_KIND_EXEC;
    if (op == TestOp::connect) return BW_KIND_CONNECT;
    return BW_KIND_FILE;
}

uint32_t change_access(TestOp op)
{
    switch (op) {
    case TestOp::create: return BW_ACCESS_CREATE;
    case TestOp::remove: return BW_ACCESS_DELETE;
    case TestOp::rename:
    case TestOp::link: return BW_ACCESS_RENAME;
    case TestOp::truncate: return BW_ACCESS_WRITE;
    case TestOp::metadata: return BW_ACCESS_METADATA;
    case TestOp::open:
    case TestOp::exec:
    case TestOp::connect: break;
    }
    return 0;
}

ResolvedOp source_end(const ResolvedOp& op)
{
    ResolvedOp r = op;
    r.target.reset();
    r.target_canonical.clear();
    return r;
}

ResolvedOp target_end(const ResolvedOp& op)
{
    ResolvedOp r = source_end(op);
    if (!op.target) return r;
    r.object = op.target;
    r.canonical = op.target_canonical;
    return r;
}

Verdict to_verdict(bw_verdict v)
{
    switch (v) {
    case BW_VERDICT_ALLOW: return Verdict::allow;
    case BW_VERDICT_AUDIT: return Verdict::audit;
    case BW_VERDICT_WOULD_DENY: return Verdict::would_deny;
    case BW_VERDICT_DENY: return Verdict::deny;
    }
    return Verdict::allow;
}

std::string process_text(const TestCase& tc)
{
    std::vector<std::string> now, before;
    if (tc.uid) now.push_back("uid " + uid_text(*tc.uid));
    if (tc.cgroup) now.push_back("cgroup " + tc.cgroup->value);
    if (tc.executable) now.push_back("executable " + tc.executable->value);
    for (const auto& u : tc.parent_uids) before.push_back("uid " + uid_text(u));
    for (const auto& c : tc.parent_cgroups) before.push_back("cgroup " + c.value);
    for (const auto& e : tc.parent_executables) before.push_back("executable " + e.value);
    if (now.empty() && before.empty()) return "";
    if (now.empty()) now.push_back("uid 0");  // the default process, with a history
    auto join = [](const std::vector<std::string>& v) {
        std::string out;
        for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
        return out;
    };
    return join(now) + (before.empty() ? "" : " after " + join(before));
}

std::string describe(const TestCase& tc)
{
    std::string out = to_string(tc.op);
    if (tc.op == TestOp::connect) {
        out += " " + tc.addr.value + " " + std::to_string(tc.port) + "/" + (tc.protocol == proto_udp ? "udp" : "tcp");
    } else {
        out += " " + tc.path.value;
        if (has_target(tc.op)) out += " " + tc.target.value;
        if (tc.op == TestOp::open) out += " (" + access_text(tc.access) + ")";
    }
    if (std::string who = process_text(tc); !who.empty()) out += " as " + who;
    return out;
}

namespace {

std::variant<uint32_t, std::string> resolve_uid(const UidSpec& u, const SystemView& system)
{
    if (const auto* n = std::get_if<uint32_t>(&u.value)) return *n;
    const auto& name = std::get<std::string>(u.value);
    if (auto uid = system.uid_of_user(name)) return *uid;
    return "unknown user \"" + name + "\" (not in /etc/passwd); write its numeric uid";
}

// The ids of the cgroup `as_written` and of each cgroup above it, root
// first, below the cgroup2 mount `mount` whose own id is `root`.
std::variant<std::vector<uint64_t>, std::string> resolve_cgroup_ids(const std::string& as_written,
                                                                    const std::string& mount, uint64_t root,
                                                                    const SystemView& system)
{
    std::vector<uint64_t> ids{root};
    auto dir = resolve_cgroup(as_written, mount);
    if (!dir) return "cgroup \"" + as_written + "\" contains \".\" or \"..\"";
    std::string path = mount;
    const std::string rel = dir->path.substr(mount.size());
    size_t i = 0;
    while (i < rel.size()) {
        size_t j = rel.find('/', i + 1);
        if (j == std::string::npos) j = rel.size();
        path += rel.substr(i, j - i);
        auto id = system.identify(path);
        if (!id || !id->is_dir) return "cgroup directory " + path + " does not exist";
        ids.push_back(id->ino);
        i = j;
    }
    return ids;
}

}  // namespace

std::variant<Subject, std::string> resolve_subject(const TestCase& tc, const SystemView& system)
{
    Subject s;
    if (tc.uid) {
        auto uid = resolve_uid(*tc.uid, system);
        if (auto* err = std::get_if<std::string>(&uid)) return *err;
        s.uid = std::get<uint32_t>(uid);
    }
    for (const auto& u : tc.parent_uids) {
        auto uid = resolve_uid(u, system);
        if (auto* err = std::get_if<std::string>(&uid)) return *err + " (a uid it had before)";
        s.history.uids.push_back(std::get<uint32_t>(uid));
    }

    auto mount = system.cgroup2_mount();
    if (mount) {
        auto root = system.identify(*mount);
        if (!root) return "cgroup v2 mount " + *mount + " cannot be examined";
        s.cgroup_ancestors.push_back(root->ino);
        if (tc.cgroup) {
            auto ids = resolve_cgroup_ids(tc.cgroup->value, *mount, root->ino, system);
            if (auto* err = std::get_if<std::string>(&ids)) return *err;
            s.cgroup_ancestors = std::move(std::get<std::vector<uint64_t>>(ids));
        }
        for (const auto& cg : tc.parent_cgroups) {
            auto ids = resolve_cgroup_ids(cg.value, *mount, root->ino, system);
            if (auto* err = std::get_if<std::string>(&ids)) return *err + " (a cgroup it was in before)";
            s.history.cgroups.push_back(std::move(std::get<std::vector<uint64_t>>(ids)));
        }
    } else if (tc.cgroup || !tc.parent_cgroups.empty()) {
        return "cgroup v2 is not mounted, so no process is in cgroup " +
               (tc.cgroup ? tc.cgroup->value : tc.parent_cgroups[0].value);
    }

    if (tc.executable) {
        auto exe = describe_exe(system, tc.executable->value);
        if (!exe) return "no program at " + tc.executable->value + " (the process's executable)";
        s.exe = std::move(*exe);
    } else {
        // Some program no [scope] executable names (not a kernel thread:
        // those run no program at all).
        ExeIdentity none;
        none.self = FileIdentity{0, 0, false, 1};
        none.name = "(unnamed program)";
        s.exe = none;
    }
    for (const auto& e : tc.parent_executables) {
        auto exe = describe_exe(system, e.value);
        if (!exe) return "no program at " + e.value + " (a program it ran before)";
        s.history.exes.push_back(std::move(*exe));
    }
    return s;
}

std::variant<ResolvedOp, std::string> resolve_op(const TestCase& tc, const SystemView& system)
{
    ResolvedOp r;
    r.op = tc.op;
    auto subject = resolve_subject(tc, system);
    if (auto* err = std::get_if<std::string>(&subject)) return *err;
    r.subject = std::move(std::get<Subject>(subject));

    if (tc.op == TestOp::connect) {
        auto d = destination(tc.addr.value, tc.port, tc.protocol == proto_udp ? BW_PROTO_UDP : BW_PROTO_TCP);
        if (!d) return "\"" + tc.addr.value + "\" is not an IP address";
        r.destination = *d;
        return r;
    }

    r.object = describe_file(system, tc.path.value);
    if (!r.object) return "the directory of " + tc.path.value + " does not exist";
    r.canonical = kernel_name(system, tc.path.value);
    if (has_target(tc.op)) {
        r.target = describe_file(system, tc.target.value);
        if (!r.target) return "the directory of " + tc.target.value + " does not exist";
        r.target_canonical = kernel_name(system, tc.target.value);
    }
    if (tc.op == TestOp::open) r.access = tc.access;  // AccessBits are BW_ACCESS_* bits
    else r.access = change_access(tc.op);
    return r;
}

Outcome decide(const Evaluator& eval, const ResolvedOp& op)
{
    switch (op.op) {
    case TestOp::open: return eval.decide_file(op.subject, *op.object, op.access);
    case TestOp::exec: {
        // The kernel opens the program for reading before it decides the
        // exec (file_open, then bprm_check_security): a file rule denying
        // the read stops it there; otherwise the stronger verdict is the
        // case's, and at equal ones the read, which is reported first.
        const Outcome read = eval.decide_file(op.subject, *op.object, BW_ACCESS_READ);
        if (read.verdict == BW_VERDICT_DENY) return read;
        const Outcome run = eval.decide_exec(op.subject, *op.object, ExecUse::run);
        return read.verdict != BW_VERDICT_ALLOW && read.verdict >= run.verdict ? read : run;
    }
    case TestOp::connect: return eval.decide_connect(op.subject, *op.destination);
    case TestOp::create:
    case TestOp::remove:
    case TestOp::truncate:
    case TestOp::metadata: return eval.decide_file(op.subject, *op.object, op.access);
    case TestOp::rename:
    case TestOp::link: {
        const Outcome from = eval.decide_file(op.subject, *op.object, op.access);
        if (!op.target || from.verdict == BW_VERDICT_DENY) return from;
        const Outcome to = eval.decide_file(op.subject, *op.target, op.access);
        return to.verdict > from.verdict ? to : from;
    }
    }
    return {};
}

}  // namespace bulwark
