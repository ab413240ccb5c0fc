// Mounts and file handles (issue 15, docs/decisions/016-mounts-and-handles.md):
// a process in a policy's scope cannot mount on, over, onto or off a
// write-protected tree (mount(2), move_mount(2) with fsmount and open_tree,
// MS_MOVE, umount2(2)); a mount made over the tree by a process out of the
// scope opens no hole; a file opened by handle (open_by_handle_at) whose
// dentry has no path is decided fail-closed. Each test checks the errno,
// what the mount table shows afterwards, the event and the counters;
// controls show that mounts elsewhere, option changes and processes out of
// the scope are untouched.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/loop.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

// The new mount API (include/uapi/linux/mount.h), by number: no libc wrapper needed.
constexpr unsigned kMoveMountFEmptyPath = 0x4;
constexpr unsigned kFsconfigCmdCreate = 6;
constexpr unsigned kOpenTreeCloexec = O_CLOEXEC;

int err(long rc) {
    return rc >= 0 ? 0 : errno;
}

void expect_errno(int got, int want, const std::string& what) {
    if (got != want) fail(what, " gave ", errno_name(got), ", want ", errno_name(want));
}

// Is `path` a mount point (in /proc/self/mountinfo, field 5)?
bool mounted_at(const std::string& path) {
    const std::string info = read_file("/proc/self/mountinfo");
    return info.find(cat(" ", path, " ")) != std::string::npos;
}

// A detached tmpfs (fsopen + fsconfig + fsmount): its mount fd, or -errno.
int detached_tmpfs() {
    int fs = static_cast<int>(syscall(SYS_fsopen, "tmpfs", 1u /* FSOPEN_CLOEXEC */));
    if (fs < 0) return -errno;
    if (syscall(SYS_fsconfig, fs, kFsconfigCmdCreate, nullptr, nullptr, 0) != 0) {
        int e = errno;
        close(fs);
        return -e;
    }
    int m = static_cast<int>(syscall(SYS_fsmount, fs, 1u /* FSMOUNT_CLOEXEC */, 0u));
    int e = errno;
    close(fs);
    return m < 0 ? -e : m;
}

// prot/ is write-protected for processes in `cg` (policy "t", rule
// "deny"); free/ is not.
struct MountTree {
    Fixture fx;
    ScopedCgroup cg{cat("bwt-mounts-", getpid())};
    std::string prot = fx.data + "/prot", free = fx.data + "/free";
    PolicyFile policy;
    std::vector<std::string> to_unmount;  // by this (out-of-scope) process, at the end
    explicit MountTree(const std::string& access = "\"write\"") {
        make_dirs(prot + "/dir");
        make_dirs(prot + "/sub");
        make_dirs(free + "/dir");
        make_dirs(free + "/m");
        write_file(prot + "/f", "keep\n");
        write_file(free + "/x", "evil\n");
        policy = write_policy(fx.pol + "/t.toml",
                              cat("[policy]\nname = \"t\"\n\n[scope]\ncgroup = [\"", cg.name,
                                  "\"]\n\n[[file]] # deny\nprefixes = [\"", prot, "/\"]\naccess = [", access,
                                  "]\naction = \"deny\"\n"));
    }
    ~MountTree() {
        for (auto it = to_unmount.rbegin(); it != to_unmount.rend(); ++it) umount2(it->c_str(), MNT_DETACH);
    }
    // A tmpfs mounted at `path` by this process (out of the scope).
    void mount_outside(const std::string& path) {
        require(mount("tmpfs", path.c_str(), "tmpfs", 0, "mode=0755") == 0, "mount(tmpfs, ", path,
                ") out of the scope: ", errno_name(errno));
        to_unmount.push_back(path);
    }
    // `body` in a child in the scope: its errno (0: success).
    ChildResult in_scope(const std::function<int()>& body) {
        auto r = run_child([&] {
            cg.enter();
            return body();
        });
        require(r.error.empty(), "child: ", r.error);
        return r;
    }
    // The event of a mount operation `call` decided at `path` (and `target`).
    void check(const Json& ev, pid_t pid, const std::string& call, const std::string& access, const std::string& path,
               const std::string& target = "") const {
        std::string why;
        auto want = [&](const std::string& key, const std::string& value) {
            if (ev.str(key) != value) why += cat(key, "='", ev.str(key), "' want '", value, "'; ");
        };
        want("type", "verdict");
        want("kind", "file");
        want("verdict", "deny");
        want("policy", "t");
        want("rule", policy.rule("deny"));
        want("op", "mount");
        want("call", call);
        want("access", access);
        want("path", path);
        if (!target.empty()) want("target", target);
        if (target.empty() && ev.has("target")) why += cat("target='", ev.str("target"), "' want none; ");
        if (ev.num("pid") != pid) why += cat("pid=", ev.num("pid"), " want ", pid, "; ");
        if (!why.empty()) fail("event: ", why, "line: ", ev.line());
    }
};

}  // namespace

