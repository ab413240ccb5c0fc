// The live engine: reload (SIGHUP, `bulwark reload`) swaps the whole set
// atomically, a broken set is refused as a whole and the old one stays, no
// denied open ever succeeds while 20 reloads flip the set, and `bulwark
// status` / the control socket say what is in force.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

constexpr int kReloadTimeoutMs = 120000;

// A policy "live" denying `paths` (one [[file]] each, tagged "deny0",
// "deny1", ...), after `pad` blank lines so that versions differ in lines.
std::string deny_text(const std::vector<std::string>& paths, int pad = 0) {
    std::string t = "[policy]\nname = \"live\"\n" + std::string(static_cast<size_t>(pad), '\n');
    for (size_t i = 0; i < paths.size(); ++i)
        t += cat("\n[[file]] # deny", i, "\npaths = [\"", paths[i], "\"]\naction = \"deny\"\n");
    return t;
}

// Replace a policy file in one step, as an editor or a package would.
PolicyFile replace_policy(const std::string& path, const std::string& text) {
    write_file(path + ".new", text);
    if (rename((path + ".new").c_str(), path.c_str()) != 0) fail("rename ", path, ": ", errno_name(errno));
    return PolicyFile{path, "live", text};
}

std::string sha256_of(const std::string& path) {
    std::string out;
    FILE* p = popen(cat("sha256sum ", path).c_str(), "r");
    if (!p) fail("popen sha256sum");
    char buf[256];
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
    return out.substr(0, out.find(' '));
}

void expect_generation(const Json& ready, long long generation, const std::string& reason) {
    require(ready.num("generation") == generation, "ready generation ", ready.str("generation"), " (want ", generation,
            "): ", ready.line());
    require(ready.str("reason") == reason, "ready reason '", ready.str("reason"), "' (want ", reason, ")");
    require(ready.has("missing_hooks"), "ready without missing_hooks: ", ready.line());
}

}  // namespace

TEST("live: reload swaps one denial for another (bulwark reload, SIGHUP; errno, events, RELOADING=1/READY=1)") {
    Fixture fx;
    const std::string a = fx.data + "/a", b = fx.data + "/b";
    write_file(a, "a\n");
    write_file(b, "b\n");
    auto v1 = write_policy(fx.pol + "/live.toml", deny_text({a}));
    NotifySocket notify;
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "live"});
    require(notify.next(kEventTimeoutMs).rfind("READY=1", 0) == 0, "no READY=1 at start");
    expect_open(a, O_RDONLY, EPERM, "generation 1 denies a");
    check_event(bw.next_verdict("open(a)"), expect_self("deny", "live", v1.rule("deny0"), a, "read"));
    expect_open(b, O_RDONLY, 0, "generation 1 allows b");

    auto v2 = replace_policy(v1.path, deny_text({b}, 3));
    CommandResult r = bw.control("reload", {}, kReloadTimeoutMs);
    require(r.exited_with(0), "bulwark reload: ", r.describe());
    require(r.out.find("generation 2 is live") != std::string::npos, "bulwark reload said: ", r.out);
    std::string reloading = notify.next(kEventTimeoutMs);
    require(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0, "no RELOADING=1 with MONOTONIC_USEC: '", reloading, "'");
    std::string ready = notify.next(kEventTimeoutMs);
    require(ready.rfind("READY=1", 0) == 0 && ready.find("generation 2") != std::string::npos, "after reload: '", ready, "'");
    expect_generation(bw.next_of_type("ready"), 2, "bulwark reload");
    expect_open(a, O_RDONLY, 0, "generation 2 allows a");
    expect_open(b, O_RDONLY, EPERM, "generation 2 denies b");
    check_event(bw.next_verdict("open(b)"), expect_self("deny", "live", v2.rule("deny0"), b, "read"));
    require(v1.rule("deny0") != v2.rule("deny0"), "the two versions' rules must differ in line");

    auto v3 = replace_policy(v1.path, deny_text({a}, 6));
    kill(bw.pid(), SIGHUP);
    expect_generation(bw.next_of_type("ready"), 3, "SIGHUP");
    expect_open(b, O_RDONLY, 0, "generation 3 allows b");
    expect_open(a, O_RDONLY, EPERM, "generation 3 denies a");
    check_event(bw.next_verdict("open(a) after SIGHUP"), expect_self("deny", "live", v3.rule("deny0"), a, "read"));
    fx.no_event_for(bw, "the allowed opens");
    bw.stop_and_check();
    expect_open(a, O_RDONLY, 0, "after bulwark stop");
}

