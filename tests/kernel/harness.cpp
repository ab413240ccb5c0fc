#include "harness.hpp"

#include "compile/system_view.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace bulwark::test {

// ---------------------------------------------------------------------------
// JSON

namespace {

struct Reader {
    const std::string& s;
    size_t i = 0;
    void ws()
    {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
    }
    bool eat(char c)
    {
        ws();
        if (i < s.size() && s[i] == c) {
            ++i;
            return true;
        }
        return false;
    }
    std::optional<std::string> string()
    {
        if (!eat('"')) return std::nullopt;
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
            case 'u': {
                if (i + 4 > s.size()) return std::nullopt;
                out += static_cast<char>(std::stoi(s.substr(i, 4), nullptr, 16));  // bulwark escapes bytes only
                i += 4;
                break;
            }
            default: out += e;
            }
        }
        if (i >= s.size()) return std::nullopt;
        ++i;
        return out;
    }
};

}  // namespace

std::optional<Json> Json::parse(const std::string& line)
{
    Json j;
    j.text_ = line;
    Reader r{line};
    if (!r.eat('{')) return std::nullopt;
    if (r.eat('}')) return j;
    do {
        auto key = r.string();
        if (!key || !r.eat(':')) return std::nullopt;
        r.ws();
        if (r.i >= line.size()) return std::nullopt;
        const char c = line[r.i];
        if (c == '"') {
            auto v = r.string();
            if (!v) return std::nullopt;
            j.fields_[*key] = *v;
        } else if (c == '{') {
            // One level of strings (the ready line's "backends"): "key.sub".
            ++r.i;
            if (!r.eat('}')) {
                do {
                    auto sub = r.string();
                    if (!sub || !r.eat(':')) return std::nullopt;
                    r.ws();
                    auto v = r.string();
                    if (!v) return std::nullopt;
                    j.fields_[*key + "." + *sub] = *v;
                } while (r.eat(','));
                if (!r.eat('}')) return std::nullopt;
            }
        } else if (c == '[') {
            ++r.i;
            std::vector<std::string> items;
            if (!r.eat(']')) {
                do {
                    auto v = r.string();
                    if (!v) return std::nullopt;
                    items.push_back(*v);
                } while (r.eat(','));
                if (!r.eat(']')) return std::nullopt;
            }
            j.fields_[*key] = items;
        } else if (line.compare(r.i, 4, "true") == 0) {
            r.i += 4;
            j.fields_[*key] = true;
        } else if (line.compare(r.i, 5, "false") == 0) {
            r.i += 5;
            j.fields_[*key] = false;
        } else {
            size_t end = r.i;
            while (end < line.size() && (line[end] == '-' || (line[end] >= '0' && line[end] <= '9'))) ++end;
            if (end == r.i) return std::nullopt;
            j.fields_[*key] = static_cast<int64_t>(std::stoll(line.substr(r.i, end - r.i)));
            r.i = end;
        }
    } while (r.eat(','));
    if (!r.eat('}')) return std::nullopt;
    return j;
}

std::string Json::str(const std::string& key) const
{
    auto it = fields_.find(key);
    if (it == fields_.end()) return "";
    const auto* v = std::get_if<std::string>(&it->second);
    return v ? *v : "";
}

int64_t Json::num(const std::string& key) const
{
    auto it = fields_.find(key);
    if (it == fields_.end()) return -1;
    const auto* v = std::get_if<int64_t>(&it->second);
    return v ? *v : -1;
}

bool Json::flag(const std::string& key) const
{
    auto it = fields_.find(key);
    if (it == fields_.end()) return false;
    const auto* v = std::get_if<bool>(&it->second);
    return v && *v;
}

std::vector<std::string> Json::list(const std::string& key) const
{
    auto it = fields_.find(key);
    if (it == fields_.end()) return {};
    const auto* v = std::get_if<std::vector<std::string>>(&it->second);
    return v ? *v : std::vector<std::string>{};
}

// ---------------------------------------------------------------------------
// cgroup and directories

