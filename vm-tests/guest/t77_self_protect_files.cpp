// bulwark protects its own files (docs/decisions/011-self-protection.md,
// "Files"): in the scope of an enforcing policy, the policy directory it
// was started with, its executable and its pins cannot be written,
// created in, deleted, renamed over or chmod-ed — each attempt fails with
// EPERM, changes nothing, and is a "tamper" verdict event naming what was
// tried on which of bulwark's files; bulwark's parent and processes
// outside every scope keep full control; under a policy without [scope]
// (every process in scope, the operator's shell too) the policy files
// stay editable and the executable does not; in audit mode the attempts
// are would-deny and go through.
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

int err(long r) { return r < 0 ? errno : 0; }

std::string real_path(const std::string& p) {
    char buf[PATH_MAX];
    if (!realpath(p.c_str(), buf)) fail("realpath ", p, ": ", errno_name(errno));
    return buf;
}

unsigned mode_of(const std::string& p) {
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) fail("stat ", p, ": ", errno_name(errno));
    return st.st_mode & 07777;
}

// One change tried on one of bulwark's files, and the event it must give.
struct Change {
    std::string what;                 // for failure messages
    std::string op, object, path, target;
    std::function<int()> attempt;     // errno, 0 for success
};

void check_event(const Json& ev, const Change& c, const std::string& verdict, const PolicyFile& p, pid_t child) {
    TamperCheck t(ev, verdict, p, c.op, child);
    t.field("object", c.object).field("path", c.path);
    if (!c.target.empty()) t.field("target", c.target);
    t.done(c.what);
}

}  // namespace

TEST("self-protect: files: in an enforcing policy's scope bulwark's policies, executable and pins cannot change") {
    const std::string dir = test_dir(), secret = dir + "/secret", pol = dir + "/pol";
    write_file(secret, "x\n");
    write_file(dir + "/decoy.toml", "[policy]\nname = \"decoy\"\n");
    ScopedCgroup cg("bwt-files-" + std::to_string(getpid()));
    auto p = guard_policy(pol, cg, secret, false);
    const std::string guard = p.path, before = read_file(guard);
    Bpffs fs(dir + "/bpf");
    const std::string pins = fs.dir + "/bulwark", exe = real_path(kBulwark);
    Bulwark bw({{pol}, false, "-", {"--pin-dir", pins, "--stats-interval", "0"}});
    bw.wait_ready({"guard"});
    const std::vector<std::string> map_pins = files_in(pins + "/maps"), link_pins = files_in(pins + "/links");
    require(!map_pins.empty() && !link_pins.empty(), "no pins under ", pins);
    const std::string map_pin = map_pins.front(), link_pin = link_pins.front();
    const unsigned guard_mode = mode_of(guard), exe_mode = mode_of(exe);

    const std::vector<Change> changes = {
        {"open(policy, O_WRONLY)", "open", "policy", guard, "", [&] { return open_errno(guard, O_WRONLY); }},
        {"truncate(policy)", "truncate", "policy", guard, "", [&] { return err(truncate(guard.c_str(), 0)); }},
        {"open(O_CREAT) in the policy directory", "create", "policy", pol + "/new.toml", "",
         [&] { return open_errno(pol + "/new.toml", O_WRONLY | O_CREAT | O_EXCL); }},
        {"unlink(policy)", "delete", "policy", guard, "", [&] { return err(unlink(guard.c_str())); }},
        {"rename(decoy, policy)", "rename", "policy", dir + "/decoy.toml", guard,
         [&] { return err(rename((dir + "/decoy.toml").c_str(), guard.c_str())); }},
        {"chmod(policy)", "metadata", "policy", guard, "", [&] { return err(chmod(guard.c_str(), guard_mode)); }},
        // (Opening or truncating a running executable for writing fails
        // with ETXTBSY before any LSM is asked.)
        {"link(executable)", "link", "binary", exe, exe + ".bwt",
         [&] { return err(link(exe.c_str(), (exe + ".bwt").c_str())); }},
        {"chmod(executable)", "metadata", "binary", exe, "", [&] { return err(chmod(exe.c_str(), exe_mode)); }},
        {"unlink(map pin)", "delete", "pins", map_pin, "", [&] { return err(unlink(map_pin.c_str())); }},
        // (bpffs refuses names with a '.' itself, with EPERM: none here.)
        {"rename(link pin)", "rename", "pins", link_pin, link_pin + "x",
         [&] { return err(rename(link_pin.c_str(), (link_pin + "x").c_str())); }},
        {"mkdir in the pin directory", "create", "pins", pins + "/extra", "",
         [&] { return err(mkdir((pins + "/extra").c_str(), 0700)); }},
        {"open(O_CREAT) in the pin directory", "create", "pins", pins + "/new", "",
         [&] { return open_errno(pins + "/new", O_WRONLY | O_CREAT | O_EXCL); }},
    };
    auto r = run_child([&] {
        cg.enter();
        for (const auto& c : changes)
            if (int e = c.attempt(); e != EPERM) fail("in scope: ", c.what, " gave ", errno_name(e), ", want EPERM");
        // bulwark still enforces its policy.
        if (int e = open_errno(secret, O_RDONLY); e != EPERM) fail("in scope: open(secret) gave ", errno_name(e));
        // Reading its own files is not changing them.
        if (int e = open_errno(guard, O_RDONLY); e != 0) fail("in scope: open(policy, O_RDONLY) gave ", errno_name(e));
        return 0;
    });
    require(r.code == 0, "child exit ", r.code);
    for (const auto& c : changes) check_event(bw.next_verdict(c.what), c, "deny", p, r.pid);
    Json file = bw.next_verdict("open(secret) after the attempts");
    require(file.str("kind") == "file" && file.str("path") == secret && file.num("pid") == r.pid,
            "the next event is not the secret's denial (reading the policy must not be reported): ", file.line());

    // Nothing changed.
    require(read_file(guard) == before, "the policy file's content changed");
    require(open_errno(pins + "/new", O_RDONLY) == ENOENT, "open(O_CREAT) left a file in the pin directory");
    require(open_errno(pol + "/new.toml", O_RDONLY) == ENOENT, "open(O_CREAT) left pol/new.toml behind");
    if (access((exe + ".bwt").c_str(), F_OK) == 0) {
        unlink((exe + ".bwt").c_str());
        fail("link(executable) made a second name for it");
    }
    require(access((dir + "/decoy.toml").c_str(), F_OK) == 0, "the decoy moved");
    require(files_in(pins + "/maps") == map_pins && files_in(pins + "/links") == link_pins,
            "the pins changed");

    // Outside every scope (a child of this process, not in the cgroup) and
    // bulwark's parent (this process): the same kind of changes work.
    auto out = run_child([&] {
        if (int e = err(chmod(guard.c_str(), guard_mode)); e != 0) fail("outside: chmod(policy) gave ", errno_name(e));
        if (int e = open_errno(pol + "/notes.txt", O_WRONLY | O_CREAT); e != 0)
            fail("outside: create in the policy directory gave ", errno_name(e));
        return 0;
    });
    require(out.code == 0, "outside child exit ", out.code);
    require(err(unlink((pol + "/notes.txt").c_str())) == 0, "bulwark's parent: unlink in the policy directory failed");
    // And nothing was reported for them: the next event is the next denial's.
    expect_next_denial(bw, cg, secret, "the outside changes");

    bw.stop_and_check();
    Json stats = final_stats(bw);
    const long long n = static_cast<long long>(changes.size());
    require(stats.num("tamper_denied") == n && stats.num("denied") == n + 2,
            "stats: tamper_denied ", stats.str("tamper_denied"), " (want ", n, "), denied ", stats.str("denied"),
            " (want ", n + 2, ": the changes, two opens): ", stats.line());
    require(files_in(fs.dir).empty(), "an orderly stop left something in the bpffs");
}

