// Policy test cases against the real kernel: the [[test]] cases of the
// shipped policies, and seeded random rule sets with random operations.
// Each case is decided twice — by the reference evaluator (`bulwark test
// --json`, run here in the guest, on this machine) and by the kernel
// (`bulwark run`, then the real open/execve/connect/mkdir/unlink/rename/
// link/truncate/chmod as the case's uid, in its cgroup, from its
// executable) — and the two must agree on the verdict, the deciding policy
// and the deciding rule. An operation let through must succeed (or, for a
// connect, fail only as the network makes it), and every child must exit
// 0 by itself: any other errno, a signal or a hang is a failure, never
// "allowed".
//
// How a case runs: a forked child joins the case's cgroup, takes its uid,
// and either performs the operation itself or, when the case names an
// executable, execs a copy of this very runner placed at that path, which
// performs it from a static constructor (BWT_T50_* in the environment).
// The operation's errno comes back through a pipe (EOF without a value: an
// execve succeeded); the child is waited on through a pidfd. EPERM is "deny"; otherwise the events bulwark wrote
// for it up to the marker's (Fixture::no_event_for) tell "would-deny",
// "audit" or — none — "allow".
//
// What the shipped policies name but the guest lacks (users, cgroups,
// files) is created first, exactly as `bulwark test` lists what it
// imagined; programs that cases run are copies of bwt-prog.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

const std::string kProg = "/usr/libexec/bwt/bwt-prog";

// ---- performing one operation ----------------------------------------------

int open_flags(const std::string& access)
{
    if (access == "write") return O_WRONLY;
    if (access == "read,write") return O_RDWR;
    return O_RDONLY;
}

