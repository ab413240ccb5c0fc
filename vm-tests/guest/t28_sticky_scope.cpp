// Sticky scope (docs/decisions/012-sticky-scope.md): a process that was in
// a policy's scope stays in it, and so do its children, whatever it does to
// its cgroup, its uids or its program. Each test makes the escape from
// inside the scope, then the forbidden open, and checks the errno, the
// event and the counters; controls show that a process never in scope is
// untouched.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

const std::string kProg = "/usr/libexec/bwt/bwt-prog";


std::string deny_policy(const std::string& scope, const std::string& secret) {
    return cat("[policy]\nname = \"t\"\n\n[scope]\n", scope, "\n\n[[file]] # deny\npaths = [\"", secret,
               "\"]\naction = \"deny\"\n");
}

// The forked grandchild's open of `path`: its errno, or 0.
int open_in_child(const std::string& path) {
    pid_t pid = fork();
    if (pid < 0) return 254;
    if (pid == 0) _exit(open_errno(path, O_RDONLY));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 253;
}

void copy_program(const std::string& from, const std::string& to) {
    std::string bytes = read_file(from);
    if (bytes.empty()) fail("setup: cannot read ", from, " (not in the initramfs?)");
    write_file(to, bytes, 0755);
}

}  // namespace

TEST("sticky scope: leaving the scoped cgroup keeps the process and its children in scope") {
    Fixture fx;
    std::string secret = fx.data + "/secret";
    write_file(secret, "x\n");
    ScopedCgroup cg("bwt-sticky-" + std::to_string(getpid()));
    auto p = write_policy(fx.pol + "/t.toml", deny_policy(cat("cgroup = [\"", cg.name, "\"]"), secret));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    // In, out again to the root cgroup (as `echo $$ > cgroup.procs` does), then the open.
    int child_code = -1;
    auto r = run_child([&] {
        write_file(cg.path + "/cgroup.procs", "0\n");
        write_file("/sys/fs/cgroup/cgroup.procs", "0\n");
        if (read_file("/proc/self/cgroup") != "0::/\n") fail("the child is not back in the root cgroup");
        int own = open_errno(secret, O_RDONLY);
        int grandchild = open_in_child(secret);
        return own == EPERM && grandchild == EPERM ? EPERM : own == EPERM ? 100 + grandchild : own;
    });
    child_code = r.code;
    require(r.error.empty(), "child: ", r.error);
    require(child_code != 0, "the child's open(secret) after leaving the scoped cgroup succeeded");
    require(child_code == EPERM, "after leaving the cgroup: ",
            child_code > 100 ? cat("the grandchild's open gave ", errno_name(child_code - 100))
                             : cat("the child's open gave ", errno_name(child_code)),
            ", want EPERM");
    Expect e;
    e.verdict = "deny";
    e.policy = "t";
    e.rule = p.rule("deny");
    e.paths = {secret};
    e.access = "read";
    e.pid = e.tid = r.pid;
    e.uid = 0;
    e.comm = "bwt-child";
    check_event(bw.next_verdict("the child's open after leaving the cgroup"), e);
    Json g = bw.next_verdict("the grandchild's open");
    require(g.str("verdict") == "deny" && g.str("path") == secret && g.num("ppid") == r.pid,
            "grandchild's event: ", g.line());

    // Never in the scope: untouched.
    expect_open(secret, O_RDONLY, 0, "a process never in the scoped cgroup");
    fx.no_event_for(bw, "open(secret) by a process never in scope");
    bw.stop_and_check();
    require(final_stats(bw).num("denied") == 3, "stats denied = ", final_stats(bw).num("denied"), ", want 3 (two opens, the marker)");
}

