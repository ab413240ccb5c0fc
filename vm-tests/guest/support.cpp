#include "support.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace guest {

// ---- plumbing -------------------------------------------------------------

void write_all(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        off += static_cast<size_t>(n);
    }
}

namespace {
std::string g_test_dir;
std::string g_comm;

long long ms_left(std::chrono::steady_clock::time_point deadline) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
}
}  // namespace

void set_test_dir(const std::string& dir) {
    g_test_dir = dir;
    make_dirs(dir, 0755);
    g_comm = read_file("/proc/self/comm");
    while (!g_comm.empty() && g_comm.back() == '\n') g_comm.pop_back();
}

const std::string& test_dir() { return g_test_dir; }
std::string comm_self() { return g_comm; }

std::string errno_name(int e) {
    if (e == 0) return "0 (success)";
    const char* n = strerrorname_np(e);
    return n ? std::string(n) : std::to_string(e);
}

std::string basename_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// ---- files ------------------------------------------------------------------

void make_dirs(const std::string& path, unsigned mode) {
    for (size_t pos = 1; pos <= path.size(); ++pos) {
        if (pos == path.size() || path[pos] == '/') {
            std::string part = path.substr(0, pos);
            if (mkdir(part.c_str(), mode) != 0 && errno != EEXIST)
                fail("mkdir ", part, ": ", errno_name(errno));
        }
    }
    chmod(path.c_str(), mode);
}

void write_file(const std::string& path, const std::string& data, unsigned mode) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) fail("setup: cannot write ", path, ": ", errno_name(errno));
    write_all(fd, data);
    fchmod(fd, mode);
    close(fd);
}

std::string read_file(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    close(fd);
    return out;
}

int open_errno(const std::string& path, int flags, unsigned mode) {
    int fd = open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) return errno;
    close(fd);
    return 0;
}

int open_errno_at(int dirfd, const std::string& path, int flags) {
    int fd = openat(dirfd, path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return errno;
    close(fd);
    return 0;
}

std::string flags_name(int flags) {
    std::string s;
    switch (flags & O_ACCMODE) {
        case O_RDONLY: s = "O_RDONLY"; break;
        case O_WRONLY: s = "O_WRONLY"; break;
        default: s = "O_RDWR"; break;
    }
    if (flags & O_CREAT) s += "|O_CREAT";
    if (flags & O_PATH) s += "|O_PATH";
    return s;
}

void expect_open(const std::string& path, int flags, int want_errno, const std::string& what) {
    int e = open_errno(path, flags);
    if (e != want_errno)
        fail(what.empty() ? "" : what + ": ", "open(", path, ", ", flags_name(flags), ") gave ", errno_name(e),
             ", want ", errno_name(want_errno));
}

// ---- JSON -------------------------------------------------------------------

namespace {
struct Reader {
    const std::string& s;
    size_t i = 0;
    void ws() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    }
    bool eat(char c) {
        ws();
        if (i < s.size() && s[i] == c) {
            ++i;
            return true;
        }
        return false;
    }
    static void utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }
    std::optional<std::string> string() {
        ws();
        if (i >= s.size() || s[i] != '"') return std::nullopt;
        ++i;
        std::string out;
        while (i < s.size() && s[i] != '"') {
            char c = s[i++];
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i >= s.size()) return std::nullopt;
            char e = s[i++];
            switch (e) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'u': {
                    if (i + 4 > s.size()) return std::nullopt;
                    utf8(out, static_cast<unsigned>(std::stoul(s.substr(i, 4), nullptr, 16)));
                    i += 4;
                    break;
                }
                default: out += e; break;
            }
        }
        if (i >= s.size()) return std::nullopt;
        ++i;
        return out;
    }
    // Any value, as raw text (strings are handled by the caller).
    std::optional<std::string> raw() {
        ws();
        size_t start = i;
        int depth = 0;
        while (i < s.size()) {
            char c = s[i];
            if (c == '"') {
                if (!string()) return std::nullopt;
                continue;
            }
            if (c == '[' || c == '{') ++depth;
            if (c == ']' || c == '}') {
                if (depth == 0) break;
                --depth;
            }
            if (c == ',' && depth == 0) break;
            ++i;
        }
        if (depth != 0) return std::nullopt;
        std::string v = s.substr(start, i - start);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
        return v;
    }
};
}  // namespace

