// Every operation that changes a write-protected tree besides open(2)
// (bpf/lsm/file_ops.bpf.c): each test runs bulwark with `access =
// ["write"]` on a prefix, performs the real syscall, checks its errno, what
// is on disk afterwards, and the event; the same operation beside the tree
// works and is silent (Fixture::no_event_for).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

// 0 or errno of a syscall's return value.
int err(int rc) {
    return rc == 0 ? 0 : errno;
}

void expect_errno(int got, int want, const std::string& what) {
    if (got != want) fail(what, " gave ", errno_name(got), ", want ", errno_name(want));
}

bool exists(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
}

void expect_content(const std::string& path, const std::string& want, const std::string& after) {
    const std::string got = read_file(path);
    if (got != want) fail("after ", after, ": ", path, " holds '", got, "', want '", want, "'");
}

void expect_absent(const std::string& path, const std::string& after) {
    if (exists(path)) fail("after ", after, ": ", path, " exists");
}

// A file's access, modification and change times.
struct Times {
    timespec a{}, m{}, c{};
};

bool same(const timespec& x, const timespec& y) {
    return x.tv_sec == y.tv_sec && x.tv_nsec == y.tv_nsec;
}

Times times_of(const std::string& path) {
    struct stat st;
    require(stat(path.c_str(), &st) == 0, "stat(", path, "): ", errno_name(errno));
    return {st.st_atim, st.st_mtim, st.st_ctim};
}

std::string times_text(const Times& t) {
    return cat("atime ", t.a.tv_sec, ".", t.a.tv_nsec, " mtime ", t.m.tv_sec, ".", t.m.tv_nsec, " ctime ",
               t.c.tv_sec, ".", t.c.tv_nsec);
}

void expect_times(const std::string& path, const Times& want, const std::string& after) {
    const Times got = times_of(path);
    if (!same(got.a, want.a) || !same(got.m, want.m) || !same(got.c, want.c))
        fail("after ", after, ": ", path, " has ", times_text(got), ", want ", times_text(want));
}

// Both times of `path` to `sec` (before bulwark runs: a known starting point).
void set_times(const std::string& path, time_t sec) {
    const timespec ts[2] = {{sec, 0}, {sec, 0}};
    require(utimensat(AT_FDCWD, path.c_str(), ts, 0) == 0, "utimensat(", path, "): ", errno_name(errno));
}

// prot/ is write-protected (policy "t", rule "deny"); free/ is not.
struct Tree {
    Fixture fx;
    std::string prot = fx.data + "/prot", free = fx.data + "/free";
    std::string file = prot + "/f";  // a protected file, "keep\n"
    PolicyFile policy;
    explicit Tree(const std::string& header = "", const std::string& access = "\"write\"") {
        make_dirs(prot + "/dir");
        make_dirs(free + "/dir");
        write_file(file, "keep\n");
        write_file(free + "/x", "evil\n");
        policy = write_policy(fx.pol + "/t.toml", cat("[policy]\nname = \"t\"\n", header,
                                                      "\n[[file]] # deny\nprefixes = [\"", prot,
                                                      "/\"]\naccess = [", access, "]\naction = \"deny\"\n"));
    }
    // The event of an operation `op` (`call`) decided at `path` (and `target`).
    void check(const Json& ev, const std::string& verdict, const std::string& op, const std::string& call,
               const std::string& access, const std::string& path, const std::string& target = "") const {
        check_event(ev, expect_self(verdict, "t", policy.rule("deny"), path, access));
        std::string why;
        if (ev.str("op") != op) why += cat("op='", ev.str("op"), "' want '", op, "'; ");
        if (ev.str("call") != call) why += cat("call='", ev.str("call"), "' want '", call, "'; ");
        if (!target.empty() && ev.str("target") != target)
            why += cat("target='", ev.str("target"), "' want '", target, "'; ");
        if (!why.empty()) fail("event: ", why, "line: ", ev.line());
    }
};

}  // namespace

