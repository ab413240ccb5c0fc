// Monitors without a kernel: the [monitor.*] tables as the parser checks
// them (every error at its value, with what to write), what the compiler
// folds into the monitor maps, what the reference evaluator then reports,
// how monitor records decode, and which BPF objects `bulwark run` loads.
#include "compile/compiler.hpp"
#include "events/decoder.hpp"
#include "monitor/monitor_compiler.hpp"
#include "monitor/monitor_eval.hpp"
#include "monitor/run_plan.hpp"
#include "monitor/syscall_table.hpp"
#include "policy/parser.hpp"
#include "util/json_value.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>

#include <cstring>
#include <map>
#include <set>
#include <sstream>

using namespace bulwark;

namespace {

ParseResult parse(std::string_view text) { return parse_policy_text(text, "m.toml"); }

std::string dump(const ParseResult& r)
{
    std::ostringstream os;
    r.diagnostics.print(os);
    return os.str();
}

// Exactly one error, at line:col, whose message contains `needle`.
void expect_error(std::string_view text, uint32_t line, uint32_t col, std::string_view needle)
{
    ParseResult r = parse(text);
    INFO("diagnostics:\n" << dump(r));
    REQUIRE(r.diagnostics.error_count() == 1);
    CHECK(r.policies.empty());
    const Diagnostic* d = nullptr;
    for (const Diagnostic& x : r.diagnostics.all())
        if (x.severity == Severity::error) d = &x;
    REQUIRE(d != nullptr);
    CHECK(d->pos.file == "m.toml");
    CHECK(d->pos.line == line);
    CHECK(d->pos.column == col);
    CHECK_MESSAGE(d->message.find(needle) != std::string::npos, d->message);
}

// A machine with a few symlinks and users, nothing else.
class MonitorSystem final : public SystemView {
public:
    std::map<std::string, std::string> links{{"/bin", "/usr/bin"}, {"/etc/localtime", "/usr/share/zoneinfo/UTC"}};
    std::set<std::string> dirs{"/", "/usr", "/usr/bin", "/etc", "/etc/ssh", "/tmp"};

    std::optional<FileIdentity> identify(const std::string& path) const override
    {
        FileIdentity id;
        id.is_dir = dirs.count(path) > 0;
        id.ino = std::hash<std::string>()(path);
        return id;
    }
    std::optional<std::string> canonical(const std::string& path) const override
    {
        for (const auto& [from, to] : links) {
            if (path == from) return to;
            if (path.rfind(from + "/", 0) == 0) return to + path.substr(from.size());
        }
        return path;
    }
    std::optional<uint32_t> uid_of_user(const std::string& name) const override
    {
        if (name == "www-data") return 33;
        if (name == "root") return 0;
        return std::nullopt;
    }
    std::optional<std::string> cgroup2_mount() const override { return "/sys/fs/cgroup"; }
};

struct Compiled {
    std::vector<Policy> policies;
    CompileResult result;
    const MapImage& image() const { return *result.image; }
};

Compiled compile_texts(const std::vector<std::string>& texts, CompileOptions options = {})
{
    Compiled c;
    int n = 0;
    for (const auto& t : texts) {
        ParseResult r = parse_policy_text(t, "p" + std::to_string(n++) + ".toml");
        INFO(dump(r));
        REQUIRE(!r.diagnostics.has_errors());
        c.policies.push_back(std::move(r.policies.at(0)));
    }
    MonitorSystem sys;
    c.result = compile(c.policies, sys, options);
    std::ostringstream os;
    c.result.diagnostics.print(os);
    INFO(os.str());
    REQUIRE(c.result.image);
    return c;
}

std::string rule_at(const MapImage& image, const std::optional<MonitorHit>& h)
{
    return h ? image.monitors.rule_location(h->rule) : "none";
}

constexpr uint64_t kAll = ~0ull;

// file_open, then every hook of bpf/lsm/file_ops.bpf.c and mounts.bpf.c in
// kFileHooks order.
const std::vector<std::string> kEveryFileHook = {
    "file_open",  "path_truncate", "file_truncate",  "path_mknod",        "path_mkdir",
    "path_symlink", "path_unlink", "path_rmdir",     "path_rename",       "path_link",
    "path_chmod", "path_chown",    "inode_setxattr", "inode_removexattr", "inode_setattr",
    "sb_mount",   "move_mount",    "sb_umount"};

// The hooks of `kinds`, then the sticky-scope and self-protection hooks
// every enforce object loads.
std::vector<std::string> with_sticky(std::vector<std::string> kinds)
{
    kinds.insert(kinds.end(), std::begin(kStickyScopeHooks), std::end(kStickyScopeHooks));
    kinds.insert(kinds.end(), std::begin(kSelfProtectHooks), std::end(kSelfProtectHooks));
    return kinds;
}

}  // namespace

// ---------------------------------------------------------------------------
// Parser