// The errno of one operation (0: success). Codes >= 1000 mean the
// operation could not even be attempted (no such socket family: 1000+errno).
int perform(const std::string& op, const std::string& a1, const std::string& a2, const std::string& a3, int report)
{
    if (op == "open") {
        int fd = open(a1.c_str(), open_flags(a2) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) return errno;
        close(fd);
        return 0;
    }
    if (op == "create") return mkdir(a1.c_str(), 0777) == 0 ? 0 : errno;
    if (op == "delete") {
        struct stat st {};
        if (lstat(a1.c_str(), &st) != 0) return 1000 + errno;
        return (S_ISDIR(st.st_mode) ? rmdir(a1.c_str()) : unlink(a1.c_str())) == 0 ? 0 : errno;
    }
    if (op == "rename") return rename(a1.c_str(), a2.c_str()) == 0 ? 0 : errno;
    if (op == "link") return link(a1.c_str(), a2.c_str()) == 0 ? 0 : errno;
    if (op == "truncate") return truncate(a1.c_str(), 0) == 0 ? 0 : errno;
    if (op == "metadata") {
        // chmod (path_chmod) or the times (inode_setattr): both `metadata`.
        if (a3 == "times") return utimensat(AT_FDCWD, a1.c_str(), nullptr, 0) == 0 ? 0 : errno;
        return chmod(a1.c_str(), 0640) == 0 ? 0 : errno;
    }
    if (op == "exec") {
        fcntl(report, F_SETFD, FD_CLOEXEC);  // closed by a successful execve: EOF means it ran
        char* argv[] = {const_cast<char*>(a1.c_str()), nullptr};
        char* envp[] = {nullptr};
        execve(a1.c_str(), argv, envp);
        return errno;
    }
    if (op == "connect") {
        sockaddr_storage ss{};
        socklen_t len = 0;
        int family = AF_INET;
        const uint16_t port = static_cast<uint16_t>(std::atoi(a2.c_str()));
        if (a1.find(':') == std::string::npos) {
            auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
            sin->sin_family = AF_INET;
            sin->sin_port = htons(port);
            if (inet_pton(AF_INET, a1.c_str(), &sin->sin_addr) != 1) return 1000 + EINVAL;
            len = sizeof(*sin);
        } else {
            family = AF_INET6;
            auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
            sin6->sin6_family = AF_INET6;
            sin6->sin6_port = htons(port);
            if (inet_pton(AF_INET6, a1.c_str(), &sin6->sin6_addr) != 1) return 1000 + EINVAL;
            len = sizeof(*sin6);
        }
        int s = socket(family, (a3 == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s < 0) return 1000 + errno;
        int r = connect(s, reinterpret_cast<sockaddr*>(&ss), len);
        int e = r == 0 ? 0 : errno;
        close(s);
        return e;
    }
    return 1000 + EINVAL;
}

void report_and_exit(int report, int code)
{
    uint32_t v = static_cast<uint32_t>(code);
    ssize_t n = write(report, &v, sizeof v);
    (void)n;
    _exit(0);
}

// This runner's own file (not /proc/self/exe, which names the program
// running when it is read).
const std::string& runner_path()
{
    static const std::string path = [] {
        char buf[4096];
        const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (n <= 0) fail("readlink(/proc/self/exe): ", errno_name(errno));
        return std::string(buf, static_cast<size_t>(n));
    }();
    return path;
}

// Execs the first program of `chain` (programs separated by ':'), handing
// it the rest of the chain and the operation (BWT_T50_* in `env`).
void exec_chain(const std::string& chain, std::vector<std::string> env_s, int report)
{
    const size_t colon = chain.find(':');
    const std::string first = chain.substr(0, colon);
    env_s.push_back("BWT_T50_CHAIN=" + (colon == std::string::npos ? std::string() : chain.substr(colon + 1)));
    std::vector<char*> env;
    for (auto& e : env_s) env.push_back(e.data());
    env.push_back(nullptr);
    char* argv[] = {const_cast<char*>("bwt-case"), nullptr};
    execve(first.c_str(), argv, env.data());
    report_and_exit(report, 3000 + errno);
}

// A copy of this runner run as a case's executable, or as one its
// process ran before (the case's history): exec the next program of the
// chain, or do the operation and exit.
struct ExecutableHook {
    ExecutableHook()
    {
        const char* op = getenv("BWT_T50_OP");
        const char* fd = getenv("BWT_T50_FD");
        if (!op || !fd) return;
        const int report = std::atoi(fd);
        auto arg = [](const char* name) {
            const char* v = getenv(name);
            return std::string(v ? v : "");
        };
        if (const std::string chain = arg("BWT_T50_CHAIN"); !chain.empty())
            exec_chain(chain, {cat("BWT_T50_OP=", op), "BWT_T50_A1=" + arg("BWT_T50_A1"), "BWT_T50_A2=" + arg("BWT_T50_A2"),
                               "BWT_T50_A3=" + arg("BWT_T50_A3"), cat("BWT_T50_FD=", fd)},
                       report);
        report_and_exit(report, perform(op, arg("BWT_T50_A1"), arg("BWT_T50_A2"), arg("BWT_T50_A3"), report));
    }
};
const ExecutableHook g_hook;

struct Op {
    // open PATH ACCESS | exec PATH | connect ADDR PORT PROTO | create PATH |
    // delete PATH | rename PATH TARGET | link PATH TARGET | truncate PATH |
    // metadata PATH - chmod|times
    std::string op, a1, a2, a3;
    long long uid = 0;
    std::string cgroup_dir;       // absolute, or "" for the root cgroup
    std::string executable;       // a copy of this runner, or ""
    // What the process was before (sticky scope, [[test]] parent_*): it
    // joins each cgroup and leaves it, takes each uid and gives it back,
    // and runs each program, which execs the next, before the case's own.
    std::vector<std::string> parent_cgroup_dirs;
    std::vector<long long> parent_uids;
    std::vector<std::string> parent_executables;
};

// What one operation gave: the errno (or a code >= 1000), how the child
// ended, and whether it ended at all within the bound.
struct OpResult {
    int code = 0;
    bool reported = false;    // a value came back through the pipe (else an execve succeeded)
    bool ended = false;       // the child was reaped within the bound
    int status = 0;           // its wait status
};

// Runs `o` in a child as the case says.
OpResult run_op(const Op& o)
{
    int pipefd[2];
    if (pipe(pipefd) != 0) fail("pipe: ", errno_name(errno));
    pid_t pid = fork();
    if (pid < 0) fail("fork: ", errno_name(errno));
    if (pid == 0) {
        close(pipefd[0]);
        const int report = pipefd[1];
        prctl(PR_SET_NAME, "bwt-case", 0, 0, 0);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        auto join = [&](const std::string& dir) {
            int fd = open((dir + "/cgroup.procs").c_str(), O_WRONLY);
            if (fd < 0 || write(fd, "0", 1) != 1) report_and_exit(report, 2000 + errno);
            close(fd);
        };
        // The history first: into each cgroup and back out, each uid taken
        // (the saved uid stays 0) and given back.
        for (const auto& dir : o.parent_cgroup_dirs) join(dir);
        if (!o.parent_cgroup_dirs.empty()) join("/sys/fs/cgroup");
        for (long long u : o.parent_uids) {
            const auto id = static_cast<uid_t>(u);
            if (setresuid(id, 0, 0) != 0 || setresuid(0, 0, 0) != 0) report_and_exit(report, 2000 + errno);
        }
        // After a history, a child of the process goes on (the marks pass
        // at fork: a tree, not one process); this one waits for it and
        // ends as it did.
        if (!o.parent_cgroup_dirs.empty() || !o.parent_uids.empty()) {
            const pid_t kid = fork();
            if (kid < 0) report_and_exit(report, 2000 + errno);
            if (kid > 0) {
                close(report);
                int st = 0;
                while (waitpid(kid, &st, 0) < 0 && errno == EINTR) {
                }
                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0));
            }
        }
        if (!o.cgroup_dir.empty()) join(o.cgroup_dir);
        if (o.uid != 0) {
            const auto id = static_cast<uid_t>(o.uid);
            if (setgroups(0, nullptr) != 0 || setgid(id) != 0 || setuid(id) != 0) report_and_exit(report, 2000 + errno);
        }
        // Programs: each earlier one, then the case's (or, after a history,
        // this runner again: the case names no program).
        std::string chain;
        for (const auto& p : o.parent_executables) chain += (chain.empty() ? "" : ":") + p;
        if (!o.executable.empty()) chain += (chain.empty() ? "" : ":") + o.executable;
        else if (!chain.empty()) chain += ":" + runner_path();
        if (!chain.empty())
            exec_chain(chain, {"BWT_T50_OP=" + o.op, "BWT_T50_A1=" + o.a1, "BWT_T50_A2=" + o.a2, "BWT_T50_A3=" + o.a3,
                               "BWT_T50_FD=" + std::to_string(report)},
                       report);
        report_and_exit(report, perform(o.op, o.a1, o.a2, o.a3, report));
    }
    close(pipefd[1]);
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) fail("pidfd_open: ", errno_name(errno));
    OpResult r;
    uint32_t v = 0;
    size_t got = 0;
    for (;;) {
        ssize_t n = read(pipefd[0], reinterpret_cast<char*>(&v) + got, sizeof v - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
        if (got == sizeof v) break;
    }
    close(pipefd[0]);
    r.reported = got == sizeof v;
    r.code = r.reported ? static_cast<int>(v) : 0;
    // The child exits at once (an exec'd bwt-prog too): 5 s is a hang.
    pollfd p{pidfd, POLLIN, 0};
    int n;
    do n = poll(&p, 1, 5000);
    while (n < 0 && errno == EINTR);
    if (n == 1) {
        r.ended = waitpid(pid, &r.status, 0) == pid;
    } else {
        kill(pid, SIGKILL);
        waitpid(pid, &r.status, 0);
    }
    close(pidfd);
    return r;
}

