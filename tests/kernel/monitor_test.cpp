// Host kernel tests (root) of the four monitors, end to end: `bulwark run`
// on this host (which refuses BPF-LSM) with monitor-only policies scoped
// to a cgroup the test creates; children of the test, moved into it or
// not, perform the operations; the JSON lines bulwark writes are checked
// field by field. Nothing outside the test's cgroup is ever in scope.
#include "harness.hpp"

#include "kernel/probe.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

using namespace bulwark::test;

namespace {

// The fields every monitor event carries, for a child of this test.
void check_process_fields(const Json& e, pid_t pid, const TestCgroup& cg, const std::string& policy,
                          const std::string& rule)
{
    CHECK(e.str("type") == "monitor");
    CHECK(e.str("policy") == policy);
    CHECK(e.str("rule") == rule);
    CHECK(e.num("pid") == pid);
    CHECK(e.num("tid") == pid);
    CHECK(e.num("ppid") == ::getpid());
    CHECK(e.num("uid") == 0);
    CHECK(e.str("cgroup") == cg.name());
    CHECK(e.has("time"));
    CHECK(e.has("comm"));
}

std::string paths_of(const std::vector<Json>& events)
{
    std::string out;
    for (const auto& e : events) out += e.str("path") + " ";
    return out;
}

// One bulwark run around `body`; the events it wrote.
template <typename Body>
std::vector<Json> run_with(const std::string& policy_file, Body body, int* status = nullptr)
{
    Bulwark bw({policy_file});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);
    CHECK(ready->str("mode") == "monitor");
    body();
    int st = 0;
    auto events = bw.stop(&st);
    INFO("bulwark stderr: " << bw.errors());
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
    REQUIRE(stats_of(events) != nullptr);
    if (status) *status = st;
    return events;
}

}  // namespace

// ---------------------------------------------------------------------------

TEST_CASE("monitors run where BPF-LSM cannot: only monitor objects load, the ready line lists them")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string file = tmp.write("p.toml", scoped_policy("all", cg, R"([[monitor.file]]
paths = ["/nonexistent/x"]
[[monitor.syscalls]]
uid = 4294967294
allow = ["read"]
[monitor.process]
allowed = ["/"]
[[monitor.connect]]
cidrs = ["192.0.2.0/24"]
)"));
    Bulwark bw({file});
    auto ready = bw.wait_ready();
    INFO("stderr: " << bw.errors());
    REQUIRE(ready);
    CHECK(ready->str("mode") == "monitor");
    CHECK(ready->list("policies") == std::vector<std::string>{"all"});
    const auto programs = ready->list("programs");
    const std::set<std::string> got(programs.begin(), programs.end());
    for (const char* p : {"syscalls/sys_enter_open", "syscalls/sys_enter_openat", "syscalls/sys_enter_openat2",
                          "syscalls/sys_enter_creat", "sys_enter", "sched_process_exec", "connect4", "connect6",
                          "sendmsg4", "sendmsg6"})
        CHECK_MESSAGE(got.count(p) == 1, p);
    CHECK(got.count("file_open") == 0);  // no LSM object without rules
    int st = 0;
    auto events = bw.stop(&st);
    CHECK(exited_ok(st));
    REQUIRE(stats_of(events));
    CHECK(stats_of(events)->num("lost") == 0);
}

TEST_CASE("a set mixing rules and monitors on a kernel without BPF-LSM names the rules no backend here decides")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    const auto support = bulwark::probe_kernel();
    if (support.bpf_lsm_active && support.lsm_programs_load) {
        MESSAGE("this kernel enforces BPF-LSM: nothing to refuse here");
        return;
    }
    TempDir tmp;
    const std::string file = tmp.write("mixed.toml", R"([policy]
name = "mixed"

[[file]]
paths = ["/etc/shadow"]
action = "deny"

[[monitor.file]]
paths = ["/etc/passwd"]
)");
    Bulwark bw({file});
    const int st = bw.wait_exit();
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 3);  // exit_unsupported
    const std::string err = bw.errors();
    // fanotify decides file opens here, but this rule (any access) also
    // protects against changes it cannot see.
    CHECK_MESSAGE(err.find("cannot enforce these rules as written: mixed.toml:4 [[file]]") != std::string::npos, err);
    CHECK_MESSAGE(err.find("monitors run without BPF-LSM") != std::string::npos, err);
}

