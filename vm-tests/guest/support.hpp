// What the guest tests share: files and errno, a flat JSON reader, policy
// files with tagged lines, bulwark as a child process, forked helpers.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "framework.hpp"

namespace guest {

// Bounds (TCG is slow: loading and verifying the BPF programs takes seconds).
inline constexpr int kReadyTimeoutMs = 90000;
inline constexpr int kEventTimeoutMs = 10000;
inline constexpr int kStopTimeoutMs = 30000;

inline const char* kBulwark = "/bin/bulwark";

// ---- plumbing -----------------------------------------------------------

void write_all(int fd, const std::string& data);
void set_test_dir(const std::string& dir);  // by the runner, before a test
const std::string& test_dir();              // fresh, empty, for this test only
std::string errno_name(int e);              // "EPERM", or "0" for success
std::string comm_self();                    // /proc/self/comm, read at test start
std::string basename_of(const std::string& path);

// ---- files ---------------------------------------------------------------

void make_dirs(const std::string& path, unsigned mode = 0755);
void write_file(const std::string& path, const std::string& data, unsigned mode = 0644);
std::string read_file(const std::string& path);  // "" if unreadable
// open(2) then close: 0 on success, else errno.
int open_errno(const std::string& path, int flags, unsigned mode = 0644);
int open_errno_at(int dirfd, const std::string& path, int flags);
std::string flags_name(int flags);
void expect_open(const std::string& path, int flags, int want_errno, const std::string& what = "");

// The entries of `dir` but . and .., as DIR/NAME, in readdir order.
std::vector<std::string> files_in(const std::string& dir);

// A bpffs of the test's own at `dir` (made, mounted; unmounted when done).
struct Bpffs {
    std::string dir;
    explicit Bpffs(const std::string& d);
    ~Bpffs();
    Bpffs(const Bpffs&) = delete;
    Bpffs& operator=(const Bpffs&) = delete;
};

// ---- JSON Lines ------------------------------------------------------------

// One flat JSON object: strings unescaped, other values as written.
class Json {
public:
    static std::optional<Json> parse(const std::string& line);
    bool has(const std::string& key) const { return fields_.count(key) != 0; }
    std::string str(const std::string& key) const;
    long long num(const std::string& key) const;  // -1 if missing or not a number
    std::vector<std::string> list(const std::string& key) const;  // an array of strings
    const std::string& line() const { return line_; }

private:
    std::map<std::string, std::string> fields_;
    std::string line_;
};

// ---- policies -------------------------------------------------------------

// A policy file written for a test. Tag a line with a comment ("[[file]] # deny")
// and rule("deny") gives "<basename>:<line>", as bulwark's events name it.
struct PolicyFile {
    std::string path;
    std::string name;
    std::string text;
    int line_of(const std::string& tag) const;
    std::string rule(const std::string& tag) const;
};
PolicyFile write_policy(const std::string& path, const std::string& text);

// A cgroup v2 directory of the test's own under /sys/fs/cgroup, removed
// when done; enter() moves the calling process into it.
struct ScopedCgroup {
    std::string name, path;
    explicit ScopedCgroup(const std::string& n);
    ~ScopedCgroup();
    ScopedCgroup(const ScopedCgroup&) = delete;
    ScopedCgroup& operator=(const ScopedCgroup&) = delete;
    void enter() const;
};

// The self-protection tests' policy "guard" in DIR/guard.toml, scoped to
// `cg`, denying reads of `secret` (enforce, or audit mode).
PolicyFile guard_policy(const std::string& dir, const ScopedCgroup& cg, const std::string& secret, bool audit);

// One "tamper" verdict event of the guard policy, field by field: the
// constructor checks type, kind, verdict, policy, rule, op and pid; done()
// fails naming every field that differs.
class TamperCheck {
public:
    TamperCheck(const Json& ev, const std::string& verdict, const PolicyFile& guard, const std::string& op, pid_t pid);
    TamperCheck& field(const char* key, const std::string& want);
    TamperCheck& number(const char* key, long long want);
    void done(const std::string& what) const;

private:
    const Json& ev_;
    std::string why_;
};

class Bulwark;
// A child in `cg` opening `secret` gets EPERM, and bulwark's next verdict
// is that open's: still enforcing, and nothing was reported for what was
// done before it (`after`: what that was, for failure messages).
void expect_next_denial(Bulwark& bw, const ScopedCgroup& cg, const std::string& secret, const std::string& after);

// ---- bulwark --------------------------------------------------------------

struct RunOptions {
    std::vector<std::string> policies;  // files or directories
    bool audit = false;                 // --audit
    std::string events = "-";           // --events (the pipe the test reads, by default)
    std::vector<std::string> extra = {};  // more arguments for bulwark run
    // --socket: the test's own control socket, by default; "" passes no
    // --socket (bulwark's default, /run/bulwark/control.sock).
    std::string socket = test_dir() + "/control.sock";
};

// A command run to its end: /bin/bulwark ARGS..., stdout and stderr captured.
struct CommandResult {
    int status = -1;  // wait status
    std::string out, err;
    bool exited_with(int code) const { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
    std::string describe() const;  // "exit 1: <stderr on one line>"
};
// Runs /bin/bulwark with `args` (as `uid` when >= 0); fails after timeout_ms.
CommandResult run_bulwark(const std::vector<std::string>& args, int timeout_ms, int uid = -1);
// The same, calling `pump` (which must return within ~20 ms) while it waits.
CommandResult run_command(const std::vector<std::string>& args, int timeout_ms, int uid,
                          const std::function<void()>& pump);

// A systemd-style notification socket: bulwark's $NOTIFY_SOCKET while it lives.
struct NotifySocket {
    NotifySocket();
    ~NotifySocket();
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;
    // The next datagram, or "" after timeout_ms.
    std::string next(int timeout_ms);
    int fd = -1;
    std::string path;
};

class Bulwark {
public:
    explicit Bulwark(const RunOptions& opts);
    ~Bulwark();
    Bulwark(const Bulwark&) = delete;
    Bulwark& operator=(const Bulwark&) = delete;

