// bulwark protects itself (docs/decisions/011-self-protection.md): a process
// in the scope of an enforcing policy cannot signal bulwark, attach to it
// or read its memory — each attempt fails with EPERM (EACCES for
// /proc/PID/mem) and is a "tamper" verdict event — while bulwark keeps
// running and enforcing, and what /proc says about it stays readable; a
// process outside every scope keeps full control; in audit mode the same
// attempts are would-deny and go through.
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {


// One policy "guard", scoped to `cg`, denying reads of `secret`. No global
// policy is loaded: the test process itself is outside every scope.

void require_hooks(const Json& ready) {
    for (const char* want : {"task_kill", "ptrace_access_check"}) {
        bool found = false;
        for (const auto& p : ready.list("programs")) found = found || p == want;
        require(found, "ready line lacks program ", want, ": ", ready.line());
    }
}

// errno of a call that returns -1 on failure, 0 on success.
int err(long r) { return r < 0 ? errno : 0; }

int mem_open_errno(pid_t pid) { return open_errno(cat("/proc/", pid, "/mem"), O_RDONLY); }

// process_vm_readv of one byte at `addr` in `pid`.
int vm_read_errno(pid_t pid, unsigned long addr) {
    char byte = 0;
    iovec local{&byte, 1}, remote{reinterpret_cast<void*>(addr), 1};
    return err(process_vm_readv(pid, &local, 1, &remote, 1, 0));
}

// The first mapping's start in `pid` (read from outside every scope).
unsigned long first_mapping(pid_t pid) {
    const std::string maps = read_file(cat("/proc/", pid, "/maps"));
    if (maps.empty()) fail("cannot read /proc/", pid, "/maps");
    return std::stoul(maps.substr(0, maps.find('-')), nullptr, 16);
}

// bulwark's scheduler state (/proc/PID/stat, third field): 'R' or 'S' while
// it runs; 'T' stopped, 'Z' dead and unreaped, '?' gone.
char state_of(pid_t pid) {
    const std::string stat = read_file(cat("/proc/", pid, "/stat"));
    auto close_paren = stat.rfind(')');
    return close_paren == std::string::npos || close_paren + 2 >= stat.size() ? '?' : stat[close_paren + 2];
}

void require_running(const Bulwark& bw, const std::string& after) {
    const char s = state_of(bw.pid());
    require(s == 'R' || s == 'S' || s == 'D', "bulwark's state is '", std::string(1, s), "' after ", after,
            " (want running); stderr: ", bw.stderr_text());
}

struct Attempt {
    std::string what;          // for failure messages
    std::string op;            // "signal" | "ptrace"
    long long signal = -1;     // op signal
    std::string signal_name;
    std::string mode, creds;   // op ptrace
    int want = EPERM;          // the errno in scope of an enforcing policy
};

Attempt signal_attempt(const std::string& what, int sig, const std::string& name) {
    return {what, "signal", sig, name, "", "", EPERM};
}

Attempt ptrace_attempt(const std::string& what, const std::string& mode, const std::string& creds, int want = EPERM) {
    return {what, "ptrace", -1, "", mode, creds, want};
}

void check_tamper(const Json& ev, const Attempt& a, const std::string& verdict, const PolicyFile& p, pid_t child,
                  pid_t bulwark) {
    TamperCheck c(ev, verdict, p, a.op, child);
    c.field("object", "process").number("target_pid", bulwark).number("tid", child).field("comm", "bwt-child");
    if (a.op == "signal")
        c.number("signal", a.signal).field("signal_name", a.signal_name);
    else
        c.field("mode", a.mode).field("creds", a.creds);
    c.done(a.what);
}


}  // namespace