TEST("live: a broken reload keeps the old set and reports every diagnostic; a fixed file reloads again") {
    Fixture fx;
    const std::string a = fx.data + "/a", b = fx.data + "/b";
    write_file(a, "a\n");
    write_file(b, "b\n");
    auto v1 = write_policy(fx.pol + "/live.toml", deny_text({a}));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "live"});

    // Three errors in two files: an unknown key, a bad action, a syntax error.
    replace_policy(v1.path, "[policy]\nname = \"live\"\n\n[[file]]\npaths = [\"" + b +
                                "\"]\nactoin = \"deny\"\n\n[[file]]\npaths = [\"" + a + "\"]\naction = \"block\"\n");
    write_file(fx.pol + "/other.toml", "[policy\nname = \"other\"\n");
    CommandResult r = bw.control("reload", {}, kReloadTimeoutMs);
    require(r.exited_with(1), "bulwark reload of a broken set: ", r.describe(), " (want exit 1)");
    const std::vector<std::string> wants = {v1.path + ":4:1: error:", v1.path + ":6:1: error:", v1.path + ":10:10: error:", fx.pol + "/other.toml:1:"};
    for (const auto& w : wants) require(r.err.find(w) != std::string::npos, "stderr lacks '", w, "': ", r.err);
    require(r.err.find("generation 1 stays in force") != std::string::npos, "stderr: ", r.err);
    Json failed = bw.next_of_type("reload-failed");
    require(failed.num("generation") == 1, "reload-failed generation ", failed.str("generation"), ": ", failed.line());
    for (const auto& w : wants) require(failed.line().find(w) != std::string::npos, "reload-failed lacks '", w, "': ", failed.line());

    // Exactly the old set: a still denied by generation 1's rule, b allowed.
    expect_open(a, O_RDONLY, EPERM, "the old set after a refused reload");
    check_event(bw.next_verdict("open(a)"), expect_self("deny", "live", v1.rule("deny0"), a, "read"));
    expect_open(b, O_RDONLY, 0, "the old set allows b");
    kill(bw.pid(), SIGHUP);
    Json again = bw.next_of_type("reload-failed");
    require(again.num("generation") == 1 && again.str("reason") == "SIGHUP", "SIGHUP on the broken set: ", again.line());
    CommandResult st = bw.control("status", {"--json"});
    require(st.exited_with(0), "status: ", st.describe());
    auto s = Json::parse(st.out.substr(0, st.out.find('\n')));
    require(s && s->num("generation") == 1 && s->num("reloads_failed") == 2, "status after two refusals: ", st.out);
    require(st.out.find("\"result\":\"failed\"") != std::string::npos, "status last_reload: ", st.out);

    // Fixed: the next reload goes through.
    unlink((fx.pol + "/other.toml").c_str());
    auto v2 = replace_policy(v1.path, deny_text({b}, 2));
    r = bw.control("reload", {}, kReloadTimeoutMs);
    require(r.exited_with(0), "bulwark reload of the fixed set: ", r.describe());
    expect_generation(bw.next_of_type("ready"), 2, "bulwark reload");
    expect_open(a, O_RDONLY, 0, "generation 2 allows a");
    expect_open(b, O_RDONLY, EPERM, "generation 2 denies b");
    check_event(bw.next_verdict("open(b)"), expect_self("deny", "live", v2.rule("deny0"), b, "read"));

    // A set that needs hooks this bulwark did not load (exec rules; it
    // started with file rules only) is refused, saying to restart.
    write_file(fx.data + "/prog", "#!/bin/sh\n", 0755);
    write_file(fx.pol + "/exec.toml", cat("[policy]\nname = \"ex\"\n\n[[exec]]\npaths = [\"", fx.data, "/prog\"]\naction = \"deny\"\n"));
    r = bw.control("reload", {}, kReloadTimeoutMs);
    require(r.exited_with(1) && r.err.find("did not load at start") != std::string::npos &&
                r.err.find("restart bulwark") != std::string::npos,
            "reload needing the exec hooks: ", r.describe());
    require(bw.next_of_type("reload-failed").num("generation") == 2, "reload-failed generation");
    expect_open(b, O_RDONLY, EPERM, "generation 2 still in force");
    check_event(bw.next_verdict("open(b) again"), expect_self("deny", "live", v2.rule("deny0"), b, "read"));
    bw.stop_and_check();
}

