// Self-protection (docs/decisions/011-self-protection.md): which policies
// keep their scope from signalling or tracing bulwark, and the tamper
// records' JSON fields (docs/events.md, kind "tamper").
#include "compile/compiler.hpp"
#include "compile/evaluator.hpp"
#include "events/decoder.hpp"
#include "monitor/run_plan.hpp"
#include "policy/parser.hpp"
#include "util/json_value.hpp"

#include "fake_system.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <memory>
#include <sstream>

using namespace bulwark;

namespace {

// PTRACE_MODE_* (include/linux/ptrace.h).
constexpr uint32_t kModeRead = 0x01, kModeAttach = 0x02, kModeFsCreds = 0x08, kModeRealCreds = 0x10;

std::shared_ptr<const MapImage> image_of(const std::vector<std::string>& texts)
{
    std::vector<Policy> policies;
    int n = 0;
    for (const auto& t : texts) {
        ParseResult r = parse_policy_text(t, "t" + std::to_string(n++) + ".toml");
        std::ostringstream diags;
        r.diagnostics.print(diags);
        INFO(diags.str());
        REQUIRE(!r.diagnostics.has_errors());
        policies.push_back(std::move(r.policies.at(0)));
    }
    test::FakeSystem sys;
    CompileOptions o;
    o.generation = 1;
    CompileResult c = compile(policies, sys, o);
    REQUIRE(c.image);
    return std::make_shared<const MapImage>(std::move(*c.image));
}

const std::string kEnforce = "[policy]\nname = \"guard\"\n\n[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n";

bw_tamper_event tamper_record(uint32_t op, uint32_t verdict)
{
    bw_tamper_event e{};
    e.h.kind = BW_KIND_TAMPER;
    e.h.verdict = verdict;
    e.h.generation = 1;
    e.h.policy = 0;
    e.h.entry = BW_ENTRY_NONE;
    e.h.column = BW_COL_TAMPER;
    e.h.pid = 42;
    e.h.tid = 43;
    e.h.ppid = 7;
    std::strcpy(e.h.comm, "kill");
    std::strcpy(e.h.exe, "/bin/busybox");
    e.op = op;
    e.target_pid = 1234;
    return e;
}

JsonValue decoded(const bw_tamper_event& e)
{
    CgroupNames cgroups{""};
    EventDecoder decoder{cgroups};
    decoder.add_generation(1, image_of({kEnforce}));
    std::string out;
    REQUIRE(decoder.decode(&e, sizeof e, out));
    REQUIRE(!out.empty());
    CHECK(out.back() == '\n');
    auto v = JsonValue::parse(out.substr(0, out.size() - 1));
    REQUIRE(v);
    return *v;
}

}  // namespace

TEST_CASE("tamper: every policy that decides something protects bulwark from its scope; monitors do not")
{
    auto image = image_of({kEnforce,
                           "[policy]\nname = \"audited\"\nmode = \"audit\"\n\n[scope]\nuid = [33]\n\n"
                           "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\naction = \"deny\"\n",
                           "[policy]\nname = \"inert\"\n\n[[file]]\nprefixes = [\"/etc/\"]\naction = \"allow\"\n",
                           "[policy]\nname = \"watch\"\n\n[[monitor.file]]\npaths = [\"/etc/passwd\"]\n"});
    const auto& s = image->policy_set;
    CHECK(s.applies[BW_KIND_TAMPER] == 0b0011);
    CHECK((s.enforcing & 0b0011) == 0b0001);  // "audited"'s attempts are would-deny
    // The event names the policy's name line: its scope decided, no rule.
    CHECK(image->rule_location(BW_ENTRY_NONE, 0, BW_COL_TAMPER) == "t0.toml:2");
    CHECK(image->rule_location(BW_ENTRY_NONE, 1, BW_COL_TAMPER) == "t1.toml:2");
}

TEST_CASE("tamper evaluator: deny from an enforcing scope, would-deny from an auditing one; PID 1, the parent, bulwark free")
{
    auto image = image_of({"[policy]\nname = \"guard\"\n\n[scope]\nuid = [33]\n\n"
                           "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n",
                           "[policy]\nname = \"audited\"\nmode = \"audit\"\n\n"
                           "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\naction = \"deny\"\n"});
    const Evaluator eval(*image);
    constexpr uint32_t self = 900, parent = 800;
    auto as = [](uint32_t tgid, uint32_t uid) {
        Subject s;
        s.tgid = tgid;
        s.uid = uid;
        return s;
    };
    const Outcome www = eval.decide_tamper(as(500, 33), self, parent);
    CHECK(www.verdict == BW_VERDICT_DENY);
    CHECK(www.policy == 0);
    CHECK(www.column == BW_COL_TAMPER);
    CHECK(www.entry == BW_ENTRY_NONE);
    CHECK(www.in_scope == 0b11);
    const Outcome root = eval.decide_tamper(as(501, 0), self, parent);
    CHECK(root.verdict == BW_VERDICT_WOULD_DENY);
    CHECK(root.policy == 1);
    CHECK(eval.decide_tamper(as(1, 33), self, parent).verdict == BW_VERDICT_ALLOW);       // init
    CHECK(eval.decide_tamper(as(parent, 33), self, parent).verdict == BW_VERDICT_ALLOW);  // who started it
    CHECK(eval.decide_tamper(as(self, 33), self, parent).verdict == BW_VERDICT_ALLOW);    // bulwark's threads

    auto inert = image_of({"[policy]\nname = \"inert\"\n\n[[file]]\nprefixes = [\"/etc/\"]\naction = \"allow\"\n"});
    const Evaluator none(*inert);
    CHECK(none.decide_tamper(as(500, 33), self, parent).verdict == BW_VERDICT_ALLOW);
}