// The errnos an operation that is let through may give here, besides 0:
// what the network answers a connect (nothing listens on ports 7-9 of
// loopback; 10/8 has no route, or a route and no answer).
bool allowed_outcome(const Op& o, int code)
{
    if (o.op == "connect")
        return o.a3 == "udp" ? (code == 0 || code == ENETUNREACH || code == EHOSTUNREACH)
                             : (code == ECONNREFUSED || code == EINPROGRESS || code == ENETUNREACH ||
                                code == EHOSTUNREACH);
    return code == 0;
}

// ---- running bulwark's own tools -------------------------------------------

std::string g_capture_err;  // the last capture's stderr file

std::string last_capture_stderr() { return read_file(g_capture_err); }

// argv's standard output; fails if it cannot run or is killed.
std::string capture(const std::vector<std::string>& args)
{
    require_bulwark();
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) fail("pipe: ", errno_name(errno));
    const std::string err_path = cat(test_dir(), "/capture-", rand(), ".stderr");
    g_capture_err = err_path;
    pid_t pid = fork();
    if (pid < 0) fail("fork: ", errno_name(errno));
    if (pid == 0) {
        int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(out[1], 1);
        if (err >= 0) dup2(err, 2);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(out[1]);
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = read(out[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<size_t>(n));
    }
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
        fail(args[0], " ", args[1], " failed (status ", status, "): ", read_file(err_path));
    return text;
}

std::vector<Json> json_lines(const std::string& text)
{
    std::vector<Json> out;
    size_t i = 0;
    while (i < text.size()) {
        size_t j = text.find('\n', i);
        if (j == std::string::npos) j = text.size();
        if (j > i) {
            auto v = Json::parse(text.substr(i, j - i));
            if (!v) fail("bulwark test --json printed a line that is not JSON: ", text.substr(i, j - i));
            out.push_back(*v);
        }
        i = j + 1;
    }
    return out;
}

// ---- what the guest lacks, made real for the duration of a test -------------

class Materialized {
public:
    ~Materialized()
    {
        for (auto it = modes_.rbegin(); it != modes_.rend(); ++it) chmod(it->first.c_str(), it->second);
        for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
            if (unlink(it->c_str()) != 0) rmdir(it->c_str());
        }
        if (!passwd_.empty()) write_file("/etc/passwd", passwd_, 0644);
    }

    void user(const std::string& name, long long uid)
    {
        if (passwd_.empty()) passwd_ = read_file("/etc/passwd");
        int fd = open("/etc/passwd", O_WRONLY | O_APPEND | O_CLOEXEC);
        if (fd < 0) fail("setup: /etc/passwd: ", errno_name(errno));
        write_all(fd, cat(name, ":x:", uid, ":", uid, "::/nonexistent:/bin/false\n"));
        close(fd);
    }

    void dir(const std::string& path)
    {
        std::string sofar;
        for (size_t pos = 1; pos <= path.size(); ++pos) {
            if (pos != path.size() && path[pos] != '/') continue;
            sofar = path.substr(0, pos);
            if (mkdir(sofar.c_str(), 0755) == 0) created_.push_back(sofar);
            else if (errno != EEXIST) fail("setup: mkdir ", sofar, ": ", errno_name(errno));
        }
    }

    // A file: a copy of `from` (a program), or a line of text.
    void file(const std::string& path, const std::string& from = "")
    {
        dir(path.substr(0, path.rfind('/')));
        struct stat st {};
        if (lstat(path.c_str(), &st) == 0) return;
        if (from.empty()) {
            write_file(path, "bulwark guest test file\n", 0644);
        } else {
            std::string bytes = read_file(from);
            if (bytes.empty()) fail("setup: cannot read ", from);
            write_file(path, bytes, 0755);
        }
        created_.push_back(path);
    }

    // Let `uid` open `path` for `access` as far as permissions go, so that
    // only the LSM decides (restored afterwards).
    void open_to_all(const std::string& path)
    {
        struct stat st {};
        if (stat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) return;
        modes_.emplace_back(path, st.st_mode & 07777);
        chmod(path.c_str(), (st.st_mode & 07777) | 0666);
    }

