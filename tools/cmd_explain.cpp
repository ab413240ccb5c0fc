// bulwark explain --policy PATH… OPERATION: the verdict the policies reach
// on one operation, the deciding rule, and every rule that matched and lost;
// then which monitors would report it. `syscall NAME` asks the syscalls
// monitors only. The exit status is the verdict, so scripts can branch on it.
#include "commands.hpp"
#include "explain/explain.hpp"
#include "explain/monitor_explain.hpp"
#include "monitor/syscall_table.hpp"
#include "offline_set.hpp"
#include "policy/value_checks.hpp"
#include "util/error.hpp"

#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>

namespace po = boost::program_options;

namespace bulwark {
namespace {

const char* kUsage =
    "usage: bulwark explain --policy PATH... [process options] OPERATION\n"
    "\n"
    "Say what the policies decide for one operation and why: the verdict, the\n"
    "deciding rule (file:line and its text), each policy's own verdict, and every\n"
    "rule that matched and lost. Runs the reference evaluator on the compiled\n"
    "policies, without root and without a kernel. Users, cgroups and paths that\n"
    "do not exist on this machine are imagined (--strict: refuse instead).\n"
    "\n"
    "operations:\n"
    "  open PATH [--access read|write|read,write]   (default: read)\n"
    "  exec PATH\n"
    "  create PATH | delete PATH | truncate PATH | metadata PATH\n"
    "  rename PATH TARGET | link PATH TARGET        (both ends decided)\n"
    "  connect ADDR PORT [--protocol tcp|udp]       (default: tcp)\n"
    "  syscall NAME                                 ([[monitor.syscalls]] only; x86_64 name)\n"
    "\n"
    "After the verdict, \"monitors:\" lists the monitors that would report the\n"
    "operation ([[monitor.file]] for open, by the name as given; [monitor.process]\n"
    "for exec, by the program's real path; [[monitor.connect]] for connect): the\n"
    "rule the event names, others that match too, and those whose [scope] leaves\n"
    "the process out. Monitors never change the verdict.\n"
    "\n"
    "History (sticky scope): --parent-executable, --parent-uid and --parent-cgroup\n"
    "name what the process or an ancestor was before (each repeatable, read as\n"
    "--executable, --uid and --cgroup are). A [scope] key holds if the process\n"
    "matches it now or matched it before, as under BPF-LSM. The kernel has room\n"
    "for 2 programs, 4 uids and 4 cgroups that some [scope] names (a cgroup takes\n"
    "a place for each scoped cgroup at or above it; what the process is now takes\n"
    "none here); with more of a kind the process is in the scope of every policy\n"
    "constraining that kind. Monitors, and the fanotify and cgroup socket\n"
    "backends, look at what the process is now (docs/policy-language.md, [scope]).\n"
    "\n"
    "exit status: 0 allow, 10 audit, 11 would-deny, 12 deny;\n"
    "             syscall: 0 not reported, 10 reported (or would-kill), 12 killed;\n"
    "             1 policy errors, 2 bad invocation, 4 the operation cannot be described\n"
    "\n"
    "examples:\n"
    "  bulwark explain --policy policies/default open /etc/shadow\n"
    "  bulwark explain --policy web.toml --uid www-data --cgroup system.slice/nginx.service \\\n"
    "      open /etc/ssl/private/site.key --access read\n"
    "  bulwark explain --policy policies/default --uid 1000 exec /tmp/payload\n"
    "  bulwark explain --policy web.toml --executable /bin/sh --parent-executable /usr/sbin/nginx \\\n"
    "      open /etc/shadow\n"
    "  bulwark explain --policy policies/default connect 169.254.169.254 80\n"
    "  bulwark explain --policy watch.toml --uid 1000 syscall ptrace\n"
    "  bulwark explain -p web.toml open /etc/shadow >/dev/null; echo $?   # 12: denied\n"
    "\n"
    "options";

int exit_for(Verdict v)
{
    switch (v) {
    case Verdict::allow: return 0;
    case Verdict::audit: return 10;
    case Verdict::would_deny: return 11;
    case Verdict::deny: return 12;
    }
    return 0;
}

[[noreturn]] void usage_error(const std::string& what)
{
    throw Error("explain: " + what, "see bulwark explain --help", exit_usage);
}

// An absolute, normal path from what the user typed (relative to the
// working directory).
std::string absolute_path(const std::string& typed)
{
    if (typed.empty()) usage_error("empty path");
    std::string abs = typed[0] == '/' ? typed : (std::filesystem::current_path() / typed).string();
    std::string norm = lexically_normal(abs, false);
    if (std::string msg = check_path(norm, PathKind::exact); !msg.empty()) usage_error(msg);
    return norm;
}

UidSpec uid_spec(const std::string& s)
{
    if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
        const unsigned long n = std::stoul(s);
        if (n > 4294967294ul) usage_error("uid " + s + " is out of range");
        return UidSpec{static_cast<uint32_t>(n), {}};
    }
    return UidSpec{s, {}};
}

// "who": "uid 1000, cgroup demo" from the process options.
std::string who(const TestCase& tc)
{
    const std::string out = process_text(tc);
    return out.empty() ? "uid 0" : out;
}

// explain syscall NAME: only the syscalls monitors have a say.
int explain_syscall(const OfflineSet& set, const TestCase& tc, const std::string& name, uint32_t nr, bool strict)
{
    auto subject = resolve_subject(tc, set.system());
    if (const auto* err = std::get_if<std::string>(&subject))
        throw Error("cannot describe the process (" + who(tc) + "): " + *err,
                    strict ? "without --strict, what is missing here is imagined" : "");
    MonitoredOp op;
    op.kind = MonitoredOp::Kind::syscall;
    op.subject = std::get<Subject>(subject);
    op.nr = nr;
    const MonitorExplanation m = explain_monitors(set.policies, set.image, set.system(), op);
    std::cout << "syscall " << name << " (" << nr << ") as " << who(tc) << '\n'
              << "verdict: allow (no hook denies syscalls; [[monitor.syscalls]] report them, or kill)\n";
    if (!m.watched) std::cout << "\nmonitors:\n  no policy has a [[monitor.syscalls]] table\n";
    print(m, set.image, std::cout);
    if (!m.event) return exit_ok;
    return m.matches[*m.event].action == BW_MON_KILL ? 12 : 10;
}

}  // namespace

