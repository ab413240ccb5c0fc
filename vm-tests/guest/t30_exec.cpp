// Enforcement of [[exec]] rules and of the executable scope: every test runs
// bulwark, performs the real execve/execveat/mmap/mprotect, checks the exact
// errno (or, where the loader is the one failing, its exit status and its
// message, with the loader's mmap repeated here for the errno), then the
// event bulwark wrote for it — and proves silence where
// nothing may be reported (Fixture::no_event_for).
//
// The programs: /usr/libexec/bwt/bwt-prog (tiny, static: `open PATH` exits
// with the errno, `comm NAME` sets comm first) and bwt-dyn (dynamically
// linked against the host's libc, with its loader at /lib64); both come from
// vm-tests/helpers/. Tests copy them into their own directory so that each
// rule names a file of its own.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

const std::string kProg = "/usr/libexec/bwt/bwt-prog";
const std::string kDyn = "/usr/libexec/bwt/bwt-dyn";
const std::string kLoader = "/lib64/ld-linux-x86-64.so.2";
const std::string kLoaderComm = "ld-linux-x86-64";  // comm is the file name, cut to 15 bytes
const std::vector<std::string> kExecPrograms = {"bprm_check_security", "mmap_file", "file_mprotect"};

void copy_program(const std::string& from, const std::string& to) {
    std::string bytes = read_file(from);
    if (bytes.empty()) fail("setup: cannot read ", from, " (not in the initramfs?)");
    write_file(to, bytes, 0755);
}

// The ready line lists the exec hooks too.
void require_exec_hooks(const Json& ready) {
    auto programs = ready.list("programs");
    for (const auto& want : kExecPrograms) {
        bool found = false;
        for (const auto& p : programs) found = found || p == want;
        if (!found) fail("ready line lacks program ", want, ": ", ready.line());
    }
}

// A child that runs a program: how its exec went and how it ended.
struct Spawned {
    pid_t pid = -1;
    int exec_errno = 0;  // execve's errno, 0 if it succeeded
    int status = 0;      // wait status when it did
    std::string stderr_text;
    int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
};

struct SpawnOptions {
    std::string cgroup;       // a cgroup directory to join first
    int exec_fd = -1;         // execveat(exec_fd, "", AT_EMPTY_PATH) instead of execve(path)
    bool capture_stderr = false;
};

Spawned spawn(const std::string& path, const std::vector<std::string>& args, const SpawnOptions& o = {}) {
    std::vector<std::string> argv_s = args;
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    char* envp[] = {nullptr};
    const std::string err_path = cat(test_dir(), "/spawn-", rand(), ".stderr");
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) fail("pipe: ", errno_name(errno));
    pid_t pid = fork();
    if (pid < 0) fail("fork: ", errno_name(errno));
    if (pid == 0) {
        close(report[0]);
        if (!o.cgroup.empty()) {
            int fd = open((o.cgroup + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
            if (fd < 0 || write(fd, "0\n", 2) != 2) _exit(126);
            close(fd);
        }
        if (o.capture_stderr) {
            int fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) dup2(fd, 2);
        }
        if (o.exec_fd >= 0)
            syscall(SYS_execveat, o.exec_fd, "", argv.data(), envp, AT_EMPTY_PATH);
        else
            execve(path.c_str(), argv.data(), envp);
        int e = errno;
        if (write(report[1], &e, sizeof e) != sizeof e) _exit(125);
        _exit(127);
    }
    close(report[1]);
    Spawned s;
    s.pid = pid;
    int e = 0;
    ssize_t n;
    while ((n = read(report[0], &e, sizeof e)) < 0 && errno == EINTR) {
    }
    close(report[0]);
    while (waitpid(pid, &s.status, 0) < 0 && errno == EINTR) {
    }
    if (n == sizeof e) s.exec_errno = e;
    if (WIFEXITED(s.status) && WEXITSTATUS(s.status) == 126) fail("setup: the child could not join ", o.cgroup);
    if (o.capture_stderr) s.stderr_text = read_file(err_path);
    return s;
}