private:
    std::string passwd_;
    std::vector<std::string> created_;
    std::vector<std::pair<std::string, mode_t>> modes_;
};

// ---- one case, decided twice ----------------------------------------------

struct Case {
    Json json;                    // bulwark test --json's line
    Op op;
    std::string where() const { return cat(basename_of(json.str("file")), ":", json.num("line"), " ", json.str("name")); }
};

std::string rank_name(int r)
{
    static const char* names[] = {"allow", "audit", "would-deny", "deny"};
    return names[r];
}

int rank(const std::string& v)
{
    return v == "deny" ? 3 : v == "would-deny" ? 2 : v == "audit" ? 1 : 0;
}

// Does this event concern the case's operation?
bool about(const Json& ev, const Case& c)
{
    const std::string kind = ev.str("kind");
    const std::string op = c.json.str("op");
    if (op == "connect") return kind == "connect";
    const std::string path = c.json.str("path");
    const std::string real = c.json.str("canonical").empty() ? path : c.json.str("canonical");
    const bool same = ev.str("path") == path || ev.str("path") == real ||
                      (!c.json.str("target").empty() && ev.str("target") == c.json.str("target"));
    return same && (kind == "file" || (op == "exec" && kind == "exec"));
}

struct Mismatch {
    std::vector<std::string> lines;
    size_t passed = 0, skipped = 0;
};

// Runs every case with bulwark running; records disagreements.
void run_cases(Bulwark& bw, const std::string& marker, std::vector<Case>& cases, const std::set<std::string>& programs,
               Mismatch& m, bool check_expect)
{
    for (Case& c : cases) {
        const std::string op = c.json.str("op");
        // bulwark attaches only the hooks its policies need: without one, the
        // kernel cannot deny, and the evaluator must not either.
        static const std::map<std::string, const char*> kHook{
            {"open", "file_open"},       {"exec", "bprm_check_security"}, {"connect", "socket_connect"},
            {"create", "path_mkdir"},    {"delete", "path_unlink"},       {"rename", "path_rename"},
            {"link", "path_link"},       {"truncate", "path_truncate"},   {"metadata", "path_chmod"}};
        const auto h = kHook.find(op);
        if (h == kHook.end()) fail(c.where(), ": no operation ", op, " here");
        const std::string hooks = programs.count(h->second) ? "" : cat(" (", h->second, " not attached)");
        if (!c.json.str("error").empty()) {
            m.lines.push_back(cat(c.where(), ": the evaluator could not run it: ", c.json.str("error")));
            continue;
        }
        const OpResult res = run_op(c.op);
        const int code = res.code;
        // The child must end by itself, normally: reported and exited 0, or
        // (an execve that succeeded) the program's own exit 0.
        if (!res.ended) {
            m.lines.push_back(cat(c.where(), ": the operation hung (killed after 5 s)"));
            continue;
        }
        if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0) {
            m.lines.push_back(cat(c.where(), ": the child ended with wait status ", res.status,
                                  WIFSIGNALED(res.status) ? cat(" (signal ", WTERMSIG(res.status), ")") : std::string()));
            continue;
        }
        if (code >= 1000) {
            const int e = code % 1000;
            if (code < 2000 && (e == EAFNOSUPPORT || e == EPROTONOSUPPORT)) {
                note(cat("SKIP case ", c.where(), ": no such socket family here"));
                ++m.skipped;
                continue;
            }
            m.lines.push_back(cat(c.where(), ": could not run the operation (code ", code, ", ", errno_name(e), ")"));
            continue;
        }
        // Its events, up to the marker's.
        if (open_errno(marker, O_RDONLY) != EPERM) fail("the marker was not denied after ", c.where());
        std::vector<Json> events;
        for (;;) {
            Json ev = bw.next_verdict(cat("case ", c.where()));
            if (ev.str("path") == marker) break;
            events.push_back(ev);
        }
        int kernel = code == EPERM ? 3 : 0;
        const Json* deciding = nullptr;
        for (const Json& ev : events) {
            if (!about(ev, c)) {
                note(cat("case ", c.where(), ": unrelated event ", ev.line()));
                continue;
            }
            const int r = rank(ev.str("verdict"));
            if (!deciding || r > rank(deciding->str("verdict"))) deciding = &ev;
            if (code != EPERM) kernel = std::max(kernel, r);
        }
        const std::string evaluator = c.json.str("verdict");
        std::string why;
        if (code != EPERM && !allowed_outcome(c.op, code))
            why = cat("the operation failed with ", errno_name(code), ", which it cannot give when let through");
        else if (rank_name(kernel) != evaluator)
            why = cat("the kernel says ", rank_name(kernel), " (", errno_name(code), ", ", events.size(),
                      " events), the evaluator ", evaluator);
        else if (kernel == 3 && (!deciding || deciding->str("verdict") != "deny"))
            why = cat("EPERM without a deny event");
        else if (deciding && kernel > 0) {
            // The same policy and rule: "web.toml:14" in events, "path/web.toml:14 (...)" from test.
            std::string rule = c.json.str("rule");
            rule = basename_of(rule.substr(0, rule.find(' ')));
            if (deciding->str("policy") != c.json.str("policy") || deciding->str("rule") != rule)
                why = cat("decided by ", deciding->str("policy"), " ", deciding->str("rule"), " in the kernel, by ",
                          c.json.str("policy"), " ", rule, " in the evaluator");
        }
        if (why.empty() && check_expect && c.json.str("expect") != evaluator)
            why = cat("both say ", evaluator, ", the case expects ", c.json.str("expect"));
        if (!why.empty()) {
            m.lines.push_back(cat(c.where(), ": ", why, hooks, deciding ? "; event: " + deciding->line() : std::string()));
        } else {
            ++m.passed;
            note(cat("case ", c.where(), ": ", evaluator, " (kernel and evaluator agree; expected ",
                     c.json.str("expect"), ")"));
        }
    }
}

