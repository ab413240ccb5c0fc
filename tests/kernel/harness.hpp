// Host kernel test harness (root): a cgroup v2 directory of the test's
// own, a temporary directory, child processes that wait on a pipe until
// the test has placed them, and `bulwark run` as a child whose JSON Lines
// are read from a pipe. Readiness comes from the `ready` line and pipes,
// not from sleeps; every process ended is one the test started, by pid.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace bulwark::test {

// ---- JSON Lines -------------------------------------------------------

// One event line: a flat object of strings, integers, booleans and arrays
// of strings (what bulwark writes); an object of strings as a value (the
// ready line's "backends") reads as keys "backends.file", ….
class Json {
public:
    using Value = std::variant<std::string, int64_t, bool, std::vector<std::string>>;
    static std::optional<Json> parse(const std::string& line);

    bool has(const std::string& key) const { return fields_.count(key) > 0; }
    std::string str(const std::string& key) const;          // "" when absent or not a string
    int64_t num(const std::string& key) const;              // -1 when absent or not a number
    bool flag(const std::string& key) const;                // false when absent
    std::vector<std::string> list(const std::string& key) const;
    const std::string& text() const { return text_; }

private:
    std::map<std::string, Value> fields_;
    std::string text_;
};

// ---- the machine --------------------------------------------------------

// A cgroup v2 directory below the hierarchy's root, removed when done (its
// processes must have exited by then).
class TestCgroup {
public:
    TestCgroup();
    ~TestCgroup();
    TestCgroup(const TestCgroup&) = delete;
    TestCgroup& operator=(const TestCgroup&) = delete;

    void add(pid_t pid) const;                  // move a whole process in
    const std::string& name() const { return name_; }  // "/bulwark-test-…", as events print it

private:
    std::string dir_, name_;
};

// A directory under /tmp, removed (recursively) when done.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string write(const std::string& name, const std::string& text, int mode = 0644) const;

private:
    std::string path_;
};

// A tmpfs of the test's own at DIR/fs (unmounted when done): for the
// fanotify backend, the filesystem the rules name, so the marks bulwark
// sets cover it alone.
class Tmpfs {
public:
    explicit Tmpfs(const TempDir& dir);
    ~Tmpfs();
    Tmpfs(const Tmpfs&) = delete;
    Tmpfs& operator=(const Tmpfs&) = delete;

    const std::string& path() const { return path_; }
    std::string write(const std::string& name, const std::string& text, int mode = 0644) const;
    std::string mkdir(const std::string& name) const;
    // A copy of a program, executable.
    std::string copy_program(const std::string& from, const std::string& name) const;
    // `target` bind-mounted on a new file `name`.
    std::string bind(const std::string& target, const std::string& name);

private:
    std::string path_;
    std::vector<std::string> binds_;
};

// A bpffs of the test's own at DIR/bpf, unmounted when done (with
// whatever is pinned there: its programs detach).
class Bpffs {
public:
    explicit Bpffs(const TempDir& dir);
    ~Bpffs();
    Bpffs(const Bpffs&) = delete;
    Bpffs& operator=(const Bpffs&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A forked child that runs `body` once released (release()), and exits
// with what it returns. Until then it blocks in read(2) on a pipe, so the
// test can move it into a cgroup first. The body should make raw system
// calls only (no allocation, no stdio): it runs in a copy of the test.
class Child {
public:
    explicit Child(std::function<int()> body);
    ~Child();
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    void release();
    // A second go-ahead a body may wait for with wait_go() (e.g. after a pause).
    void go();
    int wait();                                // waitpid status

    static void wait_go();                      // in the child: block until go()

private:
    pid_t pid_ = -1;
    int release_fd_ = -1, go_fd_ = -1;
    bool reaped_ = false;
};

// `bulwark run --policy FILE --events -` as a child process.
class Bulwark {
public:
    explicit Bulwark(const std::vector<std::string>& policies, const std::vector<std::string>& extra = {});
    ~Bulwark();
    Bulwark(const Bulwark&) = delete;
    Bulwark& operator=(const Bulwark&) = delete;

    pid_t pid() const { return pid_; }
    // Reads until the ready line (or failure); the ready line.
    std::optional<Json> wait_ready();
    // SIGTERM, then every line until EOF; the exit status in `status`.
    std::vector<Json> stop(int* status = nullptr);
    // Without SIGTERM: wait for the process to end by itself (a refusal).
    int wait_exit();
    const std::string& errors();               // its stderr so far

private:
    bool read_line(std::string& line, int timeout_ms);
    pid_t pid_ = -1;
    int out_ = -1, err_ = -1;
    std::string out_buf_, err_text_;
    std::vector<Json> early_;                  // lines before ready
    bool reaped_ = false;
};

std::string bulwark_binary();
std::string self_exe();                         // the test binary's real path

// ---- helpers every kernel test uses ----------------------------------------

// "[policy] name, mode" + "[scope] cgroup = [the test's]" (+ more scope
// lines) + `body`: a policy that acts on the test's cgroup only.
std::string scoped_policy(const std::string& name, const TestCgroup& cg, const std::string& body,
                          const std::string& mode = "enforce", const std::string& extra_scope = "");
// The line number (from 1) of the first `needle` in `text`.
int line_of(const std::string& text, const std::string& needle);
// The verdict events among `events`.
std::vector<Json> verdicts(const std::vector<Json>& events);
bool exited_ok(int wait_status);
// Runs `body` in a Child placed in `cg` (or not), as uid `uid` (-1: as
// the test); its wait status.
int in_child(const TestCgroup* cg, std::function<int()> body, int uid = -1);
// Runs `body` in a Child placed in `cg` (or not), checks that it exited 0,
// and returns its pid (for the events' "pid").
pid_t run_placed(const TestCgroup* cg, std::function<int()> body);
// Whether the line has `keys`, in that order (the field order of events).
bool has_keys_in_order(const Json& e, const std::vector<std::string>& keys);
// One errno a slot, in memory shared with the children (every slot -99:
// not run).
struct Errnos {
    int err[16];
};
Errnos* shared_errnos();
// CHECKs slot i of `got` against want[i], for each of the `n` wanted.
void check_errnos(const Errnos* got, const int* want, size_t n);

// connect(2) to ADDR:9 (IPv4) from a child in `cg`: EPERM when denied,
// ECONNREFUSED when let through (nothing listens).
int connect_in(const TestCgroup& cg, const char* addr = "127.0.0.2");
// What `command` (through sh) printed on stdout; its wait status in `status`.
std::string command_output(const std::string& command, int* status);

// The monitor events among `events`, optionally of one monitor kind.
std::vector<Json> monitor_events(const std::vector<Json>& events, const std::string& monitor = "");
const Json* stats_of(const std::vector<Json>& events);

}  // namespace bulwark::test
