// bulwark in a PID namespace of its own (docs/decisions/011-self-protection.md,
// "Identity"): its programs know it by its tgid in the initial PID
// namespace, learned from the kernel, not by getpid(). Started as pid N of
// a new PID namespace, in the scope of a policy that denies reading its own
// policy directory, bulwark (a) reloads (its reads are exempt: a new ready
// generation, no verdict); (b) a process of the initial namespace whose
// global pid is N — the number getpid() gives bulwark — is not exempt: its
// read fails with EPERM and the deny event carries pid N; (c) a process in
// scope cannot signal the real bulwark (EPERM, a tamper event naming its
// global pid). With self_tgid = getpid() all three fail.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

const char* kLastPid = "/proc/sys/kernel/ns_last_pid";


// This process's cgroup directory ("0::/x" in /proc/self/cgroup).
std::string own_cgroup_dir() {
    const std::string text = read_file("/proc/self/cgroup");
    const auto at = text.find("0::");
    if (at == std::string::npos) fail("no cgroup v2 line in /proc/self/cgroup: ", text);
    std::string rel = text.substr(at + 3, text.find('\n', at) - at - 3);
    return "/sys/fs/cgroup" + (rel == "/" ? std::string() : rel);
}

long long last_pid() { return std::stoll(read_file(kLastPid)); }

// The first process of a new PID namespace (its init: the namespace ends
// with it). Made with unshare(CLONE_NEWPID) + fork, so that this process's
// next children are created in that namespace; it sets the namespace's
// ns_last_pid to `next - 1` (only a process inside can) and then waits,
// reaping, until it is killed.
struct NamespaceInit {
    pid_t pid = -1;
    int host_ns = -1;  // this process's own PID namespace, to return to
    explicit NamespaceInit(long long next) {
        host_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (host_ns < 0) fail("open /proc/self/ns/pid: ", errno_name(errno));
        if (unshare(CLONE_NEWPID) != 0) fail("unshare(CLONE_NEWPID): ", errno_name(errno));
        int ready[2];
        if (pipe2(ready, O_CLOEXEC) != 0) fail("pipe: ", errno_name(errno));
        pid = fork();
        if (pid < 0) fail("fork: ", errno_name(errno));
        if (pid == 0) {
            close(ready[0]);
            const std::string text = std::to_string(next - 1);
            int fd = open(kLastPid, O_WRONLY);
            const char ok = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                                    getpid() == 1
                                ? 'y'
                                : 'n';
            if (fd >= 0) close(fd);
            if (write(ready[1], &ok, 1) != 1) _exit(1);
            close(ready[1]);
            for (;;)
                if (wait(nullptr) < 0) pause();
        }
        close(ready[1]);
        char ok = 0;
        const bool got = read(ready[0], &ok, 1) == 1;
        close(ready[0]);
        if (!got || ok != 'y') fail("the new PID namespace's init could not set its ns_last_pid to ", next - 1);
    }
    // Children made from now on are in this process's own namespace again.
    void leave() const {
        if (setns(host_ns, CLONE_NEWPID) != 0) fail("setns(initial PID namespace): ", errno_name(errno));
    }
    ~NamespaceInit() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
        if (host_ns >= 0) close(host_ns);
    }
};

// The pid numbers of `pid` from its own namespace's view up ("NSpid:" in
// /proc/PID/status, as this procfs — the initial namespace's — shows it).
std::string nspid_of(pid_t pid) {
    const std::string status = read_file(cat("/proc/", pid, "/status"));
    const auto at = status.find("NSpid:");
    if (at == std::string::npos) return "";
    std::string line = status.substr(at + 6, status.find('\n', at) - at - 6);
    for (char& c : line)
        if (c == '\t') c = ' ';
    while (!line.empty() && line.front() == ' ') line.erase(0, 1);
    return line;
}

}  // namespace

TEST("pidns: bulwark as pid N of its own PID namespace is exempt, a host process with global pid N is not, "
     "self-protection guards the real one") {
    const std::string dir = test_dir(), pol = dir + "/pol";
    ScopedCgroup cg("bwt-pidns-" + std::to_string(getpid()));
    make_dirs(pol);
    // Denies every read under bulwark's own policy directory to the scope,
    // which bulwark is in: a reload (which reads it) works only if bulwark
    // is exempt.
    auto p = write_policy(pol + "/selfread.toml",
                          cat("[policy]\nname = \"selfread\" # policy\n\n[scope]\ncgroup = [\"", cg.name,
                              "\"]\n\n[[file]] # deny\nprefixes = [\"", pol, "/\"]\naccess = [\"read\"]\naction = "
                              "\"deny\"\n"));
    // N: far enough above the initial namespace's last pid that nothing
    // (bulwark's threads, the helpers) takes it before the test's own child.
    const long long n = last_pid() + 1000;
    NamespaceInit ns(n);
    // bulwark starts in the scope's cgroup; this process goes back at once
    // (before anything is loaded, so it is never in scope).
    const std::string home = own_cgroup_dir();
    cg.enter();
    Bulwark bw({{pol}});
    write_file(home + "/cgroup.procs", "0\n");
    ns.leave();
    const pid_t global = bw.pid();  // as this (initial) namespace sees it
    bw.wait_ready({"selfread"});
    require(nspid_of(global) == cat(global, " ", n), "bulwark's NSpid is '", nspid_of(global), "', want '", global,
            " ", n, "'");

    // (a) bulwark reads its policy directory: SIGHUP reloads it.
    require(kill(global, SIGHUP) == 0, "kill(SIGHUP): ", errno_name(errno));
    for (;;) {
        auto line = bw.next_line(kEventTimeoutMs);
        if (!line) fail("no ready line within ", kEventTimeoutMs / 1000, " s of SIGHUP; stderr: ", bw.stderr_text());
        auto j = Json::parse(*line);
        if (!j) continue;
        if (j->str("type") == "reload-failed" || j->str("type") == "verdict")
            fail("bulwark in its own PID namespace is not exempt from its policy: ", *line);
        if (j->str("type") == "ready") {
            require(j->num("generation") == 2 && j->str("reason") == "SIGHUP", "reload: ", *line);
            break;
        }
    }

    // (b) The initial namespace's pid N, in scope: not exempt.
    write_file(kLastPid, std::to_string(n - 1));
    auto r = run_child([&] {
        cg.enter();
        return open_errno(p.path, O_RDONLY);
    });
    require(r.pid == n, "the host child got pid ", r.pid, ", not ", n, " (something else took it)");
    require(r.code == EPERM, "host pid ", n, " (bulwark's getpid()): open(", p.path, ") gave ", errno_name(r.code),
            ", want EPERM");
    Json ev = bw.next_verdict("the read by host pid N");
    require(ev.str("kind") == "file" && ev.str("verdict") == "deny" && ev.num("pid") == n &&
                ev.str("path") == p.path && ev.str("rule") == p.rule("deny"),
            "the deny event of host pid ", n, ": ", ev.line());

    // (c) Self-protection guards the real bulwark, by its global pid.
    auto k = run_child([&] {
        cg.enter();
        return kill(global, SIGTERM) == 0 ? 0 : errno;
    });
    require(k.code == EPERM, "in scope: kill(bulwark, SIGTERM) gave ", errno_name(k.code), ", want EPERM");
    Json t = bw.next_verdict("the kill");
    require(t.str("kind") == "tamper" && t.str("verdict") == "deny" && t.num("target_pid") == global &&
                t.num("pid") == k.pid,
            "the tamper event: ", t.line());
    require(kill(global, 0) == 0, "bulwark is gone after the kill from scope");
    bw.stop_and_check();
}