// The numbers of a JSON array of numbers ("[1000,33]"; "" or not an array: none).
std::vector<long long> numbers_of(const std::string& raw)
{
    std::vector<long long> out;
    if (raw.empty() || raw[0] != '[') return out;
    const char* s = raw.c_str() + 1;
    for (;;) {
        char* end = nullptr;
        const long long v = std::strtoll(s, &end, 10);
        if (end == s) return out;
        out.push_back(v);
        s = end;
        while (*s == ' ') ++s;
        if (*s != ',') return out;
        ++s;
    }
}

// The cases of `bulwark test --json` output, with their operations.
std::vector<Case> cases_of(const std::vector<Json>& lines, const std::map<std::string, std::string>& cgroup_root_rel)
{
    std::vector<Case> out;
    for (const Json& j : lines) {
        if (j.str("type") != "case") continue;
        Case c{j, {}};
        c.op.op = j.str("op");
        if (c.op.op == "connect") {
            c.op.a1 = j.str("addr");
            c.op.a2 = std::to_string(j.num("port"));
            c.op.a3 = j.str("protocol");
        } else if (c.op.op == "rename" || c.op.op == "link") {
            c.op.a1 = j.str("path");
            c.op.a2 = j.str("target");
        } else if (c.op.op == "metadata") {
            c.op.a1 = j.str("path");
            c.op.a3 = j.str("name").find("times") != std::string::npos ? "times" : "chmod";
        } else {
            c.op.a1 = j.str("path");
            c.op.a2 = j.str("access");
        }
        c.op.uid = j.num("uid");
        auto dir_of = [&](const std::string& cg) {
            auto it = cgroup_root_rel.find(cg);
            return it != cgroup_root_rel.end() ? it->second
                                               : (cg[0] == '/' && cg.rfind("/sys/fs/cgroup", 0) == 0
                                                      ? cg
                                                      : "/sys/fs/cgroup/" + (cg[0] == '/' ? cg.substr(1) : cg));
        };
        if (const std::string cg = j.str("cgroup"); !cg.empty()) c.op.cgroup_dir = dir_of(cg);
        c.op.executable = j.str("executable");
        for (const auto& cg : j.list("parent_cgroup")) c.op.parent_cgroup_dirs.push_back(dir_of(cg));
        c.op.parent_uids = numbers_of(j.str("parent_uid"));
        c.op.parent_executables = j.list("parent_executable");
        out.push_back(std::move(c));
    }
    return out;
}

// ---- the shipped policies' cases -------------------------------------------