// A child in scope opening `path` as fast as it can, counting its opens,
// those that succeeded and those that failed with an errno other than
// EPERM; stopped (and reaped) by stop() or when it goes out of scope.
class DeniedLoop {
public:
    explicit DeniedLoop(const std::string& path) {
        sh_ = static_cast<Shared*>(mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
        require(sh_ != MAP_FAILED, "mmap");
        new (sh_) Shared{};
        pid_ = fork();
        require(pid_ >= 0, "fork");
        if (pid_ == 0) {
            while (!sh_->stop.load()) {
                int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                    close(fd);
                    sh_->successes++;
                } else if (errno != EPERM) {
                    sh_->other_errors++;
                }
                sh_->iterations++;
            }
            _exit(0);
        }
    }
    ~DeniedLoop() {
        if (pid_ > 0) {
            sh_->stop = 1;
            waitpid(pid_, nullptr, 0);
        }
    }
    DeniedLoop(const DeniedLoop&) = delete;
    DeniedLoop& operator=(const DeniedLoop&) = delete;

    long long iterations() const { return sh_->iterations.load(); }
    // Until `more` opens beyond the count now have been made.
    void wait_beyond(long long more) const {
        const long long target = iterations() + more;
        while (iterations() < target) poll(nullptr, 0, 1);
    }
    // Stops the loop and requires that every open failed with EPERM; the count.
    long long stop(const char* when) {
        sh_->stop = 1;
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
        const long long n = iterations();
        require(sh_->successes.load() == 0, sh_->successes.load(), " of ", n, " denied opens SUCCEEDED ", when);
        require(sh_->other_errors.load() == 0, sh_->other_errors.load(), " opens failed with an errno other than EPERM");
        return n;
    }

private:
    struct Shared {
        std::atomic<long long> iterations, successes, other_errors;
        std::atomic<int> stop;
    };
    Shared* sh_ = nullptr;
    pid_t pid_ = -1;
};

