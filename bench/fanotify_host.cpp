// bench-fanotify-host: what the fanotify backend costs an open(2)+close(2)
// on this host (root; no guest: it needs no BPF-LSM). One process, rounds
// of interleaved batches on a tmpfs of its own:
//   (a) bulwark not running;
//   (b) bulwark enforcing N read rules (scoped to a cgroup of the bench's
//       own) and the file opened matching none: after its first open the
//       file carries an ignore mark, so the kernel asks nobody;
//   (c) the same file while bulwark runs, opened by the bench outside the
//       scope, when the file is one a rule denies inside it: every open is
//       a permission event answered by bulwark (the backend's full path:
//       /proc reads, the reference evaluator, the answer).
// Before each (b) and (c) batch a child in the cgroup opens a denied file
// and must get EPERM: what is timed is in force. Prints ns per operation
// (medians) and the ratios (b)/(a), (c)/(a) against the (a) batches of the
// same round. Timings are for reading, never for passing or failing.
//
//   bench-fanotify-host [--bulwark PATH] [--rules N] [--ops N] [--batches N] [--rounds N]
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

struct Options {
    std::string bulwark = "build/bulwark";
    int rules = 1000, ops = 20000, batches = 5, rounds = 3;
};

[[noreturn]] void die(const std::string& why)
{
    std::fprintf(stderr, "bench-fanotify-host: %s\n", why.c_str());
    std::exit(1);
}

double batch_ns(const std::string& path, int ops)
{
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < ops; ++i) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) die("open " + path + ": " + std::strerror(errno));
        ::close(fd);
    }
    const auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / ops;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// A running `bulwark run`, stopped with SIGTERM.
struct Bulwark {
    pid_t pid = -1;
    Bulwark(const Options& o, const std::string& policy, const std::string& sock)
    {
        int out[2];
        if (::pipe(out) != 0) die("pipe");
        pid = ::fork();
        if (pid == 0) {
            ::dup2(out[1], 1);
            ::close(out[0]);
            const int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, 2);
            ::execl(o.bulwark.c_str(), o.bulwark.c_str(), "run", "--policy", policy.c_str(), "--events", "-",
                    "--socket", sock.c_str(), "--stats-interval", "0", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(out[1]);
        // Ready when the ready line comes (the rest of the output is read
        // by nobody: the pipe's 64 KiB hold what a round writes).
        std::string text;
        char buf[4096];
        while (text.find("\"type\":\"ready\"") == std::string::npos) {
            const ssize_t n = ::read(out[0], buf, sizeof buf);
            if (n <= 0) die("bulwark ended before its ready line (run as root, from the repository)");
            text.append(buf, static_cast<size_t>(n));
        }
        if (text.find("\"file\":\"fanotify\"") == std::string::npos) die("bulwark is not using fanotify: " + text);
        fd = out[0];
    }
    ~Bulwark()
    {
        ::kill(pid, SIGTERM);
        char buf[4096];
        while (::read(fd, buf, sizeof buf) > 0) {
        }
        ::waitpid(pid, nullptr, 0);
        ::close(fd);
    }
    int fd = -1;
};

// A child in `cgroup` opens `path`: its errno (0: opened).
int open_in_cgroup(const std::string& cgroup, const std::string& path)
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::ofstream(cgroup + "/cgroup.procs") << "0\n";
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        ::_exit(fd < 0 ? errno : 0);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

int main(int argc, char** argv)
{
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--bulwark") o.bulwark = v;
        else if (k == "--rules") o.rules = std::atoi(v.c_str());
        else if (k == "--ops") o.ops = std::atoi(v.c_str());
        else if (k == "--batches") o.batches = std::atoi(v.c_str());
        else if (k == "--rounds") o.rounds = std::atoi(v.c_str());
        else die("usage: bench-fanotify-host [--bulwark PATH] [--rules N] [--ops N] [--batches N] [--rounds N]");
    }
    if (o.rules < 1 || o.ops < 1 || o.batches < 1 || o.rounds < 1) die("every number must be positive");
    if (::geteuid() != 0) die("run as root");

    char tmpl[] = "/tmp/bench-fanotify-XXXXXX";
    if (!::mkdtemp(tmpl)) die("mkdtemp");
    const std::string dir = tmpl, fs = dir + "/fs", cgroup = "/sys/fs/cgroup/unified/bench-fanotify-" +
                                                             std::to_string(::getpid());
    ::mkdir(fs.c_str(), 0755);
    if (::mount("bench", fs.c_str(), "tmpfs", 0, "size=64m") != 0) die("mount tmpfs: " + std::string(std::strerror(errno)));
    if (::mkdir(cgroup.c_str(), 0755) != 0) die("mkdir " + cgroup);
    const std::string plain = fs + "/plain", denied = fs + "/denied0";
    std::ofstream(plain) << "x\n";
    std::string policy = "[policy]\nname = \"bench\"\n\n[scope]\ncgroup = [\"/" + cgroup.substr(cgroup.rfind('/') + 1) +
                         "\"]\n\n[[file]]\naccess = [\"read\"]\naction = \"deny\"\npaths = [";
    for (int i = 0; i < o.rules; ++i) {
        const std::string f = fs + "/denied" + std::to_string(i);
        std::ofstream(f) << "s\n";
        policy += (i ? ", \"" : "\"") + f + "\"";
    }
    policy += "]\n";
    const std::string policy_file = dir + "/bench.toml";
    std::ofstream(policy_file) << policy;

    std::printf("fanotify backend on this host, open+close of a file on a tmpfs, %d read rules, %d ops a batch\n",
                o.rules, o.ops);
    std::printf("round   (a) ns  (b) ignored ns  (c) asked ns   (b)/(a)  (c)/(a)\n");
    for (int r = 0; r < o.rounds; ++r) {
        std::vector<double> a, b, c;
        for (int i = 0; i < o.batches; ++i) a.push_back(batch_ns(plain, o.ops));
        {
            Bulwark bw(o, policy_file, dir + "/control.sock");
            for (int i = 0; i < o.batches; ++i) {
                if (open_in_cgroup(cgroup, denied) != EPERM) die("a denied open in the cgroup was not denied");
                b.push_back(batch_ns(plain, o.ops));
                if (open_in_cgroup(cgroup, denied) != EPERM) die("a denied open in the cgroup was not denied");
                c.push_back(batch_ns(denied, o.ops / 10 + 1));  // outside the scope: allowed, asked each time
            }
        }
        for (int i = 0; i < o.batches; ++i) a.push_back(batch_ns(plain, o.ops));
        const double ma = median(a), mb = median(b), mc = median(c);
        std::printf("%5d %8.0f %15.0f %13.0f %9.3f %8.1f\n", r + 1, ma, mb, mc, mb / ma, mc / ma);
    }
    ::umount2(fs.c_str(), MNT_DETACH);
    ::rmdir(cgroup.c_str());
    return 0;
}
