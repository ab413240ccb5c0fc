// Enforcement of [[file]] rules: every test runs bulwark, performs the real
// open(2), checks the exact errno, then the event bulwark wrote for it — and
// proves silence where nothing may be reported (Fixture::no_event_for).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

// "[policy] name = NAME" + extra header lines + a tagged [[file]] table per rule.
struct Rule {
    Rule(std::string t, std::vector<std::string> p, std::vector<std::string> pre, std::string act = "deny",
         std::string acc = "")
        : tag(std::move(t)), paths(std::move(p)), prefixes(std::move(pre)), action(std::move(act)), access(std::move(acc)) {}
    std::string tag;
    std::vector<std::string> paths;
    std::vector<std::string> prefixes;
    std::string action;
    std::string access;  // "" = any; else a TOML array body, e.g. "\"write\""
};

std::string toml_list(const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
    return s + "]";
}

std::string policy_text(const std::string& name, const std::string& header, const std::vector<Rule>& rules) {
    std::string t = cat("[policy]\nname = \"", name, "\"\n", header, "\n");
    for (const auto& r : rules) {
        t += cat("[[file]] # ", r.tag, "\n");
        if (!r.paths.empty()) t += "paths = " + toml_list(r.paths) + "\n";
        if (!r.prefixes.empty()) t += "prefixes = " + toml_list(r.prefixes) + "\n";
        if (!r.access.empty()) t += "access = [" + r.access + "]\n";
        t += "action = \"" + r.action + "\"\n\n";
    }
    return t;
}

// A cgroup v2 directory made by the test, removed when the test leaves.
struct Cgroup {
    std::string path;
    explicit Cgroup(const std::string& p) : path(p) {
        if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) fail("mkdir ", path, ": ", errno_name(errno));
    }
    ~Cgroup() { rmdir(path.c_str()); }
};

// A bind mount made by the test, unmounted when the test leaves.
struct BindMount {
    std::string target;
    BindMount(const std::string& source, const std::string& t) : target(t) {
        make_dirs(target);
        if (mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
            fail("mount --bind ", source, " ", target, ": ", errno_name(errno));
    }
    ~BindMount() { umount2(target.c_str(), MNT_DETACH); }
};

// The usual shape: one denied file, policy "t" in t.toml with rule "deny".
struct ExactDeny {
    Fixture fx;
    std::string secret = fx.data + "/secret";
    PolicyFile policy;
    // access: "" = any; "\"read\"" leaves link, rename and create to the test.
    explicit ExactDeny(const std::string& access = "") {
        write_file(secret, "secret\n");
        policy = write_policy(fx.pol + "/t.toml", policy_text("t", "", {{"deny", {secret}, {}, "deny", access}}));
    }
    Expect denied(const std::string& access = "read", const std::vector<std::string>& paths = {}) const {
        Expect e = expect_self("deny", "t", policy.rule("deny"), secret, access);
        if (!paths.empty()) e.paths = paths;
        return e;
    }
};

}  // namespace

// ---- basic rules ---------------------------------------------------------------

TEST("file: exact path denied") {
    ExactDeny t;
    std::string other = t.fx.data + "/other";
    write_file(other, "other\n");
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});

    expect_open(t.secret, O_RDONLY, EPERM);
    check_event(bw.next_verdict("open(secret, O_RDONLY)"), t.denied("read"));
    expect_open(t.secret, O_WRONLY, EPERM);
    check_event(bw.next_verdict("open(secret, O_WRONLY)"), t.denied("write"));
    expect_open(t.secret, O_RDWR, EPERM);
    check_event(bw.next_verdict("open(secret, O_RDWR)"), t.denied("read,write"));

    expect_open(other, O_RDONLY, 0, "a file beside the denied one");
    t.fx.no_event_for(bw, "open(other)");
    bw.stop_and_check();
}

