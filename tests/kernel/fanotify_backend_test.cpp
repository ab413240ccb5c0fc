// Host kernel tests (root) of the fanotify backend: `bulwark run` on this
// host (which refuses BPF-LSM) with [[file]] and [[exec]] rules scoped to
// a cgroup the test creates, on a tmpfs the test mounts — the only
// filesystem bulwark marks, so no other open on the host waits for it.
// Children of the test, moved into the cgroup or left outside, make the
// calls and record each errno in shared memory; the test checks the
// errno, the verdict events and the counters. Every bulwark dies with the
// test (PR_SET_PDEATHSIG), and the kernel lets every waiting open through
// when its fanotify group closes, so no failure can hang the host.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <set>

using namespace bulwark::test;

namespace {

constexpr int kOk = 0;
constexpr int kNotRun = -99;

// open(2) with `flags`: kOk or the errno.
int open_errno(const char* path, int flags)
{
    const int fd = ::open(path, flags | O_CLOEXEC);
    if (fd < 0) return errno;
    ::close(fd);
    return kOk;
}

// execve(2) of `path` in a child placed in `cg` (or not): kOk when the
// program ran and exited 0, else the errno execve failed with.
int exec_errno(const TestCgroup* cg, const std::string& path, Errnos* res, int slot)
{
    res->err[slot] = kNotRun;
    const int st = in_child(cg, [&path, res, slot] {
        char* const argv[] = {const_cast<char*>(path.c_str()), nullptr};
        char* const envp[] = {nullptr};
        ::execve(path.c_str(), argv, envp);
        res->err[slot] = errno;
        return 0;
    });
    if (res->err[slot] != kNotRun) return res->err[slot];
    return exited_ok(st) ? kOk : -1;
}

// The keys of a file verdict event, as the LSM backend writes them
// (engine/events/file_decoder.cpp decodes both backends' records).
const std::vector<std::string> kFileKeys{"type", "time", "kind", "verdict", "policy", "rule", "pid", "tid",
                                         "ppid", "uid", "comm", "exe", "cgroup", "op", "path", "access"};

}  // namespace