TEST("mounts: nothing is mounted on, over, onto or off a write-protected tree from inside the scope") {
    MountTree t;
    t.mount_outside(t.prot + "/dir");  // out of the scope: allowed (and a mount to take away below)
    t.mount_outside(t.free + "/m");
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});
    const std::string p = t.prot, f = t.prot + "/f", sub = t.prot + "/sub", dir = t.prot + "/dir";

    // mount(2): a new mount on the tree's directory, inside it, a bind over a file.
    auto r = t.in_scope([&] { return err(mount("tmpfs", p.c_str(), "tmpfs", 0, nullptr)); });
    expect_errno(r.code, EPERM, "mount(tmpfs, prot) in scope");
    require(!mounted_at(p), "prot is a mount point after a denied mount");
    t.check(bw.next_verdict("mount on prot"), r.pid, "mount", "write", p);

    r = t.in_scope([&] { return err(mount("tmpfs", sub.c_str(), "tmpfs", 0, nullptr)); });
    expect_errno(r.code, EPERM, "mount(tmpfs, prot/sub) in scope");
    require(!mounted_at(sub), "prot/sub is a mount point after a denied mount");
    t.check(bw.next_verdict("mount on prot/sub"), r.pid, "mount", "write", sub);

    const std::string x = t.free + "/x";
    r = t.in_scope([&] { return err(mount(x.c_str(), f.c_str(), nullptr, MS_BIND, nullptr)); });
    expect_errno(r.code, EPERM, "mount --bind free/x prot/f in scope");
    require(read_file(f) == "keep\n", "prot/f reads '", read_file(f), "' after a denied bind mount over it");
    t.check(bw.next_verdict("bind over prot/f"), r.pid, "mount", "write", f);

    // MS_MOVE of a mount from elsewhere onto the tree: decided at the target.
    const std::string m = t.free + "/m";
    r = t.in_scope([&] { return err(mount(m.c_str(), sub.c_str(), nullptr, MS_MOVE, nullptr)); });
    expect_errno(r.code, EPERM, "mount --move free/m prot/sub in scope");
    require(mounted_at(m) && !mounted_at(sub), "the mount moved although denied");
    t.check(bw.next_verdict("MS_MOVE onto prot/sub"), r.pid, "mount", "write", sub);

    // umount2(2) of a mount in the tree (made out of the scope).
    r = t.in_scope([&] { return err(umount2(dir.c_str(), 0)); });
    expect_errno(r.code, EPERM, "umount(prot/dir) in scope");
    require(mounted_at(dir), "prot/dir is no longer a mount point after a denied umount");
    t.check(bw.next_verdict("umount prot/dir"), r.pid, "umount", "write", dir);

    // move_mount(2): a detached tmpfs (fsmount) attached on the tree.
    r = t.in_scope([&] {
        int fd = detached_tmpfs();
        if (fd < 0) return 100 + (-fd);
        return err(syscall(SYS_move_mount, fd, "", AT_FDCWD, p.c_str(), kMoveMountFEmptyPath));
    });
    require(r.code < 100, "fsopen/fsmount in scope: ", errno_name(r.code - 100));
    expect_errno(r.code, EPERM, "move_mount(fsmount tmpfs, prot) in scope");
    require(!mounted_at(p), "prot is a mount point after a denied move_mount");
    t.check(bw.next_verdict("move_mount of a detached mount onto prot"), r.pid, "move_mount", "write", p);

    // move_mount(2) of the mount at prot/dir out of the tree (open_tree, no clone).
    const std::string away = t.free + "/dir";
    r = t.in_scope([&] {
        int fd = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, dir.c_str(), kOpenTreeCloexec));
        if (fd < 0) return 100 + errno;
        return err(syscall(SYS_move_mount, fd, "", AT_FDCWD, away.c_str(), kMoveMountFEmptyPath));
    });
    require(r.code < 100, "open_tree(prot/dir) in scope: ", errno_name(r.code - 100));
    expect_errno(r.code, EPERM, "move_mount(prot/dir, free/dir) in scope");
    require(mounted_at(dir) && !mounted_at(away), "the mount at prot/dir moved although denied");
    t.check(bw.next_verdict("move_mount of prot/dir away"), r.pid, "move_mount", "write", dir, away);

    // Controls: a change of propagation in the tree and mounts beside it are
    // not decided; in scope they work, silently.
    r = t.in_scope([&] { return err(mount(nullptr, dir.c_str(), nullptr, MS_PRIVATE, nullptr)); });
    expect_errno(r.code, 0, "mount --make-private prot/dir in scope");
    r = t.in_scope([&] {
        if (mount("tmpfs", away.c_str(), "tmpfs", 0, nullptr) != 0) return errno;
        return err(umount2(away.c_str(), 0));
    });
    expect_errno(r.code, 0, "mount(tmpfs, free/dir) + umount in scope");
    t.fx.no_event_for(bw, "mounts beside the tree and a propagation change");
    bw.stop_and_check();
    const Json stats = final_stats(bw);
    require(stats.num("denied") == 8, "stats denied = ", stats.num("denied"), ", want 8 (seven mounts, the marker)");
}