TEST_CASE("file monitor: open, openat, openat2 and creat of watched paths, made absolute and normal")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string d = tmp.path();
    std::filesystem::create_directories(d + "/tree/sub");
    std::filesystem::create_directories(d + "/other");
    tmp.write("secret", "s");
    tmp.write("secret-", "s");
    tmp.write("tree/sub/leaf", "l");
    const std::string body = "[[monitor.file]]\npaths = [\"" + d + "/secret\"]\nprefixes = [\"" + d + "/tree/\"]\n";
    const std::string text = scoped_policy("files", cg, body);
    const std::string file = tmp.write("files.toml", text);
    const std::string rule = "files.toml:" + std::to_string(line_of(text, "[[monitor.file]]"));

    // The operations, in order: the events must come in the same order.
    auto ops = [d]() -> int {
        int fd;
        if ((fd = ::open((d + "/secret").c_str(), O_RDONLY)) >= 0) ::close(fd);                 // glibc: openat
        if ((fd = static_cast<int>(::syscall(SYS_open, (d + "/secret").c_str(), O_RDONLY))) >= 0) ::close(fd);
        if ((fd = ::open((d + "/secret-").c_str(), O_RDONLY)) >= 0) ::close(fd);                 // not watched
        if ((fd = ::open((d + "/other/../tree/./sub//leaf").c_str(), O_RDWR)) >= 0) ::close(fd);
        if (::chdir((d + "/tree/sub").c_str()) != 0) return 10;
        if ((fd = ::open("../../secret", O_RDONLY)) >= 0) ::close(fd);                          // relative to cwd
        const int dir = ::open(d.c_str(), O_RDONLY | O_DIRECTORY);
        open_how how{};
        how.flags = O_RDONLY;
        if ((fd = static_cast<int>(::syscall(SYS_openat2, dir, "secret", &how, sizeof how))) >= 0) ::close(fd);
        if ((fd = ::openat(dir, "tree/new", O_WRONLY | O_CREAT, 0600)) >= 0) ::close(fd);        // relative to dirfd
        ::close(dir);
        if ((fd = static_cast<int>(::syscall(SYS_creat, (d + "/tree/made").c_str(), 0600))) >= 0) ::close(fd);
        if ((fd = ::open("/nonexistent-dir/x", O_RDONLY)) >= 0) ::close(fd);                    // not watched
        if ((fd = ::open((d + "/tree/missing").c_str(), O_RDONLY)) >= 0) ::close(fd);            // fails: still reported
        return 0;
    };

    pid_t inside = 0;
    auto events = run_with(file, [&] {
        Child c(ops);
        inside = c.pid();
        cg.add(c.pid());
        c.release();
        CHECK(exited_ok(c.wait()));
        CHECK(exited_ok(in_child(nullptr, ops)));  // the same, outside the scope
    });
    auto got = monitor_events(events);
    INFO("events: " << paths_of(got));
    REQUIRE(got.size() == 8);
    struct Want {
        const char* syscall;
        std::string path;
        std::string given;   // "" when the same as path
        const char* access;
    };
    const Want want[] = {
        {"openat", d + "/secret", "", "read"},
        {"open", d + "/secret", "", "read"},
        {"openat", d + "/tree/sub/leaf", d + "/other/../tree/./sub//leaf", "read,write"},
        {"openat", d + "/secret", "../../secret", "read"},
        {"openat2", d + "/secret", "secret", "read"},
        {"openat", d + "/tree/new", "tree/new", "write"},
        {"creat", d + "/tree/made", "", "write"},
        {"openat", d + "/tree/missing", "", "read"},
    };
    for (size_t i = 0, j = 0; i < got.size() && j < std::size(want); ++i) {
        const Json& e = got[i];
        CAPTURE(e.text());
        check_process_fields(e, inside, cg, "files", rule);
        CHECK(e.str("monitor") == "file");
        CHECK(e.str("action") == "report");
        CHECK(e.num("suppressed") == 0);
        CHECK(e.str("exe") == self_exe());
        const Want& w = want[j++];
        CHECK(e.str("syscall") == w.syscall);
        CHECK(e.str("path") == w.path);
        CHECK(e.str("given") == w.given);
        CHECK(e.str("access") == w.access);
        CHECK(!e.flag("path_unresolved"));
    }
    // Both creating opens say so.
    size_t creates = 0;
    for (const auto& e : got) creates += e.flag("create");
    CHECK(creates == 2);
}