TEST_CASE("monitor parser: every monitor kind parses into the model")
{
    ParseResult r = parse(R"([policy]
name = "watch"

[[monitor.file]]
paths = ["/etc/passwd", "/etc/shadow"]
prefixes = ["/etc/ssh/"]
rate_limit = 20

[[monitor.syscalls]]
uid = [1000, "www-data"]
allow = ["read", "write", "openat2", "listns"]
action = "kill"

[monitor.process]
allowed = ["/usr/bin/", "/usr/sbin/nginx"]

[[monitor.connect]]
cidrs = ["169.254.169.254/32", "fd00::/8"]
ports = [80, "8000-8100"]
protocols = ["tcp"]
)");
    INFO(dump(r));
    REQUIRE(r.diagnostics.all().empty());
    const Monitors& m = r.policies.at(0).monitors;
    REQUIRE(m.files.size() == 1);
    CHECK(m.files[0].paths.size() == 2);
    CHECK(m.files[0].prefixes.at(0).value == "/etc/ssh/");
    CHECK(m.files[0].rate_limit == 20);
    CHECK(m.files[0].pos.line == 4);
    REQUIRE(m.syscalls.size() == 1);
    CHECK(m.syscalls[0].action == SyscallAction::kill);
    CHECK(m.syscalls[0].uids.size() == 2);
    REQUIRE(m.syscalls[0].allow.size() == 4);
    CHECK(m.syscalls[0].allow[2].nr == 437);   // openat2
    CHECK(m.syscalls[0].allow[3].nr == 470);   // listns: past any 64-bit bitmap
    CHECK(m.syscalls[0].rate_limit == kDefaultMonitorRate);
    REQUIRE(m.process);
    CHECK(m.process->allowed.size() == 2);
    REQUIRE(m.connects.size() == 1);
    CHECK(m.connects[0].protocols == proto_tcp);
    CHECK(m.connects[0].ports.at(1).first == 8000);
    CHECK(m.connects[0].ports.at(1).last == 8100);
}

TEST_CASE("monitor parser: bad values are errors at the value")
{
    const std::string head = "[policy]\nname = \"p\"\n\n";
    SUBCASE("an unknown syscall name, with a suggestion")
    {
        expect_error(head + "[[monitor.syscalls]]\nuid = 1000\nallow = [\"read\", \"opnat\"]\n", 6, 18,
                     "unknown syscall \"opnat\" in allow of [[monitor.syscalls]]; did you mean \"openat\"?");
    }
    SUBCASE("a name that is no syscall at all")
    {
        expect_error(head + "[[monitor.syscalls]]\nuid = 1000\nallow = \"frobnicate_everything\"\n", 6, 9,
                     "unknown syscall \"frobnicate_everything\"");
    }
    SUBCASE("a bad CIDR")
    {
        expect_error(head + "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\", \"10.0.0.300\"]\n", 5, 24,
                     "invalid CIDR \"10.0.0.300\"");
    }
    SUBCASE("a prefix length past the address")
    {
        expect_error(head + "[[monitor.connect]]\ncidrs = \"fd00::/129\"\n", 5, 9, "longer than an IPv6 address");
    }
    SUBCASE("a relative file path")
    {
        expect_error(head + "[[monitor.file]]\npaths = [\"etc/passwd\"]\n", 5, 10,
                     "relative path \"etc/passwd\"; rules name absolute paths, such as \"/etc/passwd\"");
    }
    SUBCASE("a relative allowed program")
    {
        expect_error(head + "[monitor.process]\nallowed = [\"/usr/bin/\", \"bin/sh\"]\n", 5, 25,
                     "relative path \"bin/sh\"");
    }
    SUBCASE("a prefix without its trailing slash")
    {
        expect_error(head + "[[monitor.file]]\nprefixes = [\"/etc/ssh\"]\n", 5, 13, "must end with \"/\"");
    }
    SUBCASE("a path too long for a monitor key")
    {
        const std::string path = "/" + std::string(255, 'a');
        expect_error(head + "[[monitor.file]]\npaths = [\"" + path + "\"]\n", 5, 10,
                     "monitors match at most 255 bytes");
    }
    SUBCASE("an unknown action")
    {
        expect_error(head + "[[monitor.syscalls]]\nuid = 0\nallow = [\"read\"]\naction = \"deny\"\n", 7, 10,
                     "unknown action \"deny\" in [[monitor.syscalls]]; write \"audit\" or \"kill\"");
    }
    SUBCASE("rate_limit out of range")
    {
        expect_error(head + "[[monitor.file]]\npaths = [\"/x\"]\nrate_limit = 0\n", 6, 14, "rate_limit 0");
    }
    SUBCASE("an unknown key, with a suggestion")
    {
        expect_error(head + "[[monitor.file]]\npaths = [\"/x\"]\nprefixs = [\"/y/\"]\n", 6, 1,
                     "unknown key \"prefixs\" in [[monitor.file]]; did you mean \"prefixes\"?");
    }
    SUBCASE("a key of another table says where it belongs")
    {
        expect_error(head + "[[monitor.connect]]\ncidrs = [\"::/0\"]\nallow = [\"read\"]\n", 6, 1,
                     "allow belongs in [[monitor.syscalls]]");
    }
    SUBCASE("an unknown monitor kind")
    {
        expect_error(head + "[[monitor.files]]\npaths = [\"/x\"]\n", 4, 11,
                     "unknown monitor \"files\" in [monitor]; did you mean [[monitor.file]]?");
    }
    SUBCASE("[monitor.file] written as a single table")
    {
        expect_error(head + "[monitor.file]\npaths = [\"/x\"]\n", 4, 1, "must be written [[monitor.file]]");
    }
    SUBCASE("[[monitor.process]] written as an array")
    {
        expect_error(head + "[[monitor.process]]\nallowed = [\"/usr/bin/\"]\n", 4, 1,
                     "must be a single [monitor.process] table");
    }
    SUBCASE("[[monitor]] on its own")
    {
        expect_error(head + "[[monitor]]\nfile = 1\n", 4, 1, "[[monitor]] is not a table of its own");
    }
    SUBCASE("a syscalls monitor without uid")
    {
        expect_error(head + "[[monitor.syscalls]]\nallow = [\"read\"]\n", 4, 1, "has no uid");
    }
    SUBCASE("a syscalls monitor without allow")
    {
        expect_error(head + "[[monitor.syscalls]]\nuid = 1\n", 4, 1, "has no allow list");
    }
    SUBCASE("two allowlists for one uid in a policy")
    {
        expect_error(head + "[[monitor.syscalls]]\nuid = 7\nallow = [\"read\"]\n\n[[monitor.syscalls]]\nuid = [8, 7]\n"
                            "allow = [\"write\"]\n",
                     9, 11, "already has a [[monitor.syscalls]] allowlist in this policy (line 5)");
    }
    SUBCASE("a file monitor watching nothing")
    {
        expect_error(head + "[[monitor.file]]\nrate_limit = 5\n", 4, 1, "[[monitor.file]] watches nothing");
    }
    SUBCASE("a connect monitor without cidrs")
    {
        expect_error(head + "[[monitor.connect]]\nports = [22]\n", 4, 1, "has no cidrs");
    }
}