TEST("fileops: rename and link into, over and out of a write-protected tree") {
    Tree t;
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});
    const std::string x = t.free + "/x";

    expect_errno(err(rename(x.c_str(), (t.prot + "/x").c_str())), EPERM, "rename(free/x, prot/x)");
    expect_absent(t.prot + "/x", "rename into prot/");
    expect_content(x, "evil\n", "rename into prot/");
    t.check(bw.next_verdict("rename into"), "deny", "rename", "rename", "rename", x, t.prot + "/x");

    expect_errno(err(link(x.c_str(), (t.prot + "/l").c_str())), EPERM, "link(free/x, prot/l)");
    expect_absent(t.prot + "/l", "link into prot/");
    t.check(bw.next_verdict("link into"), "deny", "link", "link", "rename", x, t.prot + "/l");

    expect_errno(err(rename(x.c_str(), t.file.c_str())), EPERM, "rename(free/x, prot/f)");
    expect_content(t.file, "keep\n", "rename over prot/f");
    expect_content(x, "evil\n", "rename over prot/f");
    t.check(bw.next_verdict("rename over"), "deny", "rename", "rename", "rename", x, t.file);

    expect_errno(err(rename(t.file.c_str(), (t.free + "/out").c_str())), EPERM, "rename(prot/f, free/out)");
    expect_content(t.file, "keep\n", "rename out of prot/");
    expect_absent(t.free + "/out", "rename out of prot/");
    t.check(bw.next_verdict("rename out"), "deny", "rename", "rename", "rename", t.file, t.free + "/out");

    expect_errno(err(link(t.file.c_str(), (t.free + "/l").c_str())), EPERM, "link(prot/f, free/l)");
    expect_absent(t.free + "/l", "link out of prot/");
    t.check(bw.next_verdict("link out"), "deny", "link", "link", "rename", t.file, t.free + "/l");

    // Beside the tree: the same operations work, silently.
    expect_errno(err(rename(x.c_str(), (t.free + "/y").c_str())), 0, "rename(free/x, free/y)");
    expect_errno(err(link((t.free + "/y").c_str(), (t.free + "/z").c_str())), 0, "link(free/y, free/z)");
    expect_content(t.free + "/z", "evil\n", "link within free/");
    t.fx.no_event_for(bw, "rename and link within free/");
    bw.stop_and_check();
}

TEST("fileops: nothing is created in a write-protected tree") {
    Tree t;
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});

    const std::string n = t.prot + "/new";
    int fd = open(n.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    int e = fd < 0 ? errno : 0;
    if (fd >= 0) close(fd);
    expect_errno(e, EPERM, "open(prot/new, O_CREAT)");
    expect_absent(n, "open(O_CREAT) in prot/");
    t.check(bw.next_verdict("O_CREAT"), "deny", "create", "mknod", "create", n);

    expect_errno(err(symlink("/etc/passwd", (t.prot + "/s").c_str())), EPERM, "symlink(prot/s)");
    expect_absent(t.prot + "/s", "symlink in prot/");
    t.check(bw.next_verdict("symlink"), "deny", "create", "symlink", "create", t.prot + "/s");

    expect_errno(err(mkdir((t.prot + "/d").c_str(), 0755)), EPERM, "mkdir(prot/d)");
    expect_absent(t.prot + "/d", "mkdir in prot/");
    t.check(bw.next_verdict("mkdir"), "deny", "create", "mkdir", "create", t.prot + "/d");

    expect_errno(err(mkfifo((t.prot + "/dir/fifo").c_str(), 0644)), EPERM, "mkfifo(prot/dir/fifo)");
    expect_absent(t.prot + "/dir/fifo", "mkfifo in prot/dir/");
    t.check(bw.next_verdict("mkfifo"), "deny", "create", "mknod", "create", t.prot + "/dir/fifo");

    // O_CREAT on a file that exists creates nothing: file_open decides it (write).
    expect_open(t.file, O_CREAT | O_WRONLY, EPERM, "O_CREAT on the existing prot/f");
    check_event(bw.next_verdict("O_CREAT existing"), expect_self("deny", "t", t.policy.rule("deny"), t.file, "write"));

    fd = open((t.free + "/new").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    require(fd >= 0, "open(free/new, O_CREAT) gave ", errno_name(errno));
    close(fd);
    expect_errno(err(symlink("/etc/passwd", (t.free + "/s").c_str())), 0, "symlink(free/s)");
    expect_errno(err(mkdir((t.free + "/d").c_str(), 0755)), 0, "mkdir(free/d)");
    expect_errno(err(mkfifo((t.free + "/fifo").c_str(), 0644)), 0, "mkfifo(free/fifo)");
    t.fx.no_event_for(bw, "creating in free/");
    bw.stop_and_check();
}

TEST("fileops: nothing is deleted from a write-protected tree") {
    Tree t;
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});

    expect_errno(err(unlink(t.file.c_str())), EPERM, "unlink(prot/f)");
    expect_content(t.file, "keep\n", "unlink(prot/f)");
    t.check(bw.next_verdict("unlink"), "deny", "delete", "unlink", "delete", t.file);

    expect_errno(err(rmdir((t.prot + "/dir").c_str())), EPERM, "rmdir(prot/dir)");
    require(exists(t.prot + "/dir"), "prot/dir is gone after a denied rmdir");
    t.check(bw.next_verdict("rmdir"), "deny", "delete", "rmdir", "delete", t.prot + "/dir");

    expect_errno(err(unlink((t.free + "/x").c_str())), 0, "unlink(free/x)");
    expect_absent(t.free + "/x", "unlink(free/x)");
    expect_errno(err(rmdir((t.free + "/dir").c_str())), 0, "rmdir(free/dir)");
    t.fx.no_event_for(bw, "deleting in free/");
    bw.stop_and_check();
}