TEST_CASE("file monitor: a path that cannot be made absolute is reported as unresolved, not dropped")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    // A working directory whose path is longer than an event can carry.
    std::string deep = tmp.path();
    for (int i = 0; i < 12; ++i) deep += "/" + std::string(50, static_cast<char>('a' + i));
    std::filesystem::create_directories(deep);
    const std::string text = scoped_policy("deep", cg, "[[monitor.file]]\npaths = [\"/etc/hostname\"]\n");
    const std::string file = tmp.write("deep.toml", text);

    pid_t inside = 0;
    auto events = run_with(file, [&] {
        Child c([deep]() -> int {
            if (::chdir(deep.c_str()) != 0) return 10;
            const int fd = ::open("x", O_RDONLY);
            if (fd >= 0) ::close(fd);
            return 0;
        });
        inside = c.pid();
        cg.add(c.pid());
        c.release();
        CHECK(exited_ok(c.wait()));
    });
    auto got = monitor_events(events, "file");
    REQUIRE(got.size() == 1);
    check_process_fields(got[0], inside, cg, "deep", "deep.toml:" + std::to_string(line_of(text, "[[monitor")));
    CHECK(got[0].flag("path_unresolved"));
    CHECK(got[0].str("path") == "x");
    CHECK(got[0].str("reason").find("could not be walked") != std::string::npos);
    CHECK(stats_of(events)->num("unresolved") == 1);
}

TEST_CASE("file monitor: a name in a page not yet faulted in is decided at syscall exit")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string watched = tmp.write("watched", "w");
    // The name lives in a file mapping nobody has touched: no page table
    // entry yet, so the entry program cannot read it (tracepoints cannot
    // fault) and keeps the attempt for the exit program.
    const std::string name_file = tmp.write("name", watched + std::string(1, '\0'));
    const std::string text = scoped_policy("late", cg, "[[monitor.file]]\npaths = [\"" + watched + "\"]\n");
    const std::string file = tmp.write("late.toml", text);

    pid_t inside = 0;
    auto events = run_with(file, [&] {
        Child c([name_file]() -> int {
            const int nfd = ::open(name_file.c_str(), O_RDONLY);
            if (nfd < 0) return 10;
            void* page = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, nfd, 0);
            if (page == MAP_FAILED) return 11;
            const int fd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, static_cast<const char*>(page), O_RDONLY));
            if (fd < 0) return 13;
            ::close(fd);
            return 0;
        });
        inside = c.pid();
        cg.add(c.pid());
        c.release();
        CHECK(exited_ok(c.wait()));
    });
    auto got = monitor_events(events, "file");
    REQUIRE(got.size() == 1);
    check_process_fields(got[0], inside, cg, "late", "late.toml:" + std::to_string(line_of(text, "[[monitor")));
    CHECK(got[0].str("syscall") == "openat");
    CHECK(got[0].str("path") == watched);
    CHECK(!got[0].flag("path_unresolved"));
    CHECK(stats_of(events)->num("unresolved") == 0);
}

TEST_CASE("rate limit: a rule's excess events are dropped in the kernel and counted in the next event and stats")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    tmp.write("noisy", "n");
    const std::string text =
        scoped_policy("noisy", cg, "[[monitor.file]]\npaths = [\"" + tmp.path() + "/noisy\"]\nrate_limit = 3\n");
    const std::string file = tmp.write("noisy.toml", text);
    const std::string path = tmp.path() + "/noisy";

    auto events = run_with(file, [&] {
        Child c([path]() -> int {
            for (int i = 0; i < 10; ++i) {
                const int fd = ::open(path.c_str(), O_RDONLY);
                if (fd >= 0) ::close(fd);
            }
            Child::wait_go();  // after the bucket has refilled
            const int fd = ::open(path.c_str(), O_RDONLY);
            if (fd >= 0) ::close(fd);
            return 0;
        });
        cg.add(c.pid());
        c.release();
        // 3 events a second: one event's worth of time refills the bucket.
        // (A time-based limit is the one wait here; no signal can replace it.)
        ::usleep(400 * 1000);
        c.go();
        CHECK(exited_ok(c.wait()));
    });
    auto got = monitor_events(events, "file");
    REQUIRE(got.size() == 4);
    CHECK(got[0].num("suppressed") == 0);
    CHECK(got[1].num("suppressed") == 0);
    CHECK(got[2].num("suppressed") == 0);
    CHECK(got[3].num("suppressed") == 7);
    CHECK(stats_of(events)->num("suppressed") == 7);
    CHECK(stats_of(events)->num("monitor_events") == 4);
}