void shipped_cases(const std::string& dir)
{
    Fixture fx;
    Materialized made;

    // What the evaluator had to imagine here becomes real.
    auto first = json_lines(capture({kBulwark, "test", "--json", dir}));
    std::set<std::string> exec_paths, executables, open_paths;
    for (const Json& j : first) {
        if (j.str("type") != "case") continue;
        if (!j.str("executable").empty()) executables.insert(j.str("executable"));
        for (const auto& e : j.list("parent_executable")) executables.insert(e);
        if (j.str("op") == "exec") exec_paths.insert(j.str("path"));
        if (j.str("op") == "open" && j.num("uid") != 0) open_paths.insert(j.str("path"));
    }
    size_t imagined = 0;
    for (const Json& j : first) {
        if (j.str("type") != "imagined") continue;
        ++imagined;
        const std::string kind = j.str("kind"), name = j.str("name");
        if (kind == "user") made.user(name, j.num("uid"));
        else if (kind == "dir") made.dir(name);
        else if (executables.count(name)) made.file(name, "/proc/self/exe");
        else if (exec_paths.count(name)) made.file(name, kProg);
        else made.file(name);
    }
    for (const auto& p : open_paths) made.open_to_all(p);
    note(cat(dir, ": made ", imagined, " imagined objects real"));

    // The evaluator again, on the guest as it now is: nothing imagined.
    auto lines = json_lines(capture({kBulwark, "test", "--json", "--strict", dir}));
    std::map<std::string, std::vector<Json>> by_set;
    std::map<std::string, Json> sets;
    for (const Json& j : lines) {
        if (j.str("type") == "set") sets.emplace(j.str("set"), j);
        if (j.str("type") == "case" || j.str("type") == "imagined") by_set[j.str("set")].push_back(j);
    }
    if (sets.empty()) fail("bulwark test --json ", dir, " found no policy set");

    Mismatch m;
    for (auto& [label, set] : sets) {
        auto cases = cases_of(by_set[label], {});
        if (cases.empty()) continue;
        for (const Case& c : cases) {
            std::vector<std::string> programs = c.op.parent_executables;
            if (!c.op.executable.empty()) programs.push_back(c.op.executable);
            // Only a copy of this runner can act as the case's program.
            for (const auto& prog : programs)
                if (read_file(prog) != read_file("/proc/self/exe"))
                    fail("case ", c.where(), ": ", prog, " exists in the guest and is not a copy of the runner");
        }
        RunOptions ro;
        ro.policies = set.list("files");
        ro.policies.push_back(fx.pol + "/marker.toml");
        std::vector<std::string> names = set.list("policies");
        names.push_back("marker");
        Bulwark bw(ro);
        Json ready = bw.wait_ready(names);
        auto attached = ready.list("programs");
        run_cases(bw, fx.marker, cases, std::set<std::string>(attached.begin(), attached.end()), m, true);
        bw.stop_and_check();
    }
    note(cat(dir, ": ", m.passed, " cases agree, ", m.lines.size(), " disagree, ", m.skipped, " skipped"));
    if (!m.lines.empty()) {
        std::string all;
        for (const auto& l : m.lines) all += "\n  " + l;
        fail(m.lines.size(), " of ", m.lines.size() + m.passed, " cases disagree:", all);
    }
    if (m.passed == 0) fail("no case ran");
}

// ---- seeded random rule sets ----------------------------------------------

bool ipv6_here()
{
    int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return false;
    close(s);
    return true;
}

// One seed's working set: its own data and policy directories and a
// marker policy (as Fixture, but one per seed within a test).
struct SeedDirs {
    std::string data, pol, marker;
    explicit SeedDirs(uint32_t seed)
        : data(cat(test_dir(), "/seed", seed, "/data")), pol(cat(test_dir(), "/seed", seed, "/pol")),
          marker(cat(test_dir(), "/seed", seed, "/marker"))
    {
        make_dirs(data, 0777);
        make_dirs(pol);
        write_file(marker, "marker\n");
        write_policy(pol + "/marker.toml", "[policy]\nname = \"marker\"\n\n[[file]] # marker\npaths = [\"" + marker +
                                              "\"]\naction = \"deny\"\n");
    }
};