std::optional<Json> Json::parse(const std::string& line) {
    Json j;
    j.line_ = line;
    Reader r{line};
    if (!r.eat('{')) return std::nullopt;
    if (r.eat('}')) return j;
    for (;;) {
        auto key = r.string();
        if (!key || !r.eat(':')) return std::nullopt;
        r.ws();
        std::optional<std::string> value = (r.i < line.size() && line[r.i] == '"') ? r.string() : r.raw();
        if (!value) return std::nullopt;
        j.fields_[*key] = *value;
        if (r.eat(',')) continue;
        if (r.eat('}')) return j;
        return std::nullopt;
    }
}

std::string Json::str(const std::string& key) const {
    auto it = fields_.find(key);
    return it == fields_.end() ? std::string() : it->second;
}

long long Json::num(const std::string& key) const {
    auto it = fields_.find(key);
    if (it == fields_.end() || it->second.empty()) return -1;
    char* end = nullptr;
    long long v = std::strtoll(it->second.c_str(), &end, 10);
    return (end && *end == '\0') ? v : -1;
}

std::vector<std::string> Json::list(const std::string& key) const {
    std::vector<std::string> out;
    std::string raw = str(key);
    Reader r{raw};
    if (!r.eat('[')) return out;
    if (r.eat(']')) return out;
    for (;;) {
        auto v = r.string();
        if (!v) return out;
        out.push_back(*v);
        if (!r.eat(',')) return out;
    }
}

// ---- policies -----------------------------------------------------------------

int PolicyFile::line_of(const std::string& tag) const {
    int line = 1;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string l = text.substr(start, end - start);
        auto hash = l.find('#');
        if (hash != std::string::npos) {
            std::string comment = l.substr(hash + 1);
            while (!comment.empty() && comment.front() == ' ') comment.erase(0, 1);
            while (!comment.empty() && comment.back() == ' ') comment.pop_back();
            if (comment == tag) return line;
        }
        ++line;
        start = end + 1;
    }
    fail("test bug: no line tagged '# ", tag, "' in ", path);
}

std::string PolicyFile::rule(const std::string& tag) const { return cat(basename_of(path), ":", line_of(tag)); }

PolicyFile write_policy(const std::string& path, const std::string& text) {
    PolicyFile p;
    p.path = path;
    p.text = text;
    auto pos = text.find("name = \"");
    if (pos != std::string::npos) {
        pos += 8;
        p.name = text.substr(pos, text.find('"', pos) - pos);
    }
    write_file(path, text);
    return p;
}

// ---- bulwark ------------------------------------------------------------------

void require_bulwark() {
    if (access(kBulwark, X_OK) != 0)
        fail("bulwark missing: ", kBulwark, " is not in the initramfs (build/bulwark was not built when vm-tests/run made it)");
}

Bulwark::Bulwark(const RunOptions& opts) {
    require_bulwark();
    err_path_ = test_dir() + "/bulwark-" + std::to_string(getpid()) + "-" + std::to_string(rand()) + ".stderr";
    std::vector<std::string> args = {kBulwark, "run"};
    for (const auto& p : opts.policies) {
        args.push_back("--policy");
        args.push_back(p);
    }
    if (opts.audit) args.push_back("--audit");
    args.push_back("--events");
    args.push_back(opts.events);
    socket_ = opts.socket;
    if (!socket_.empty()) {
        args.push_back("--socket");
        args.push_back(socket_);
    }
    // No pins unless the test names a directory: a test that kills bulwark
    // must not leave its programs to the next test.
    bool own_pins = false;
    for (const auto& a : opts.extra) own_pins |= a == "--pin-dir";
    if (!own_pins) {
        args.push_back("--pin-dir");
        args.push_back("");
    }
    for (const auto& a : opts.extra) args.push_back(a);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) fail("pipe: ", errno_name(errno));
    int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (err < 0 || null < 0) fail("setup: cannot open ", err_path_, " or /dev/null");
    pid_ = fork();
    if (pid_ < 0) fail("fork: ", errno_name(errno));
    if (pid_ == 0) {
        dup2(null, 0);
        dup2(out[1], 1);
        dup2(err, 2);
        execv(kBulwark, argv.data());
        write_all(2, cat("exec ", kBulwark, ": ", strerror(errno), "\n"));
        _exit(127);
    }
    close(out[1]);
    close(err);
    close(null);
    out_ = out[0];
    pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
}