TEST("live: no gap: 20 reloads alternating two versions; a tight loop of denied reads never succeeds") {
    Fixture fx;
    const std::string x = fx.data + "/x", y = fx.data + "/y", z = fx.data + "/z";
    for (const auto& f : {x, y, z}) write_file(f, "secret\n");
    // Both versions deny x (at different lines); A also denies y, B z.
    const std::string text_a = deny_text({x, y}), text_b = deny_text({z, x}, 4);
    auto va = write_policy(fx.pol + "/live.toml", text_a);
    const PolicyFile vb{va.path, "live", text_b};
    const std::string events = fx.dir + "/events.jsonl";
    NotifySocket notify;
    Bulwark bw({{va.path}, false, events, {"--stats-interval", "0"}});
    std::string msg = notify.next(kReadyTimeoutMs);
    require(msg.rfind("READY=1", 0) == 0, "no READY=1 (got '", msg, "'); stderr: ", bw.stderr_text());

    DeniedLoop loop(x);
    loop.wait_beyond(1000);  // running and denied
    std::string during;
    constexpr int kReloads = 20;
    int overlapped = 0;
    for (int i = 0; i < kReloads; ++i) {
        replace_policy(va.path, i % 2 == 0 ? text_b : text_a);
        const long long before = loop.iterations();
        CommandResult r = bw.control("reload", {}, kReloadTimeoutMs);
        const long long after = loop.iterations();
        if (!r.exited_with(0)) fail("reload ", i + 1, ": ", r.describe());
        require(r.out.find(cat("generation ", i + 2, " is live")) != std::string::npos, "reload ", i + 1, ": ", r.out);
        overlapped += after > before;
        during += cat(" ", after - before);
    }
    const long long total_before_stop = loop.iterations();
    const long long iterations = loop.stop("across the reloads");
    note(cat("no gap: ", iterations, " denied opens; opens during each reload:", during));
    require(overlapped == kReloads, "the loop ran during only ", overlapped, " of ", kReloads,
            " reloads (opens during each:", during, ")");
    require(total_before_stop > 1000, "the loop barely ran");
    // The per-rule counters: every denial of the loop, by version A's and
    // B's rule, summed over 21 generations (older than the 8 kept images:
    // folded by name).
    {
        CommandResult r = bw.control("status", {"--json"});
        require(r.exited_with(0), "status: ", r.describe());
        auto s = Json::parse(r.out.substr(0, r.out.find('\n')));
        require(s.has_value(), "status --json: ", r.out);
        const std::string rules = s->str("rules");
        long long rule_denied = 0;
        for (size_t at = rules.find("\"deny\":"); at != std::string::npos; at = rules.find("\"deny\":", at + 1))
            rule_denied += std::strtoll(rules.c_str() + at + 7, nullptr, 10);
        require(rule_denied == iterations, "per-rule deny counts sum to ", rule_denied, "; the loop made ", iterations,
                " denied opens: ", rules);
        for (const std::string& rule : {va.rule("deny0"), vb.rule("deny1")})
            require(rules.find(cat("{\"rule\":\"", rule, "\",\"policy\":\"live\",\"deny\":")) != std::string::npos &&
                        rules.find(cat("{\"rule\":\"", rule, "\",\"policy\":\"live\",\"deny\":0,")) == std::string::npos,
                    "status lacks denials of ", rule, ": ", rules);
    }
    // The events went to a file: the stats line is checked there.
    const int st = bw.stop_by_command();
    require(WIFEXITED(st) && WEXITSTATUS(st) == 0, "after bulwark stop bulwark ", bw.describe_exit(), "; stderr: ", bw.stderr_text());

    // Every generation went live, and the denials of both versions were reported.
    std::string all = read_file(events);
    long long generation = 0, readies = 0, denied_a = 0, denied_b = 0, stats_denied = -1;
    size_t pos = 0;
    while (pos < all.size()) {
        size_t nl = all.find('\n', pos);
        if (nl == std::string::npos) nl = all.size();
        auto j = Json::parse(all.substr(pos, nl - pos));
        pos = nl + 1;
        if (!j) continue;
        const std::string type = j->str("type");
        if (type == "ready") {
            ++readies;
            require(j->num("generation") == generation + 1, "ready generations out of order: ", j->line());
            generation = j->num("generation");
        } else if (type == "verdict") {
            require(j->str("verdict") == "deny" && j->str("path") == x, "unexpected verdict: ", j->line());
            denied_a += j->str("rule") == va.rule("deny0");
            denied_b += j->str("rule") == vb.rule("deny1");
        } else if (type == "stats") {
            stats_denied = j->num("denied");
        }
    }
    require(readies == kReloads + 1 && generation == kReloads + 1, readies, " ready lines, last generation ", generation);
    require(denied_a > 0 && denied_b > 0, "deny events by version A's rule: ", denied_a, ", by B's: ", denied_b);
    require(stats_denied == iterations, "the kernel counted ", stats_denied, " denials; the loop made ", iterations, " opens");
}