// Files, directories and programs under `d.data`, policies over them, and
// operations, all drawn from `rng`; the operations go into the set as
// [[test]] cases so that `bulwark test --json` decides each.
void random_set(uint32_t seed, const SeedDirs& sd, const std::string& cgroup_rel, std::mt19937& rng)
{
    auto pick = [&](const auto& v) -> const auto& { return v[rng() % v.size()]; };
    const std::string d = sd.data;
    // Names on both sides of the short name keys' limit (abi.h,
    // BW_NAME_IS_SHORT, BW_SHORT_NAME_MAX = 24): 22 characters is short,
    // 23 is not; and a long directory name: the kernel looks up each kind
    // of name key.
    const std::string long_dir = d + "/e/" + std::string(40, 'd');
    const std::vector<std::string> dirs{d + "/a", d + "/a/b", d + "/a/c", d + "/e", long_dir};
    for (const auto& x : dirs) make_dirs(x, 0777);
    const std::vector<std::string> files{d + "/a/f1",
                                         d + "/a/b/f2",
                                         d + "/a/c/f3",
                                         d + "/e/f4",
                                         d + "/top",
                                         d + "/a/" + std::string(22, 's'),
                                         d + "/a/" + std::string(23, 'l'),
                                         long_dir + "/" + std::string(60, 'f')};
    for (const auto& f : files) write_file(f, "x\n", 0666);
    const std::vector<std::string> progs{d + "/a/p1", d + "/a/b/p2", d + "/e/p3"};
    const std::string prog = read_file(kProg);
    if (prog.empty()) fail("setup: no ", kProg);
    for (const auto& p : progs) write_file(p, prog, 0755);
    // A scoped program: a copy of this runner, so that a case can run as
    // it, or have run it before (sticky scope). Beside the data, where no
    // rule's tree reaches. Each policy lets it and the runner be read and
    // run, and the cgroups be joined: a process its history put in scope
    // does these before the case's operation, and a default deny would
    // stop it there.
    const std::string scoped = sd.data.substr(0, sd.data.rfind('/')) + "/px";
    write_file(scoped, read_file("/proc/self/exe"), 0755);
    const std::string programs_allowed =
        cat("[[file]]\npaths = [\"", scoped, "\", \"", runner_path(), "\"]\naccess = [\"read\"]\naction = \"allow\"\n",
            "[[file]]\npaths = [\"/sys/fs/cgroup/cgroup.procs\", \"/sys/fs/cgroup/", cgroup_rel,
            "/cgroup.procs\"]\naccess = [\"write\"]\naction = \"allow\"\n", "[[exec]]\npaths = [\"", scoped, "\", \"",
            runner_path(), "\"]\naction = \"allow\"\n");
    std::vector<std::string> prefixes;
    for (const auto& x : dirs) prefixes.push_back(x + "/");
    prefixes.push_back(d + "/");
    std::vector<std::string> cidrs{"127.0.0.0/8", "127.0.0.2/32", "10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/0"};
    std::vector<std::string> addrs{"127.0.0.1", "127.0.0.2", "10.1.2.3", "10.9.9.9"};
    if (ipv6_here()) {
        cidrs.push_back("::1/128");
        addrs.push_back("::1");
    }
    const char* actions[] = {"deny", "audit", "allow"};

    const size_t npol = 1 + rng() % 3;
    for (size_t p = 0; p < npol; ++p) {
        // Scoped to uid 1000, to the test's cgroup or to the scoped program
        // (one key, or two): the runner (root, in the root cgroup, itself)
        // is never confined, whatever the dice say.
        std::string t = cat("[policy]\nname = \"r", seed, "-", p, "\"\nmode = \"", rng() % 3 ? "enforce" : "audit", "\"\n");
        const unsigned keys = 1 + rng() % 6;  // bits: uid, cgroup, executable; never none
        t += "[scope]\n";
        if (keys & 1) t += "uid = 1000\n";
        if (keys & 2) t += cat("cgroup = \"", cgroup_rel, "\"\n");
        if (keys & 4) t += cat("executable = [\"", scoped, "\"]\n");
        t += cat("[defaults]\nfile = \"", rng() % 4 ? "allow" : "deny", "\"\nexec = \"", rng() % 4 ? "allow" : "deny",
                 "\"\nconnect = \"", rng() % 4 ? "allow" : "audit", "\"\n");
        t += programs_allowed;
        for (size_t r = 0, n = 1 + rng() % 5; r < n; ++r) {
            t += "[[file]]\n";
            t += rng() % 2 ? cat("paths = [\"", pick(files), "\"]\n") : cat("prefixes = [\"", pick(prefixes), "\"]\n");
            if (rng() % 3 == 0) {
                // One right, or two; `write` implies the changing rights (docs/policy-language.md).
                static const char* rights[] = {"read", "write", "create", "delete", "rename", "metadata"};
                const char* r1 = rights[rng() % 6];
                const char* r2 = rights[rng() % 6];
                t += rng() % 2 ? cat("access = [\"", r1, "\"]\n") : cat("access = [\"", r1, "\", \"", r2, "\"]\n");
            }
            t += cat("action = \"", actions[rng() % 3], "\"\n");
        }
        for (size_t r = 0, n = rng() % 3; r < n; ++r) {
            t += "[[exec]]\n";
            t += rng() % 2 ? cat("paths = [\"", pick(progs), "\"]\n") : cat("prefixes = [\"", pick(prefixes), "\"]\n");
            t += cat("action = \"", actions[rng() % 3], "\"\n");
        }
        for (size_t r = 0, n = rng() % 3; r < n; ++r) {
            t += cat("[[connect]]\ncidrs = [\"", pick(cidrs), "\"]\n");
            if (rng() % 2) t += cat("ports = [", 7 + rng() % 3, "]\n");
            if (rng() % 3 == 0) t += cat("protocols = [\"", rng() % 2 ? "tcp" : "udp", "\"]\n");
            t += cat("action = \"", actions[rng() % 3], "\"\n");
        }
        write_policy(cat(sd.pol, "/r", p, ".toml"), t);
    }

    // Operations that change the tree act on objects of their own (a
    // victim per case, owned by uid 1000 so that either uid may change it;
    // new names nobody uses), made now, before `bulwark test` decides: what
    // one case changes cannot change what a later case is decided on, and
    // no rule path changes (which would republish the set).
    const std::vector<std::string> all_dirs{d + "/a", d + "/a/b", d + "/a/c", d + "/e", long_dir, d};
    auto victim = [&](int k, bool directory) {
        const std::string v = cat(pick(all_dirs), "/v", k);
        if (directory) make_dirs(v, 0777);
        else write_file(v, "victim\n", 0666);
        if (chown(v.c_str(), 1000, 1000) != 0) fail("setup: chown ", v, ": ", errno_name(errno));
        return v;
    };
    auto new_name = [&](int k) { return cat(pick(all_dirs), "/n", k); };
    std::string cases;
    for (int k = 0; k < 36; ++k) {
        const int kind = static_cast<int>(rng() % 9);
        const bool times = kind == 8 && rng() % 2;
        cases += cat("[[test]]\nname = \"seed ", seed, " op ", k, times ? " times" : "", "\"\n");
        if (kind == 0) {
            const char* acc[] = {"[\"read\"]", "[\"write\"]", "[\"read\", \"write\"]"};
            cases += cat("op = \"open\"\npath = \"", pick(files), "\"\naccess = ", acc[rng() % 3], "\n");
        } else if (kind == 1) {
            cases += cat("op = \"exec\"\npath = \"", pick(progs), "\"\n");
        } else if (kind == 2) {
            cases += cat("op = \"connect\"\naddr = \"", pick(addrs), "\"\nport = ", 7 + rng() % 3, "\nprotocol = \"",
                         rng() % 2 ? "tcp" : "udp", "\"\n");
        } else if (kind == 3) {
            cases += cat("op = \"create\"\npath = \"", new_name(k), "\"\n");
        } else if (kind == 4) {
            cases += cat("op = \"delete\"\npath = \"", victim(k, rng() % 3 == 0), "\"\n");
        } else if (kind == 5 || kind == 6) {
            cases += cat("op = \"", kind == 5 ? "rename" : "link", "\"\npath = \"", victim(k, false), "\"\ntarget = \"",
                         new_name(k), "\"\n");
        } else if (kind == 7) {
            // A rule's own file too: truncating keeps its identity.
            cases += cat("op = \"truncate\"\npath = \"", rng() % 2 ? pick(files) : victim(k, false), "\"\n");
        } else {
            cases += cat("op = \"metadata\"\npath = \"", victim(k, rng() % 4 == 0), "\"\n");
        }
        if (rng() % 2) cases += "uid = 1000\n";
        if (rng() % 2) cases += cat("cgroup = \"", cgroup_rel, "\"\n");
        if (rng() % 6 == 0) cases += cat("executable = \"", scoped, "\"\n");
        // What the process was before (sticky scope): the kernel marks it,
        // the evaluator is told.
        if (rng() % 4 == 0) cases += cat("parent_cgroup = \"", cgroup_rel, "\"\n");
        if (rng() % 4 == 0) cases += "parent_uid = 1000\n";
        if (rng() % 4 == 0) cases += cat("parent_executable = \"", scoped, "\"\n");
        cases += "expect = \"allow\"\n\n";  // the evaluator's verdict is what is compared
    }
    write_file(sd.pol + "/cases.toml", cases);
}