Bulwark::~Bulwark() {
    if (pid_ > 0 && !reaped_) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status_, 0);
    }
    if (out_ >= 0) close(out_);
    if (pidfd_ >= 0) close(pidfd_);
}

std::string Bulwark::stderr_all() const { return read_file(err_path_); }

std::string Bulwark::stderr_text() const {
    std::string s = read_file(err_path_);
    if (s.size() > 600) s = "..." + s.substr(s.size() - 600);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    for (char& c : s)
        if (c == '\n') c = '|';
    return s;
}

bool Bulwark::reap(int timeout_ms) {
    if (reaped_) return true;
    if (pidfd_ >= 0) {
        pollfd p{pidfd_, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0) return false;
    }
    if (waitpid(pid_, &status_, 0) == pid_) reaped_ = true;
    return reaped_;
}

std::string Bulwark::describe_exit() const {
    if (!reaped_) return "still running";
    if (WIFEXITED(status_)) return cat("exited with status ", WEXITSTATUS(status_));
    if (WIFSIGNALED(status_)) return cat("killed by signal ", WTERMSIG(status_));
    return "stopped";
}

std::optional<std::string> Bulwark::next_line(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        auto nl = buf_.find('\n');
        if (nl != std::string::npos) {
            std::string line = buf_.substr(0, nl);
            buf_.erase(0, nl + 1);
            note("bulwark> " + line);  // every line, for the serial log
            return line;
        }
        if (eof_) return std::nullopt;
        long long left = ms_left(deadline);
        if (left <= 0) return std::nullopt;
        pollfd p{out_, POLLIN, 0};
        int n = poll(&p, 1, static_cast<int>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::nullopt;
        char buf[8192];
        ssize_t r = read(out_, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            eof_ = true;
            continue;
        }
        buf_.append(buf, static_cast<size_t>(r));
    }
}

Json Bulwark::wait_ready(const std::vector<std::string>& policies, const std::string& mode) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kReadyTimeoutMs);
    for (;;) {
        long long left = ms_left(deadline);
        auto line = left > 0 ? next_line(static_cast<int>(left)) : std::nullopt;
        if (!line) {
            if (eof_) {
                reap(5000);
                fail("bulwark ", describe_exit(), " before its ready line; stderr: ", stderr_text());
            }
            fail("no ready line within ", kReadyTimeoutMs / 1000, " s; stderr: ", stderr_text());
        }
        auto j = Json::parse(*line);
        if (!j) fail("bulwark printed a line that is not a JSON object before ready: ", *line);
        if (j->str("type") != "ready") {
            if (j->str("type") == "verdict") fail("verdict event before the ready line: ", *line);
            continue;
        }
        std::string why;
        if (j->num("generation") != 1) why += cat("generation ", j->str("generation"), " (want 1); ");
        if (j->str("mode") != mode) why += cat("mode '", j->str("mode"), "' (want ", mode, "); ");
        auto got = j->list("policies");
        for (const auto& p : policies) {
            bool found = false;
            for (const auto& g : got) found = found || g == p;
            if (!found) why += cat("policy '", p, "' not listed; ");
        }
        if (got.size() != policies.size()) why += cat(got.size(), " policies listed (want ", policies.size(), "); ");
        bool file_open = false;
        for (const auto& g : j->list("programs")) file_open = file_open || g == "file_open";
        if (!file_open) why += "programs lack file_open; ";
        if (!why.empty()) fail("ready line: ", why, "line: ", *line);
        note(cat("ready after ", kReadyTimeoutMs - ms_left(deadline), " ms"));
        return *j;
    }
}