TEST_CASE("fanotify backend: a read rule denies every name of the file in the cgroup only, with EPERM, "
          "events and counters")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    Tmpfs fs(tmp);
    const std::string secret = fs.write("secret", "s3cret\n");
    const std::string other = fs.write("other", "public\n");
    fs.mkdir("dir");
    REQUIRE(::symlink(secret.c_str(), (fs.path() + "/link").c_str()) == 0);
    REQUIRE(::link(secret.c_str(), (fs.path() + "/hard").c_str()) == 0);
    const std::string bound = fs.bind(secret, "bound");
    const std::string text = scoped_policy("secrets", cg, "[[file]]\npaths = [\"" + secret +
                                                       "\"]\naccess = [\"read\"]\naction = \"deny\"\n");
    const std::string file = tmp.write("secrets.toml", text);
    const std::string rule = "secrets.toml:" + std::to_string(line_of(text, "[[file]]"));
    Errnos* res = shared_errnos();
    const std::string dotdot = fs.path() + "/dir/../secret";
    const std::string link = fs.path() + "/link", hard = fs.path() + "/hard";

    auto ops = [&, res] {
        int* e = res->err;
        e[0] = open_errno(secret.c_str(), O_RDONLY);   // deny
        e[1] = open_errno(link.c_str(), O_RDONLY);     // deny: the symlink's target
        e[2] = open_errno(dotdot.c_str(), O_RDONLY);   // deny: ".."
        e[3] = open_errno(hard.c_str(), O_RDONLY);     // deny: another name, one inode
        e[4] = open_errno(bound.c_str(), O_RDONLY);    // deny: a bind mount of it
        const int path_fd = ::open(secret.c_str(), O_PATH | O_CLOEXEC);
        char proc[64];
        ::snprintf(proc, sizeof proc, "/proc/self/fd/%d", path_fd);
        e[5] = path_fd < 0 ? -1 : open_errno(proc, O_RDONLY);  // deny: reopened through /proc
        e[6] = open_errno(secret.c_str(), O_WRONLY);   // a read rule: writing is not its business
        e[7] = open_errno(other.c_str(), O_RDONLY);    // another file
        e[8] = open_errno(secret.c_str(), O_RDWR);     // deny: reads too
        return 0;
    };
    const int want_inside[] = {EPERM, EPERM, EPERM, EPERM, EPERM, EPERM, kOk, kOk, EPERM};

    Bulwark bw({file});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);
    CHECK(ready->str("mode") == "enforce");
    CHECK(ready->str("backends.file") == "fanotify");
    CHECK(ready->str("backends.exec") == "fanotify");

    const pid_t inside = run_placed(&cg, ops);
    check_errnos(res, want_inside, std::size(want_inside));
    // Outside the cgroup nothing is denied or reported.
    run_placed(nullptr, ops);
    const int want_outside[std::size(want_inside)] = {};
    check_errnos(res, want_outside, std::size(want_outside));

    int st = 0;
    auto events = bw.stop(&st);
    CHECK(exited_ok(st));
    const auto got = verdicts(events);
    REQUIRE(got.size() == 7);
    for (const auto& e : got) {
        CAPTURE(e.text());
        CHECK(has_keys_in_order(e, kFileKeys));
        CHECK(e.str("kind") == "file");
        CHECK(e.str("verdict") == "deny");
        CHECK(e.str("policy") == "secrets");
        CHECK(e.str("rule") == rule);
        CHECK(e.str("op") == "open");
        CHECK(e.num("pid") == inside);
        CHECK(e.num("ppid") == ::getpid());
        CHECK(e.num("uid") == 0);
        CHECK(e.str("cgroup") == cg.name());
        CHECK(e.str("exe") == self_exe());
    }
    // The path is the name the file has (the bind mount shows its own).
    CHECK(got[0].str("path") == secret);
    CHECK(got[1].str("path") == secret);
    CHECK(got[3].str("path") == hard);
    const Json* stats = stats_of(events);
    REQUIRE(stats);
    CHECK(stats->num("denied") == 7);
    CHECK(stats->num("lost") == 0);
}

TEST_CASE("fanotify backend: audit mode reports would-deny and lets the open through; a uid scope holds")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    Tmpfs fs(tmp);
    REQUIRE(::chmod(tmp.path().c_str(), 0755) == 0);  // uid 65534 walks to the file
    const std::string secret = fs.write("secret", "s3cret\n", 0644);
    const std::string audit = tmp.write(
        "audit.toml", scoped_policy("watch", cg, "[[file]]\npaths = [\"" + secret + "\"]\naccess = [\"read\"]\naction = \"deny\"\n", "audit"));
    const std::string nobody = tmp.write(
        "nobody.toml",
        scoped_policy("nobody", cg, "[[file]]\nprefixes = [\"" + fs.path() + "/\"]\naccess = [\"read\"]\naction = \"deny\"\n", "enforce",
               "uid = [65534]\n"));
    Errnos* res = shared_errnos();
    Bulwark bw({audit, nobody});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);

    // Root in the cgroup: only the audit policy applies.
    CHECK(exited_ok(in_child(&cg, [&, res] {
        res->err[0] = open_errno(secret.c_str(), O_RDONLY);
        return 0;
    })));
    CHECK(res->err[0] == kOk);
    // uid 65534 in the cgroup: the enforcing policy denies.
    CHECK(exited_ok(in_child(&cg, [&, res] {
        if (::syscall(SYS_setresuid, 65534, 65534, 65534) != 0) return 100;
        res->err[1] = open_errno(secret.c_str(), O_RDONLY);
        return 0;
    })));
    CHECK(res->err[1] == EPERM);
    // uid 65534 outside the cgroup: neither.
    CHECK(exited_ok(in_child(nullptr, [&, res] {
        if (::syscall(SYS_setresuid, 65534, 65534, 65534) != 0) return 100;
        res->err[2] = open_errno(secret.c_str(), O_RDONLY);
        return 0;
    })));
    CHECK(res->err[2] == kOk);

    auto events = bw.stop();
    const auto got = verdicts(events);
    REQUIRE(got.size() == 2);
    CHECK(got[0].str("verdict") == "would-deny");
    CHECK(got[0].str("policy") == "watch");
    CHECK(got[0].num("uid") == 0);
    CHECK(got[1].str("verdict") == "deny");
    CHECK(got[1].str("policy") == "nobody");
    CHECK(got[1].num("uid") == 65534);
    const Json* stats = stats_of(events);
    REQUIRE(stats);
    CHECK(stats->num("denied") == 1);
    CHECK(stats->num("would_deny") == 1);
}