TEST("fileops: each right alone decides its own operations and no other") {
    {
        Tree t("", "\"delete\"");
        Bulwark bw({{t.fx.pol}});
        bw.wait_ready({"marker", "t"});
        expect_errno(err(unlink(t.file.c_str())), EPERM, "delete: unlink(prot/f)");
        expect_content(t.file, "keep\n", "delete: unlink(prot/f)");
        t.check(bw.next_verdict("delete: unlink"), "deny", "delete", "unlink", "delete", t.file);
        expect_errno(err(mkdir((t.prot + "/d").c_str(), 0755)), 0, "delete: mkdir(prot/d)");
        expect_open(t.file, O_WRONLY | O_APPEND, 0, "delete: open(prot/f, O_WRONLY)");
        expect_errno(err(chmod(t.file.c_str(), 0600)), 0, "delete: chmod(prot/f)");
        expect_errno(err(utimensat(AT_FDCWD, t.file.c_str(), nullptr, 0)), 0, "delete: utimensat(prot/f)");
        t.fx.no_event_for(bw, "delete: mkdir, open for writing, chmod and utimensat");
        bw.stop_and_check();
    }
    {
        Tree t("", "\"create\"");
        Bulwark bw({{t.fx.pol}});
        bw.wait_ready({"marker", "t"});
        // (The Fixture's directory is the test's: prot/d is left from the block above.)
        expect_errno(err(mkdir((t.prot + "/c").c_str(), 0755)), EPERM, "create: mkdir(prot/c)");
        expect_absent(t.prot + "/c", "create: mkdir in prot/");
        t.check(bw.next_verdict("create: mkdir"), "deny", "create", "mkdir", "create", t.prot + "/c");
        expect_errno(err(unlink(t.file.c_str())), 0, "create: unlink(prot/f)");
        t.fx.no_event_for(bw, "create: unlink");
        bw.stop_and_check();
    }
    {
        Tree t("", "\"rename\"");
        Bulwark bw({{t.fx.pol}});
        bw.wait_ready({"marker", "t"});
        const std::string x = t.free + "/x";
        expect_errno(err(rename(x.c_str(), (t.prot + "/x").c_str())), EPERM, "rename: rename(free/x, prot/x)");
        expect_absent(t.prot + "/x", "rename: rename into prot/");
        t.check(bw.next_verdict("rename: rename into"), "deny", "rename", "rename", "rename", x, t.prot + "/x");
        expect_open(t.file, O_WRONLY | O_TRUNC, 0, "rename: open(prot/f, O_TRUNC)");
        expect_errno(err(unlink(t.file.c_str())), 0, "rename: unlink(prot/f)");
        t.fx.no_event_for(bw, "rename: O_TRUNC and unlink");
        bw.stop_and_check();
    }
    {
        Tree t("", "\"metadata\"");
        Bulwark bw({{t.fx.pol}});
        bw.wait_ready({"marker", "t"});
        expect_errno(err(chmod(t.file.c_str(), 0600)), EPERM, "metadata: chmod(prot/f)");
        t.check(bw.next_verdict("metadata: chmod"), "deny", "metadata", "chmod", "metadata", t.file);
        expect_errno(err(utimensat(AT_FDCWD, t.file.c_str(), nullptr, 0)), EPERM, "metadata: utimensat(prot/f)");
        t.check(bw.next_verdict("metadata: utimensat"), "deny", "metadata", "utimes", "metadata", t.file);
        expect_open(t.file, O_WRONLY | O_APPEND, 0, "metadata: open(prot/f, O_WRONLY)");
        expect_errno(err(unlink(t.file.c_str())), 0, "metadata: unlink(prot/f)");
        t.fx.no_event_for(bw, "metadata: open for writing and unlink");
        bw.stop_and_check();
    }
}