TEST("self-protect: files: under a policy without [scope] the policy files stay editable, the executable does not") {
    const std::string dir = test_dir(), secret = dir + "/secret", pol = dir + "/pol";
    write_file(secret, "x\n");
    make_dirs(pol);
    auto p = write_policy(pol + "/guard.toml", cat("[policy]\nname = \"guard\" # policy\n\n[[file]] # deny\npaths = [\"",
                                                    secret, "\"]\naction = \"deny\"\n"));
    const std::string exe = real_path(kBulwark);
    Bulwark bw({{pol}});
    bw.wait_ready({"guard"});
    const unsigned guard_mode = mode_of(p.path), exe_mode = mode_of(exe);
    const Change c{"chmod(executable)", "metadata", "binary", exe, "", nullptr};
    // Every process is in scope: a child of this process stands for the
    // operator's shell (this process is bulwark's parent, exempt).
    auto r = run_child([&] {
        if (int e = err(chmod(p.path.c_str(), guard_mode)); e != 0) fail("chmod(policy) gave ", errno_name(e));
        if (int e = open_errno(pol + "/notes.txt", O_WRONLY | O_CREAT | O_EXCL); e != 0)
            fail("create in the policy directory gave ", errno_name(e));
        if (int e = err(unlink((pol + "/notes.txt").c_str())); e != 0)
            fail("unlink in the policy directory gave ", errno_name(e));
        if (int e = err(chmod(exe.c_str(), exe_mode)); e != EPERM)
            fail("chmod(executable) gave ", errno_name(e), ", want EPERM");
        return 0;
    });
    require(r.code == 0, "child exit ", r.code);
    check_event(bw.next_verdict(c.what), c, "deny", p, r.pid);
    bw.stop_and_check();
    Json stats = final_stats(bw);
    require(stats.num("tamper_denied") == 1 && stats.num("denied") == 1,
            "stats: tamper_denied ", stats.str("tamper_denied"), " (want 1), denied ", stats.str("denied"),
            " (want 1): ", stats.line());
}

TEST("self-protect: files: in audit mode a change to bulwark's executable is would-deny and goes through") {
    const std::string dir = test_dir(), secret = dir + "/secret", pol = dir + "/pol";
    write_file(secret, "x\n");
    ScopedCgroup cg("bwt-files-" + std::to_string(getpid()));
    auto p = guard_policy(pol, cg, secret, true);
    const std::string exe = real_path(kBulwark);
    Bulwark bw({{pol}});
    bw.wait_ready({"guard"}, "audit");
    const Change c{"chmod(executable)", "metadata", "binary", exe, "", nullptr};
    const unsigned mode = mode_of(exe);
    auto r = run_child([&] {
        cg.enter();
        if (int e = err(chmod(exe.c_str(), mode)); e != 0) fail("audit: chmod(executable) gave ", errno_name(e));
        return 0;
    });
    require(r.code == 0, "child exit ", r.code);
    check_event(bw.next_verdict(c.what), c, "would-deny", p, r.pid);
    bw.stop_and_check();
    Json stats = final_stats(bw);
    require(stats.num("tamper_denied") == 0 && stats.num("would_deny") == 1,
            "stats: tamper_denied ", stats.str("tamper_denied"), " (want 0), would_deny ", stats.str("would_deny"),
            " (want 1): ", stats.line());
}