TEST_CASE("fanotify backend: exec rules deny by path and prefix with EPERM; other programs run")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    Tmpfs fs(tmp);
    fs.mkdir("drop");
    const std::string named = fs.copy_program("/bin/true", "named");
    const std::string dropped = fs.copy_program("/bin/true", "drop/prog");
    const std::string fine = fs.copy_program("/bin/true", "fine");
    const std::string text = scoped_policy("no-drops", cg,
                                    "[[exec]]\npaths = [\"" + named + "\"]\nprefixes = [\"" + fs.path() +
                                        "/drop/\"]\naction = \"deny\"\n");
    const std::string file = tmp.write("exec.toml", text);
    const std::string rule = "exec.toml:" + std::to_string(line_of(text, "[[exec]]"));
    Errnos* res = shared_errnos();
    Bulwark bw({file});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);
    CHECK(ready->str("backends.exec") == "fanotify");

    CHECK(exec_errno(&cg, named, res, 0) == EPERM);
    CHECK(exec_errno(&cg, dropped, res, 1) == EPERM);
    CHECK(exec_errno(&cg, fine, res, 2) == kOk);
    CHECK(exec_errno(nullptr, named, res, 3) == kOk);
    CHECK(exec_errno(nullptr, dropped, res, 4) == kOk);

    auto events = bw.stop();
    const auto got = verdicts(events);
    REQUIRE(got.size() == 2);
    for (const auto& e : got) {
        CAPTURE(e.text());
        CHECK(e.str("kind") == "exec");
        CHECK(e.str("verdict") == "deny");
        CHECK(e.str("rule") == rule);
        CHECK(e.str("cgroup") == cg.name());
    }
    CHECK(got[0].str("path") == named);
    CHECK(got[1].str("path") == dropped);
    const Json* stats = stats_of(events);
    REQUIRE(stats);
    CHECK(stats->num("denied") == 2);
    CHECK(stats->num("exec_denied") == 2);
}

TEST_CASE("fanotify backend: the allowlist posture runs allowed programs only")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    Tmpfs fs(tmp);
    fs.mkdir("ok");
    const std::string allowed = fs.copy_program("/bin/true", "ok/true");
    const std::string stray = fs.copy_program("/bin/true", "stray");
    // The system's programs and libraries are allowed; on this tmpfs only ok/.
    const std::string text = scoped_policy("allowlist", cg,
                                    "[defaults]\nexec = \"deny\"\n\n[[exec]]\nprefixes = [\"/usr/\", \"" +
                                        fs.path() + "/ok/\"]\naction = \"allow\"\n");
    const std::string file = tmp.write("allow.toml", text);
    Errnos* res = shared_errnos();
    Bulwark bw({file});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);

    CHECK(exec_errno(&cg, allowed, res, 0) == kOk);   // its ld.so and libraries come from /usr/
    CHECK(exec_errno(&cg, stray, res, 1) == EPERM);
    CHECK(exec_errno(nullptr, stray, res, 2) == kOk);

    auto events = bw.stop();
    const auto got = verdicts(events);
    REQUIRE(got.size() == 1);
    CHECK(got[0].str("path") == stray);
    CHECK(got[0].str("verdict") == "deny");
}