TEST("self-protect: in an enforcing policy's scope, signals, ptrace and /proc/PID/mem fail with EPERM; bulwark runs on") {
    const std::string dir = test_dir(), secret = dir + "/secret";
    write_file(secret, "x\n");
    ScopedCgroup cg("bwt-guard-" + std::to_string(getpid()));
    auto p = guard_policy(dir + "/pol", cg, secret, false);
    Bulwark bw({{dir + "/pol"}});
    require_hooks(bw.wait_ready({"guard"}));
    const pid_t target = bw.pid();
    const unsigned long addr = first_mapping(target);

    const std::vector<Attempt> attempts = {
        signal_attempt("kill(SIGTERM)", SIGTERM, "SIGTERM"),
        signal_attempt("kill(SIGKILL)", SIGKILL, "SIGKILL"),
        signal_attempt("kill(SIGSTOP)", SIGSTOP, "SIGSTOP"),
        ptrace_attempt("ptrace(PTRACE_ATTACH)", "attach", "real"),
        // The kernel turns any refused access check on a /proc file into EACCES.
        ptrace_attempt("open(/proc/PID/mem)", "attach", "fs", EACCES),
        ptrace_attempt("process_vm_readv", "attach", "real"),
    };
    auto r = run_child([&] {
        cg.enter();
        const int got[] = {
            err(kill(target, SIGTERM)),
            err(kill(target, SIGKILL)),
            err(kill(target, SIGSTOP)),
            err(ptrace(PTRACE_ATTACH, target, nullptr, nullptr)),
            mem_open_errno(target),
            vm_read_errno(target, addr),
        };
        for (size_t i = 0; i < attempts.size(); ++i)
            if (got[i] != attempts[i].want)
                fail("in scope: ", attempts[i].what, " gave ", errno_name(got[i]), ", want ", errno_name(attempts[i].want));
        // Signal 0 only asks whether bulwark exists, and /proc says what
        // it is (journald, lsof, nsenter read these): allowed, not reported.
        if (int e = err(kill(target, 0)); e != 0) fail("in scope: kill(0) gave ", errno_name(e), ", want success");
        char link[256];
        if (readlink(cat("/proc/", target, "/exe").c_str(), link, sizeof link) < 0)
            fail("in scope: readlink(/proc/PID/exe) gave ", errno_name(errno), ", want success");
        if (int e = open_errno(cat("/proc/", target, "/environ"), O_RDONLY); e != 0)
            fail("in scope: open(/proc/PID/environ) gave ", errno_name(e), ", want success");
        if (int e = open_errno(cat("/proc/", target, "/ns/mnt"), O_RDONLY); e != 0)
            fail("in scope: open(/proc/PID/ns/mnt) gave ", errno_name(e), ", want success");
        // bulwark is still enforcing: the rule still denies.
        if (int e = open_errno(secret, O_RDONLY); e != EPERM) fail("in scope: open(secret) gave ", errno_name(e), ", want EPERM");
        return 0;
    });
    require(r.code == 0, "child exit ", r.code);
    for (const auto& a : attempts) check_tamper(bw.next_verdict(a.what), a, "deny", p, r.pid, target);
    Json file = bw.next_verdict("open(secret) after the attempts");
    require(file.str("kind") == "file" && file.str("verdict") == "deny" && file.str("path") == secret &&
                file.num("pid") == r.pid,
            "the next event is not the file denial (kill(0) and /proc reads must not be reported): ", file.line());
    require_running(bw, "the attempts");

    // Outside every scope (neither in the cgroup nor bulwark's parent): full control.
    auto out = run_child([&] {
        if (int e = err(kill(target, SIGCONT)); e != 0) fail("outside: kill(SIGCONT) gave ", errno_name(e));
        if (int e = mem_open_errno(target); e != 0) fail("outside: open(/proc/PID/mem) gave ", errno_name(e));
        if (int e = vm_read_errno(target, addr); e != 0) fail("outside: process_vm_readv gave ", errno_name(e));
        return 0;
    });
    require(out.code == 0, "outside child exit ", out.code);
    require(err(kill(target, 0)) == 0, "the test process: kill(0) failed");
    // Nothing reported for those: the next event is the next denial's.
    expect_next_denial(bw, cg, secret, "the outside attempts");
    require_running(bw, "the outside attempts");

    bw.stop_and_check();
    Json stats = final_stats(bw);
    require(stats.num("tamper_denied") == 6 && stats.num("denied") == 8,
            "stats: tamper_denied ", stats.str("tamper_denied"), " (want 6), denied ", stats.str("denied"),
            " (want 8: six attempts, two opens): ", stats.line());
}

TEST("self-protect: in audit mode the attempts are would-deny and go through (SIGHUP reloads)") {
    const std::string dir = test_dir(), secret = dir + "/secret";
    write_file(secret, "x\n");
    ScopedCgroup cg("bwt-guard-" + std::to_string(getpid()));
    auto p = guard_policy(dir + "/pol", cg, secret, true);
    Bulwark bw({{dir + "/pol"}});
    require_hooks(bw.wait_ready({"guard"}, "audit"));
    const pid_t target = bw.pid();

    auto r = run_child([&] {
        cg.enter();
        if (int e = err(kill(target, SIGHUP)); e != 0) fail("audit: kill(SIGHUP) gave ", errno_name(e));
        if (int e = mem_open_errno(target); e != 0) fail("audit: open(/proc/PID/mem) gave ", errno_name(e));
        return 0;
    });
    require(r.code == 0, "child exit ", r.code);
    // Three lines, in whichever order: the two would-deny verdicts (in the
    // order of the attempts) and the ready line of the reload SIGHUP made.
    std::vector<Json> verdicts;
    std::optional<Json> ready;
    while (verdicts.size() < 2 || !ready) {
        auto line = bw.next_line(kEventTimeoutMs);
        if (!line) break;
        auto j = Json::parse(*line);
        if (j && j->str("type") == "verdict") verdicts.push_back(*j);
        if (j && j->str("type") == "ready") ready = *j;
    }
    require(verdicts.size() == 2, "audit: ", verdicts.size(), " verdict events within ", kEventTimeoutMs / 1000,
            " s of the attempts, want 2");
    check_tamper(verdicts[0], signal_attempt("kill(SIGHUP)", SIGHUP, "SIGHUP"), "would-deny", p, r.pid, target);
    check_tamper(verdicts[1], ptrace_attempt("open(/proc/PID/mem)", "attach", "fs"), "would-deny", p, r.pid,
                 target);
    require(ready && ready->num("generation") == 2 && ready->str("reason") == "SIGHUP",
            "the SIGHUP was not delivered: no ready line of generation 2 (reason SIGHUP)",
            ready ? ": " + ready->line() : std::string());
    require_running(bw, "the audited attempts");
    bw.stop_and_check();
    Json stats = final_stats(bw);
    require(stats.num("tamper_denied") == 0 && stats.num("would_deny") == 2,
            "stats: tamper_denied ", stats.str("tamper_denied"), " (want 0), would_deny ", stats.str("would_deny"),
            " (want 2): ", stats.line());
}