TEST_CASE("monitor parser: every error in the [monitor] tables is reported in file order")
{
    ParseResult r = parse(R"([policy]
name = "p"

[[monitor.file]]
paths = ["relative"]

[[monitor.syscalls]]
uid = -1
allow = ["reed"]

[[monitor.connect]]
cidrs = ["1.2.3.4/40"]
ports = [70000]
)");
    INFO(dump(r));
    REQUIRE(r.diagnostics.error_count() == 5);
    const auto& all = r.diagnostics.all();
    CHECK(all[0].pos.line == 5);
    CHECK(all[1].pos.line == 8);
    CHECK(all[2].pos.line == 9);
    CHECK(all[2].message.find("did you mean \"read\"") != std::string::npos);
    CHECK(all[3].pos.line == 12);
    CHECK(all[4].pos.line == 13);
}

TEST_CASE("syscall table: x86_64 names and numbers")
{
    CHECK(syscall_number("read") == 0u);
    CHECK(syscall_number("openat") == 257u);
    CHECK(syscall_number("ptrace") == 101u);
    CHECK(syscall_number("uname") == 63u);
    CHECK(syscall_number("io_uring_setup") == 425u);
    CHECK(syscall_number("mseal") == 462u);
    CHECK(!syscall_number("ia32_only_name"));
    CHECK(syscall_name(59) == "execve");
    CHECK(syscall_name(400).empty());     // the unused 387..423 range
    std::set<std::string_view> names;
    uint32_t last = 0;
    bool first = true;
    for (const SyscallEntry& e : x86_64_syscalls()) {
        CHECK(names.insert(e.name).second);
        CHECK((first || e.nr > last));
        last = e.nr;
        first = false;
    }
    CHECK(names.size() > 380);
}

// ---------------------------------------------------------------------------
// Compiler and reference evaluator