TEST("fileops: truncate by path and by an fd opened before the policy") {
    Tree t;
    // Opened for writing while no policy was in force: only the truncate is left to decide.
    int early = open(t.file.c_str(), O_WRONLY | O_CLOEXEC);
    require(early >= 0, "open(prot/f, O_WRONLY) before bulwark: ", errno_name(errno));
    write_file(t.free + "/t", "long content\n");
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});

    expect_errno(err(truncate(t.file.c_str(), 0)), EPERM, "truncate(prot/f, 0)");
    expect_content(t.file, "keep\n", "truncate(prot/f)");
    t.check(bw.next_verdict("truncate"), "deny", "truncate", "truncate", "write", t.file);

    expect_errno(err(ftruncate(early, 1)), EPERM, "ftruncate(early fd of prot/f, 1)");
    close(early);
    expect_content(t.file, "keep\n", "ftruncate(prot/f)");
    t.check(bw.next_verdict("ftruncate"), "deny", "truncate", "truncate", "write", t.file);

    expect_errno(err(truncate((t.free + "/t").c_str(), 4)), 0, "truncate(free/t, 4)");
    expect_content(t.free + "/t", "long", "truncate(free/t)");
    t.fx.no_event_for(bw, "truncating in free/");
    bw.stop_and_check();
}

TEST("fileops: no metadata changes on a write-protected file") {
    Tree t;
    write_file(t.free + "/m", "m\n");
    const char* attr = "trusted.bwt";  // tmpfs has trusted.* on 6.1 and 6.12 (user.* only from 6.6)
    require(setxattr(t.file.c_str(), attr, "1", 1, 0) == 0, "setxattr before bulwark: ", errno_name(errno));
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});

    expect_errno(err(chmod(t.file.c_str(), 0666)), EPERM, "chmod(prot/f, 0666)");
    struct stat st;
    require(stat(t.file.c_str(), &st) == 0 && (st.st_mode & 07777) == 0644, "prot/f mode changed to ",
            std::to_string(st.st_mode & 07777));
    t.check(bw.next_verdict("chmod"), "deny", "metadata", "chmod", "metadata", t.file);

    expect_errno(err(chown(t.file.c_str(), 1000, 1000)), EPERM, "chown(prot/f, 1000, 1000)");
    require(stat(t.file.c_str(), &st) == 0 && st.st_uid == 0, "prot/f owner changed");
    t.check(bw.next_verdict("chown"), "deny", "metadata", "chown", "metadata", t.file);

    expect_errno(err(setxattr(t.file.c_str(), attr, "2", 1, 0)), EPERM, "setxattr(prot/f)");
    char v[8] = {};
    require(getxattr(t.file.c_str(), attr, v, sizeof v) == 1 && v[0] == '1', "prot/f's xattr changed");
    t.check(bw.next_verdict("setxattr"), "deny", "metadata", "setxattr", "metadata", t.file);

    expect_errno(err(removexattr(t.file.c_str(), attr)), EPERM, "removexattr(prot/f)");
    require(getxattr(t.file.c_str(), attr, v, sizeof v) == 1, "prot/f's xattr removed");
    t.check(bw.next_verdict("removexattr"), "deny", "metadata", "removexattr", "metadata", t.file);

    const Times before = times_of(t.file);
    const timespec later[2] = {{2000000000, 0}, {2000000000, 0}};
    expect_errno(err(utimensat(AT_FDCWD, t.file.c_str(), later, 0)), EPERM, "utimensat(prot/f)");
    expect_times(t.file, before, "utimensat(prot/f)");
    t.check(bw.next_verdict("utimensat"), "deny", "metadata", "utimes", "metadata", t.file);

    const std::string m = t.free + "/m";
    expect_errno(err(chmod(m.c_str(), 0600)), 0, "chmod(free/m)");
    expect_errno(err(chown(m.c_str(), 1000, 1000)), 0, "chown(free/m)");
    expect_errno(err(setxattr(m.c_str(), attr, "2", 1, 0)), 0, "setxattr(free/m)");
    expect_errno(err(removexattr(m.c_str(), attr)), 0, "removexattr(free/m)");
    expect_errno(err(utimensat(AT_FDCWD, m.c_str(), later, 0)), 0, "utimensat(free/m)");
    t.fx.no_event_for(bw, "metadata changes in free/");
    bw.stop_and_check();
}