// exec must fail with `want` (EPERM), or succeed and exit with `code`.
void expect_denied(const Spawned& s, const std::string& what) {
    if (s.exec_errno != EPERM)
        fail(what, ": exec gave ", errno_name(s.exec_errno), s.exec_errno ? "" : cat(" (exit ", s.exit_code(), ")"),
             ", want EPERM");
}
void expect_ran(const Spawned& s, const std::string& what, int code = 0) {
    if (s.exec_errno != 0) fail(what, ": exec gave ", errno_name(s.exec_errno), ", want success");
    if (s.exit_code() != code) fail(what, ": exited with status ", s.status, ", want exit ", code);
}

// The fields of an exec (or connect) verdict event, by name; numbers as text.
using Fields = std::vector<std::pair<std::string, std::string>>;
void check_fields(const Json& ev, const Fields& want) {
    std::string why;
    for (const auto& [k, v] : want)
        if (ev.str(k) != v) why += cat(k, "='", ev.str(k), "' want '", v, "'; ");
    std::string time = ev.str("time");
    if (time.size() < 20 || time.back() != 'Z') why += cat("time='", time, "' is not an RFC 3339 UTC time; ");
    if (!why.empty()) fail("event: ", why, "line: ", ev.line());
}

// An exec event about a child: the process fields are the child's.
Fields exec_event(const std::string& verdict, const std::string& policy, const std::string& rule,
                  const std::string& path, const std::string& route, pid_t pid, const std::string& comm) {
    return {{"type", "verdict"}, {"kind", "exec"},     {"verdict", verdict},        {"policy", policy},
            {"rule", rule},      {"path", path},       {"route", route},            {"pid", std::to_string(pid)},
            {"tid", std::to_string(pid)}, {"ppid", std::to_string(getpid())}, {"uid", "0"}, {"comm", comm}};
}

// A cgroup v2 directory made by the test, removed when the test leaves.
struct Cgroup {
    std::string path, name;
    explicit Cgroup(const std::string& n) : path("/sys/fs/cgroup/" + n), name(n) {
        if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) fail("mkdir ", path, ": ", errno_name(errno));
    }
    ~Cgroup() { rmdir(path.c_str()); }
};

// pol/t.toml: [policy] name = "t", the extra header, then the rule tables as given.
PolicyFile exec_policy(const Fixture& fx, const std::string& header, const std::string& rules) {
    return write_policy(fx.pol + "/t.toml", cat("[policy]\nname = \"t\"\n", header, "\n", rules));
}

}  // namespace

// ---- by path -------------------------------------------------------------------------

