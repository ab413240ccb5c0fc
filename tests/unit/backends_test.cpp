// Backend selection without a kernel (engine/backend/): the --backend
// values, which mechanism each kind of rule gets from what a kernel
// offers, what `bulwark run` then loads and refuses, and the rows of
// `bulwark probe`.
#include "backend/backends.hpp"
#include "backend/coverage.hpp"
#include "compile/compiler.hpp"
#include "monitor/run_plan.hpp"
#include "tool_support.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <iterator>

using namespace bulwark;
using namespace bulwark::test;

namespace {

BackendSupport no_lsm()
{
    BackendSupport s;
    s.bpf_lsm_why_not = "bpf is not an active LSM";
    s.fanotify_why_not = "no fanotify here";
    s.cgroup_sock_addr = true;
    return s;
}

BackendSupport full()
{
    BackendSupport s;
    s.bpf_lsm = s.fanotify = s.cgroup_sock_addr = true;
    return s;
}

struct Plan {
    std::vector<Policy> policies;
    CompileResult result;
};

Plan compiled(const std::string& text)
{
    Plan p;
    p.policies = parse_all({{"/etc/bulwark/p.toml", text}});
    FakeSystem sys = server();
    p.result = compile(p.policies, sys);
    REQUIRE(p.result.image);
    return p;
}

int usage_error(const std::vector<std::string>& values, std::string& what)
{
    try {
        parse_backend_request(values);
    } catch (const Error& e) {
        what = e.what();
        return e.exit_code();
    }
    return 0;
}

}  // namespace

TEST_CASE("--backend: auto, bpf-lsm, fallback and KIND=MECHANISM; later values win per kind")
{
    auto r = parse_backend_request({});
    for (const auto& f : r.forced) CHECK(!f);
    r = parse_backend_request({"bpf-lsm"});
    for (const auto& f : r.forced) CHECK(f == Mechanism::bpf_lsm);
    r = parse_backend_request({"fallback"});
    CHECK(r.forced[0] == Mechanism::fanotify);
    CHECK(r.forced[1] == Mechanism::fanotify);
    CHECK(r.forced[2] == Mechanism::cgroup_sock_addr);
    r = parse_backend_request({"fallback", "connect=bpf-lsm", "file=auto"});
    CHECK(!r.forced[0]);
    CHECK(r.forced[1] == Mechanism::fanotify);
    CHECK(r.forced[2] == Mechanism::bpf_lsm);
    r = parse_backend_request({"bpf-lsm", "auto"});
    for (const auto& f : r.forced) CHECK(!f);

    std::string what;
    CHECK(usage_error({"lsm"}, what) == exit_usage);
    CHECK(what == "--backend \"lsm\" is not a backend");
    CHECK(usage_error({"connect=fanotify"}, what) == exit_usage);
    CHECK(what == "--backend \"connect=fanotify\": connect rules cannot be decided by \"fanotify\"");
    CHECK(usage_error({"file=cgroup-sock-addr"}, what) == exit_usage);
    CHECK(usage_error({"files=fanotify"}, what) == exit_usage);
    CHECK(usage_error({"exec="}, what) == exit_usage);
}

TEST_CASE("backends: BPF-LSM where it enforces, else each kind's fallback, else none with the reason")
{
    Backends b = choose_backends(full());
    CHECK(b.json() == R"({"file":"bpf-lsm","exec":"bpf-lsm","connect":"bpf-lsm"})");

    b = choose_backends(no_lsm());
    CHECK(b[RuleKind::connect] == Mechanism::cgroup_sock_addr);
    CHECK(b.why[2] == "BPF-LSM cannot enforce here");
    CHECK(b[RuleKind::file] == Mechanism::none);
    CHECK(b.why[0] == "BPF-LSM cannot enforce here; fanotify: no fanotify here");
    CHECK(b.json() == R"({"file":"none","exec":"none","connect":"cgroup-sock-addr"})");

    // Forced: BPF-LSM stays (bulwark run refuses its rules with the kernel's
    // reason); a forced fallback that is not there leaves none.
    b = choose_backends(no_lsm(), parse_backend_request({"bpf-lsm"}));
    CHECK(b[RuleKind::connect] == Mechanism::bpf_lsm);
    b = choose_backends(no_lsm(), parse_backend_request({"file=fanotify"}));
    CHECK(b[RuleKind::file] == Mechanism::none);
    CHECK(b.why[0] == "forced with --backend, but no fanotify here");
    b = choose_backends(full(), parse_backend_request({"fallback"}));
    CHECK(b.json() == R"({"file":"fanotify","exec":"fanotify","connect":"cgroup-sock-addr"})");
    CHECK(b.why[2] == "forced with --backend");
}