TEST_CASE("monitor compiler: file paths in one trie, exact with NUL, prefixes without")
{
    auto c = compile_texts({R"([policy]
name = "a"
[[monitor.file]]
paths = ["/etc/passwd"]
prefixes = ["/etc/ssh/"]
[[monitor.file]]
paths = ["/etc/ssh/sshd_config"]
rate_limit = 7
)"});
    const auto& img = c.image();
    const auto& mon = img.monitors;
    CHECK(mon.set.applies[BW_MON_FILE] == 1);
    CHECK(mon.rules.size() == 2);
    REQUIRE(mon.file_paths.size() == 3);
    for (const auto& e : mon.file_paths) {
        const std::string key(e.key.path, strnlen(e.key.path, sizeof e.key.path));
        const uint32_t bytes = key.back() == '/' ? key.size() : key.size() + 1;
        CHECK(e.key.prefixlen == bytes * 8);
    }
    CHECK(mon.rule_cfg[1].interval_ns == 1000000000ull / 7);
    CHECK(mon.rule_cfg[1].burst_ns == 6 * (1000000000ull / 7));

    MonitorEvaluator ev(img);
    CHECK(rule_at(img, ev.file(kAll, "/etc/passwd")) == "p0.toml:3");
    CHECK(rule_at(img, ev.file(kAll, "/etc/passwd-")) == "none");     // the chapter's bug
    CHECK(rule_at(img, ev.file(kAll, "/etc/passwdX")) == "none");
    CHECK(rule_at(img, ev.file(kAll, "/etc/pass")) == "none");
    CHECK(rule_at(img, ev.file(kAll, "/etc/ssh/moduli")) == "p0.toml:3");
    CHECK(rule_at(img, ev.file(kAll, "/etc/ssh/sshd_config")) == "p0.toml:6");  // the more specific rule
    CHECK(rule_at(img, ev.file(kAll, "/etc/ssh")) == "none");          // a tree is what is below it
    CHECK(rule_at(img, ev.file(kAll, "/etc/sshd/x")) == "none");
    CHECK(rule_at(img, ev.file(0, "/etc/passwd")) == "none");          // out of scope
}

TEST_CASE("monitor compiler: across policies every key names each policy's most specific rule")
{
    auto c = compile_texts({R"([policy]
name = "a"
[[monitor.file]]
prefixes = ["/etc/"]
)",
                            R"([policy]
name = "b"
[[monitor.file]]
paths = ["/etc/shadow"]
)"});
    const auto& img = c.image();
    MonitorEvaluator ev(img);
    // Both watch /etc/shadow: the lowest policy in scope reports.
    CHECK(rule_at(img, ev.file(0b11, "/etc/shadow")) == "p0.toml:3");
    CHECK(rule_at(img, ev.file(0b10, "/etc/shadow")) == "p1.toml:3");
    CHECK(rule_at(img, ev.file(0b10, "/etc/hosts")) == "none");
    CHECK(rule_at(img, ev.file(0b01, "/etc/hosts")) == "p0.toml:3");
    // The unresolved entry reports through each policy's first file monitor.
    CHECK(img.monitors.rule_of(BW_MON_ENTRY_UNRESOLVED, 0) == 0);
    CHECK(img.monitors.rule_of(BW_MON_ENTRY_UNRESOLVED, 1) == 1);
}

TEST_CASE("monitor compiler: a path through a symlink is watched as written and where it leads")
{
    auto c = compile_texts({R"([policy]
name = "a"
[[monitor.file]]
paths = ["/etc/localtime"]
[monitor.process]
allowed = ["/bin/"]
)"});
    const auto& img = c.image();
    MonitorEvaluator ev(img);
    CHECK(rule_at(img, ev.file(1, "/etc/localtime")) == "p0.toml:3");
    CHECK(rule_at(img, ev.file(1, "/usr/share/zoneinfo/UTC")) == "p0.toml:3");
    CHECK(!ev.process(1, "/usr/bin/ls"));   // /bin/ → /usr/bin/
    CHECK(!ev.process(1, "/bin/ls"));
    bool noted = false;
    for (const auto& d : c.result.diagnostics.all())
        noted |= d.severity == Severity::note && d.message.find("/bin/ resolves to /usr/bin/") != std::string::npos;
    CHECK(noted);
}

TEST_CASE("monitor compiler: process allowlists, programs and scripts")
{
    auto c = compile_texts({R"([policy]
name = "a"
[monitor.process]
allowed = ["/usr/bin/", "/opt/app/run"]
rate_limit = 3
)",
                            R"([policy]
name = "b"
[monitor.process]
allowed = ["/usr/"]
)"});
    const auto& img = c.image();
    MonitorEvaluator ev(img);
    CHECK(!ev.process(0b11, "/usr/bin/ls"));
    auto h = ev.process(0b11, "/opt/app/run");  // b does not allow it
    REQUIRE(h);
    CHECK(h->policy == 1);
    CHECK(h->program);
    h = ev.process(0b11, "/tmp/x");
    REQUIRE(h);
    CHECK(h->policy == 0);
    CHECK(rule_at(img, h) == "p0.toml:3");
    CHECK(!ev.process(0b10, "/usr/lib/x"));
    CHECK(ev.process(0b01, "/usr/lib/x"));
    CHECK(!ev.process(0b01, "/opt/app/run"));
    CHECK(ev.process(0b01, "/opt/app/run2"));
    // An allowed interpreter running a script that is not allowed.
    const std::string script = "/tmp/s.sh";
    h = ev.process(0b01, "/usr/bin/dash", &script);
    REQUIRE(h);
    CHECK(!h->program);
    CHECK(h->script);
}

TEST_CASE("monitor compiler: syscall allowlists per uid, kill and audit")
{
    auto c = compile_texts({R"([policy]
name = "a"
[[monitor.syscalls]]
uid = "www-data"
allow = ["read", "write"]
action = "kill"
)",
                            R"([policy]
name = "b"
mode = "audit"
[[monitor.syscalls]]
uid = [33, 1000]
allow = ["read", "ptrace"]
action = "kill"
)"});
    const auto& img = c.image();
    MonitorEvaluator ev(img);
    CHECK(!ev.syscall(0b11, 33, 0));            // read: both allow
    auto h = ev.syscall(0b11, 33, 1);           // write: b disallows, in audit mode
    REQUIRE(h);
    CHECK(h->policy == 1);
    CHECK(h->action == BW_MON_WOULD_KILL);
    h = ev.syscall(0b11, 33, 101);              // ptrace: a kills (b would, but audits)
    REQUIRE(h);
    CHECK(h->policy == 0);
    CHECK(h->action == BW_MON_KILL);
    CHECK(!ev.syscall(0b11, 1000, 101));
    CHECK(ev.syscall(0b11, 1000, 63)->action == BW_MON_WOULD_KILL);
    CHECK(!ev.syscall(0b11, 0, 63));            // no rule for root
    CHECK(ev.syscall(0b11, 33, 0, false));      // ia32/x32 numbers: nothing allowed
    CHECK(ev.syscall(0b11, 33, 100000));        // any number is representable

    CompileOptions audit;
    audit.global_audit = true;
    auto a = compile_texts({R"([policy]
name = "a"
[[monitor.syscalls]]
uid = 0
allow = ["read"]
action = "kill"
)"},
                           audit);
    CHECK(MonitorEvaluator(a.image()).syscall(1, 0, 1)->action == BW_MON_WOULD_KILL);
}

TEST_CASE("monitor compiler: an unknown user name is an error at its position")
{
    ParseResult r = parse_policy_text(R"([policy]
name = "a"
[[monitor.syscalls]]
uid = ["nobody-here"]
allow = ["read"]
)",
                                      "u.toml");
    REQUIRE(!r.diagnostics.has_errors());
    MonitorSystem sys;
    CompileResult res = compile(r.policies, sys);
    REQUIRE(res.diagnostics.error_count() == 1);
    CHECK(res.diagnostics.all()[0].pos.line == 4);
    CHECK(res.diagnostics.all()[0].pos.column == 8);
    CHECK(!res.image);
}

TEST_CASE("monitor compiler: port ranges become aligned LPM blocks")
{
    auto blocks = port_blocks(0, 65535);
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0] == std::pair<uint16_t, uint8_t>{0, 0});
    blocks = port_blocks(22, 22);
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0] == std::pair<uint16_t, uint8_t>{22, 16});
    blocks = port_blocks(8000, 8100);
    uint32_t covered = 0, next = 8000;
    for (auto [first, bits] : blocks) {
        CHECK(first == next);
        const uint32_t size = 1u << (16 - bits);
        CHECK(first % size == 0);
        next += size;
        covered += size;
    }
    CHECK(covered == 101);
    CHECK(blocks.size() < 12);
}