TEST_CASE("fanotify backend: enforcing rules it cannot see are refused, naming the rule")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    const std::string text = scoped_policy("cron", cg, "[[file]]\nprefixes = [\"/etc/cron.d/\"]\naccess = [\"write\"]\naction = \"deny\"\n");
    const std::string file = tmp.write("cron.toml", text);
    Bulwark bw({file});
    const int st = bw.wait_exit();
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 3);
    const std::string& err = bw.errors();
    CAPTURE(err);
    CHECK(err.find("cron.toml:" + std::to_string(line_of(text, "[[file]]")) + " [[file]]") != std::string::npos);
    CHECK(err.find("fanotify does not see") != std::string::npos);
    CHECK(err.find("create") != std::string::npos);
}

TEST_CASE("fanotify backend: a reload flushes what the old set let through unasked")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    Tmpfs fs(tmp);
    const std::string a = fs.write("a", "a\n");
    const std::string b = fs.write("b", "b\n");
    auto policy = [&](const std::string& path) {
        return scoped_policy("one", cg, "[[file]]\npaths = [\"" + path + "\"]\naccess = [\"read\"]\naction = \"deny\"\n");
    };
    const std::string file = tmp.write("one.toml", policy(a));
    Errnos* res = shared_errnos();
    Bulwark bw({file});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);
    auto read_b = [&, res] {
        res->err[0] = open_errno(b.c_str(), O_RDONLY);  // nobody can be denied b: ignored from now on
        res->err[1] = open_errno(b.c_str(), O_RDONLY);
        return 0;
    };
    CHECK(exited_ok(in_child(&cg, read_b)));
    CHECK(res->err[0] == kOk);
    CHECK(res->err[1] == kOk);

    tmp.write("one.toml", policy(b));
    REQUIRE(::kill(bw.pid(), SIGHUP) == 0);
    auto again = bw.wait_ready();
    REQUIRE(again);
    CHECK(again->num("generation") > ready->num("generation"));
    CHECK(exited_ok(in_child(&cg, read_b)));
    CHECK(res->err[0] == EPERM);
    CHECK(res->err[1] == EPERM);
    const auto got = verdicts(bw.stop());
    REQUIRE(got.size() == 2);
    CHECK(got[0].str("path") == b);
}

TEST_CASE("fanotify backend: an open waiting for a stopped bulwark goes through when bulwark is killed")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    Tmpfs fs(tmp);
    const std::string secret = fs.write("secret", "s\n");
    const std::string file = tmp.write(
        "s.toml", scoped_policy("s", cg, "[[file]]\npaths = [\"" + secret + "\"]\naccess = [\"read\"]\naction = \"deny\"\n"));
    Errnos* res = shared_errnos();
    Bulwark bw({file});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);

    REQUIRE(::kill(bw.pid(), SIGSTOP) == 0);
    Child c([&, res] {
        res->err[0] = open_errno(secret.c_str(), O_RDONLY);
        return 0;
    });
    cg.add(c.pid());
    c.release();
    // Ready when the child waits in openat for the answer bulwark cannot give.
    const std::string wchan = "/proc/" + std::to_string(c.pid()) + "/syscall";
    bool waiting = false;
    for (int i = 0; i < 20000 && !waiting; ++i) {
        std::ifstream in(wchan);
        std::string nr;
        in >> nr;
        waiting = nr == "257" || nr == "2";
        if (!waiting) ::usleep(500);
    }
    REQUIRE(waiting);
    CHECK(res->err[0] == kNotRun);
    REQUIRE(::kill(bw.pid(), SIGKILL) == 0);
    CHECK(exited_ok(c.wait()));
    // The kernel answered "allow" as the group closed: fanotify enforces
    // only while bulwark runs (docs/decisions/010-backends.md).
    CHECK(res->err[0] == kOk);
    const int st = bw.wait_exit();
    CHECK(WIFSIGNALED(st));
}