TEST_CASE("run plan with backends: connect rules load the cgroup object, rules no backend decides are refused")
{
    const Plan p = compiled(R"([policy]
name = "p"
[[connect]]
cidrs = ["10.0.0.0/8"]
action = "deny"
[[file]]
paths = ["/etc/shadow"]
action = "deny"
[[monitor.connect]]
cidrs = ["192.0.2.0/24"]
)");
    const Backends b = choose_backends(no_lsm());
    const RunPlan plan = plan_run(p.policies, *p.result.image, b);
    CHECK(plan.enforcement);
    CHECK(!plan.needs_lsm);
    CHECK(plan.lsm_rules.empty());
    CHECK(plan.objects == std::vector<std::string>{"connect_cgroup", "monitor_connect"});
    CHECK(plan.refused == std::vector<std::string>{"p.toml:6 [[file]]"});
    CHECK(plan.refused_kinds == std::vector<RuleKind>{RuleKind::file});

    const RunPlan lsm = plan_run(p.policies, *p.result.image, choose_backends(full()));
    CHECK(lsm.needs_lsm);
    CHECK(lsm.refused.empty());
    CHECK(lsm.objects == std::vector<std::string>{"enforce", "monitor_connect"});
    // The [[file]] rule decides every right: file_open and every file hook.
    CHECK(lsm.programs.front() == "file_open");
    CHECK(lsm.programs.size() == 1 + std::size(kFileHooks) + 2 + 3 + 5);
    CHECK(std::vector<std::string>(lsm.programs.end() - 10, lsm.programs.end()) ==
          std::vector<std::string>{"socket_connect", "socket_sendmsg", "task_alloc", "bprm_creds_for_exec",
                                   "task_fix_setuid", "task_kill", "ptrace_access_check", "bpf_map", "bpf_prog",
                                   "bpf"});
    CHECK(lsm.lsm_rules == std::vector<std::string>{"p.toml:6 [[file]]", "p.toml:3 [[connect]]"});

    const RunPlan fallback =
        plan_run(p.policies, *p.result.image, choose_backends(full(), parse_backend_request({"fallback"})));
    CHECK(!fallback.needs_lsm);
    CHECK(fallback.fanotify == std::vector<RuleKind>{RuleKind::file});
    CHECK(fallback.objects == std::vector<std::string>{"connect_cgroup", "monitor_connect"});
}

TEST_CASE("run plan with backends: an empty set without BPF-LSM loads the connect hooks, needs no LSM")
{
    const Plan p = compiled("[policy]\nname = \"empty\"\n");
    const RunPlan plan = plan_run(p.policies, *p.result.image, choose_backends(no_lsm()));
    CHECK(plan.enforcement);
    CHECK(!plan.needs_lsm);
    CHECK(plan.objects == std::vector<std::string>{"connect_cgroup"});
}

TEST_CASE("probe rows: every kind of rule, with its mechanism")
{
    const auto rows = coverage(no_lsm(), choose_backends(no_lsm()));
    REQUIRE(rows.size() == 7);
    const char* what[] = {"file open", "file operations", "exec", "exec through the loader", "connect",
                          "self-protection", "monitors"};
    const char* mech[] = {"none", "none", "none", "none", "cgroup-sock-addr", "none", "tracepoints+cgroup"};
    for (size_t i = 0; i < rows.size(); ++i) {
        CHECK(rows[i].what == what[i]);
        CHECK(rows[i].mechanism == mech[i]);
        CHECK(!rows[i].why.empty());
    }
    const auto lsm = coverage(full(), choose_backends(full()));
    for (size_t i = 0; i + 1 < lsm.size(); ++i) CHECK(lsm[i].mechanism == "bpf-lsm");
}

TEST_CASE("run plan with fanotify: enforcing rules that need more than opens are refused, auditing ones noted")
{
    const Plan p = compiled(R"([policy]
name = "p"
[[file]]
paths = ["/etc/shadow"]
access = ["read"]
action = "deny"
[[file]]
prefixes = ["/etc/cron.d/"]
access = ["write"]
action = "deny"
[[file]]
paths = ["/etc/passwd"]
access = ["write"]
action = "audit"
[[exec]]
fileless = true
action = "deny"
[[exec]]
prefixes = ["/tmp/"]
action = "deny"
)");
    BackendSupport s = no_lsm();
    s.fanotify = true;
    const RunPlan plan = plan_run(p.policies, *p.result.image, choose_backends(s));
    CHECK(plan.fanotify == std::vector<RuleKind>{RuleKind::file, RuleKind::exec});
    CHECK(plan.refused.empty());
    REQUIRE(plan.unseen_enforced.size() == 2);
    CHECK(plan.unseen_enforced[0] ==
          "p.toml:7 [[file]] (fanotify does not see: truncate(2), create, delete, rename and link, metadata)");
    CHECK(plan.unseen_enforced[1].rfind("p.toml:15 [[exec]] (fanotify does not see: fileless", 0) == 0);
    // An audit rule only reports: what it misses is said, not refused.
    CHECK(plan.unseen_audited.size() == 1);
    CHECK(plan.unseen_audited[0].rfind("p.toml:11 [[file]]", 0) == 0);

    // The same set in audit mode: nothing refused.
    CompileOptions audit;
    audit.global_audit = true;
    FakeSystem sys = server();
    const auto image = compile(p.policies, sys, audit).image;
    REQUIRE(image);
    const RunPlan audited = plan_run(p.policies, *image, choose_backends(s));
    CHECK(audited.unseen_enforced.empty());
    CHECK(audited.unseen_audited.size() == 3);
    // The read rule and the /tmp/ exec rule: fanotify sees all they need.
}

TEST_CASE("probe rows with fanotify: file opens and exec through it, file operations nowhere")
{
    BackendSupport s = no_lsm();
    s.fanotify = true;
    const auto rows = coverage(s, choose_backends(s));
    const char* mech[] = {"fanotify", "none", "fanotify", "fanotify", "cgroup-sock-addr", "none", "tracepoints+cgroup"};
    REQUIRE(rows.size() == std::size(mech));
    for (size_t i = 0; i < rows.size(); ++i) {
        CAPTURE(rows[i].what);
        CHECK(rows[i].mechanism == mech[i]);
    }
}