Json Bulwark::next_verdict(const std::string& after, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        long long left = ms_left(deadline);
        auto line = left > 0 ? next_line(static_cast<int>(left)) : std::nullopt;
        if (!line) {
            if (eof_) {
                reap(5000);
                fail("no event after ", after, ": bulwark ", describe_exit(), "; stderr: ", stderr_text());
            }
            fail("no event within ", timeout_ms, " ms after ", after);
        }
        auto j = Json::parse(*line);
        if (!j) fail("bulwark printed a line that is not a JSON object: ", *line);
        if (j->str("type") == "verdict") return *j;
        others_.push_back(*line);
    }
}

int Bulwark::finish(const char* how) {
    // Bounded: kStopTimeoutMs without a line (a hung bulwark), ten times
    // that in all. Not a bound on a long but flowing output: every line is
    // also copied to the slow serial console.
    const auto now = std::chrono::steady_clock::now();
    const auto cap = now + std::chrono::milliseconds(10 * kStopTimeoutMs);
    auto deadline = now + std::chrono::milliseconds(kStopTimeoutMs);
    for (;;) {  // what is buffered (read while a command ran), then the rest
        long long left = ms_left(std::min(deadline, cap));
        if (left <= 0) break;
        auto line = next_line(static_cast<int>(left));
        if (line) {
            tail_.push_back(*line);
            deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kStopTimeoutMs);
        } else if (eof_) {
            break;
        }
    }
    deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kStopTimeoutMs);
    long long left = ms_left(deadline);
    if (!reap(static_cast<int>(left > 0 ? left : 0))) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status_, 0);
        reaped_ = true;
        fail("bulwark did not exit within ", kStopTimeoutMs / 1000, " s of ", how, " (killed); stderr: ", stderr_text());
    }
    return status_;
}

int Bulwark::stop() {
    if (reaped_) return status_;
    kill(pid_, SIGTERM);
    return finish("SIGTERM");
}

int Bulwark::stop_by_command() {
    if (reaped_) return status_;
    CommandResult r = control("stop");
    if (!r.exited_with(0)) {
        stop();
        fail("bulwark stop: ", r.describe(), "; bulwark's stderr: ", stderr_text());
    }
    if (r.out.find("stopped") == std::string::npos) fail("bulwark stop said: ", r.out);
    return finish("bulwark stop");
}

bool Bulwark::fill(int timeout_ms) {
    if (eof_) return false;
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return false;
    char buf[65536];
    ssize_t r = read(out_, buf, sizeof buf);
    if (r == 0) eof_ = true;
    if (r > 0) buf_.append(buf, static_cast<size_t>(r));
    return r > 0;
}

CommandResult Bulwark::control(const std::string& command, const std::vector<std::string>& args, int timeout_ms) {
    std::vector<std::string> all = {command};
    all.insert(all.end(), args.begin(), args.end());
    if (!socket_.empty()) {
        all.push_back("--socket");
        all.push_back(socket_);
    }
    // While the command runs, this bulwark's output is read (a full pipe
    // would stall bulwark's writer, and `stop` waits for it to exit).
    return run_command(all, timeout_ms, -1, [this] {
        if (!fill(20) && eof_) poll(nullptr, 0, 20);
    });
}

Json Bulwark::next_of_type(const std::string& type, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        long long left = ms_left(deadline);
        auto line = left > 0 ? next_line(static_cast<int>(left)) : std::nullopt;
        if (!line) fail("no \"", type, "\" line within ", timeout_ms / 1000, " s; stderr: ", stderr_text());
        auto j = Json::parse(*line);
        if (j && j->str("type") == type) return *j;
        others_.push_back(*line);
    }
}