namespace {

// An overlayfs of the test's own (issue 11): lower/, upper/ and work/ on
// the test's tmpfs, the overlay on DIR/merged; unmounted when done.
struct Overlay {
    std::string lower, upper, merged;
    Overlay(const TempDir& dir, const Tmpfs& fs)
        : lower(fs.mkdir("lower")), upper(fs.mkdir("upper")), merged(dir.path() + "/merged")
    {
        const std::string work = fs.mkdir("work");
        REQUIRE(::mkdir(merged.c_str(), 0755) == 0);
        const std::string opts = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
        ok = ::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) == 0;
        err = errno;
    }
    ~Overlay()
    {
        if (ok) ::umount2(merged.c_str(), MNT_DETACH);
    }
    Overlay(const Overlay&) = delete;
    Overlay& operator=(const Overlay&) = delete;
    bool ok = false;
    int err = 0;
};

bool exists(const std::string& path)
{
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("fanotify backend: rules on an overlayfs deny its lower, copied-up and upper-only files, by the "
          "overlay's path")
{
    REQUIRE_MESSAGE(::geteuid() == 0, "host kernel tests need root");
    TestCgroup cg;
    TempDir tmp;
    Tmpfs fs(tmp);
    Overlay ov(tmp, fs);
    {
        // Written after the mount: no lookup through the overlay has cached their absence yet.
        std::ofstream(ov.lower + "/secret") << "lower secret\n";
        std::ofstream(ov.lower + "/cow") << "copy me up\n";
        std::ofstream(ov.lower + "/ok") << "ok\n";
    }
    REQUIRE_MESSAGE(ov.ok, "mount overlay: " << std::strerror(ov.err));
    const std::string m = ov.merged;
    std::ofstream(m + "/uponly") << "only in the upper layer\n";
    REQUIRE(exists(ov.upper + "/uponly"));
    const std::string text =
        scoped_policy("ovl", cg,
                      "[[file]]\npaths = [\"" + m + "/secret\", \"" + m + "/uponly\", \"" + m +
                          "/cow\"]\naccess = [\"read\"]\naction = \"deny\"\n");
    const std::string file = tmp.write("ovl.toml", text);
    const std::string rule = "ovl.toml:" + std::to_string(line_of(text, "[[file]]"));
    Errnos* res = shared_errnos();

    auto ops = [&, res] {
        int* e = res->err;
        e[0] = open_errno((m + "/secret").c_str(), O_RDONLY);        // deny: a lower-layer file
        e[1] = open_errno((m + "/uponly").c_str(), O_RDONLY);        // deny: an upper-only file
        e[2] = open_errno((m + "/ok").c_str(), O_RDONLY);            // the file beside them
        e[3] = open_errno((ov.lower + "/secret").c_str(), O_RDONLY); // the layer's own file: another path
        e[4] = open_errno((m + "/cow").c_str(), O_WRONLY | O_APPEND); // writing: copy-up
        e[5] = exists(ov.upper + "/cow") ? kOk : -1;
        e[6] = open_errno((m + "/cow").c_str(), O_RDONLY);           // deny: the copied-up file
        return 0;
    };
    const int want[] = {EPERM, EPERM, kOk, kOk, kOk, kOk, EPERM};

    Bulwark bw({file});
    auto ready = bw.wait_ready();
    INFO("bulwark stderr: " << bw.errors());
    REQUIRE(ready);
    CHECK(ready->str("backends.file") == "fanotify");
    const pid_t inside = run_placed(&cg, ops);
    check_errnos(res, want, std::size(want));

    int st = 0;
    auto events = bw.stop(&st);
    CHECK(exited_ok(st));
    const auto got = verdicts(events);
    REQUIRE(got.size() == 3);
    const std::string paths[] = {m + "/secret", m + "/uponly", m + "/cow"};
    for (size_t i = 0; i < got.size(); ++i) {
        CAPTURE(got[i].text());
        CHECK(got[i].str("verdict") == "deny");
        CHECK(got[i].str("rule") == rule);
        CHECK(got[i].num("pid") == inside);
        CHECK(got[i].str("path") == paths[i]);
    }
}