int cmd_explain(const Args& args)
{
    std::vector<std::string> policies, operation;
    std::string uid, cgroup, executable, access, protocol;
    std::vector<std::string> parent_uids, parent_cgroups, parent_executables;
    bool strict = false, audit = false;
    po::options_description desc(kUsage);
    desc.add_options()("help,h", "this help")("policy,p", po::value(&policies)->multitoken(),
                                              "policy file or directory (repeatable)")(
        "uid", po::value(&uid), "the process's uid or user name (default: 0)")(
        "cgroup", po::value(&cgroup), "its cgroup v2, relative to the mount (default: the root cgroup)")(
        "executable", po::value(&executable), "the program it runs (default: one no [scope] names)")(
        "parent-executable", po::value(&parent_executables),
        "a program it or an ancestor ran before (repeatable; sticky scope)")(
        "parent-uid", po::value(&parent_uids), "a uid or user name it or an ancestor had before (repeatable)")(
        "parent-cgroup", po::value(&parent_cgroups), "a cgroup it or an ancestor was in before (repeatable)")(
        "access", po::value(&access), "open: read, write or read,write")(
        "protocol", po::value(&protocol), "connect: tcp or udp")(
        "audit", po::bool_switch(&audit), "as bulwark run --audit: every policy reports, none blocks")(
        "strict", po::bool_switch(&strict), "imagine nothing: users, cgroups and paths must exist here");
    po::options_description hidden;
    hidden.add_options()("operation", po::value(&operation)->multitoken());
    po::options_description all;
    all.add(desc).add(hidden);
    po::positional_options_description pos;
    pos.add("operation", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
        if (vm.count("help")) {
            std::cout << desc << '\n';
            return exit_ok;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "bulwark explain: " << e.what() << "\n\n" << desc << '\n';
        return exit_usage;
    }
    // --policy takes several paths, so it swallows an operation written
    // right after it: the operation starts at the first verb.
    if (operation.empty()) {
        for (size_t i = 0; i < policies.size(); ++i) {
            if (test_op(policies[i]) || policies[i] == "syscall") {
                operation.assign(policies.begin() + static_cast<std::ptrdiff_t>(i), policies.end());
                policies.resize(i);
                break;
            }
        }
    }
    if (policies.empty()) {
        std::cerr << "bulwark explain: name the policies with --policy PATH\n\n" << desc << '\n';
        return exit_usage;
    }
    if (operation.empty()) {
        std::cerr << "bulwark explain: name an operation: open PATH, exec PATH, create|delete|truncate|metadata "
                     "PATH, rename|link PATH TARGET, connect ADDR PORT or syscall NAME\n\n"
                  << desc << '\n';
        return exit_usage;
    }

    TestCase tc;
    tc.name = "explain";
    const std::string& verb = operation[0];
    std::optional<uint32_t> syscall_nr;
    if (verb == "syscall") {
        if (operation.size() != 2) usage_error("syscall takes one NAME");
        syscall_nr = syscall_number(operation[1]);
        if (!syscall_nr)
            usage_error("unknown syscall \"" + operation[1] + "\"; write an x86_64 name as in syscall_64.tbl, "
                        "such as openat or ptrace");
        tc.op = TestOp::connect;  // names no path: nothing to imagine for it
    } else if (verb == "open" || verb == "exec") {
        if (operation.size() != 2) usage_error(verb + " takes one PATH");
        tc.op = verb == "open" ? TestOp::open : TestOp::exec;
        tc.path.value = absolute_path(operation[1]);
        if (!access.empty()) {
            if (tc.op != TestOp::open) usage_error("--access is for open");
            if (access == "read") tc.access = access_read;
            else if (access == "write") tc.access = access_write;
            else if (access == "read,write" || access == "rw") tc.access = access_any;
            else usage_error("--access is read, write or read,write, not \"" + access + "\"");
        }
    } else if (auto change = test_op(verb); change && is_file_change(*change)) {
        tc.op = *change;
        const size_t n = has_target(tc.op) ? 3 : 2;
        if (operation.size() != n) usage_error(verb + (n == 3 ? " takes PATH TARGET" : " takes one PATH"));
        tc.path.value = absolute_path(operation[1]);
        if (n == 3) tc.target.value = absolute_path(operation[2]);
    } else if (verb == "connect") {
        if (operation.size() != 3) usage_error("connect takes ADDR PORT");
        tc.op = TestOp::connect;
        tc.addr.value = operation[1];
        if (!destination(tc.addr.value, 0)) usage_error("\"" + tc.addr.value + "\" is not an IP address");
        const std::string& port = operation[2];
        if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(port) > 65535)
            usage_error("port \"" + port + "\" is not 0..65535");
        tc.port = static_cast<uint16_t>(std::stoul(port));
        if (protocol == "udp") tc.protocol = proto_udp;
        else if (!protocol.empty() && protocol != "tcp") usage_error("--protocol is tcp or udp");
    } else {
        usage_error("unknown operation \"" + verb +
                    "\"; write open PATH, exec PATH, create|delete|truncate|metadata PATH, rename|link PATH "
                    "TARGET, connect ADDR PORT or syscall NAME");
    }
    if (syscall_nr && (!access.empty() || !protocol.empty()))
        usage_error(!access.empty() ? "--access is for open" : "--protocol is for connect");
    if ((!access.empty() && tc.op != TestOp::open) || (!protocol.empty() && tc.op != TestOp::connect))
        usage_error(!access.empty() ? "--access is for open" : "--protocol is for connect");
    // What the process is, then what it was: each parent value read as the
    // option without "parent-" reads its own.
    auto cgroup_of = [](const std::string& cg) {
        if (std::string msg = check_cgroup(cg); !msg.empty()) usage_error(msg);
        return Located{cg, {}};
    };
    if (!uid.empty()) tc.uid = uid_spec(uid);
    if (!cgroup.empty()) tc.cgroup = cgroup_of(cgroup);
    if (!executable.empty()) tc.executable = Located{absolute_path(executable), {}};
    for (const auto& u : parent_uids) tc.parent_uids.push_back(uid_spec(u));
    for (const auto& cg : parent_cgroups) tc.parent_cgroups.push_back(cgroup_of(cg));
    for (const auto& e : parent_executables) tc.parent_executables.push_back(Located{absolute_path(e), {}});

    CompileOptions options;
    options.global_audit = audit;
    auto set = OfflineSet::load(policies, {tc}, strict, options, std::cerr);
    if (!set) return exit_policy_errors;
    if (syscall_nr) return explain_syscall(*set, tc, operation[1], *syscall_nr, strict);
    auto resolved = resolve_op(tc, set->system());
    if (const auto* err = std::get_if<std::string>(&resolved))
        throw Error("cannot describe " + describe(tc) + ": " + *err,
                    strict ? "without --strict, what is missing here is imagined" : "");
    const auto& op = std::get<ResolvedOp>(resolved);

    const Explanation e = explain(set->policies, set->image, set->system(), op, options);
    RuleTexts texts;
    print(e, tc, set->image, texts, std::cout);
    if (!is_file_change(tc.op))  // monitors report opens, runs and connections only
        print(explain_monitors(set->policies, set->image, set->system(), monitored(op, tc)), set->image, std::cout);

    // Say what was made up, when the operation itself names it.
    std::vector<std::string> named;
    auto user_is = [](const UidSpec& u, const std::string& name) {
        return std::holds_alternative<std::string>(u.value) && std::get<std::string>(u.value) == name;
    };
    auto cgroup_is = [](const Located& cg, const std::string& name) {
        return name.size() >= cg.value.size() &&
               name.compare(name.size() - cg.value.size(), std::string::npos, cg.value) == 0;
    };
    for (const auto& o : set->imagined()) {
        bool mine = o.name == op.canonical || (tc.uid && user_is(*tc.uid, o.name)) ||
                    (tc.executable && o.name == tc.executable->value) || (tc.cgroup && cgroup_is(*tc.cgroup, o.name));
        for (const auto& u : tc.parent_uids) mine = mine || user_is(u, o.name);
        for (const auto& cg : tc.parent_cgroups) mine = mine || cgroup_is(cg, o.name);
        for (const auto& e : tc.parent_executables) mine = mine || o.name == e.value;
        if (mine)
            named.push_back(o.kind == ImaginedObject::Kind::user
                                ? "user " + o.name + " (uid " + std::to_string(o.uid) + ")"
                                : o.name);
    }
    if (!named.empty()) {
        std::cout << "\nnote: not on this machine, imagined for this explanation:";
        for (const auto& n : named) std::cout << ' ' << n;
        std::cout << '\n';
    }
    return exit_for(e.verdict);
}

}  // namespace bulwark