TEST("file: prefix denied") {
    Fixture fx;
    std::string deny = fx.data + "/deny/";
    make_dirs(fx.data + "/deny/sub/deeper");
    make_dirs(fx.data + "/denyx");
    std::string top = deny + "top", deep = deny + "sub/deeper/f", sibling = fx.data + "/denyx/f";
    for (const auto& f : {top, deep, sibling}) write_file(f, "x\n");
    auto p = write_policy(fx.pol + "/t.toml", policy_text("t", "", {{"deny", {}, {deny}}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    expect_open(top, O_RDONLY, EPERM);
    check_event(bw.next_verdict("open(deny/top)"), expect_self("deny", "t", p.rule("deny"), top, "read"));
    expect_open(deep, O_WRONLY, EPERM);
    check_event(bw.next_verdict("open(deny/sub/deeper/f)"), expect_self("deny", "t", p.rule("deny"), deep, "write"));
    expect_open(sibling, O_RDONLY, 0, "denyx/ shares the string prefix but not the directory");
    fx.no_event_for(bw, "open(denyx/f)");
    bw.stop_and_check();
}

TEST("file: allow on a longer prefix inside a denied prefix") {
    Fixture fx;
    std::string deny = fx.data + "/d/", ok = fx.data + "/d/ok/";
    make_dirs(fx.data + "/d/ok/sub");
    make_dirs(fx.data + "/d/ok2");
    std::string allowed = ok + "sub/f", denied = deny + "f", near = fx.data + "/d/ok2/f";
    for (const auto& f : {allowed, denied, near}) write_file(f, "x\n");
    auto p = write_policy(fx.pol + "/t.toml", policy_text("t", "", {{"deny", {}, {deny}}, {"allow", {}, {ok}, "allow"}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    expect_open(allowed, O_RDWR, 0, "under the allowed longer prefix");
    fx.no_event_for(bw, "open(d/ok/sub/f)");
    expect_open(denied, O_RDONLY, EPERM);
    check_event(bw.next_verdict("open(d/f)"), expect_self("deny", "t", p.rule("deny"), denied, "read"));
    expect_open(near, O_RDONLY, EPERM, "d/ok2/ is not under d/ok/");
    check_event(bw.next_verdict("open(d/ok2/f)"), expect_self("deny", "t", p.rule("deny"), near, "read"));
    bw.stop_and_check();
}

TEST("file: allow on an exact path inside a denied prefix") {
    Fixture fx;
    std::string deny = fx.data + "/d/";
    make_dirs(fx.data + "/d");
    std::string allowed = deny + "ok", denied = deny + "other", longer = deny + "ok.bak";
    for (const auto& f : {allowed, denied, longer}) write_file(f, "x\n");
    auto p = write_policy(fx.pol + "/t.toml", policy_text("t", "", {{"deny", {}, {deny}}, {"allow", {allowed}, {}, "allow"}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    expect_open(allowed, O_RDONLY, 0, "the exact allowed path");
    fx.no_event_for(bw, "open(d/ok)");
    expect_open(denied, O_RDONLY, EPERM);
    check_event(bw.next_verdict("open(d/other)"), expect_self("deny", "t", p.rule("deny"), denied, "read"));
    expect_open(longer, O_RDONLY, EPERM, "d/ok.bak is not the exact allowed path");
    check_event(bw.next_verdict("open(d/ok.bak)"), expect_self("deny", "t", p.rule("deny"), longer, "read"));
    bw.stop_and_check();
}

TEST("file: write denied while read allowed") {
    Fixture fx;
    std::string f = fx.data + "/conf";
    write_file(f, "x\n");
    auto p = write_policy(fx.pol + "/t.toml", policy_text("t", "", {{"deny", {f}, {}, "deny", "\"write\""}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    expect_open(f, O_RDONLY, 0, "reading");
    fx.no_event_for(bw, "open(conf, O_RDONLY)");
    expect_open(f, O_WRONLY, EPERM);
    check_event(bw.next_verdict("open(conf, O_WRONLY)"), expect_self("deny", "t", p.rule("deny"), f, "write"));
    expect_open(f, O_RDWR, EPERM);
    check_event(bw.next_verdict("open(conf, O_RDWR)"), expect_self("deny", "t", p.rule("deny"), f, "read,write"));
    bw.stop_and_check();
}

// ---- audit -------------------------------------------------------------------------

TEST("file: mode = audit policy reports would-deny") {
    Fixture fx;
    std::string secret = fx.data + "/secret";
    write_file(secret, "x\n");
    auto p = write_policy(fx.pol + "/t.toml", policy_text("t", "mode = \"audit\"\n", {{"deny", {secret}, {}}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    expect_open(secret, O_RDONLY, 0, "an audit-mode policy never blocks");
    check_event(bw.next_verdict("open(secret)"), expect_self("would-deny", "t", p.rule("deny"), secret, "read"));
    bw.stop_and_check();
}

TEST("file: global --audit turns deny into would-deny") {
    ExactDeny t;
    Bulwark bw({{t.fx.pol}, true});
    bw.wait_ready({"marker", "t"}, "audit");

    expect_open(t.secret, O_RDONLY, 0, "--audit never blocks");
    Expect e = t.denied("read");
    e.verdict = "would-deny";
    check_event(bw.next_verdict("open(secret)"), e);
    t.fx.no_event_for(bw, "open(secret) beyond its one event", true);
    bw.stop_and_check();
}

TEST("file: action = audit rule reports audit") {
    Fixture fx;
    std::string watched = fx.data + "/watched";
    write_file(watched, "x\n");
    auto p = write_policy(fx.pol + "/t.toml", policy_text("t", "", {{"audit", {watched}, {}, "audit"}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    expect_open(watched, O_RDWR, 0, "an audit rule never blocks");
    check_event(bw.next_verdict("open(watched)"), expect_self("audit", "t", p.rule("audit"), watched, "read,write"));
    fx.no_event_for(bw, "open(watched) beyond its one event");
    bw.stop_and_check();
}

// ---- scope ----------------------------------------------------------------------------

namespace {

// A child joins `cgroup` (a directory under /sys/fs/cgroup), opens `path` and
// exits with the errno (0 = opened).
ChildResult open_in_cgroup(const std::string& cgroup, const std::string& path) {
    return run_child([&] {
        write_file(cgroup + "/cgroup.procs", "0\n");
        return open_errno(path, O_RDONLY);
    });
}

void check_child_denied(Bulwark& bw, const ChildResult& r, const PolicyFile& p, const std::string& path,
                        const std::string& cgroup_rel, const std::string& what) {
    require(r.code == EPERM, what, ": child's open gave ", errno_name(r.code), ", want EPERM");
    Expect e;
    e.verdict = "deny";
    e.policy = p.name;
    e.rule = p.rule("deny");
    e.paths = {path};
    e.access = "read";
    e.pid = e.tid = r.pid;
    e.ppid = getpid();
    e.uid = 0;
    e.comm = "bwt-child";
    e.cgroup = cgroup_rel;
    check_event(bw.next_verdict(what), e);
}

}  // namespace

TEST("scope: cgroup (relative path) denies inside, not outside") {
    Fixture fx;
    std::string secret = fx.data + "/secret";
    write_file(secret, "x\n");
    std::string name = "bwt-cg-" + std::to_string(getpid());
    Cgroup cg("/sys/fs/cgroup/" + name);
    auto p = write_policy(fx.pol + "/t.toml",
                          policy_text("t", cat("\n[scope]\ncgroup = [\"", name, "\"]\n"), {{"deny", {secret}, {}}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    auto r = open_in_cgroup(cg.path, secret);
    check_child_denied(bw, r, p, secret, "/" + name, "open(secret) in the scoped cgroup");
    expect_open(secret, O_RDONLY, 0, "outside the scoped cgroup");
    fx.no_event_for(bw, "open(secret) outside the scoped cgroup");
    bw.stop_and_check();
}

TEST("scope: cgroup covers an existing child cgroup (absolute path)") {
    Fixture fx;
    std::string secret = fx.data + "/secret";
    write_file(secret, "x\n");
    std::string name = "bwt-cgp-" + std::to_string(getpid());
    Cgroup cg("/sys/fs/cgroup/" + name);
    Cgroup child(cg.path + "/early");
    auto p = write_policy(fx.pol + "/t.toml",
                          policy_text("t", cat("\n[scope]\ncgroup = [\"", cg.path, "\"]\n"), {{"deny", {secret}, {}}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    auto r = open_in_cgroup(child.path, secret);
    check_child_denied(bw, r, p, secret, "/" + name + "/early", "open(secret) in a child of the scoped cgroup");
    expect_open(secret, O_RDONLY, 0, "outside the scoped cgroup");
    fx.no_event_for(bw, "open(secret) outside the scoped cgroup");
    bw.stop_and_check();
}

TEST("scope: cgroup covers a child cgroup created after start") {
    Fixture fx;
    std::string secret = fx.data + "/secret";
    write_file(secret, "x\n");
    std::string name = "bwt-cgl-" + std::to_string(getpid());
    Cgroup cg("/sys/fs/cgroup/" + name);
    auto p = write_policy(fx.pol + "/t.toml",
                          policy_text("t", cat("\n[scope]\ncgroup = [\"", name, "\"]\n"), {{"deny", {secret}, {}}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    Cgroup late(cg.path + "/late");
    Cgroup later(late.path + "/later");
    auto r = open_in_cgroup(later.path, secret);
    check_child_denied(bw, r, p, secret, "/" + name + "/late/later", "open(secret) in a grandchild cgroup made after start");
    bw.stop_and_check();
}

namespace {
void uid_scope_test(const std::string& uid_value) {
    Fixture fx;
    std::string secret = fx.data + "/secret";
    write_file(secret, "x\n");  // 0644 in 0755 directories: uid 1000 passes DAC
    auto p = write_policy(fx.pol + "/t.toml",
                          policy_text("t", cat("\n[scope]\nuid = [", uid_value, "]\n"), {{"deny", {secret}, {}}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    auto r = run_child([&] {
        if (setgid(1000) != 0 || setuid(1000) != 0) fail("setuid(1000): ", errno_name(errno));
        return open_errno(secret, O_RDONLY);
    });
    require(r.code == EPERM, "open(secret) as uid 1000 gave ", errno_name(r.code), ", want EPERM");
    Expect e;
    e.verdict = "deny";
    e.policy = "t";
    e.rule = p.rule("deny");
    e.paths = {secret};
    e.access = "read";
    e.pid = e.tid = r.pid;
    e.ppid = getpid();
    e.uid = 1000;
    e.comm = "bwt-child";
    check_event(bw.next_verdict("open(secret) as uid 1000"), e);

    expect_open(secret, O_RDONLY, 0, "as root (outside the uid scope)");
    fx.no_event_for(bw, "open(secret) as root");
    bw.stop_and_check();
}
}  // namespace

TEST("scope: uid (number) denies uid 1000, not root") { uid_scope_test("1000"); }

TEST("scope: uid (user name) denies bwtuser, not root") { uid_scope_test("\"bwtuser\""); }

// ---- several policies ------------------------------------------------------------------

TEST("policies: two policies each deny their own file") {
    Fixture fx;
    std::string a = fx.data + "/a", b = fx.data + "/b";
    write_file(a, "a\n");
    write_file(b, "b\n");
    auto pa = write_policy(fx.pol + "/pa.toml", policy_text("pa", "", {{"deny", {a}, {}}}));
    auto pb = write_policy(fx.pol + "/pb.toml", policy_text("pb", "description = \"second\"\n", {{"deny", {b}, {}}}));
    // Files this time, not the directory.
    Bulwark bw({{fx.marker_policy.path, pa.path, pb.path}});
    bw.wait_ready({"marker", "pa", "pb"});

    expect_open(a, O_RDONLY, EPERM);
    check_event(bw.next_verdict("open(a)"), expect_self("deny", "pa", pa.rule("deny"), a, "read"));
    expect_open(b, O_RDONLY, EPERM);
    check_event(bw.next_verdict("open(b)"), expect_self("deny", "pb", pb.rule("deny"), b, "read"));
    bw.stop_and_check();
}

TEST("policies: enforce deny and audit-mode would-deny give one deny event") {
    Fixture fx;
    std::string c = fx.data + "/c";
    write_file(c, "c\n");
    auto pe = write_policy(fx.pol + "/enforcing.toml", policy_text("enforcing", "", {{"deny", {c}, {}}}));
    auto pa = write_policy(fx.pol + "/auditing.toml", policy_text("auditing", "mode = \"audit\"\n", {{"deny", {c}, {}}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "enforcing", "auditing"});

    expect_open(c, O_RDONLY, EPERM);
    check_event(bw.next_verdict("open(c)"), expect_self("deny", "enforcing", pe.rule("deny"), c, "read"));
    fx.no_event_for(bw, "open(c) beyond its one deny event");
    bw.stop_and_check();
}

// ---- aliases -------------------------------------------------------------------------------

TEST("alias: symlink to a denied file") {
    ExactDeny t;
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});

    std::string link = t.fx.dir + "/link";
    require(symlink(t.secret.c_str(), link.c_str()) == 0, "symlink: ", errno_name(errno));
    expect_open(link, O_RDONLY, EPERM, "through the symlink");
    check_event(bw.next_verdict("open(link)"), t.denied("read"));
    bw.stop_and_check();
}

TEST("alias: path with ..") {
    ExactDeny t;
    make_dirs(t.fx.data + "/sub");
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});

    std::string dotted = t.fx.data + "/sub/../secret";
    expect_open(dotted, O_RDONLY, EPERM);
    check_event(bw.next_verdict("open(sub/../secret)"), t.denied("read"));
    expect_open(t.fx.data + "/./sub/.././/secret", O_WRONLY, EPERM);
    check_event(bw.next_verdict("open(./sub/.././/secret)"), t.denied("write"));
    bw.stop_and_check();
}

TEST("alias: relative path after chdir") {
    ExactDeny t;
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});

    require(chdir(t.fx.data.c_str()) == 0, "chdir: ", errno_name(errno));
    expect_open("secret", O_RDONLY, EPERM, "relative to the cwd");
    check_event(bw.next_verdict("open(\"secret\")"), t.denied("read"));
    require(chdir("/") == 0, "chdir /");
    int dfd = open(t.fx.data.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    require(dfd >= 0, "open data dir: ", errno_name(errno));
    int e = open_errno_at(dfd, "secret", O_RDONLY);
    close(dfd);
    require(e == EPERM, "openat(datafd, \"secret\") gave ", errno_name(e), ", want EPERM");
    check_event(bw.next_verdict("openat(datafd, \"secret\")"), t.denied("read"));
    bw.stop_and_check();
}

TEST("alias: /proc/self/fd/N after an O_PATH open") {
    ExactDeny t;
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});

    int fd = open(t.secret.c_str(), O_PATH | O_CLOEXEC);
    require(fd >= 0, "open(secret, O_PATH) gave ", errno_name(errno), " (O_PATH opens no file: want success)");
    t.fx.no_event_for(bw, "the O_PATH open");
    std::string magic = "/proc/self/fd/" + std::to_string(fd);
    int e = open_errno(magic, O_RDONLY);
    close(fd);
    require(e == EPERM, "open(", magic, ") gave ", errno_name(e), ", want EPERM");
    check_event(bw.next_verdict("open(/proc/self/fd/N)"), t.denied("read"));
    bw.stop_and_check();
}

TEST("alias: hardlink to a denied file") {
    ExactDeny t("\"read\"");  // read only: the link itself is allowed (t25 denies it under write)
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});

    std::string hl = t.fx.dir + "/hardlink";  // same tmpfs, another directory
    require(link(t.secret.c_str(), hl.c_str()) == 0, "link: ", errno_name(errno));
    expect_open(hl, O_RDONLY, EPERM, "through a hardlink made after start");
    check_event(bw.next_verdict("open(hardlink)"), t.denied("read", {t.secret, hl}));
    bw.stop_and_check();
}

TEST("alias: bind mount of the denied file's directory") {
    ExactDeny t;
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});

    BindMount bind(t.fx.data, t.fx.dir + "/bind");
    std::string aliased = bind.target + "/secret";
    expect_open(aliased, O_RDONLY, EPERM, "through a bind mount made after start");
    check_event(bw.next_verdict("open(bind/secret)"), t.denied("read", {t.secret, aliased}));
    bw.stop_and_check();
}

TEST("alias: bind mount of a denied prefix's directory") {
    Fixture fx;
    make_dirs(fx.data + "/tree/sub");
    std::string f = fx.data + "/tree/sub/f";
    write_file(f, "x\n");
    auto p = write_policy(fx.pol + "/t.toml", policy_text("t", "", {{"deny", {}, {fx.data + "/tree/"}}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    BindMount bind(fx.data + "/tree", fx.dir + "/bind");
    std::string aliased = bind.target + "/sub/f";
    expect_open(aliased, O_RDONLY, EPERM, "through a bind mount of the prefix directory");
    Expect e = expect_self("deny", "t", p.rule("deny"), f, "read");
    e.paths.push_back(aliased);
    check_event(bw.next_verdict("open(bind/sub/f)"), e);
    bw.stop_and_check();
}

TEST("alias: file renamed over a denied name") {
    ExactDeny t("\"read\"");  // read only: the rename itself is allowed (t25 denies it under write)
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});

    struct stat before{}, after{};
    require(stat(t.secret.c_str(), &before) == 0, "stat secret");
    std::string fresh = t.fx.data + "/fresh";
    write_file(fresh, "replacement\n");  // allowed: another name
    require(rename(fresh.c_str(), t.secret.c_str()) == 0, "rename: ", errno_name(errno));
    require(stat(t.secret.c_str(), &after) == 0, "stat secret");
    require(after.st_ino != before.st_ino, "test bug: the rename kept the inode");
    expect_open(t.secret, O_RDONLY, EPERM, "the replacement under the denied name");
    check_event(bw.next_verdict("open(secret) after rename"), t.denied("read"));
    bw.stop_and_check();
}

TEST("file: file created after start under a denied prefix") {
    Fixture fx;
    std::string deny = fx.data + "/deny/";
    make_dirs(fx.data + "/deny");
    // read only: creating is allowed (t25 denies it under write).
    auto p = write_policy(fx.pol + "/t.toml", policy_text("t", "", {{"deny", {}, {deny}, "deny", "\"read\""}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    // mknod creates without opening: nothing a read rule decides, nothing to report.
    std::string late = deny + "late";
    require(mknod(late.c_str(), S_IFREG | 0644, 0) == 0, "mknod: ", errno_name(errno));
    expect_open(late, O_RDONLY, EPERM);
    check_event(bw.next_verdict("open(deny/late)"), expect_self("deny", "t", p.rule("deny"), late, "read"));

    make_dirs(deny + "newdir");
    std::string deeper = deny + "newdir/f";
    require(mknod(deeper.c_str(), S_IFREG | 0644, 0) == 0, "mknod: ", errno_name(errno));
    expect_open(deeper, O_RDONLY, EPERM);
    check_event(bw.next_verdict("open(deny/newdir/f)"), expect_self("deny", "t", p.rule("deny"), deeper, "read"));
    // open(O_CREAT) under a write rule: t25_file_ops.cpp ("nothing is created").
    bw.stop_and_check();
}

// ---- lifecycle ---------------------------------------------------------------------------

TEST("run: SIGTERM detaches, prints stats, exits 0") {
    ExactDeny t;
    Bulwark bw({{t.fx.pol}});
    bw.wait_ready({"marker", "t"});
    expect_open(t.secret, O_RDONLY, EPERM);
    check_event(bw.next_verdict("open(secret)"), t.denied("read"));
    bw.stop_and_check(Bulwark::StopBy::sigterm);
    expect_open(t.secret, O_RDONLY, 0, "after bulwark stopped");
    expect_open(t.fx.marker, O_RDONLY, 0, "after bulwark stopped");
}

TEST("self: bulwark keeps working under a policy that denies every open") {
    // bulwark's own opens cannot be observed from outside, so this is the
    // proxy: with "/" denied to everyone, bulwark must still report, stop on
    // SIGTERM with its stats and exit 0 — and no one is denied afterwards.
    Fixture fx;
    std::string f = fx.data + "/f";
    write_file(f, "x\n");
    auto p = write_policy(fx.pol + "/all.toml", policy_text("all", "", {{"deny", {}, {"/"}}}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "all"});

    expect_open(f, O_RDONLY, EPERM);
    check_event(bw.next_verdict("open(f)"), expect_self("deny", "all", p.rule("deny"), f, "read"));
    std::string status = "/proc/" + std::to_string(getpid()) + "/status";
    expect_open(status, O_RDONLY, EPERM, "under \"/\"");
    check_event(bw.next_verdict("open(/proc/PID/status)"), expect_self("deny", "all", p.rule("deny"), status, "read"));
    bw.stop_and_check(Bulwark::StopBy::sigterm);  // "/" denies the client's exec too
    expect_open(f, O_RDONLY, 0, "after bulwark stopped");
}