TEST_CASE("syscalls monitor, audit: the first use of each disallowed syscall per process, nothing outside scope")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string text = scoped_policy("sys", cg, R"([[monitor.syscalls]]
uid = 0
allow = ["read", "getpid", "exit_group"]
action = "audit"
)");
    const std::string file = tmp.write("sys.toml", text);
    const std::string rule = "sys.toml:" + std::to_string(line_of(text, "[[monitor.syscalls]]"));

    // After its release (a read), the child makes raw syscalls only.
    auto ops = []() -> int {
        struct utsname u;
        ::syscall(SYS_getpid);
        for (int i = 0; i < 3; ++i) ::syscall(SYS_uname, &u);
        ::syscall(SYS_getppid);
        ::syscall(SYS_uname, &u);
        return 0;
    };
    pid_t inside = 0;
    auto events = run_with(file, [&] {
        Child c(ops);
        inside = c.pid();
        cg.add(c.pid());
        c.release();
        CHECK(exited_ok(c.wait()));
        CHECK(exited_ok(in_child(nullptr, ops)));
    });
    auto got = monitor_events(events);
    REQUIRE(got.size() == 2);
    for (const auto& e : got) {
        CAPTURE(e.text());
        check_process_fields(e, inside, cg, "sys", rule);
        CHECK(e.str("monitor") == "syscalls");
        CHECK(e.str("action") == "report");
        CHECK(e.str("abi") == "x86_64");
    }
    CHECK(got[0].str("syscall") == "uname");
    CHECK(got[0].num("nr") == SYS_uname);
    CHECK(got[1].str("syscall") == "getppid");
    CHECK(got[1].num("nr") == SYS_getppid);
    CHECK(stats_of(events)->num("killed") == 0);
}

TEST_CASE("syscalls monitor, kill: SIGKILL for the scoped process only — bulwark and the rest live on")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string text = scoped_policy("killer", cg, R"([[monitor.syscalls]]
uid = 0
allow = ["read", "getpid", "exit_group"]
action = "kill"
)");
    const std::string file = tmp.write("kill.toml", text);
    const std::string rule = "kill.toml:" + std::to_string(line_of(text, "[[monitor.syscalls]]"));
    auto ops = []() -> int {
        struct utsname u;
        ::syscall(SYS_getpid);
        ::syscall(SYS_uname, &u);  // killed here: the syscall still completes, then the task dies
        ::syscall(SYS_getppid);
        return 0;
    };

    Bulwark bw({file});
    REQUIRE(bw.wait_ready());
    // bulwark itself inside the scope: it is never acted on (self_tgid),
    // though everything it does is outside this allowlist.
    cg.add(bw.pid());
    pid_t inside = 0;
    {
        Child c(ops);
        inside = c.pid();
        cg.add(c.pid());
        c.release();
        const int st = c.wait();
        CHECK(WIFSIGNALED(st));
        CHECK(WTERMSIG(st) == SIGKILL);
    }
    CHECK(exited_ok(in_child(nullptr, ops)));     // outside the scope: untouched
    struct utsname u;
    CHECK(::uname(&u) == 0);                       // the test itself: untouched
    CHECK(::kill(bw.pid(), 0) == 0);               // bulwark: alive in the scoped cgroup
    int st = 0;
    auto events = bw.stop(&st);
    INFO("stderr: " << bw.errors());
    CHECK(exited_ok(st));
    auto got = monitor_events(events);
    REQUIRE(got.size() == 1);
    check_process_fields(got[0], inside, cg, "killer", rule);
    CHECK(got[0].str("action") == "kill");
    CHECK(got[0].str("syscall") == "uname");
    REQUIRE(stats_of(events));
    CHECK(stats_of(events)->num("killed") == 1);
}