TEST("live: SIGKILL of bulwark: the denial holds; a new bulwark takes over while a loop of denied reads never succeeds") {
    Fixture fx;
    const std::string x = fx.data + "/x";
    write_file(x, "secret\n");
    auto pol = write_policy(fx.pol + "/live.toml", deny_text({x}));
    // A bpffs of the test's own: the pins of this test alone.
    const std::string bpffs = fx.dir + "/bpf", pins = bpffs + "/bulwark";
    require(mkdir(bpffs.c_str(), 0700) == 0 && mount("bpf", bpffs.c_str(), "bpf", 0, nullptr) == 0, "mount bpffs: ",
            errno_name(errno));
    struct Unmount {
        std::string dir;
        ~Unmount() { umount2(dir.c_str(), MNT_DETACH); }
    } unmount{bpffs};
    const std::string events_a = fx.dir + "/a.jsonl", events_b = fx.dir + "/b.jsonl";

    auto started = [](NotifySocket& notify, const Bulwark& bw) {
        const std::string msg = notify.next(kReadyTimeoutMs);
        require(msg.rfind("READY=1", 0) == 0, "no READY=1 (got '", msg, "'); stderr: ", bw.stderr_text());
    };
    std::unique_ptr<Bulwark> a;
    {
        NotifySocket notify;
        a = std::make_unique<Bulwark>(RunOptions{{pol.path}, false, events_a, {"--pin-dir", pins, "--stats-interval", "0"}});
        started(notify, *a);
    }
    DeniedLoop loop(x);
    loop.wait_beyond(1000);
    kill(a->pid(), SIGKILL);
    const int rc = a->wait_exit(kStopTimeoutMs);
    require(WIFSIGNALED(rc) && WTERMSIG(rc) == SIGKILL, "the first bulwark ", a->describe_exit());
    a.reset();
    // No bulwark runs: the pinned programs keep denying (the loop checks
    // every open at its end).
    const long long at_kill = loop.iterations();
    loop.wait_beyond(1000);

    NotifySocket notify_b;
    Bulwark b({{pol.path}, false, events_b, {"--pin-dir", pins, "--stats-interval", "0"}});
    started(notify_b, b);
    const long long at_takeover = loop.iterations();
    loop.wait_beyond(1000);
    const long long iterations = loop.stop("across the SIGKILL and the takeover");
    note(cat("SIGKILL and takeover: ", iterations, " denied opens, ", at_takeover - at_kill,
             " of them between the kill and the second bulwark's first status"));

    // The per-rule counters (pinned) counted every denial: the first
    // engine's generation unnamed, the second's by rule.
    CommandResult st = b.control("status", {"--json"});
    auto s = Json::parse(st.out.substr(0, st.out.find('\n')));
    require(s.has_value(), "status --json: ", st.out);
    require(s->num("generation") == 2 && s->str("reason") == cat("takeover of generation 1 from ", pins),
            "status after the takeover: ", st.out);
    auto unnamed = Json::parse(s->str("rules_unnamed"));
    require(unnamed.has_value(), "rules_unnamed: ", st.out);
    const std::string rules = s->str("rules");
    const std::string mine = cat("{\"rule\":\"", pol.rule("deny0"), "\",\"policy\":\"live\",\"deny\":");
    const size_t at = rules.find(mine);
    require(at != std::string::npos, "status lacks ", pol.rule("deny0"), ": ", rules);
    const long long named = std::strtoll(rules.c_str() + at + mine.size(), nullptr, 10);
    require(unnamed->num("deny") + named == iterations, "per-rule counters: ", unnamed->num("deny"), " unnamed + ", named,
            " named; the loop made ", iterations, " denied opens");
    require(named > 0 && unnamed->num("deny") > 0, "both engines' generations counted: ", st.out);

    const int code = b.stop_by_command();
    require(WIFEXITED(code) && WEXITSTATUS(code) == 0, "bulwark stop: ", b.describe_exit());
    // The records written while nobody read were delivered by the second
    // bulwark or counted as lost; the pinned stats counted every denial.
    long long delivered = 0, deny_lost = -1, denied = -1;
    const std::string all = read_file(events_b);
    for (size_t pos = 0, nl; pos < all.size(); pos = nl + 1) {
        nl = all.find('\n', pos);
        if (nl == std::string::npos) nl = all.size();
        auto j = Json::parse(all.substr(pos, nl - pos));
        if (!j) continue;
        if (j->str("type") == "verdict" && j->str("verdict") == "deny") ++delivered;
        if (j->str("type") == "stats") {
            deny_lost = j->num("deny_lost");
            denied = j->num("denied");
        }
    }
    require(denied == iterations, "the pinned stats counted ", denied, " denials; the loop made ", iterations);
    require(delivered + deny_lost >= at_takeover - at_kill, delivered, " denials delivered by the second bulwark and ",
            deny_lost, " lost, fewer than the ", at_takeover - at_kill, " made while no bulwark ran");
    struct stat pinned{};
    require(stat(pins.c_str(), &pinned) != 0, "an orderly stop left ", pins);
}

