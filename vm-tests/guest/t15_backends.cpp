// The backends without BPF-LSM, in the guests: fanotify for [[file]] and
// [[exec]] rules, cgroup socket hooks for [[connect]] rules — forced with
// `--backend fallback` in the normal boot (so both are proven on 6.1 and
// 6.12 beside the LSM programs), chosen by `--backend auto` in the boot
// without bpf in lsm=, and compared with BPF-LSM on generated rule sets.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

const std::string kProg = "/usr/libexec/bwt/bwt-prog";

// The ready line (no check of its programs: the fallbacks load no LSM hook).
Json ready_of(Bulwark& bw) {
    Json r = bw.next_of_type("ready", kReadyTimeoutMs);
    if (r.num("generation") != 1) fail("ready line with generation ", r.str("generation"), ": ", r.line());
    return r;
}

void require_backends(const Json& ready, const std::string& file, const std::string& exec, const std::string& connect) {
    const std::string want = cat("\"backends\":{\"file\":\"", file, "\",\"exec\":\"", exec, "\",\"connect\":\"",
                                 connect, "\"}");
    if (ready.line().find(want) == std::string::npos) fail("ready line lacks ", want, ": ", ready.line());
}

// execve(path) in a child: 0 when it ran and exited 0, else execve's errno.
int exec_errno(const std::string& path) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) fail("pipe: ", errno_name(errno));
    pid_t pid = fork();
    if (pid < 0) fail("fork: ", errno_name(errno));
    if (pid == 0) {
        close(report[0]);
        char* argv[] = {const_cast<char*>("prog"), nullptr};
        char* envp[] = {nullptr};
        execve(path.c_str(), argv, envp);
        int e = errno;
        if (write(report[1], &e, sizeof e) != sizeof e) _exit(125);
        _exit(127);
    }
    close(report[1]);
    int e = 0, st = 0;
    const ssize_t n = read(report[0], &e, sizeof e);
    close(report[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (n == sizeof e) return e;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int connect_errno(const char* addr, uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket: ", errno_name(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, addr, &a.sin_addr);
    int e = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : errno;
    close(fd);
    return e;
}

void expect_errno(int got, int want, const std::string& what) {
    if (got != want) fail(what, " gave ", errno_name(got), ", want ", errno_name(want));
}

void expect_field(const Json& ev, const std::string& key, const std::string& want) {
    if (ev.str(key) != want) fail("event ", key, "='", ev.str(key), "', want '", want, "': ", ev.line());
}

}  // namespace

TEST("backends: --backend fallback: fanotify denies a read and a program, cgroup hooks a connect") {
    Fixture fx;  // its marker policy is not loaded here: fanotify refuses a rule without access
    const std::string dir = fx.dir + "/fallback";
    make_dirs(dir);
    const std::string secret = fx.data + "/secret", denied = fx.data + "/denied", fine = fx.data + "/fine";
    write_file(secret, "s\n");
    write_file(denied, read_file(kProg), 0755);
    write_file(fine, read_file(kProg), 0755);
    auto p = write_policy(dir + "/t.toml", cat("[policy]\nname = \"t\"\n\n[[file]] # read\npaths = [\"", secret,
                                               "\"]\naccess = [\"read\"]\naction = \"deny\"\n\n[[exec]] # exec\n"
                                               "paths = [\"", denied, "\"]\naction = \"deny\"\n\n[[connect]] # net\n"
                                               "cidrs = [\"127.0.0.2/32\"]\naction = \"deny\"\n"));
    Bulwark bw({{dir}, false, "-", {"--backend", "fallback"}});
    Json ready = ready_of(bw);
    require_backends(ready, "fanotify", "fanotify", "cgroup-sock-addr");
    for (const auto& prog : ready.list("programs"))
        if (prog == "file_open" || prog == "bprm_check_security" || prog == "socket_connect")
            fail("--backend fallback loaded the LSM program ", prog, ": ", ready.line());

    expect_open(secret, O_RDONLY, EPERM, "a read under the read rule");
    check_event(bw.next_verdict("open(secret, O_RDONLY)"), expect_self("deny", "t", p.rule("read"), secret, "read"));
    expect_open(secret, O_WRONLY, 0, "a write: the rule is about reading");

    expect_errno(exec_errno(denied), EPERM, "execve(denied)");
    Json ex = bw.next_verdict("execve(denied)");
    expect_field(ex, "kind", "exec");
    expect_field(ex, "verdict", "deny");
    expect_field(ex, "rule", p.rule("exec"));
    expect_field(ex, "path", denied);
    expect_field(ex, "route", "exec");
    expect_errno(exec_errno(fine), 0, "execve(fine)");

    expect_errno(connect_errno("127.0.0.2", 9), EPERM, "connect(127.0.0.2)");
    Json net = bw.next_verdict("connect(127.0.0.2)");
    expect_field(net, "kind", "connect");
    expect_field(net, "rule", p.rule("net"));
    expect_field(net, "addr", "127.0.0.2");

    if (bw.stop() != 0) fail("bulwark ", bw.describe_exit(), " on SIGTERM");
    Json stats = final_stats(bw);
    if (stats.num("denied") != 3 || stats.num("exec_denied") != 1 || stats.num("connect_denied") != 1)
        fail("stats do not count the three denials: ", stats.line());
}

TEST("backends: differential — generated read rules and opens give the same verdicts through BPF-LSM and fanotify") {
    Fixture fx;
    std::mt19937 rng(20261203);
    // A small tree: d0..d3, each with files and subdirectories s0..s2.
    std::vector<std::string> files, dirs;
    for (int d = 0; d < 4; ++d) {
        const std::string top = cat(fx.data, "/d", d);
        dirs.push_back(top + "/");
        for (int s = 0; s < 3; ++s) {
            const std::string sub = cat(top, "/s", s);
            make_dirs(sub);
            dirs.push_back(sub + "/");
            for (int f = 0; f < 3; ++f) {
                files.push_back(cat(sub, "/f", f));
                write_file(files.back(), "x\n");
            }
        }
    }
    for (int round = 0; round < 3; ++round) {
        // Deny a few prefixes and exact files, allow a few inside them.
        std::string text = "[policy]\nname = \"g\"\n\n";
        for (int i = 0; i < 3; ++i)
            text += cat("[[file]]\nprefixes = [\"", dirs[rng() % dirs.size()], "\"]\naccess = [\"read\"]\naction = \"deny\"\n\n");
        for (int i = 0; i < 4; ++i)
            text += cat("[[file]]\npaths = [\"", files[rng() % files.size()], "\"]\naccess = [\"read\"]\naction = \"deny\"\n\n");
        for (int i = 0; i < 2; ++i)
            text += cat("[[file]]\nprefixes = [\"", dirs[rng() % dirs.size()],
                        "\"]\naccess = [\"read\"]\naction = \"allow\"\n\n");
        for (int i = 0; i < 2; ++i)
            text += cat("[[file]]\npaths = [\"", files[rng() % files.size()],
                        "\"]\naccess = [\"read\"]\naction = \"allow\"\n\n");
        const std::string dir = cat(fx.dir, "/gen", round);
        make_dirs(dir);
        write_policy(dir + "/g.toml", text);
        std::vector<int> got[2];
        const char* backend[2] = {"bpf-lsm", "fallback"};
        for (int b = 0; b < 2; ++b) {
            Bulwark bw({{dir}, false, "-", {"--backend", backend[b]}});
            ready_of(bw);
            for (const auto& f : files) got[b].push_back(open_errno(f, O_RDONLY));
            if (bw.stop() != 0) fail("bulwark --backend ", backend[b], " ", bw.describe_exit());
        }
        int denied = 0;
        for (size_t i = 0; i < files.size(); ++i) {
            if (got[0][i] != got[1][i])
                fail("round ", round, ": open(", files[i], ") gave ", errno_name(got[0][i]), " with BPF-LSM and ",
                     errno_name(got[1][i]), " with fanotify; policy:\n", text);
            denied += got[0][i] == EPERM;
        }
        note(cat("round ", round, ": ", denied, " of ", files.size(), " opens denied by both"));
        if (denied == 0 || denied == static_cast<int>(files.size()))
            fail("round ", round, " decides every open alike (", denied, " denied): not a comparison");
    }
}

TEST_NOBPF("backends: without bpf in lsm=, auto enforces read rules through fanotify; --backend bpf-lsm refuses") {
    require_bulwark();
    Fixture fx;
    const std::string dir = fx.dir + "/auto";
    make_dirs(dir);
    const std::string secret = fx.data + "/secret";
    write_file(secret, "s\n");
    auto p = write_policy(dir + "/t.toml", cat("[policy]\nname = \"t\"\n\n[[file]] # read\npaths = [\"", secret,
                                               "\"]\naccess = [\"read\"]\naction = \"deny\"\n"));
    {
        Bulwark bw({{dir}});
        require_backends(ready_of(bw), "fanotify", "fanotify", "cgroup-sock-addr");
        expect_open(secret, O_RDONLY, EPERM, "a read under the read rule, decided by fanotify");
        check_event(bw.next_verdict("open(secret)"), expect_self("deny", "t", p.rule("read"), secret, "read"));
        if (bw.stop() != 0) fail("bulwark ", bw.describe_exit(), " on SIGTERM");
        if (final_stats(bw).num("denied") != 1) fail("stats do not count the denial: ", final_stats(bw).line());
    }
    expect_open(secret, O_RDONLY, 0, "after bulwark stopped");
    Bulwark forced({{dir}, false, "-", {"--backend", "bpf-lsm"}});
    int st = forced.wait_exit(kReadyTimeoutMs);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 3)) fail("--backend bpf-lsm: bulwark ", forced.describe_exit(), ", want exit 3");
    std::string err = forced.stderr_all();
    if (err.find("bpf") == std::string::npos || err.find("lsm=") == std::string::npos)
        fail("--backend bpf-lsm: stderr does not mention both 'bpf' and 'lsm=': ", forced.stderr_text());
}