TEST_CASE("syscalls monitor, kill in an audit-mode policy: reported as would-kill, nobody dies")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string text = scoped_policy("dry", cg, R"([[monitor.syscalls]]
uid = 0
allow = ["read", "exit_group"]
action = "kill"
)",
                                           "audit");
    const std::string file = tmp.write("dry.toml", text);
    pid_t inside = 0;
    auto events = run_with(file, [&] {
        Child c([]() -> int {
            struct utsname u;
            ::syscall(SYS_uname, &u);
            ::syscall(SYS_uname, &u);
            return 0;
        });
        inside = c.pid();
        cg.add(c.pid());
        c.release();
        CHECK(exited_ok(c.wait()));
    });
    auto got = monitor_events(events);
    REQUIRE(got.size() == 1);
    CHECK(got[0].num("pid") == inside);
    CHECK(got[0].str("action") == "would-kill");
    CHECK(stats_of(events)->num("killed") == 0);
}

TEST_CASE("process monitor: every exec of a program not allowed, by its real path, with the parent's program")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    std::filesystem::create_directories(tmp.path() + "/bin");
    const std::string copy = tmp.path() + "/bin/mytrue";
    std::filesystem::copy_file("/usr/bin/true", copy);
    ::chmod(copy.c_str(), 0755);
    const std::string link = tmp.path() + "/bin/via-link";
    std::filesystem::create_symlink(copy, link);
    const std::string script = tmp.write("bin/s.sh", "#!/bin/sh\nexit 0\n", 0755);
    // /usr/bin/ and /bin/ (a symlink to it on merged-/usr systems).
    const std::string text = scoped_policy("procs", cg, "[monitor.process]\nallowed = [\"/usr/bin/\", \"/bin/\"]\n");
    const std::string file = tmp.write("procs.toml", text);
    const std::string rule = "procs.toml:" + std::to_string(line_of(text, "[monitor.process]"));
    const std::string sh = std::filesystem::canonical("/bin/sh").string();

    auto exec = [](const std::string& path) {
        return [path]() -> int {
            char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
            char* envp[] = {nullptr};
            ::execve(path.c_str(), argv, envp);
            return 99;
        };
    };
    std::vector<pid_t> pids;
    auto events = run_with(file, [&] {
        for (const std::string& p : {std::string("/usr/bin/true"), copy, link, script}) {
            Child c(exec(p));
            pids.push_back(c.pid());
            cg.add(c.pid());
            c.release();
            CHECK(exited_ok(c.wait()));
        }
        CHECK(exited_ok(in_child(nullptr, exec(copy))));  // outside the scope
    });
    auto got = monitor_events(events);
    INFO("events: " << paths_of(got));
    REQUIRE(got.size() == 3);
    for (const auto& e : got) {
        CAPTURE(e.text());
        CHECK(e.str("monitor") == "process");
        CHECK(e.str("parent_exe") == self_exe());
    }
    check_process_fields(got[0], pids[1], cg, "procs", rule);
    CHECK(got[0].str("path") == copy);
    CHECK(got[0].str("exe") == copy);
    CHECK(got[0].str("comm") == "mytrue");
    CHECK(got[0].list("not_allowed") == std::vector<std::string>{"program"});
    CHECK(!got[0].has("filename"));
    // Through a symlink: the real program, and the name it was run by.
    check_process_fields(got[1], pids[2], cg, "procs", rule);
    CHECK(got[1].str("path") == copy);
    CHECK(got[1].str("filename") == link);
    // A script: its interpreter is allowed, the script is not.
    check_process_fields(got[2], pids[3], cg, "procs", rule);
    CHECK(got[2].str("path") == sh);
    CHECK(got[2].str("script") == script);
    CHECK(got[2].list("not_allowed") == std::vector<std::string>{"script"});
}