TEST("exec: exact path denied") {
    Fixture fx;
    std::string denied = fx.data + "/denied", other = fx.data + "/other";
    copy_program(kProg, denied);
    copy_program(kProg, other);
    auto p = exec_policy(fx, "", cat("[[exec]] # deny\npaths = [\"", denied, "\"]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    require_exec_hooks(bw.wait_ready({"marker", "t"}));

    auto s = spawn(denied, {"denied"});
    expect_denied(s, "execve(denied)");
    check_fields(bw.next_verdict("execve(denied)"),
                 exec_event("deny", "t", p.rule("deny"), denied, "exec", s.pid, comm_self()));
    expect_ran(spawn(other, {"other"}), "execve(other)");
    fx.no_event_for(bw, "execve(other)");
    bw.stop_and_check();
}

TEST("exec: prefix denied, not the directory beside it") {
    Fixture fx;
    make_dirs(fx.data + "/deny/sub/deeper");
    make_dirs(fx.data + "/denyx");
    std::string top = fx.data + "/deny/top", deep = fx.data + "/deny/sub/deeper/prog", beside = fx.data + "/denyx/prog";
    for (const auto& f : {top, deep, beside}) copy_program(kProg, f);
    auto p = exec_policy(fx, "", cat("[[exec]] # deny\nprefixes = [\"", fx.data, "/deny/\"]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    require_exec_hooks(bw.wait_ready({"marker", "t"}));

    for (const auto& f : {top, deep}) {
        auto s = spawn(f, {"prog"});
        expect_denied(s, "execve(" + f + ")");
        check_fields(bw.next_verdict("execve under the prefix"),
                     exec_event("deny", "t", p.rule("deny"), f, "exec", s.pid, comm_self()));
    }
    expect_ran(spawn(beside, {"prog"}), "denyx/ shares the string prefix, not the directory");
    fx.no_event_for(bw, "execve(denyx/prog)");
    bw.stop_and_check();
}

TEST("exec: symlink, relative path, execveat(fd) and /proc/self/fd/N are the program") {
    Fixture fx;
    std::string denied = fx.data + "/denied", link = fx.dir + "/innocent";
    copy_program(kProg, denied);
    require(symlink(denied.c_str(), link.c_str()) == 0, "symlink: ", errno_name(errno));
    auto p = exec_policy(fx, "", cat("[[exec]] # deny\npaths = [\"", denied, "\"]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    require_exec_hooks(bw.wait_ready({"marker", "t"}));
    auto want = [&](pid_t pid) { return exec_event("deny", "t", p.rule("deny"), denied, "exec", pid, comm_self()); };

    auto s = spawn(link, {"innocent"});
    expect_denied(s, "execve through a symlink");
    check_fields(bw.next_verdict("execve(symlink)"), want(s.pid));

    require(chdir(fx.data.c_str()) == 0, "chdir: ", errno_name(errno));
    s = spawn("./denied", {"denied"});
    expect_denied(s, "execve(./denied)");
    check_fields(bw.next_verdict("execve(./denied)"), want(s.pid));
    s = spawn("../data/./denied", {"denied"});
    expect_denied(s, "execve(../data/./denied)");
    check_fields(bw.next_verdict("execve(../data/./denied)"), want(s.pid));
    require(chdir("/") == 0, "chdir /");

    int fd = open(denied.c_str(), O_PATH | O_CLOEXEC);
    require(fd >= 0, "open(O_PATH): ", errno_name(errno));
    SpawnOptions by_fd;
    by_fd.exec_fd = fd;
    s = spawn("", {"denied"}, by_fd);
    expect_denied(s, "execveat(fd, \"\", AT_EMPTY_PATH)");
    check_fields(bw.next_verdict("execveat(fd)"), want(s.pid));
    s = spawn(cat("/proc/self/fd/", fd), {"denied"});
    expect_denied(s, "execve(/proc/self/fd/N)");
    check_fields(bw.next_verdict("execve(/proc/self/fd/N)"), want(s.pid));
    close(fd);
    bw.stop_and_check();
}

// ---- the dynamic loader ------------------------------------------------------------------

TEST("exec: ld.so route — the loader cannot map a denied program (mmap, mprotect)") {
    Fixture fx;
    std::string denied = fx.data + "/denied-dyn", allowed = fx.data + "/allowed-dyn";
    copy_program(kDyn, denied);
    copy_program(kDyn, allowed);
    auto p = exec_policy(fx, "", cat("[[exec]] # deny\npaths = [\"", denied, "\"]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    require_exec_hooks(bw.wait_ready({"marker", "t"}));

    auto s = spawn(denied, {"denied-dyn"});
    expect_denied(s, "execve(denied-dyn)");
    check_fields(bw.next_verdict("execve(denied-dyn)"),
                 exec_event("deny", "t", p.rule("deny"), denied, "exec", s.pid, comm_self()));

    // ld.so is executed, then maps the program itself: mmap(PROT_EXEC) fails.
    SpawnOptions capture;
    capture.capture_stderr = true;
    s = spawn(kLoader, {kLoader, denied}, capture);
    if (s.exec_errno != 0 || s.exit_code() != 127)
        fail("ld.so denied-dyn: exec gave ", errno_name(s.exec_errno), ", status ", s.status,
             "; want ld.so to run and exit 127. Its stderr: ", s.stderr_text);
    // glibc's loader says which step failed, not the errno; the errno is
    // checked below, with the same mmap done here.
    require(s.stderr_text.find("failed to map segment from shared object") != std::string::npos,
            "ld.so's message does not say it could not map the program: ", s.stderr_text);
    Fields f = exec_event("deny", "t", p.rule("deny"), denied, "loader", s.pid, kLoaderComm);
    f.push_back({"loader", kLoader});
    f.push_back({"exe", kLoader});
    check_fields(bw.next_verdict("ld.so denied-dyn"), f);

    // The same loader runs an allowed dynamic program, libc and all.
    expect_ran(spawn(kLoader, {kLoader, allowed}), "ld.so allowed-dyn");
    expect_ran(spawn(allowed, {"allowed-dyn"}), "execve(allowed-dyn)");
    fx.no_event_for(bw, "running allowed-dyn");

    // What a loader does, done here: mmap(PROT_EXEC) gives EPERM itself ...
    int fd = open(denied.c_str(), O_RDONLY | O_CLOEXEC);
    require(fd >= 0, "open(denied-dyn): ", errno_name(errno));
    void* m = mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    int e = m == MAP_FAILED ? errno : 0;
    if (m != MAP_FAILED) munmap(m, 4096);
    require(e == EPERM, "mmap(denied-dyn, PROT_EXEC) gave ", errno_name(e), ", want EPERM");
    Fields self = {{"kind", "exec"}, {"verdict", "deny"}, {"path", denied}, {"route", "loader"},
                   {"loader", "/bin/bulwark-guest-tests"}, {"pid", std::to_string(getpid())},
                   {"comm", comm_self()}, {"rule", p.rule("deny")}};
    check_fields(bw.next_verdict("mmap(PROT_EXEC)"), self);
    // ... and so does mprotect adding PROT_EXEC to a readable mapping of it.
    m = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    require(m != MAP_FAILED, "mmap(denied-dyn, PROT_READ): ", errno_name(errno));
    e = mprotect(m, 4096, PROT_READ | PROT_EXEC) == 0 ? 0 : errno;
    munmap(m, 4096);
    close(fd);
    require(e == EPERM, "mprotect(PROT_EXEC) of a mapping of denied-dyn gave ", errno_name(e), ", want EPERM");
    Fields mp = {{"kind", "exec"}, {"verdict", "deny"}, {"path", "denied-dyn"}, {"path_name_only", "true"},
                 {"route", "loader"}, {"pid", std::to_string(getpid())}, {"rule", p.rule("deny")}};
    check_fields(bw.next_verdict("mprotect(PROT_EXEC)"), mp);
    bw.stop_and_check();
}

// ---- scripts -----------------------------------------------------------------------------

TEST("exec: shebang script denied by a rule on the script") {
    Fixture fx;
    std::string interp = fx.data + "/interp", script = fx.data + "/script.sh";
    copy_program(kProg, interp);
    write_file(script, cat("#!", interp, "\n"), 0755);
    auto p = exec_policy(fx, "", cat("[[exec]] # deny\npaths = [\"", script, "\"]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    require_exec_hooks(bw.wait_ready({"marker", "t"}));

    auto s = spawn(script, {"script.sh"});
    expect_denied(s, "execve(script)");
    check_fields(bw.next_verdict("execve(script)"),
                 exec_event("deny", "t", p.rule("deny"), script, "exec", s.pid, comm_self()));
    expect_ran(spawn(interp, {"interp", script}), "the interpreter given the script as an argument");
    fx.no_event_for(bw, "running the interpreter directly");
    bw.stop_and_check();
}

TEST("exec: shebang script denied by a rule on its interpreter") {
    Fixture fx;
    std::string interp = fx.data + "/interp", other = fx.data + "/other-interp";
    std::string script = fx.data + "/script.sh", fine = fx.data + "/fine.sh";
    copy_program(kProg, interp);
    copy_program(kProg, other);
    write_file(script, cat("#!", interp, " -x\n"), 0755);
    write_file(fine, cat("#!", other, "\n"), 0755);
    auto p = exec_policy(fx, "", cat("[[exec]] # deny\npaths = [\"", interp, "\"]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    require_exec_hooks(bw.wait_ready({"marker", "t"}));

    auto s = spawn(script, {"script.sh"});
    expect_denied(s, "execve(script) whose interpreter is denied");
    Fields f = exec_event("deny", "t", p.rule("deny"), interp, "interpreter", s.pid, comm_self());
    f.push_back({"script", script});
    check_fields(bw.next_verdict("execve(script)"), f);

    s = spawn(interp, {"interp"});
    expect_denied(s, "execve(interp)");
    check_fields(bw.next_verdict("execve(interp)"),
                 exec_event("deny", "t", p.rule("deny"), interp, "exec", s.pid, comm_self()));
    expect_ran(spawn(fine, {"fine.sh"}), "a script with another interpreter");
    fx.no_event_for(bw, "execve(fine.sh)");
    bw.stop_and_check();
}

// ---- allowlist posture ----------------------------------------------------------------------

TEST("exec: allowlist posture — allowed programs run (libraries too), anything else EPERM") {
    Fixture fx;
    make_dirs(fx.data + "/allowed");
    make_dirs(fx.data + "/other");
    std::string ok = fx.data + "/allowed/prog", ok_dyn = fx.data + "/allowed/dyn";
    std::string no = fx.data + "/other/prog", no_dyn = fx.data + "/other/dyn";
    copy_program(kProg, ok);
    copy_program(kDyn, ok_dyn);
    copy_program(kProg, no);
    copy_program(kDyn, no_dyn);
    Cgroup cg(cat("bwt-allow-", getpid()));
    auto p = exec_policy(fx, cat("\n[scope]\ncgroup = [\"", cg.name, "\"]\n\n[defaults]\nexec = \"deny\" # default\n"),
                         cat("[[exec]] # allow\nprefixes = [\"", fx.data, "/allowed/\", \"/lib64/\", "
                             "\"/lib/x86_64-linux-gnu/\"]\naction = \"allow\"\n"));
    Bulwark bw({{fx.pol}});
    require_exec_hooks(bw.wait_ready({"marker", "t"}));
    require(bw.stderr_all().find("lets no process in its scope run /bin/sh") != std::string::npos,
            "bulwark did not warn that the allowlist lets no shell run; stderr: ", bw.stderr_text());

    SpawnOptions in;
    in.cgroup = cg.path;
    expect_ran(spawn(ok, {"prog"}, in), "an allowed static program");
    expect_ran(spawn(ok_dyn, {"dyn"}, in), "an allowed dynamic program (its loader and libc are mapped)");
    expect_ran(spawn(kLoader, {kLoader, ok_dyn}, in), "ld.so running an allowed program");
    fx.no_event_for(bw, "running allowed programs");

    auto want = [&](const std::string& path, const std::string& route, pid_t pid, const std::string& comm) {
        Fields f = exec_event("deny", "t", p.rule("default"), path, route, pid, comm);
        f.push_back({"cgroup", "/" + cg.name});
        return f;
    };
    for (const auto& prog : {no, no_dyn, std::string("/bin/busybox")}) {
        auto s = spawn(prog, {"prog"}, in);
        expect_denied(s, "execve(" + prog + ") under the allowlist");
        check_fields(bw.next_verdict("execve(not allowed)"), want(prog, "exec", s.pid, comm_self()));
    }
    // The loader run as a program is running what it maps: the default applies.
    SpawnOptions in_capture = in;
    in_capture.capture_stderr = true;
    auto s = spawn(kLoader, {kLoader, no_dyn}, in_capture);
    if (s.exec_errno != 0 || s.exit_code() != 127)
        fail("ld.so other/dyn under the allowlist: exec gave ", errno_name(s.exec_errno), ", status ", s.status,
             "; want exit 127. Its stderr: ", s.stderr_text);
    Fields f = want(no_dyn, "loader", s.pid, kLoaderComm);
    f.push_back({"loader", kLoader});
    check_fields(bw.next_verdict("ld.so other/dyn"), f);

    // Outside the policy's cgroup nothing changes.
    expect_ran(spawn(no, {"prog"}), "a program outside the scope");
    fx.no_event_for(bw, "execve(other/prog) outside the scope");
    bw.stop_and_check();
}

// ---- fileless -------------------------------------------------------------------------------

namespace {
int memfd_with(const std::string& name, const std::string& program) {
    int fd = static_cast<int>(syscall(SYS_memfd_create, name.c_str(), 0));
    if (fd < 0) fail("memfd_create: ", errno_name(errno));
    write_all(fd, read_file(program));
    return fd;
}
}  // namespace

TEST("exec: fileless programs (memfd, deleted file) denied when the policy asks") {
    Fixture fx;
    std::string named = fx.data + "/named", doomed = fx.data + "/doomed";
    copy_program(kProg, named);
    copy_program(kProg, doomed);
    auto p = exec_policy(fx, "", "[[exec]] # fileless\nfileless = true\naction = \"deny\"\n");
    Bulwark bw({{fx.pol}});
    require_exec_hooks(bw.wait_ready({"marker", "t"}));
    auto want = [&](const std::string& path, pid_t pid) {
        Fields f = exec_event("deny", "t", p.rule("fileless"), path, "exec", pid, comm_self());
        f.push_back({"fileless", "true"});
        return f;
    };

    int mem = memfd_with("bwt-mem", kProg);
    SpawnOptions by_fd;
    by_fd.exec_fd = mem;
    auto s = spawn("", {"mem"}, by_fd);
    expect_denied(s, "fexecve(memfd)");
    check_fields(bw.next_verdict("fexecve(memfd)"), want("/memfd:bwt-mem (deleted)", s.pid));
    s = spawn(cat("/proc/self/fd/", mem), {"mem"});
    expect_denied(s, "execve(/proc/self/fd/N) of a memfd");
    check_fields(bw.next_verdict("execve(/proc/self/fd/memfd)"), want("/memfd:bwt-mem (deleted)", s.pid));
    close(mem);

    int fd = open(doomed.c_str(), O_RDONLY | O_CLOEXEC);
    require(fd >= 0, "open(doomed): ", errno_name(errno));
    require(unlink(doomed.c_str()) == 0, "unlink: ", errno_name(errno));
    by_fd.exec_fd = fd;
    s = spawn("", {"doomed"}, by_fd);
    expect_denied(s, "execveat(fd of a deleted file)");
    check_fields(bw.next_verdict("execveat(deleted)"), want(doomed + " (deleted)", s.pid));
    close(fd);

    expect_ran(spawn(named, {"named"}), "a program with a name");
    fx.no_event_for(bw, "execve(named)");
    bw.stop_and_check();
}

TEST("exec: fileless programs run when no fileless rule applies") {
    Fixture fx;
    std::string denied = fx.data + "/denied";
    copy_program(kProg, denied);
    exec_policy(fx, "", cat("[[exec]] # deny\npaths = [\"", denied, "\"]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    require_exec_hooks(bw.wait_ready({"marker", "t"}));
    int mem = memfd_with("bwt-mem", kProg);
    SpawnOptions by_fd;
    by_fd.exec_fd = mem;
    expect_ran(spawn("", {"mem"}, by_fd), "fexecve(memfd) with no fileless rule");
    close(mem);
    fx.no_event_for(bw, "fexecve(memfd)");
    bw.stop_and_check();
}

// ---- audit --------------------------------------------------------------------------------------

TEST("exec: mode = audit reports would-deny, action = audit reports audit; both run") {
    Fixture fx;
    std::string watched = fx.data + "/watched", audited = fx.data + "/audited";
    copy_program(kProg, watched);
    copy_program(kProg, audited);
    auto pa = write_policy(fx.pol + "/a.toml", cat("[policy]\nname = \"a\"\nmode = \"audit\"\n\n[[exec]] # deny\n"
                                                   "paths = [\"", watched, "\"]\naction = \"deny\"\n"));
    auto pb = write_policy(fx.pol + "/b.toml", cat("[policy]\nname = \"b\"\n\n[[exec]] # audit\n"
                                                   "paths = [\"", audited, "\"]\naction = \"audit\"\n"));
    Bulwark bw({{fx.pol}});
    require_exec_hooks(bw.wait_ready({"marker", "a", "b"}));

    auto s = spawn(watched, {"watched"});
    expect_ran(s, "an audit-mode policy never blocks");
    check_fields(bw.next_verdict("execve(watched)"),
                 exec_event("would-deny", "a", pa.rule("deny"), watched, "exec", s.pid, comm_self()));
    s = spawn(audited, {"audited"});
    expect_ran(s, "an audit rule never blocks");
    check_fields(bw.next_verdict("execve(audited)"),
                 exec_event("audit", "b", pb.rule("audit"), audited, "exec", s.pid, comm_self()));
    fx.no_event_for(bw, "the two execs beyond their one event each");
    bw.stop_and_check();
}

// ---- scope --------------------------------------------------------------------------------------

TEST("exec: outside the scope untouched (cgroup)") {
    Fixture fx;
    std::string denied = fx.data + "/denied";
    copy_program(kProg, denied);
    Cgroup cg(cat("bwt-exs-", getpid()));
    auto p = exec_policy(fx, cat("\n[scope]\ncgroup = [\"", cg.name, "\"]\n"),
                         cat("[[exec]] # deny\npaths = [\"", denied, "\"]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    require_exec_hooks(bw.wait_ready({"marker", "t"}));

    expect_ran(spawn(denied, {"denied"}), "outside the scoped cgroup");
    fx.no_event_for(bw, "execve(denied) outside the scope");
    SpawnOptions in;
    in.cgroup = cg.path;
    auto s = spawn(denied, {"denied"}, in);
    expect_denied(s, "execve(denied) inside the scoped cgroup");
    Fields f = exec_event("deny", "t", p.rule("deny"), denied, "exec", s.pid, comm_self());
    f.push_back({"cgroup", "/" + cg.name});
    check_fields(bw.next_verdict("execve(denied) in the cgroup"), f);
    bw.stop_and_check();
}

TEST("scope: executable — one program denied an open, another not, whatever it is called") {
    Fixture fx;
    std::string secret = fx.data + "/secret";
    write_file(secret, "secret\n");
    for (const char* d : {"/a", "/b", "/c", "/d"}) make_dirs(fx.data + d);
    std::string prog_a = fx.data + "/a/proga", prog_b = fx.data + "/b/progb";
    copy_program(kProg, prog_a);
    copy_program(kProg, prog_b);
    auto p = write_policy(fx.pol + "/t.toml", cat("[policy]\nname = \"t\"\n\n[scope]\nexecutable = [\"", prog_a,
                                                  "\"]\n\n[[file]] # deny\npaths = [\"", secret,
                                                  "\"]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});
    auto denied_open = [&](const Spawned& s, const std::string& comm, const std::string& what) {
        expect_ran(s, what, EPERM);
        check_fields(bw.next_verdict(what), {{"kind", "file"}, {"verdict", "deny"}, {"policy", "t"},
                                             {"rule", p.rule("deny")}, {"path", secret}, {"access", "read"},
                                             {"pid", std::to_string(s.pid)}, {"comm", comm}, {"exe", prog_a}});
    };

    denied_open(spawn(prog_a, {"proga", "open", secret}), "proga", "proga opening the secret");
    expect_ran(spawn(prog_b, {"progb", "open", secret}), "progb opening the secret");
    fx.no_event_for(bw, "progb's open");

    // progb dressed up as proga: a symlink named proga, comm "proga" — still progb.
    std::string fake_link = fx.data + "/c/proga", fake_copy = fx.data + "/d/proga";
    require(symlink(prog_b.c_str(), fake_link.c_str()) == 0, "symlink: ", errno_name(errno));
    copy_program(prog_b, fake_copy);
    expect_ran(spawn(fake_link, {"proga", "comm", "proga", "open", secret}), "progb through a symlink named proga");
    expect_ran(spawn(fake_copy, {"proga", "comm", "proga", "open", secret}), "a renamed copy named proga");
    fx.no_event_for(bw, "progb and a copy posing as proga");

    // proga under another name and comm is still proga: a symlink, a hardlink.
    std::string alias = fx.data + "/c/innocent", hard = fx.data + "/a/hardlink";
    require(symlink(prog_a.c_str(), alias.c_str()) == 0, "symlink: ", errno_name(errno));
    require(link(prog_a.c_str(), hard.c_str()) == 0, "link: ", errno_name(errno));
    denied_open(spawn(alias, {"innocent", "comm", "progb", "open", secret}), "progb",
                "proga through a symlink with comm progb");
    auto s = spawn(hard, {"hardlink", "open", secret});
    expect_ran(s, "proga through a hardlink", EPERM);
    Json ev = bw.next_verdict("proga through a hardlink");
    check_fields(ev, {{"kind", "file"}, {"verdict", "deny"}, {"path", secret}, {"pid", std::to_string(s.pid)},
                      {"comm", "hardlink"}});
    require(ev.str("exe") == prog_a || ev.str("exe") == hard, "exe='", ev.str("exe"), "' is neither name of proga");
    bw.stop_and_check();
}