// The first "ready" line after the first `seen` lines bulwark kept aside.
Json ready_after(Bulwark& bw, size_t seen) {
    for (size_t i = seen; i < bw.others().size(); ++i)
        if (auto j = Json::parse(bw.others()[i]); j && j->str("type") == "ready") return *j;
    return bw.next_of_type("ready");
}

TEST("mounts: a mount over a protected tree by a process out of the scope opens no hole") {
    MountTree t("\"read\", \"write\"");
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});
    const std::string planted = t.prot + "/planted", fresh = t.prot + "/fresh";

    // In a mount namespace of its own, which bulwark does not see (so
    // nothing is republished): a process out of the scope mounts a tmpfs
    // over prot/ and plants a file; its child, in the scope, cannot read
    // it — the walk consults the covered directory's key.
    int planted_by = -1;
    auto r = run_child([&] {
        if (unshare(CLONE_NEWNS) != 0) return 100 + errno;
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 100 + errno;
        if (mount("tmpfs", t.prot.c_str(), "tmpfs", 0, "mode=0755") != 0) return 100 + errno;
        write_file(planted, "planted\n");
        if (read_file(planted) != "planted\n") return 99;
        pid_t kid = fork();
        if (kid == 0) {
            t.cg.enter();
            _exit(open_errno(planted, O_RDONLY));
        }
        int st = 0;
        waitpid(kid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 98;
    });
    require(r.error.empty(), "child: ", r.error);
    require(r.code < 98, "the out-of-scope mount in a namespace of its own: ", r.code > 100 ? errno_name(r.code - 100) : cat(r.code));
    expect_errno(r.code, EPERM, "open(prot/planted) in scope, prot/ covered by a tmpfs in its mount namespace");
    planted_by = r.pid;
    Json ev = bw.next_verdict("the read of the planted file");
    require(ev.str("verdict") == "deny" && ev.str("path") == planted && ev.str("rule") == t.policy.rule("deny") &&
                ev.num("ppid") == planted_by,
            "event of the planted file's read: ", ev.line());
    t.fx.no_event_for(bw, "the namespace's end");
    for (const auto& l : bw.others())
        require(l.find("\"type\":\"ready\"") == std::string::npos, "a mount bulwark cannot see republished: ", l);

    // In bulwark's own mount namespace: the same, and bulwark republishes
    // the set, saying why.
    const size_t seen = bw.others().size();
    t.mount_outside(t.prot);
    write_file(planted, "planted\n");
    require(read_file(planted) == "planted\n", "the planted file cannot be read out of the scope");
    r = t.in_scope([&] { return open_errno(planted, O_RDONLY); });
    expect_errno(r.code, EPERM, "open(prot/planted) in scope, prot/ covered by a tmpfs");
    ev = bw.next_verdict("the read of the planted file");
    require(ev.str("verdict") == "deny" && ev.str("path") == planted && ev.num("pid") == r.pid,
            "event of the planted file's read: ", ev.line());
    Json ready = ready_after(bw, seen);
    require(ready.str("reason") == cat("mount changed: ", t.prot), "ready after the mount: reason '",
            ready.str("reason"), "', want 'mount changed: ", t.prot, "': ", ready.line());
    require(ready.num("generation") == 2, "ready after the mount: ", ready.line());

    r = t.in_scope([&] { return open_errno(planted, O_RDONLY); });
    expect_errno(r.code, EPERM, "open(prot/planted) in scope after the republish");
    ev = bw.next_verdict("the read after the republish");
    require(ev.str("verdict") == "deny" && ev.str("path") == planted,
            "event after the republish: ", ev.line());
    r = t.in_scope([&] { return open_errno(fresh, O_CREAT | O_WRONLY); });
    expect_errno(r.code, EPERM, "open(prot/fresh, O_CREAT) in scope");
    require(access(fresh.c_str(), F_OK) != 0, "prot/fresh exists after a denied create");
    ev = bw.next_verdict("the create");
    require(ev.str("op") == "create" && ev.str("path") == fresh, "event of the create: ", ev.line());

    // Out of the scope: untouched.
    expect_open(planted, O_RDONLY, 0, "out of the scope, the planted file");
    t.fx.no_event_for(bw, "reads out of the scope");
    bw.stop_and_check();
}