TestCgroup::TestCgroup()
{
    const auto mount = RealSystem().cgroup2_mount();
    if (!mount) throw std::runtime_error("cgroup v2 is not mounted");
    static int counter = 0;
    name_ = "/bulwark-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    dir_ = *mount + name_;
    if (::mkdir(dir_.c_str(), 0755) != 0)
        throw std::runtime_error("cannot create " + dir_ + ": " + std::strerror(errno));
}

TestCgroup::~TestCgroup()
{
    // Empty once the test's processes are reaped; rmdir of a cgroup
    // directory removes its interface files with it.
    if (::rmdir(dir_.c_str()) != 0) MESSAGE("cannot remove test cgroup " << dir_ << ": " << std::strerror(errno));
}

void TestCgroup::add(pid_t pid) const
{
    std::ofstream procs(dir_ + "/cgroup.procs");
    procs << pid << std::flush;
    if (!procs) throw std::runtime_error("cannot move " + std::to_string(pid) + " into " + dir_);
}

TempDir::TempDir()
{
    std::string tmpl = "/tmp/bulwark-ktest-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir()
{
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

namespace {

std::string write_file(const std::string& p, const std::string& text, int mode)
{
    {
        std::ofstream out(p);
        out << text;
    }
    ::chmod(p.c_str(), static_cast<mode_t>(mode));
    return p;
}

}  // namespace

std::string TempDir::write(const std::string& name, const std::string& text, int mode) const
{
    return write_file(path_ + "/" + name, text, mode);
}

Tmpfs::Tmpfs(const TempDir& dir) : path_(dir.path() + "/fs")
{
    REQUIRE(::mkdir(path_.c_str(), 0755) == 0);
    REQUIRE(::mount("bulwark-test", path_.c_str(), "tmpfs", 0, "size=64m,mode=0755") == 0);
}

Tmpfs::~Tmpfs()
{
    for (auto it = binds_.rbegin(); it != binds_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    ::umount2(path_.c_str(), MNT_DETACH);
}

std::string Tmpfs::write(const std::string& name, const std::string& text, int mode) const
{
    return write_file(path_ + "/" + name, text, mode);
}

std::string Tmpfs::mkdir(const std::string& name) const
{
    const std::string p = path_ + "/" + name;
    ::mkdir(p.c_str(), 0755);
    return p;
}

std::string Tmpfs::copy_program(const std::string& from, const std::string& name) const
{
    std::ifstream in(from, std::ios::binary);
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << in.rdbuf();
    ::chmod(p.c_str(), 0755);
    return p;
}

std::string Tmpfs::bind(const std::string& target, const std::string& name)
{
    const std::string p = write(name, "");
    REQUIRE(::mount(target.c_str(), p.c_str(), nullptr, MS_BIND, nullptr) == 0);
    binds_.push_back(p);
    return p;
}

Bpffs::Bpffs(const TempDir& dir) : path_(dir.path() + "/bpf")
{
    REQUIRE(::mkdir(path_.c_str(), 0700) == 0);
    REQUIRE(::mount("bpf", path_.c_str(), "bpf", 0, nullptr) == 0);
}

Bpffs::~Bpffs()
{
    ::umount2(path_.c_str(), MNT_DETACH);
}

// ---------------------------------------------------------------------------
// children

namespace {
int g_go_fd = -1;  // in a child: the read end of its go() pipe
}

// The child says when it is about to block: glibc's own work after fork
// (set_robust_list, ...) is done by then, so all the test moves into a
// cgroup is that read(2) and what `body` does.
Child::Child(std::function<int()> body)
{
    int rel[2], go[2], ready[2];
    if (::pipe2(rel, O_CLOEXEC) != 0 || ::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(ready, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        char c = 'r';
        ::close(rel[1]);
        ::close(go[1]);
        ::close(ready[0]);
        g_go_fd = go[0];
        if (::syscall(SYS_write, ready[1], &c, 1) != 1) ::_exit(119);
        if (::syscall(SYS_read, rel[0], &c, 1) != 1) ::_exit(120);
        ::_exit(body());
    }
    ::close(rel[0]);
    ::close(go[0]);
    ::close(ready[1]);
    release_fd_ = rel[1];
    go_fd_ = go[1];
    char c;
    const bool ok = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
    if (!ok) throw std::runtime_error("child did not start");
}

Child::~Child()
{
    if (release_fd_ >= 0) ::close(release_fd_);
    if (go_fd_ >= 0) ::close(go_fd_);
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);  // our own child, by pid
        int st;
        ::waitpid(pid_, &st, 0);
    }
}

void Child::release()
{
    if (::write(release_fd_, "x", 1) != 1) throw std::runtime_error("cannot release child");
}

void Child::go()
{
    if (::write(go_fd_, "x", 1) != 1) throw std::runtime_error("cannot signal child");
}

void Child::wait_go()
{
    char c;
    if (::syscall(SYS_read, g_go_fd, &c, 1) != 1) ::_exit(121);
}

int Child::wait()
{
    int st = 0;
    if (::waitpid(pid_, &st, 0) != pid_) throw std::runtime_error("waitpid failed");
    reaped_ = true;
    return st;
}

// ---------------------------------------------------------------------------
// bulwark run

std::string bulwark_binary()
{
    if (const char* env = std::getenv("BULWARK_BIN")) return env;
    return BULWARK_BINARY;
}

std::string self_exe()
{
    char buf[PATH_MAX] = {};
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

Bulwark::Bulwark(const std::vector<std::string>& policies, const std::vector<std::string>& extra)
{
    static int instances = 0;
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> args{bulwark_binary(), "run", "--events", "-", "--ring-buffer-mb", "1"};
    // A control socket of its own, never the host's /run/bulwark: other
    // bulwarks (other tests, another checkout's) may run at the same time.
    bool own_socket = false;
    for (const auto& e : extra) own_socket |= e == "--socket";
    if (!own_socket) {
        args.push_back("--socket");
        args.push_back("/tmp/bulwark-kernel-test-" + std::to_string(::getpid()) + "-" +
                       std::to_string(++instances) + ".sock");
    }
    // No pins unless the test asks for a directory of its own: nothing is
    // ever pinned on the host outside a test's temporary bpffs.
    bool own_pins = false;
    for (const auto& e : extra) own_pins |= e == "--pin-dir";
    if (!own_pins) {
        args.push_back("--pin-dir");
        args.push_back("");
    }
    for (const auto& p : policies) {
        args.push_back("--policy");
        args.push_back(p);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        // A bulwark that outlives a killed test could hold permission
        // events (fanotify) unanswered: it dies with the test.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
}

Bulwark::~Bulwark()
{
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGTERM);  // our own child, by pid: it detaches and exits
        int st;
        ::waitpid(pid_, &st, 0);
    }
    if (out_ >= 0) ::close(out_);
    if (err_ >= 0) ::close(err_);
}

const std::string& Bulwark::errors()
{
    char buf[4096];
    for (;;) {
        pollfd p{err_, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) break;
        ssize_t n = ::read(err_, buf, sizeof buf);
        if (n <= 0) break;
        err_text_.append(buf, static_cast<size_t>(n));
    }
    return err_text_;
}

// One line from stdout, waiting at most `timeout_ms` (a bound for a broken
// run, not a delay: lines arrive as soon as bulwark writes them).
bool Bulwark::read_line(std::string& line, int timeout_ms)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        size_t nl = out_buf_.find('\n');
        if (nl != std::string::npos) {
            line = out_buf_.substr(0, nl);
            out_buf_.erase(0, nl + 1);
            return true;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
        if (::poll(p, 2, static_cast<int>(left.count())) <= 0) continue;
        if (p[1].revents & POLLIN) errors();
        if (p[0].revents & (POLLIN | POLLHUP)) {
            char buf[65536];
            ssize_t n = ::read(out_, buf, sizeof buf);
            if (n <= 0) return false;  // EOF
            out_buf_.append(buf, static_cast<size_t>(n));
        }
    }
}

std::optional<Json> Bulwark::wait_ready()
{
    std::string line;
    while (read_line(line, 30000)) {
        auto j = Json::parse(line);
        if (!j) continue;
        if (j->str("type") == "ready") return j;
        early_.push_back(*j);
    }
    return std::nullopt;
}

std::vector<Json> Bulwark::stop(int* status)
{
    ::kill(pid_, SIGTERM);
    std::vector<Json> out = early_;
    std::string line;
    while (read_line(line, 30000)) {
        if (auto j = Json::parse(line)) out.push_back(*j);
        else FAIL_CHECK("not a JSON line: " << line);
    }
    int st = 0;
    ::waitpid(pid_, &st, 0);
    reaped_ = true;
    if (status) *status = st;
    errors();
    return out;
}

int Bulwark::wait_exit()
{
    std::string line;
    while (read_line(line, 30000)) {
    }
    int st = 0;
    ::waitpid(pid_, &st, 0);
    reaped_ = true;
    errors();
    return st;
}

std::string scoped_policy(const std::string& name, const TestCgroup& cg, const std::string& body,
                          const std::string& mode, const std::string& extra_scope)
{
    return "[policy]\nname = \"" + name + "\"\nmode = \"" + mode + "\"\n\n[scope]\ncgroup = [\"" + cg.name() +
           "\"]\n" + extra_scope + "\n" + body;
}

int line_of(const std::string& text, const std::string& needle)
{
    const size_t at = text.find(needle);
    REQUIRE(at != std::string::npos);
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

std::vector<Json> verdicts(const std::vector<Json>& events)
{
    std::vector<Json> out;
    for (const auto& e : events)
        if (e.str("type") == "verdict") out.push_back(e);
    return out;
}

bool exited_ok(int st) { return WIFEXITED(st) && WEXITSTATUS(st) == 0; }

int in_child(const TestCgroup* cg, std::function<int()> body, int uid)
{
    Child c([body = std::move(body), uid] {
        if (uid >= 0 && ::syscall(SYS_setresuid, uid, uid, uid) != 0) return 100;
        return body();
    });
    if (cg) cg->add(c.pid());
    c.release();
    return c.wait();
}

pid_t run_placed(const TestCgroup* cg, std::function<int()> body)
{
    Child c(std::move(body));
    if (cg) cg->add(c.pid());
    c.release();
    CHECK(exited_ok(c.wait()));
    return c.pid();
}

void check_errnos(const Errnos* got, const int* want, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        CHECK(got->err[i] == want[i]);
    }
}

bool has_keys_in_order(const Json& e, const std::vector<std::string>& keys)
{
    size_t at = 0;
    for (const auto& k : keys) {
        const size_t p = e.text().find("\"" + k + "\":", at);
        if (p == std::string::npos) return false;
        at = p;
    }
    return true;
}

Errnos* shared_errnos()
{
    void* p = ::mmap(nullptr, sizeof(Errnos), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    auto* e = static_cast<Errnos*>(p);
    std::fill(std::begin(e->err), std::end(e->err), -99);
    return e;
}

std::vector<Json> monitor_events(const std::vector<Json>& events, const std::string& monitor)
{
    std::vector<Json> out;
    for (const auto& e : events)
        if (e.str("type") == "monitor" && (monitor.empty() || e.str("monitor") == monitor)) out.push_back(e);
    return out;
}

const Json* stats_of(const std::vector<Json>& events)
{
    for (const auto& e : events)
        if (e.str("type") == "stats") return &e;
    return nullptr;
}

int connect_in(const TestCgroup& cg, const char* addr)
{
    auto* err = static_cast<int*>(::mmap(nullptr, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    REQUIRE(err != MAP_FAILED);
    *err = -1;
    Child c([err, addr] {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(9);
        inet_pton(AF_INET, addr, &a.sin_addr);
        *err = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : errno;
        return 0;
    });
    cg.add(c.pid());
    c.release();
    c.wait();
    const int e = *err;
    ::munmap(err, sizeof(int));
    return e;
}

std::string command_output(const std::string& command, int* status)
{
    FILE* p = ::popen(command.c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    *status = ::pclose(p);
    return out;
}

}  // namespace bulwark::test