int Bulwark::wait_exit(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!eof_) {
        long long left = ms_left(deadline);
        if (left <= 0) break;
        auto line = next_line(static_cast<int>(left));
        if (line) tail_.push_back(*line);
    }
    long long left = ms_left(deadline);
    if (!reap(static_cast<int>(left > 0 ? left : 0))) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status_, 0);
        reaped_ = true;
        fail("bulwark still running after ", timeout_ms / 1000, " s (killed); stderr: ", stderr_text());
    }
    return status_;
}

void Bulwark::stop_and_check(StopBy by) {
    const char* how = by == StopBy::command ? "bulwark stop" : "SIGTERM";
    int st = by == StopBy::command ? stop_by_command() : stop();
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail("after ", how, " bulwark ", describe_exit(), " (want exit 0); stderr: ", stderr_text());
    bool stats = false;
    for (const auto& l : tail_) {
        auto j = Json::parse(l);
        if (j && j->str("type") == "stats") stats = true;
        if (j && j->str("type") == "verdict") fail("unexpected event after the test's operations: ", l);
    }
    if (!stats) fail("no {\"type\":\"stats\"} line after ", how, " (got ", tail_.size(), " lines)");
}

// ---- expectations -------------------------------------------------------------

Expect expect_self(const std::string& verdict, const std::string& policy, const std::string& rule,
                   const std::string& path, const std::string& access) {
    Expect e;
    e.verdict = verdict;
    e.policy = policy;
    e.rule = rule;
    e.paths = {path};
    e.access = access;
    e.pid = getpid();
    e.tid = static_cast<pid_t>(syscall(SYS_gettid));
    e.ppid = getppid();
    e.uid = getuid();
    e.comm = comm_self();
    return e;
}

void check_event(const Json& ev, const Expect& want) {
    std::string why;
    auto field = [&](const char* key, const std::string& expected) {
        if (ev.str(key) != expected) why += cat(key, "='", ev.str(key), "' want '", expected, "'; ");
    };
    auto number = [&](const char* key, long long expected) {
        if (expected >= 0 && ev.num(key) != expected) why += cat(key, "=", ev.str(key), " want ", expected, "; ");
    };
    field("type", "verdict");
    field("kind", "file");
    field("verdict", want.verdict);
    field("policy", want.policy);
    field("rule", want.rule);
    bool path_ok = false;
    std::string wanted;
    for (const auto& p : want.paths) {
        path_ok = path_ok || ev.str("path") == p;
        wanted += (wanted.empty() ? "'" : " or '") + p + "'";
    }
    if (!path_ok) why += cat("path='", ev.str("path"), "' want ", wanted, "; ");
    field("access", want.access);
    number("pid", want.pid);
    number("tid", want.tid);
    number("ppid", want.ppid);
    number("uid", want.uid);
    if (!want.comm.empty()) field("comm", want.comm);
    if (want.cgroup) field("cgroup", *want.cgroup);
    std::string time = ev.str("time");
    if (time.size() < 20 || time.back() != 'Z') why += cat("time='", time, "' is not an RFC 3339 UTC time; ");
    if (!why.empty()) fail("event: ", why, "line: ", ev.line());
}

// ---- fixture ------------------------------------------------------------------

Fixture::Fixture() : dir(test_dir()), data(dir + "/data"), pol(dir + "/pol"), marker(dir + "/marker") {
    make_dirs(data);
    make_dirs(pol);
    write_file(marker, "marker\n");
    marker_policy = write_policy(pol + "/marker.toml",
                                 "[policy]\n"
                                 "name = \"marker\"\n"
                                 "\n"
                                 "[[file]] # marker\n"
                                 "paths = [\"" + marker + "\"]\n"
                                 "action = \"deny\"\n");
}

void Fixture::no_event_for(Bulwark& bw, const std::string& what, bool audit) const {
    int e = open_errno(marker, O_RDONLY);
    int want = audit ? 0 : EPERM;
    if (e != want) fail("marker open gave ", errno_name(e), ", want ", errno_name(want), " (checking silence after ", what, ")");
    Json ev = bw.next_verdict("the marker open");
    if (ev.str("path") != marker) fail("expected no event for ", what, ", got: ", ev.line());
    check_event(ev, expect_self(audit ? "would-deny" : "deny", "marker", marker_policy.rule("marker"), marker, "read"));
}