TEST_CASE("monitor compiler: connect networks, ports and protocols without a loop over rules")
{
    auto c = compile_texts({R"([policy]
name = "a"
[[monitor.connect]]
cidrs = ["10.0.0.0/8"]
[[monitor.connect]]
cidrs = ["10.1.0.0/16", "fd00::/8"]
ports = [22, "8000-8100"]
protocols = ["tcp"]
)"});
    const auto& img = c.image();
    MonitorEvaluator ev(img);
    CHECK(rule_at(img, ev.connect(1, "10.9.9.9", 80, 6)) == "p0.toml:3");
    CHECK(rule_at(img, ev.connect(1, "10.9.9.9", 80, 17)) == "p0.toml:3");
    CHECK(rule_at(img, ev.connect(1, "10.1.2.3", 22, 6)) == "p0.toml:5");     // narrower network
    CHECK(rule_at(img, ev.connect(1, "10.1.2.3", 8050, 6)) == "p0.toml:5");
    CHECK(rule_at(img, ev.connect(1, "10.1.2.3", 80, 6)) == "p0.toml:3");     // its port: the wider rule
    CHECK(rule_at(img, ev.connect(1, "10.1.2.3", 22, 17)) == "p0.toml:3");    // udp: the wider rule
    CHECK(rule_at(img, ev.connect(1, "11.0.0.1", 22, 6)) == "none");
    CHECK(rule_at(img, ev.connect(1, "::ffff:10.1.2.3", 22, 6)) == "p0.toml:5");  // IPv4-mapped
    CHECK(rule_at(img, ev.connect(1, "::ffff:11.1.2.3", 22, 6)) == "none");
    CHECK(rule_at(img, ev.connect(1, "fd12::1", 8100, 6)) == "p0.toml:5");
    CHECK(rule_at(img, ev.connect(1, "fd12::1", 8101, 6)) == "none");
    CHECK(rule_at(img, ev.connect(1, "fe80::1", 22, 6)) == "none");
    CHECK(rule_at(img, ev.connect(0, "10.9.9.9", 80, 6)) == "none");
    // "::/0" style IPv6 rules do not swallow IPv4: families are separate keys.
    for (const auto& n : img.monitors.connect_nets)
        CHECK((n.key.family == BW_MON_FAMILY_IPV4 || n.key.family == BW_MON_FAMILY_IPV6));
}

TEST_CASE("monitor compiler: monitors and rules coexist; applies masks per kind")
{
    auto c = compile_texts({R"([policy]
name = "a"
[[monitor.connect]]
cidrs = ["0.0.0.0/0", "::/0"]
)",
                            R"([policy]
name = "b"
[monitor.process]
allowed = ["/usr/"]
[[monitor.file]]
paths = ["/x"]
)"});
    const auto& set = c.image().monitors.set;
    CHECK(set.applies[BW_MON_CONNECT] == 0b01);
    CHECK(set.applies[BW_MON_PROCESS] == 0b10);
    CHECK(set.applies[BW_MON_FILE] == 0b10);
    CHECK(set.applies[BW_MON_SYSCALLS] == 0);
    CHECK(set.rules == 3);
}

// ---------------------------------------------------------------------------
// What `bulwark run` loads

TEST_CASE("run plan: monitors alone need no BPF-LSM")
{
    auto c = compile_texts({R"([policy]
name = "a"
[[monitor.file]]
paths = ["/x"]
[[monitor.syscalls]]
uid = 0
allow = ["read"]
)"});
    RunPlan plan = plan_run(c.policies, c.image());
    CHECK(!plan.enforcement);
    CHECK(plan.monitors);
    CHECK(plan.lsm_rules.empty());
    CHECK(plan.objects == std::vector<std::string>{"monitor_file", "monitor_syscalls"});
}

TEST_CASE("run plan: rules mixed with monitors name the rules that need BPF-LSM")
{
    ParseResult r = parse_policy_text(R"([policy]
name = "mix"
[defaults]
file = "audit"
[[file]]
paths = ["/etc/shadow"]
action = "deny"
[monitor.process]
allowed = ["/usr/"]
[[monitor.connect]]
cidrs = ["::/0"]
)",
                                      "/tmp/mix.toml");
    REQUIRE(!r.diagnostics.has_errors());
    MonitorSystem sys;
    CompileResult res = compile(r.policies, sys);
    REQUIRE(res.image);
    RunPlan plan = plan_run(r.policies, *res.image);
    CHECK(plan.enforcement);
    CHECK(plan.monitors);
    CHECK(plan.lsm_rules == std::vector<std::string>{"mix.toml:5 [[file]]", "mix.toml:4 [defaults] file"});
    CHECK(plan.objects == std::vector<std::string>{"enforce", "monitor_process", "monitor_connect"});
    // A rule without access and a file default decide every right: every file hook.
    CHECK(plan.programs == with_sticky(kEveryFileHook));
}

TEST_CASE("run plan: the file hooks of the rights a set decides")
{
    auto read = compile_texts({"[policy]\nname = \"r\"\n[[file]]\npaths = [\"/etc/shadow\"]\naccess = [\"read\"]\n"
                               "action = \"deny\"\n"});
    CHECK(plan_run(read.policies, read.image()).programs == with_sticky({"file_open"}));
    // write implies create, delete, rename, metadata (docs/decisions/009-file-rights.md).
    auto write = compile_texts({"[policy]\nname = \"w\"\n[[file]]\nprefixes = [\"/etc/ssh/\"]\n"
                                "access = [\"write\"]\naction = \"deny\"\n"});
    CHECK(plan_run(write.policies, write.image()).programs == with_sticky(kEveryFileHook));
    // metadata alone: chmod, chown, the xattrs and utimes (inode_setattr), nothing else.
    auto meta = compile_texts({"[policy]\nname = \"m\"\n[[file]]\nprefixes = [\"/etc/ssh/\"]\n"
                               "access = [\"metadata\"]\naction = \"deny\"\n"});
    CHECK(plan_run(meta.policies, meta.image()).programs ==
          with_sticky({"file_open", "path_chmod", "path_chown", "inode_setxattr", "inode_removexattr",
                       "inode_setattr", "sb_mount", "move_mount", "sb_umount"}));
    // read alone: a mount over the tree does not let anything be read.
    // delete alone: a mount over the tree hides its names, so the mount
    // hooks come with it.
    auto del = compile_texts({"[policy]\nname = \"d\"\n[[file]]\nprefixes = [\"/etc/ssh/\"]\n"
                              "access = [\"delete\"]\naction = \"deny\"\n"});
    CHECK(plan_run(del.policies, del.image()).programs ==
          with_sticky({"file_open", "path_unlink", "path_rmdir", "sb_mount", "move_mount", "sb_umount"}));
}

TEST_CASE("run plan: a hook this kernel lacks is refused unless optional")
{
    RunPlan plan;
    plan.programs = {"file_open", "path_truncate", "file_truncate", "path_unlink", "path_rename", "inode_setattr"};
    auto have = [](const std::string& h) { return h == "file_open" || h == "path_truncate"; };
    // file_truncate is optional (6.1 has none; path_truncate decides ftruncate there).
    CHECK(required_missing(plan, have) ==
          std::vector<std::string>{"path_unlink", "path_rename", "inode_setattr"});
    CHECK(required_missing(plan, [](const std::string&) { return true; }).empty());
}

TEST_CASE("run plan: only the hooks of the kinds a set's rules need")
{
    auto c = compile_texts({"[policy]\nname = \"x\"\n[[exec]]\npaths = [\"/usr/bin/nc\"]\naction = \"deny\"\n"
                            "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\naction = \"deny\"\n"});
    RunPlan plan = plan_run(c.policies, c.image());
    CHECK(plan.objects == std::vector<std::string>{"enforce"});
    CHECK(plan.programs == with_sticky({"bprm_check_security", "mmap_file", "file_mprotect", "socket_connect",
                                        "socket_sendmsg"}));
}

TEST_CASE("run plan: a set with neither rules nor monitors keeps the enforcing hook")
{
    auto c = compile_texts({"[policy]\nname = \"empty\"\n"});
    RunPlan plan = plan_run(c.policies, c.image());
    CHECK(plan.enforcement);
    CHECK(plan.objects == std::vector<std::string>{"enforce"});
    CHECK(plan.programs == with_sticky({"file_open"}));
}

// ---------------------------------------------------------------------------
// Decoding monitor records

namespace {

void fill_header(bw_monitor_event& m, uint32_t monitor, uint32_t rule)
{
    m.h.kind = BW_KIND_MONITOR;
    m.h.generation = 1;
    m.h.policy = 0;
    m.h.pid = 42;
    m.h.tid = 43;
    m.h.ppid = 1;
    m.h.uid = 1000;
    m.h.suppressed = 9;
    std::strcpy(m.h.comm, "cat");
    std::strcpy(m.h.exe, "/usr/bin/cat");
    m.monitor = monitor;
    m.rule = rule;
    m.action = BW_MON_REPORT;
}

struct DecodeFixture {
    CgroupNames cgroups{""};
    EventDecoder decoder{cgroups};
    Compiled c = compile_texts({R"([policy]
name = "d"
[[monitor.file]]
paths = ["/etc/passwd"]
[[monitor.syscalls]]
uid = 1000
allow = ["read"]
[monitor.process]
allowed = ["/usr/"]
[[monitor.connect]]
cidrs = ["::/0"]
)"});
    DecodeFixture() { decoder.add_generation(1, std::make_shared<const MapImage>(c.image())); }

    template <typename Record>
    std::string decode(const Record& r)
    {
        std::string out;
        REQUIRE(decoder.decode(&r, sizeof r, out));
        return out;
    }
};

}  // namespace

TEST_CASE("monitor decoder: records become type \"monitor\" lines naming policy and rule")
{
    DecodeFixture f;
    SUBCASE("file")
    {
        bw_mon_file_event e{};
        fill_header(e.m, BW_MON_FILE, 0);
        e.syscall = 257;
        e.open_flags = 01 | 0100;
        std::strcpy(e.path, "/etc/passwd");
        std::strcpy(e.given, "../etc/./passwd");
        const std::string line = f.decode(e);
        CHECK(line.rfind("{\"type\":\"monitor\",\"time\":", 0) == 0);
        CHECK(line.find(R"("monitor":"file","policy":"d","rule":"p0.toml:3","action":"report","suppressed":9,"pid":42,"tid":43,"ppid":1,"uid":1000,"comm":"cat","exe":"/usr/bin/cat","cgroup":"","syscall":"openat","path":"/etc/passwd","access":"write","create":true,"given":"../etc/./passwd"})") != std::string::npos);
    }
    SUBCASE("file, unresolved")
    {
        bw_mon_file_event e{};
        fill_header(e.m, BW_MON_FILE, 0);
        e.m.flags = BW_MON_EVENT_UNRESOLVED | BW_MON_EVENT_NAME_UNREADABLE;
        e.syscall = 2;
        const std::string line = f.decode(e);
        CHECK(line.find(R"("syscall":"open","path":"","access":"read","path_unresolved":true,"reason":"the name could not be read)") != std::string::npos);
    }
    SUBCASE("syscalls")
    {
        bw_mon_syscall_event e{};
        fill_header(e.m, BW_MON_SYSCALLS, 1);
        e.m.action = BW_MON_KILL;
        e.nr = 101;
        const std::string line = f.decode(e);
        CHECK(line.find(R"("monitor":"syscalls","policy":"d","rule":"p0.toml:5","action":"kill")") != std::string::npos);
        CHECK(line.find(R"("syscall":"ptrace","nr":101,"abi":"x86_64"})") != std::string::npos);
    }
    SUBCASE("process")
    {
        bw_mon_process_event e{};
        fill_header(e.m, BW_MON_PROCESS, 2);
        e.m.flags = BW_MON_EVENT_SCRIPT;
        std::strcpy(e.m.h.exe, "/usr/bin/dash");
        std::strcpy(e.script, "/tmp/x.sh");
        std::strcpy(e.filename, "./x.sh");
        std::strcpy(e.parent_exe, "/usr/bin/bash");
        const std::string line = f.decode(e);
        CHECK(line.find(R"("rule":"p0.toml:8")") != std::string::npos);
        CHECK(line.find(R"("path":"/usr/bin/dash","script":"/tmp/x.sh","filename":"./x.sh","parent_exe":"/usr/bin/bash","not_allowed":["script"]})") != std::string::npos);
    }
    SUBCASE("connect")
    {
        bw_mon_connect_event e{};
        fill_header(e.m, BW_MON_CONNECT, 3);
        e.m.flags = BW_MON_EVENT_MAPPED;
        e.family = BW_MON_FAMILY_IPV6;
        e.port = 443;
        e.protocol = 6;
        inet_pton(AF_INET6, "::ffff:10.0.0.1", e.addr);
        const std::string line = f.decode(e);
        CHECK(line.find(R"("addr":"::ffff:10.0.0.1","port":443,"protocol":"tcp","family":"ipv6","call":"connect","ipv4_mapped":true})") != std::string::npos);
    }
    SUBCASE("a record shorter than its monitor's is malformed")
    {
        bw_mon_file_event e{};
        fill_header(e.m, BW_MON_FILE, 0);
        std::string out;
        CHECK(!f.decoder.decode(&e, sizeof(bw_monitor_event), out));
        CHECK(out.empty());
        CHECK(f.decoder.counters().malformed == 1);
    }
}

TEST_CASE("decoder: a change of times is op \"metadata\", call \"utimes\" (bpf/lsm/file_ops.bpf.c, inode_setattr)")
{
    CHECK(std::string(file_op_name(BW_OP_METADATA)) == "metadata");
    CHECK(std::string(file_call_name(BW_FCALL_UTIMES)) == "utimes");
    CHECK(std::string(file_call_name(BW_FCALL_CHMOD)) == "chmod");
    CHECK(std::string(file_call_name(BW_NR_FCALLS)) == "unknown");
}

TEST_CASE("decoder: mounts are op \"mount\"; a move_mount names both ends; a fail-closed handle says why")
{
    DecodeFixture f;
    // A denial by no policy of generation 1: the fields under test only.
    auto denial = [](uint32_t op, uint32_t call, uint32_t access, uint32_t entry) {
        bw_file_event e{};
        e.h.kind = BW_KIND_FILE;
        e.h.verdict = BW_VERDICT_DENY;
        e.h.generation = 1;
        e.h.policy = BW_POLICY_NONE;
        e.h.entry = entry;
        e.op = op;
        e.call = call;
        e.access = access;
        return e;
    };
    bw_file_event e = denial(BW_OP_MOUNT, BW_FCALL_MOVE_MOUNT, BW_ACCESS_CREATE, BW_ENTRY_NONE);
    std::strcpy(e.path, "/srv/data");
    std::strcpy(e.target, "/etc/cron.d");
    CHECK(f.decode(e).find(R"("op":"mount","call":"move_mount","path":"/srv/data","access":"create","target":"/etc/cron.d")") !=
          std::string::npos);
    // A detached mount (fsmount, open_tree): only where it is attached.
    e.target[0] = '\0';
    std::strcpy(e.path, "/etc/cron.d");
    std::string line = f.decode(e);
    CHECK(line.find(R"("call":"move_mount","path":"/etc/cron.d","access":"create"})") != std::string::npos);
    e.call = BW_FCALL_UMOUNT;
    CHECK(f.decode(e).find(R"("op":"mount","call":"umount","path":"/etc/cron.d")") != std::string::npos);
    e.call = BW_FCALL_MOUNT;
    CHECK(f.decode(e).find(R"("call":"mount")") != std::string::npos);

    line = f.decode(denial(BW_OP_OPEN, BW_FCALL_OPEN, BW_ACCESS_READ, BW_ENTRY_DISCONNECTED));
    CHECK(line.find(R"x("reason":"opened by a file handle, with no path to its mount's root (fail-closed)")x") !=
          std::string::npos);
    CHECK(std::string(fail_closed_reason(BW_ENTRY_TOO_DEEP)).find("walk limit") != std::string::npos);
    CHECK(fail_closed_reason(0) == nullptr);
}

TEST_CASE("decoder: a record of an older generation names that generation's rule")
{
    CgroupNames cgroups{""};
    EventDecoder decoder{cgroups};
    auto image = [](const std::string& text) { return std::make_shared<const MapImage>(compile_texts({text}).image()); };
    // Generation 1 has its monitor at line 3; every later one at line 5.
    decoder.add_generation(1, image("[policy]\nname = \"d\"\n[[monitor.file]]\npaths = [\"/etc/passwd\"]\n"));
    const std::string later = "[policy]\nname = \"d\"\n\n\n[[monitor.file]]\npaths = [\"/etc/passwd\"]\n";
    for (uint32_t g = 2; g <= EventDecoder::kKeptGenerations; ++g) decoder.add_generation(g, image(later));
    auto rule_of = [&](uint32_t generation) {
        bw_mon_file_event e{};
        fill_header(e.m, BW_MON_FILE, 0);
        e.m.h.generation = generation;
        std::string out;
        REQUIRE(decoder.decode(&e, sizeof e, out));
        auto v = JsonValue::parse(out.substr(0, out.size() - 1));
        REQUIRE(v);
        return v->str("rule");
    };
    CHECK(rule_of(1) == "p0.toml:3");  // seven reloads later
    CHECK(rule_of(EventDecoder::kKeptGenerations) == "p0.toml:5");
    decoder.add_generation(EventDecoder::kKeptGenerations + 1, image(later));
    CHECK(rule_of(1) == "");           // retired: its records cannot still be in flight
}

TEST_CASE("run plan: mode says what really holds")
{
    const std::string deny = "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n";
    auto plan_of = [&](const std::vector<std::string>& texts, bool audit = false) {
        CompileOptions o;
        o.global_audit = audit;
        auto c = compile_texts(texts, o);
        return plan_run(c.policies, c.image()).mode;
    };
    CHECK(plan_of({"[policy]\nname = \"a\"\n" + deny}) == "enforce");
    CHECK(plan_of({"[policy]\nname = \"a\"\n" + deny}, true) == "audit");
    CHECK(plan_of({"[policy]\nname = \"a\"\nmode = \"audit\"\n" + deny}) == "audit");
    // One enforcing policy among audit ones: enforcing.
    CHECK(plan_of({"[policy]\nname = \"a\"\nmode = \"audit\"\n" + deny, "[policy]\nname = \"b\"\n" + deny}) == "enforce");
    // An enforcing policy of monitors only blocks nothing: the audit one decides the mode.
    CHECK(plan_of({"[policy]\nname = \"a\"\nmode = \"audit\"\n" + deny,
                   "[policy]\nname = \"m\"\n[[monitor.file]]\npaths = [\"/x\"]\n"}) == "audit");
    CHECK(plan_of({"[policy]\nname = \"m\"\n[[monitor.file]]\npaths = [\"/x\"]\n"}) == "monitor");
}