TEST("mounts: a file opened by handle, with no path, is denied fail-closed in scope and not out of it") {
    Fixture fx;
    ScopedCgroup cg(cat("bwt-handles-", getpid()));
    load_module("loop", [] { return access("/dev/loop-control", F_OK) == 0; });

    // An ext2 filesystem (busybox mke2fs; ext4's driver mounts it, with
    // export operations: file handles) on a loop device.
    const std::string img = fx.dir + "/fs.img", mnt = fx.dir + "/mnt";
    {
        int fd = open(img.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        require(fd >= 0 && ftruncate(fd, 8 << 20) == 0, "create ", img, ": ", errno_name(errno));
        close(fd);
    }
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    require(ctl >= 0, "open(/dev/loop-control): ", errno_name(errno));
    const int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    close(ctl);
    require(n >= 0, "LOOP_CTL_GET_FREE: ", errno_name(errno));
    const std::string loopdev = cat("/dev/loop", n);
    int loopfd = open(loopdev.c_str(), O_RDWR | O_CLOEXEC);
    int imgfd = open(img.c_str(), O_RDWR | O_CLOEXEC);
    require(loopfd >= 0 && imgfd >= 0 && ioctl(loopfd, LOOP_SET_FD, imgfd) == 0, "attach ", img, " to ", loopdev,
            ": ", errno_name(errno));
    close(imgfd);
    // busybox mke2fs wants a block device.
    pid_t pid = fork();
    if (pid == 0) {
        int log = open((img + ".log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(log, 1);
        dup2(log, 2);
        execl("/sbin/mke2fs", "mke2fs", loopdev.c_str(), "8192", static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    require(WIFEXITED(status) && WEXITSTATUS(status) == 0, "mke2fs ", loopdev, ": status ", status, ": ",
            read_file(img + ".log"));
    make_dirs(mnt);
    require(mount(loopdev.c_str(), mnt.c_str(), "ext4", 0, nullptr) == 0, "mount ", loopdev, " (ext2 as ext4): ",
            errno_name(errno));
    struct Cleanup {
        std::string mnt;
        int loopfd;
        ~Cleanup() {
            umount2(mnt.c_str(), MNT_DETACH);
            ioctl(loopfd, LOOP_CLR_FD, 0);
            close(loopfd);
        }
    } cleanup{mnt, loopfd};

    const std::string secret = mnt + "/secret", file = secret + "/f";
    make_dirs(secret);
    write_file(file, "s3cret\n");
    struct Handle {
        file_handle h;
        unsigned char room[MAX_HANDLE_SZ];
    } handle{};
    handle.h.handle_bytes = MAX_HANDLE_SZ;
    int mount_id = 0;
    require(name_to_handle_at(AT_FDCWD, file.c_str(), &handle.h, &mount_id, 0) == 0, "name_to_handle_at(", file,
            "): ", errno_name(errno));

    // Policy t alone (not the fixture's marker, a global policy denying a
    // read: a file with no path is denied to everyone a policy that could
    // deny a read scopes, which a global one does).
    const std::string pol = fx.dir + "/pol-t";
    make_dirs(pol);
    auto p = write_policy(pol + "/t.toml",
                          cat("[policy]\nname = \"t\"\n\n[scope]\ncgroup = [\"", cg.name,
                              "\"]\n\n[[file]] # deny\nprefixes = [\"", secret, "/\"]\naccess = [\"read\"]\n"
                              "action = \"deny\"\n"));
    Bulwark bw({{pol}});
    bw.wait_ready({"t"});

    // Forget the file's dentry: the handle then yields one with no parent.
    write_file("/proc/sys/vm/drop_caches", "2\n");
    auto by_handle = [&] {
        int mfd = open(mnt.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (mfd < 0) return 200;
        int fd = open_by_handle_at(mfd, &handle.h, O_RDONLY | O_CLOEXEC);
        int e = fd < 0 ? errno : 0;
        if (fd >= 0) close(fd);
        close(mfd);
        return e;
    };
    auto r = run_child([&] {
        cg.enter();
        return by_handle();
    });
    require(r.error.empty(), "child: ", r.error);
    expect_errno(r.code, EPERM, "open_by_handle_at(secret/f) in scope");
    Json ev = bw.next_verdict("the open by handle");
    require(ev.str("verdict") == "deny" && ev.str("policy") == "t" && ev.num("pid") == r.pid &&
                ev.str("op") == "open" && ev.str("access") == "read" &&
                ev.str("reason") == "opened by a file handle, with no path to its mount's root (fail-closed)",
            "event of the open by handle: ", ev.line());

    // Out of the scope: the same handle opens (and nothing is reported: the
    // next verdict is the open by path below).
    expect_errno(by_handle(), 0, "open_by_handle_at(secret/f) out of the scope");
    // In the scope, by path: the tree rule, as always.
    r = run_child([&] {
        cg.enter();
        return open_errno(file, O_RDONLY);
    });
    expect_errno(r.code, EPERM, "open(secret/f) in scope");
    ev = bw.next_verdict("the open by path");
    require(ev.str("path") == file && ev.str("rule") == p.rule("deny") && ev.num("pid") == r.pid && !ev.has("reason"),
            "event of the open by path (the open by handle out of the scope was reported?): ", ev.line());
    bw.stop_and_check();
    const Json stats = final_stats(bw);
    require(stats.num("walk_disconnected") == 1 && stats.num("denied") == 2,
            "stats walk_disconnected = ", stats.num("walk_disconnected"), " (want 1), denied = ", stats.num("denied"),
            " (want 2): ", stats.line());
}