// ---- commands -------------------------------------------------------------------

std::string CommandResult::describe() const {
    std::string e = err;
    while (!e.empty() && e.back() == '\n') e.pop_back();
    for (char& c : e)
        if (c == '\n') c = '|';
    if (WIFEXITED(status)) return cat("exit ", WEXITSTATUS(status), ": ", e);
    return cat("wait status ", status, ": ", e);
}

CommandResult run_command(const std::vector<std::string>& args, int timeout_ms, int uid,
                          const std::function<void()>& pump) {
    require_bulwark();
    static int n = 0;
    const std::string base = cat(test_dir(), "/cmd-", getpid(), "-", ++n);
    std::vector<std::string> argv_s = {kBulwark};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out = open((base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = open((base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0 || err < 0) fail("cannot create ", base, ".out/.err");
    pid_t pid = fork();
    if (pid < 0) fail("fork: ", errno_name(errno));
    if (pid == 0) {
        dup2(out, 1);
        dup2(err, 2);
        if (uid >= 0 && (setgid(static_cast<gid_t>(uid)) != 0 || setuid(static_cast<uid_t>(uid)) != 0)) _exit(126);
        execv(kBulwark, argv.data());
        _exit(127);
    }
    close(out);
    close(err);
    CommandResult r;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        pid_t got = waitpid(pid, &r.status, WNOHANG);
        if (got == pid) break;
        if (ms_left(deadline) <= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &r.status, 0);
            fail("bulwark ", args.empty() ? "" : args[0], " still running after ", timeout_ms / 1000, " s (killed)");
        }
        if (pump)
            pump();
        else
            poll(nullptr, 0, 10);
    }
    r.out = read_file(base + ".out");
    r.err = read_file(base + ".err");
    note(cat("$ bulwark", [&] { std::string a; for (const auto& s : args) a += " " + s; return a; }(), " -> ",
             r.describe(), " | ", r.out));
    return r;
}

CommandResult run_bulwark(const std::vector<std::string>& args, int timeout_ms, int uid) {
    return run_command(args, timeout_ms, uid, nullptr);
}

NotifySocket::NotifySocket() {
    path = test_dir() + "/notify.sock";
    ::unlink(path.c_str());  // an earlier socket's name, in a test that starts bulwark twice
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) fail("notify socket: ", errno_name(errno));
    setenv("NOTIFY_SOCKET", path.c_str(), 1);
}

NotifySocket::~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    if (fd >= 0) close(fd);
    ::unlink(path.c_str());
}

std::string NotifySocket::next(int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return "";
    char buf[512] = {};
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// ---- forked helpers -----------------------------------------------------------

ChildResult run_child(const std::function<int()>& body) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) fail("pipe: ", errno_name(errno));
    pid_t pid = fork();
    if (pid < 0) fail("fork: ", errno_name(errno));
    if (pid == 0) {
        close(pipefd[0]);
        prctl(PR_SET_NAME, "bwt-child", 0, 0, 0);
        int code = 255;
        try {
            code = body();
        } catch (const std::exception& e) {
            write_all(pipefd[1], e.what());
            code = 250;
        }
        _exit(code);
    }
    close(pipefd[1]);
    ChildResult r;
    r.pid = pid;
    int status = 0;
    // The child only runs a few syscalls; the runner's per-test timeout bounds it.
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    char buf[2048];
    ssize_t n;
    while ((n = read(pipefd[0], buf, sizeof buf)) > 0) r.error.append(buf, static_cast<size_t>(n));
    close(pipefd[0]);
    if (WIFSIGNALED(status)) {
        r.error = cat("child killed by signal ", WTERMSIG(status));
    } else {
        r.code = WEXITSTATUS(status);
        if (r.code == 250 && r.error.empty()) r.error = "child failed";
        if (r.code != 250) r.error.clear();
    }
    if (!r.error.empty()) fail("in forked child: ", r.error);
    return r;
}