TEST("fileops: metadata alone: no time of a protected file changes (utimensat, futimens, utimes, touch -d)") {
    Tree t("", "\"metadata\"");
    const std::string m = t.free + "/m";
    write_file(m, "m\n");
    set_times(t.file, 1000000000);
    set_times(m, 1000000000);
    // Opened before the policy: futimens needs no open the rule could refuse.
    const int early = open(t.file.c_str(), O_RDONLY | O_CLOEXEC);
    require(early >= 0, "open(prot/f) before bulwark: ", errno_name(errno));
    const Times before = times_of(t.file);
    Bulwark bw({{t.fx.pol}});
    const auto programs = bw.wait_ready({"marker", "t"}).list("programs");
    require(std::find(programs.begin(), programs.end(), "inode_setattr") != programs.end(),
            "inode_setattr is not among the programs attached");
    const char* f = t.file.c_str();
    const timespec later[2] = {{2000000000, 0}, {2000000000, 0}};
    const timespec mtime_only[2] = {{0, UTIME_OMIT}, {2000000000, 0}};
    const timeval later_us[2] = {{2000000000, 0}, {2000000000, 0}};

    expect_errno(err(utimensat(AT_FDCWD, f, later, 0)), EPERM, "utimensat(prot/f, both times)");
    expect_times(t.file, before, "utimensat(prot/f, both times)");
    t.check(bw.next_verdict("utimensat"), "deny", "metadata", "utimes", "metadata", t.file);

    expect_errno(err(utimensat(AT_FDCWD, f, nullptr, 0)), EPERM, "utimensat(prot/f, now)");
    expect_times(t.file, before, "utimensat(prot/f, now)");
    t.check(bw.next_verdict("utimensat now"), "deny", "metadata", "utimes", "metadata", t.file);

    expect_errno(err(utimensat(AT_FDCWD, f, mtime_only, 0)), EPERM, "utimensat(prot/f, UTIME_OMIT, mtime)");
    expect_times(t.file, before, "utimensat(prot/f, mtime only)");
    t.check(bw.next_verdict("utimensat mtime"), "deny", "metadata", "utimes", "metadata", t.file);

    expect_errno(err(futimens(early, later)), EPERM, "futimens(early fd of prot/f)");
    close(early);
    expect_times(t.file, before, "futimens(prot/f)");
    t.check(bw.next_verdict("futimens"), "deny", "metadata", "utimes", "metadata", t.file);

    expect_errno(err(static_cast<int>(syscall(SYS_utimes, f, later_us))), EPERM, "utimes(2) of prot/f");
    expect_times(t.file, before, "utimes(prot/f)");
    t.check(bw.next_verdict("utimes"), "deny", "metadata", "utimes", "metadata", t.file);

    // touch -d: busybox's touch, in a child (its own pid and comm in the event).
    const ChildResult touch = run_child([&] {
        const int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 2);
        execl("/bin/busybox", "touch", "-d", "2033-05-18 03:33:20", f, static_cast<char*>(nullptr));
        return 127;
    });
    require(touch.error.empty(), "touch -d: ", touch.error);
    require(touch.code == 1, "touch -d prot/f exited ", touch.code, ", want 1 (failed)");
    expect_times(t.file, before, "touch -d prot/f");
    const Json ev = bw.next_verdict("touch -d");
    Expect e = expect_self("deny", "t", t.policy.rule("deny"), t.file, "metadata");
    e.pid = e.tid = touch.pid;
    e.ppid = getpid();
    e.comm = "busybox";
    check_event(ev, e);
    if (ev.str("op") != "metadata" || ev.str("call") != "utimes") fail("touch -d event: ", ev.line());

    // Beside the tree: every one of them changes the times, silently.
    const char* g = m.c_str();
    expect_errno(err(utimensat(AT_FDCWD, g, later, 0)), 0, "utimensat(free/m, both times)");
    require(times_of(m).m.tv_sec == 2000000000, "free/m: utimensat left ", times_text(times_of(m)));
    expect_errno(err(static_cast<int>(syscall(SYS_utimes, g, later_us))), 0, "utimes(2) of free/m");
    expect_errno(err(utimensat(AT_FDCWD, g, nullptr, 0)), 0, "utimensat(free/m, now)");
    require(times_of(m).m.tv_sec > 1000000000 && times_of(m).m.tv_sec < 2000000000,
            "free/m: utimensat(now) left ", times_text(times_of(m)));
    const ChildResult touch_free = run_child([&] {
        execl("/bin/busybox", "touch", "-d", "2001-09-09 01:46:40", g, static_cast<char*>(nullptr));
        return 127;
    });
    require(touch_free.code == 0, "touch -d free/m exited ", touch_free.code, " ", touch_free.error);
    require(times_of(m).m.tv_sec == 1000000000, "free/m: touch -d left ", times_text(times_of(m)));
    t.fx.no_event_for(bw, "changing the times of free/m");
    bw.stop_and_check();
    // Six denied changes of times and the marker's open.
    require(final_stats(bw).num("denied") == 7, "stats denied = ", final_stats(bw).num("denied"), ", want 7");
}