TEST("live: status --json and text; the default socket is 0600 in a 0700 /run/bulwark; one daemon per socket") {
    Fixture fx;
    const std::string a = fx.data + "/a";
    write_file(a, "a\n");
    auto pol = write_policy(fx.pol + "/live.toml", deny_text({a}));
    RunOptions opts{{fx.pol}};
    opts.socket = "";  // bulwark's default
    Bulwark bw(opts);
    Json ready = bw.wait_ready({"marker", "live"});
    struct stat st{};
    require(stat("/run/bulwark", &st) == 0 && (st.st_mode & 0777) == 0700, "/run/bulwark mode ", std::oct,
            st.st_mode & 0777);
    require(lstat("/run/bulwark/control.sock", &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600,
            "control.sock mode ", std::oct, st.st_mode & 0777);

    CommandResult r = run_bulwark({"status", "--json"}, kEventTimeoutMs);
    require(r.exited_with(0), "status --json: ", r.describe());
    auto s = Json::parse(r.out.substr(0, r.out.find('\n')));
    require(s.has_value(), "status --json is not one JSON object: ", r.out);
    require(s->str("type") == "status" && s->str("source") == "engine" && s->num("pid") == bw.pid(), "status: ", r.out);
    require(s->num("generation") == 1 && s->str("mode") == "enforce" && s->str("reason") == "start", "status: ", r.out);
    require(s->str("programs") == ready.str("programs") && s->str("missing_hooks") == ready.str("missing_hooks") &&
                s->str("policies") == ready.str("policies"),
            "status and ready disagree: ", r.out, " vs ", ready.line());
    const std::string hash = sha256_of(pol.path);
    require(r.out.find(cat("{\"policy\":\"live\",\"file\":\"", pol.path, "\",\"sha256\":\"", hash, "\",\"mode\":\"enforce\"}")) !=
                std::string::npos,
            "policy_files lacks live.toml with sha256 ", hash, ": ", r.out);
    require(r.out.find("\"last_reload\":{\"result\":\"none\"}") != std::string::npos, "last_reload: ", r.out);
    for (const char* k : {"generation_since", "started", "uptime_seconds", "events", "written", "lost", "deny_lost", "sink_lost"})
        require(s->has(k), "status lacks ", k, ": ", r.out);

    r = run_bulwark({"status"}, kEventTimeoutMs);
    require(r.exited_with(0) && r.out.rfind("bulwark: enforcing, generation 1", 0) == 0, "status: ", r.describe(), " ", r.out);
    require(r.out.find("sha256:" + hash) != std::string::npos, "status text: ", r.out);

    // A second daemon on the same socket is refused before it loads anything.
    Bulwark second(opts);
    int rc = second.wait_exit(kReadyTimeoutMs);
    require(WIFEXITED(rc) && WEXITSTATUS(rc) != 0, "a second bulwark on the same socket ", second.describe_exit());
    require(second.stderr_all().find("another bulwark is running") != std::string::npos, "second: ", second.stderr_text());

    // SO_PEERCRED: a non-root peer that can reach the socket is refused.
    chmod("/run/bulwark", 0755);
    chmod("/run/bulwark/control.sock", 0666);
    r = run_bulwark({"status"}, kEventTimeoutMs, 1000);
    require(r.exited_with(4) && r.err.find("root only") != std::string::npos && r.err.find("uid 1000") != std::string::npos,
            "status as uid 1000: ", r.describe());
    chmod("/run/bulwark", 0700);

    bw.stop_and_check();
    require(lstat("/run/bulwark/control.sock", &st) != 0, "the control socket is still there after bulwark stop");
    r = run_bulwark({"status"}, kEventTimeoutMs);
    require(r.exited_with(5) && r.err.find("no bulwark is running") != std::string::npos, "status after stop: ", r.describe());
}

TEST("live: rules follow files: a denied directory deleted and recreated outside the scope is denied again") {
    Fixture fx;
    const std::string cg = cat("/sys/fs/cgroup/bwt-follow-", getpid());
    if (mkdir(cg.c_str(), 0755) != 0) fail("mkdir ", cg, ": ", errno_name(errno));
    struct RemoveCgroup {
        std::string dir;
        ~RemoveCgroup() { rmdir(dir.c_str()); }
    } remove_cg{cg};
    const std::string d = fx.data + "/d", f = d + "/f";
    make_dirs(d);
    write_file(f, "f\n");
    auto pol = write_policy(fx.pol + "/live.toml",
                            cat("[policy]\nname = \"live\"\n\n[scope]\ncgroup = [\"", cg.substr(std::strlen("/sys/fs/cgroup")),
                                "\"]\n\n[[file]] # deny\nprefixes = [\"", d, "/\"]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "live"});
    auto in_scope = [&] {
        return run_child([&] {
            write_file(cg + "/cgroup.procs", "0\n");
            return open_errno(f, O_RDONLY);
        });
    };
    require(in_scope().code == EPERM, "before: the child in scope was not denied");
    require(bw.next_verdict("before").str("rule") == pol.rule("deny"), "before: wrong rule");

    // Outside the scope (this process): delete the tree, make it again.
    expect_open(f, O_RDONLY, 0, "outside the scope");
    if (system(cat("rm -rf ", d).c_str()) != 0) fail("rm -rf ", d);
    const auto t0 = std::chrono::steady_clock::now();
    make_dirs(d);
    write_file(f, "new\n");
    Json ready = bw.next_of_type("ready", kReloadTimeoutMs);
    const auto window = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    require(ready.str("reason") == "rule path changed: " + d + "/", "ready reason: ", ready.line());
    require(ready.num("generation") >= 2, "ready: ", ready.line());
    note(cat("rules follow files: ready line ", window, " ms after the directory was recreated (generation ",
             ready.num("generation"), ")"));
    // A burst may take two generations (the delete, then the create): wait for the last one.
    while (true) {
        auto line = bw.next_line(500);
        if (!line) break;
        auto j = Json::parse(*line);
        if (j && j->str("type") == "ready") ready = *j;
    }
    ChildResult r = in_scope();
    require(r.code == EPERM, "the recreated directory's file: child in scope gave ", errno_name(r.code),
            " (want EPERM) after generation ", ready.num("generation"));
    Json ev = bw.next_verdict("after");
    require(ev.str("rule") == pol.rule("deny") && ev.str("path") == f && ev.str("verdict") == "deny", "event: ", ev.line());
    require(window < 5000, "the new generation came ", window, " ms after the change (want < 5 s)");
    bw.stop_and_check();
}