TEST_CASE("connect monitor: CIDRs, ports and protocols over IPv4, IPv6 and IPv4-mapped; connect and sendto")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string text = scoped_policy("net", cg, R"([[monitor.connect]]
cidrs = ["127.0.0.2/32", "::1/128"]
ports = [9]
protocols = ["tcp"]

[[monitor.connect]]
cidrs = ["127.0.0.3/32"]
protocols = ["udp"]
)");
    const std::string file = tmp.write("net.toml", text);
    const std::string tcp_rule = "net.toml:" + std::to_string(line_of(text, "[[monitor.connect]]"));
    const std::string udp_rule = "net.toml:" + std::to_string(line_of(text, "[[monitor.connect]]\ncidrs = [\"127.0.0.3"));

    auto ops = []() -> int {
        auto v4 = [](const char* a, uint16_t port) {
            sockaddr_in s{};
            s.sin_family = AF_INET;
            s.sin_port = htons(port);
            inet_pton(AF_INET, a, &s.sin_addr);
            return s;
        };
        auto v6 = [](const char* a, uint16_t port) {
            sockaddr_in6 s{};
            s.sin6_family = AF_INET6;
            s.sin6_port = htons(port);
            inet_pton(AF_INET6, a, &s.sin6_addr);
            return s;
        };
        auto tcp4 = [&](const char* a, uint16_t port) {
            int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            auto s = v4(a, port);
            ::connect(fd, reinterpret_cast<sockaddr*>(&s), sizeof s);  // refused: an attempt all the same
            ::close(fd);
        };
        auto tcp6 = [&](const char* a, uint16_t port) {
            int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
            auto s = v6(a, port);
            ::connect(fd, reinterpret_cast<sockaddr*>(&s), sizeof s);
            ::close(fd);
        };
        tcp4("127.0.0.2", 9);            // 1: watched
        tcp4("127.0.0.2", 10);           //    other port
        tcp4("127.0.0.4", 9);            //    other address
        tcp6("::1", 9);                  // 2: watched, IPv6
        tcp6("::ffff:127.0.0.2", 9);     // 3: watched, IPv4-mapped
        int u = ::socket(AF_INET, SOCK_DGRAM, 0);
        auto s = v4("127.0.0.3", 5353);
        ::sendto(u, "x", 1, 0, reinterpret_cast<sockaddr*>(&s), sizeof s);   // 4: udp sendto
        s = v4("127.0.0.2", 9);
        ::sendto(u, "x", 1, 0, reinterpret_cast<sockaddr*>(&s), sizeof s);   //    tcp-only rule
        s = v4("127.0.0.3", 53);
        ::connect(u, reinterpret_cast<sockaddr*>(&s), sizeof s);             // 5: udp connect
        ::close(u);
        return 0;
    };
    pid_t inside = 0;
    auto events = run_with(file, [&] {
        Child c(ops);
        inside = c.pid();
        cg.add(c.pid());
        c.release();
        CHECK(exited_ok(c.wait()));
        CHECK(exited_ok(in_child(nullptr, ops)));
    });
    auto got = monitor_events(events);
    REQUIRE(got.size() == 5);
    struct Want {
        std::string rule;
        const char *addr, *family, *protocol, *call;
        int port;
        bool mapped;
    };
    const Want want[] = {
        {tcp_rule, "127.0.0.2", "ipv4", "tcp", "connect", 9, false},
        {tcp_rule, "::1", "ipv6", "tcp", "connect", 9, false},
        {tcp_rule, "::ffff:127.0.0.2", "ipv6", "tcp", "connect", 9, true},
        {udp_rule, "127.0.0.3", "ipv4", "udp", "sendmsg", 5353, false},
        {udp_rule, "127.0.0.3", "ipv4", "udp", "connect", 53, false},
    };
    for (size_t i = 0; i < got.size(); ++i) {
        const Json& e = got[i];
        CAPTURE(e.text());
        check_process_fields(e, inside, cg, "net", want[i].rule);
        CHECK(e.str("monitor") == "connect");
        CHECK(e.str("addr") == want[i].addr);
        CHECK(e.num("port") == want[i].port);
        CHECK(e.str("family") == want[i].family);
        CHECK(e.str("protocol") == want[i].protocol);
        CHECK(e.str("call") == want[i].call);
        CHECK(e.flag("ipv4_mapped") == want[i].mapped);
        CHECK(e.str("exe") == self_exe());
    }
}