TEST_CASE("tamper: the self-protection hooks load with the enforce object, and only with it")
{
    auto image = image_of({kEnforce});
    std::vector<Policy> policies;
    ParseResult r = parse_policy_text(kEnforce, "t0.toml");
    policies.push_back(std::move(r.policies.at(0)));
    const RunPlan lsm = plan_run(policies, *image);
    for (const char* hook : kSelfProtectHooks)
        CHECK(std::find(lsm.programs.begin(), lsm.programs.end(), hook) != lsm.programs.end());
    // Without BPF-LSM (the fanotify fallback): nothing of the enforce object.
    Backends fallback;
    fallback.of = {Mechanism::fanotify, Mechanism::fanotify, Mechanism::cgroup_sock_addr};
    const RunPlan fan = plan_run(policies, *image, fallback);
    CHECK(std::find(fan.objects.begin(), fan.objects.end(), "enforce") == fan.objects.end());
    CHECK(fan.programs.empty());
    CHECK(!fan.needs_lsm);
}

TEST_CASE("tamper decoder: a signal names its number, its name and bulwark's pid")
{
    auto e = tamper_record(BW_TAMPER_SIGNAL, BW_VERDICT_DENY);
    e.signal = SIGKILL;
    const JsonValue v = decoded(e);
    CHECK(v.str("type") == "verdict");
    CHECK(v.str("kind") == "tamper");
    CHECK(v.str("verdict") == "deny");
    CHECK(v.str("policy") == "guard");
    CHECK(v.str("rule") == "t0.toml:2");
    CHECK(v.str("op") == "signal");
    CHECK(v.str("object") == "process");
    CHECK(v.get("target_pid")->integer() == 1234);
    CHECK(v.get("signal")->integer() == 9);
    CHECK(v.str("signal_name") == "SIGKILL");
    CHECK(v.get("pid")->integer() == 42);
    CHECK(v.str("comm") == "kill");
    CHECK(!v.get("mode"));

    e.signal = 40;  // a real-time signal: no name
    e.h.verdict = BW_VERDICT_WOULD_DENY;
    const JsonValue rt = decoded(e);
    CHECK(rt.str("verdict") == "would-deny");
    CHECK(rt.get("signal")->integer() == 40);
    CHECK(!rt.get("signal_name"));
}

TEST_CASE("tamper decoder: ptrace says attach or read, and whose credentials were checked")
{
    struct Case {
        uint32_t mode;
        const char* name;
        const char* creds;
    };
    const Case cases[] = {
        {kModeAttach | kModeRealCreds, "attach", "real"},  // PTRACE_ATTACH, process_vm_readv, pidfd_getfd
        {kModeAttach | kModeFsCreds, "attach", "fs"},      // open("/proc/PID/mem")
        {kModeRead | kModeRealCreds, "read", "real"},      // perf_event_open, kcmp
        {kModeRead | kModeFsCreds, "read", "fs"},          // (allowed, never reported: /proc/PID/exe, environ)
        {kModeRead, "read", "unknown"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.mode);
        auto e = tamper_record(BW_TAMPER_PTRACE, BW_VERDICT_DENY);
        e.mode = c.mode;
        const JsonValue v = decoded(e);
        CHECK(v.str("kind") == "tamper");
        CHECK(v.str("op") == "ptrace");
        CHECK(v.str("object") == "process");
        CHECK(v.get("target_pid")->integer() == 1234);
        CHECK(v.str("mode") == c.name);
        CHECK(v.str("creds") == c.creds);
        CHECK(!v.get("signal"));
    }
}

TEST_CASE("tamper decoder: bpf(2) names the object, its id, the command and the bulwark that decided")
{
    struct Case {
        uint32_t type, call;
        const char *object, *call_name;
    };
    const Case cases[] = {
        {BW_OBJ_PROG, BW_BPF_PROG_GET_FD_BY_ID, "program", "prog-get-fd-by-id"},
        {BW_OBJ_MAP, BW_BPF_MAP_GET_FD_BY_ID, "map", "map-get-fd-by-id"},
        {BW_OBJ_MAP, BW_BPF_OBJ_GET, "map", "obj-get"},
        {BW_OBJ_LINK, BW_BPF_LINK_GET_FD_BY_ID, "link", "link-get-fd-by-id"},
        {BW_OBJ_LINK, BW_BPF_LINK_DETACH, "link", "link-detach"},
        {BW_OBJ_LINK, BW_BPF_LINK_UPDATE, "link", "link-update"},
        {BW_OBJ_PROG, 0, "program", "fd"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.call);
        auto e = tamper_record(BW_TAMPER_BPF, BW_VERDICT_DENY);
        e.object_type = c.type;
        e.object_id = 77;
        e.call = c.call;
        const JsonValue v = decoded(e);
        CHECK(v.str("kind") == "tamper");
        CHECK(v.str("op") == "bpf");
        CHECK(v.str("object") == c.object);
        CHECK(v.str("call") == c.call_name);
        CHECK(v.get("id")->integer() == 77);
        CHECK(v.get("target_pid")->integer() == 1234);
        CHECK(!v.get("signal"));
    }
}