    pid_t pid() const { return pid_; }
    const std::string& socket() const { return socket_; }  // "" : the default
    // `bulwark COMMAND [ARGS] --socket S` (this instance's socket) run to its
    // end, while this bulwark's output keeps being read (kept for next_line).
    CommandResult control(const std::string& command, const std::vector<std::string>& args = {},
                          int timeout_ms = kStopTimeoutMs);
    // The next line of `type` (other lines are kept in others()); fails on timeout.
    Json next_of_type(const std::string& type, int timeout_ms = kEventTimeoutMs);
    // Reads lines up to the ready event; checks mode, generation, policies, programs.
    Json wait_ready(const std::vector<std::string>& policies, const std::string& mode = "enforce");
    // The next line, or nullopt on timeout or end of output.
    std::optional<std::string> next_line(int timeout_ms);
    // The next verdict event (other event types are kept in others()); fails on timeout.
    Json next_verdict(const std::string& after, int timeout_ms = kEventTimeoutMs);
    // SIGTERM, read the rest of the output, reap. Returns the wait status.
    int stop();
    // `bulwark stop` (requires its exit 0: it returns once bulwark has
    // detached), read the rest of the output, reap. Returns the wait status.
    int stop_by_command();
    // Stop (`bulwark stop`, or SIGTERM) and require exit status 0 and a stats line.
    enum class StopBy { command, sigterm };
    void stop_and_check(StopBy by = StopBy::command);
    // For a bulwark expected to exit on its own: read its output to the end
    // (kept in tail_lines()) and reap it. Fails if it is still running after timeout_ms.
    int wait_exit(int timeout_ms);
    const std::vector<std::string>& others() const { return others_; }
    const std::vector<std::string>& tail_lines() const { return tail_; }
    std::string stderr_text() const;  // its tail, on one line, for failure reasons
    std::string stderr_all() const;
    std::string describe_exit() const;  // "exited 1" / "killed by signal 9" / "running"

private:
    bool reap(int timeout_ms);
    bool fill(int timeout_ms);  // read what is there into buf_; false on timeout
    int finish(const char* how);  // read to the end, reap (SIGKILL after kStopTimeoutMs)
    pid_t pid_ = -1;
    std::string socket_;
    int out_ = -1;
    int pidfd_ = -1;
    bool eof_ = false;
    bool reaped_ = false;
    int status_ = 0;
    std::string buf_;
    std::string err_path_;
    std::vector<std::string> others_;  // non-verdict lines after ready
    std::vector<std::string> tail_;    // lines read by stop()
};

// The last stats line a stopped bulwark wrote (fails when there is none).
Json final_stats(const Bulwark& bw);


void require_bulwark();  // fails clearly when /bin/bulwark is not in the initramfs

// ---- expectations ---------------------------------------------------------

struct Expect {
    std::string verdict;                 // deny | would-deny | audit
    std::string policy;
    std::string rule;                    // basename:line
    std::vector<std::string> paths;      // any of these
    std::string access;                  // read | write | read,write
    pid_t pid = -1;
    pid_t tid = -1;
    pid_t ppid = -1;
    long long uid = -1;
    std::string comm;
    std::optional<std::string> cgroup;
};
// pid, tid, ppid, uid, comm of the calling process.
Expect expect_self(const std::string& verdict, const std::string& policy, const std::string& rule,
                   const std::string& path, const std::string& access);
void check_event(const Json& ev, const Expect& want);

// ---- a test's working set -----------------------------------------------

// /tmp/bwt-N/{data,pol}/ and a marker: every test also loads pol/marker.toml,
// which denies one exact file. Opening it after an operation that must stay
// silent proves the silence: the next event must be the marker's.
struct Fixture {
    Fixture();
    std::string dir, data, pol, marker;
    PolicyFile marker_policy;
    // Open the marker (EPERM, or success under --audit) and require that the
    // next verdict event is the marker's — nothing was reported for `what`.
    void no_event_for(Bulwark& bw, const std::string& what, bool audit = false) const;
};

// ---- the guest kernel -------------------------------------------------------

// Loads /lib/modules/<uname -r>/NAME.ko (vm-tests/lib.sh vmt_fetch_modules
// puts it in the initramfs) unless `present` says it is there already.
void load_module(const std::string& name, const std::function<bool()>& present);

// ---- forked helpers ---------------------------------------------------------

struct ChildResult {
    pid_t pid = -1;
    int code = -1;       // exit code; the body's return value
    std::string error;   // set when the body failed (threw) or the child died
};
// Runs body in a forked child (comm "bwt-child") and waits for it. The body's
// int return value becomes the exit code (use errno values: 0 = success).
ChildResult run_child(const std::function<int()>& body);

}  // namespace guest