void differential(uint32_t first_seed, uint32_t last_seed)
{
    Mismatch m;
    for (uint32_t seed = first_seed; seed <= last_seed; ++seed) {
        const SeedDirs sd(seed);
        const std::string cgroup_rel = cat("bwt-t50-", getpid(), "-", seed);
        const std::string cgroup_dir = "/sys/fs/cgroup/" + cgroup_rel;
        if (mkdir(cgroup_dir.c_str(), 0755) != 0) fail("mkdir ", cgroup_dir, ": ", errno_name(errno));
        struct RemoveCgroup {
            std::string dir;
            ~RemoveCgroup() { rmdir(dir.c_str()); }
        } remove_cgroup{cgroup_dir};

        std::mt19937 rng(seed);
        random_set(seed, sd, cgroup_rel, rng);
        auto lines = json_lines(capture({kBulwark, "test", "--json", "--strict", sd.pol}));
        std::vector<std::string> names;
        for (const Json& j : lines)
            if (j.str("type") == "set") names = j.list("policies");
        if (names.empty()) fail("seed ", seed, ": the set in ", sd.pol, " does not load: ", last_capture_stderr());
        auto cases = cases_of(lines, {{cgroup_rel, cgroup_dir}});

        Bulwark bw({{sd.pol}});
        Json ready = bw.wait_ready(names);
        auto attached = ready.list("programs");
        Mismatch one;
        run_cases(bw, sd.marker, cases, std::set<std::string>(attached.begin(), attached.end()), one, false);
        bw.stop_and_check();
        m.passed += one.passed;
        m.skipped += one.skipped;
        for (const auto& l : one.lines) m.lines.push_back(cat("seed ", seed, ": ", l));
        if (!one.lines.empty()) {
            for (const auto& name : {"r0.toml", "r1.toml", "r2.toml"}) {
                const std::string t = read_file(sd.pol + "/" + name);
                if (!t.empty()) note(cat("seed ", seed, " ", name, ":\n", t));
            }
        }
    }
    note(cat("seeds ", first_seed, "-", last_seed, ": ", m.passed, " operations agree, ", m.lines.size(),
             " disagree, ", m.skipped, " skipped"));
    if (!m.lines.empty()) {
        std::string all;
        for (const auto& l : m.lines) all += "\n  " + l;
        fail(m.lines.size(), " operations disagree (reproduce: the seed makes the same set):", all);
    }
    if (m.passed == 0) fail("no operation ran");
}

}  // namespace

TEST("policy cases: /policies/default against the kernel") { shipped_cases("/policies/default"); }

TEST("policy cases: /policies/examples against the kernel") { shipped_cases("/policies/examples"); }

// How many seeds: vm-tests/run --seeds N (written to /etc/vmtest/seeds), 6
// by default; each test takes half.
uint32_t seed_count()
{
    const std::string text = read_file("/etc/vmtest/seeds");
    const long n = text.empty() ? 6 : std::atol(text.c_str());
    if (n < 1) fail("/etc/vmtest/seeds says ", text, ": not a positive number");
    return static_cast<uint32_t>(n);
}

TEST("differential: random rule sets, first half of the seeds") { differential(1, (seed_count() + 1) / 2); }

TEST("differential: random rule sets, second half of the seeds")
{
    const uint32_t n = seed_count();
    if (n < 2) fail("one seed: the first half has it (vm-tests/run --seeds 2 or more)");
    differential((n + 1) / 2 + 1, n);
}