TEST("fileops: an audit-mode policy reports would-deny and the change happens") {
    Tree t("mode = \"audit\"\n");
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});

    expect_errno(err(unlink(t.file.c_str())), 0, "unlink(prot/f) under an audit-mode policy");
    expect_absent(t.file, "unlink under audit");
    t.check(bw.next_verdict("unlink"), "would-deny", "delete", "unlink", "delete", t.file);
    const std::string x = t.free + "/x";
    expect_errno(err(rename(x.c_str(), (t.prot + "/x").c_str())), 0, "rename(free/x, prot/x) under audit");
    expect_content(t.prot + "/x", "evil\n", "rename into prot/ under audit");
    t.check(bw.next_verdict("rename"), "would-deny", "rename", "rename", "rename", x, t.prot + "/x");

    // chmod, chown and truncate pass inode_setattr after their own hook: one event each.
    const std::string px = t.prot + "/x";
    expect_errno(err(chmod(px.c_str(), 0600)), 0, "chmod(prot/x) under audit");
    t.check(bw.next_verdict("chmod"), "would-deny", "metadata", "chmod", "metadata", px);
    expect_errno(err(chown(px.c_str(), 1000, 1000)), 0, "chown(prot/x) under audit");
    t.check(bw.next_verdict("chown"), "would-deny", "metadata", "chown", "metadata", px);
    expect_errno(err(truncate(px.c_str(), 1)), 0, "truncate(prot/x) under audit");
    t.check(bw.next_verdict("truncate"), "would-deny", "truncate", "truncate", "write", px);
    const timespec later[2] = {{2000000000, 0}, {2000000000, 0}};
    expect_errno(err(utimensat(AT_FDCWD, px.c_str(), later, 0)), 0, "utimensat(prot/x) under audit");
    require(times_of(px).m.tv_sec == 2000000000, "prot/x: utimensat under audit left ", times_text(times_of(px)));
    t.check(bw.next_verdict("utimensat"), "would-deny", "metadata", "utimes", "metadata", px);
    t.fx.no_event_for(bw, "one event per change under audit");
    bw.stop_and_check();
}