// ---- cgroups and the self-protection policy ----------------------------------

ScopedCgroup::ScopedCgroup(const std::string& n) : name(n), path("/sys/fs/cgroup/" + n) {
    if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) fail("mkdir ", path, ": ", errno_name(errno));
}

ScopedCgroup::~ScopedCgroup() { rmdir(path.c_str()); }

void ScopedCgroup::enter() const { write_file(path + "/cgroup.procs", "0\n"); }

PolicyFile guard_policy(const std::string& dir, const ScopedCgroup& cg, const std::string& secret, bool audit) {
    make_dirs(dir);
    return write_policy(dir + "/guard.toml", cat("[policy]\nname = \"guard\" # policy\nmode = \"",
                                                 audit ? "audit" : "enforce", "\"\n\n[scope]\ncgroup = [\"", cg.name,
                                                 "\"]\n\n[[file]] # deny\npaths = [\"", secret,
                                                 "\"]\naction = \"deny\"\n"));
}

std::vector<std::string> files_in(const std::string& dir) {
    std::vector<std::string> out;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d))
            if (e->d_name[0] != '.') out.push_back(dir + "/" + e->d_name);
        closedir(d);
    }
    return out;
}

Bpffs::Bpffs(const std::string& d) : dir(d) {
    require(mkdir(dir.c_str(), 0700) == 0 && mount("bpf", dir.c_str(), "bpf", 0, nullptr) == 0, "mount bpffs: ",
            errno_name(errno));
}

Bpffs::~Bpffs() { umount2(dir.c_str(), MNT_DETACH); }

TamperCheck::TamperCheck(const Json& ev, const std::string& verdict, const PolicyFile& guard, const std::string& op,
                         pid_t pid)
    : ev_(ev) {
    field("type", "verdict").field("kind", "tamper").field("verdict", verdict).field("policy", "guard");
    field("rule", guard.rule("policy")).field("op", op).number("pid", pid);
}

TamperCheck& TamperCheck::field(const char* key, const std::string& want) {
    if (ev_.str(key) != want) why_ += cat(key, "='", ev_.str(key), "' want '", want, "'; ");
    return *this;
}

TamperCheck& TamperCheck::number(const char* key, long long want) {
    if (ev_.num(key) != want) why_ += cat(key, "=", ev_.str(key), " want ", want, "; ");
    return *this;
}

void TamperCheck::done(const std::string& what) const {
    if (!why_.empty()) fail("tamper event for ", what, ": ", why_, "line: ", ev_.line());
}

void expect_next_denial(Bulwark& bw, const ScopedCgroup& cg, const std::string& secret, const std::string& after) {
    auto again = run_child([&] {
        cg.enter();
        return open_errno(secret, O_RDONLY);
    });
    require(again.code == EPERM, "in scope, later: open(secret) gave ", errno_name(again.code));
    Json next = bw.next_verdict("the open after " + after);
    require(next.str("kind") == "file" && next.num("pid") == again.pid,
            "an event for what a process outside every scope did: ", next.line());
}

// The last stats line bulwark wrote as it stopped.
Json final_stats(const Bulwark& bw) {
    std::optional<Json> last;
    for (const auto& l : bw.tail_lines())
        if (auto j = Json::parse(l); j && j->str("type") == "stats") last = *j;
    if (!last) fail("no stats line after stop");
    return *last;
}

void load_module(const std::string& name, const std::function<bool()>& present) {
    if (present()) return;
    utsname u{};
    uname(&u);
    const std::string ko = cat("/lib/modules/", u.release, "/", name, ".ko");
    int fd = open(ko.c_str(), O_RDONLY | O_CLOEXEC);
    require(fd >= 0, "open(", ko, "): ", errno_name(errno), " (vm-tests/lib.sh vmt_fetch_modules)");
    long rc = syscall(SYS_finit_module, fd, "", 0);
    int e = errno;
    close(fd);
    require(rc == 0 || e == EEXIST, "finit_module(", ko, "): ", errno_name(e));
}

}  // namespace guest