TEST("sticky scope: a uid scope holds after setresuid to another uid, and children keep it") {
    Fixture fx;
    std::string secret = fx.data + "/secret";
    write_file(secret, "x\n");  // 0644: every uid passes DAC
    auto p = write_policy(fx.pol + "/t.toml", deny_policy("uid = [1000]", secret));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    auto r = run_child([&] {
        // Real uid 1000 (in scope), root powers kept in the effective and saved uids...
        if (setresuid(1000, 0, 0) != 0) fail("setresuid(1000, 0, 0): ", errno_name(errno));
        // ... then out of the uid scope, as su(1) or setresuid(65534, 0, 0) would.
        if (setresuid(65534, 0, 0) != 0) fail("setresuid(65534, 0, 0): ", errno_name(errno));
        if (getuid() != 65534) fail("real uid is ", getuid(), ", want 65534");
        int own = open_errno(secret, O_RDONLY);
        int grandchild = open_in_child(secret);
        return own == EPERM && grandchild == EPERM ? EPERM : own == EPERM ? 100 + grandchild : own;
    });
    require(r.error.empty(), "child: ", r.error);
    require(r.code == EPERM, "after leaving uid 1000: ",
            r.code > 100 ? cat("the grandchild's open gave ", errno_name(r.code - 100))
                         : cat("the child's open gave ", errno_name(r.code)),
            ", want EPERM");
    Expect e;
    e.verdict = "deny";
    e.policy = "t";
    e.rule = p.rule("deny");
    e.paths = {secret};
    e.access = "read";
    e.pid = e.tid = r.pid;
    e.uid = 65534;
    e.comm = "bwt-child";
    check_event(bw.next_verdict("the child's open as uid 65534"), e);
    Json g = bw.next_verdict("the grandchild's open");
    require(g.str("verdict") == "deny" && g.num("uid") == 65534 && g.num("ppid") == r.pid,
            "grandchild's event: ", g.line());

    // A root process that was never uid 1000 is out of scope.
    expect_open(secret, O_RDONLY, 0, "root, never uid 1000");
    fx.no_event_for(bw, "open(secret) by root");
    bw.stop_and_check();
    require(final_stats(bw).num("denied") == 3, "stats denied = ", final_stats(bw).num("denied"), ", want 3 (two opens, the marker)");
}

TEST("sticky scope: a program spawned or exec'd by a scoped program is in its scope, the same program alone is not") {
    Fixture fx;
    std::string secret = fx.data + "/secret";
    write_file(secret, "x\n");
    std::string server = fx.data + "/server", shell = fx.data + "/shell";
    copy_program(kProg, server);
    copy_program(kProg, shell);
    auto p = write_policy(fx.pol + "/t.toml", deny_policy(cat("executable = [\"", server, "\"]"), secret));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    auto run = [&](const std::vector<std::string>& args) {
        auto r = run_child([&] {
            std::vector<std::string> a = args;
            std::vector<char*> argv;
            for (auto& s : a) argv.push_back(s.data());
            argv.push_back(nullptr);
            char* envp[] = {nullptr};
            execve(a[0].c_str(), argv.data(), envp);
            return 252;
        });
        require(r.error.empty(), "child: ", r.error);
        return r;
    };
    auto check_shell_denied = [&](const std::string& what, pid_t pid) {
        Json ev = bw.next_verdict(what);
        require(ev.str("kind") == "file" && ev.str("verdict") == "deny" && ev.str("policy") == "t" &&
                    ev.str("rule") == p.rule("deny") && ev.str("path") == secret && ev.str("exe") == shell,
                what, ": event ", ev.line());
        if (pid > 0) require(ev.num("pid") == pid, what, ": event pid ", ev.str("pid"), ", want ", pid);
    };

    // The server forks a child that runs the shell, which opens the secret.
    auto spawned = run({server, "spawn", shell, "shell", "open", secret});
    require(spawned.code == EPERM, "shell spawned by the server: exit ", spawned.code, ", want EPERM");
    check_shell_denied("the shell spawned by the server", -1);
    // The server becomes the shell itself (execve without fork).
    auto execd = run({server, "exec", shell, "shell", "open", secret});
    require(execd.code == EPERM, "shell exec'd by the server: exit ", execd.code, ", want EPERM");
    check_shell_denied("the shell the server exec'd", execd.pid);

    // The shell started by anyone else: out of scope.
    auto alone = run({shell, "open", secret});
    require(alone.code == 0, "the shell on its own: open gave ", errno_name(alone.code), ", want success");
    fx.no_event_for(bw, "the shell on its own");
    bw.stop_and_check();
    require(final_stats(bw).num("denied") == 3, "stats denied = ", final_stats(bw).num("denied"), ", want 3 (two opens, the marker)");
}
