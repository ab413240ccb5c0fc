#include "fanotify/decider.hpp"

#include "compile/system_view.hpp"
#include "fanotify/asker.hpp"

#include "bulwark/abi.h"

#include <climits>
#include <cstring>
#include <fstream>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

namespace bulwark {
namespace {

constexpr uint32_t kReadWrite = BW_ACCESS_READ | BW_ACCESS_WRITE;

std::string fd_path(int fd)
{
    return link_of("/proc/self/fd/" + std::to_string(fd)).value_or("");
}

// How the BPF walk sees the opened file: its identity from the fd, its
// dentry chain from the path the fd has now. A file with no reachable
// name (deleted, or outside this mount namespace) is its inode alone.
FileObject object_of(const FileIdentity& self, const std::string& path)
{
    FileObject obj;
    obj.self = self;
    if (!path.empty() && path[0] == '/' && path.find(" (deleted)") == std::string::npos) {
        RealSystem system;  // one per decision: it remembers what it looked up
        if (auto described = describe_file(system, path)) {
            described->self = obj.self;
            return *described;
        }
    }
    obj.steps.push_back({WalkStep::Kind::root, "", 0, 0});
    return obj;
}

bool is_elf(int fd)
{
    char magic[4] = {};
    return ::pread(fd, magic, sizeof magic, 0) == 4 && std::memcmp(magic, "\177ELF", 4) == 0;
}

bool same_file(const std::string& path, const FileIdentity& id)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && kernel_dev(st.st_dev) == id.dev && st.st_ino == id.ino;
}

// The interpreter a "#!" script names, or "" when `path` is no script.
std::string script_interpreter(const std::string& path)
{
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line) || line.rfind("#!", 0) != 0) return "";
    size_t b = line.find_first_not_of(" \t", 2);
    if (b == std::string::npos) return "";
    const size_t e = line.find_first_of(" \t", b);
    return line.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

void copy_text(char* to, size_t size, const std::string& from, uint32_t& flags, uint32_t truncated)
{
    if (from.size() >= size) flags |= truncated;
    const size_t n = std::min(from.size(), size - 1);
    std::memcpy(to, from.data(), n);
    to[n] = '\0';
}

uint64_t boottime_ns()
{
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

void fill_header(bw_event_header& h, bw_kind kind, const Outcome& o, uint32_t generation, const Asker& a)
{
    h.time_ns = boottime_ns();
    h.cgroup_id = a.cgroup_id;
    h.kind = kind;
    h.verdict = o.verdict;
    h.generation = generation;
    h.policy = o.policy;
    h.entry = o.entry;
    h.column = o.column;
    h.pid = a.subject.tgid;
    h.tid = a.tid;
    h.ppid = a.ppid;
    h.uid = a.subject.uid;
    copy_text(h.comm, sizeof h.comm, a.comm, h.flags, 0);
    if (a.exe_path.empty()) h.flags |= BW_EVENT_EXE_UNKNOWN;
    copy_text(h.exe, sizeof h.exe, a.exe_path, h.flags, 0);
}

template <typename Record>
std::vector<unsigned char> bytes_of(const Record& r)
{
    std::vector<unsigned char> out(sizeof r);
    std::memcpy(out.data(), &r, sizeof r);
    return out;
}

std::vector<unsigned char> file_record(const Outcome& o, uint32_t generation, const Asker& a, uint32_t access,
                                       const std::string& path)
{
    bw_file_event e{};
    fill_header(e.h, BW_KIND_FILE, o, generation, a);
    e.access = access;
    e.op = BW_OP_OPEN;
    e.call = BW_FCALL_OPEN;
    if (path.empty()) e.h.flags |= BW_EVENT_PATH_UNKNOWN;
    copy_text(e.path, sizeof e.path, path, e.h.flags, BW_EVENT_PATH_TRUNCATED);
    return bytes_of(e);
}

std::vector<unsigned char> exec_record(const Outcome& o, uint32_t generation, const Asker& a, bw_exec_route route,
                                       const std::string& path, const std::string& via, bool fileless)
{
    bw_exec_event e{};
    fill_header(e.h, BW_KIND_EXEC, o, generation, a);
    e.route = route;
    if (fileless) e.h.flags |= BW_EVENT_FILELESS;
    if (path.empty()) e.h.flags |= BW_EVENT_PATH_UNKNOWN;
    copy_text(e.path, sizeof e.path, path, e.h.flags, BW_EVENT_PATH_TRUNCATED);
    copy_text(e.via, sizeof e.via, via, e.h.flags, BW_EVENT_PATH_TRUNCATED);
    return bytes_of(e);
}

bool stricter(const Outcome& a, const Outcome& b)
{
    return a.verdict > b.verdict;
}

}  // namespace

FanotifyDecider::FanotifyDecider(uint32_t self_tgid, std::string cgroup2_mount)
    : self_tgid_(self_tgid), cgroup2_mount_(std::move(cgroup2_mount))
{
}

void FanotifyDecider::publish(uint32_t generation, std::shared_ptr<const MapImage> image)
{
    auto next = std::make_shared<Set>();
    next->generation = generation;
    next->evaluator = std::make_unique<Evaluator>(*image);
    next->image = std::move(image);
    std::lock_guard lock(mutex_);
    set_ = std::move(next);
}

std::shared_ptr<const FanotifyDecider::Set> FanotifyDecider::current() const
{
    std::lock_guard lock(mutex_);
    return set_;
}

uint32_t FanotifyDecider::generation() const
{
    const auto set = current();
    return set ? set->generation : 0;
}

FileObject FanotifyDecider::object(const Set& set, int fd, const std::string& path) const
{
    struct stat st {};
    if (::fstat(fd, &st) != 0) return object_of(FileIdentity{}, path);
    const FileIdentity self = identity_of(st);
    std::string key = path;
    key.append(reinterpret_cast<const char*>(&st.st_dev), sizeof st.st_dev);
    key.append(reinterpret_cast<const char*>(&st.st_ino), sizeof st.st_ino);
    {
        std::lock_guard lock(set.cache_mutex);
        if (auto hit = set.objects.find(key); hit != set.objects.end()) {
            counters_.cache_hits++;
            FileObject obj = hit->second;
            obj.self.nlink = self.nlink;  // a later unlink makes it fileless
            return obj;
        }
    }
    FileObject obj = object_of(self, path);
    std::lock_guard lock(set.cache_mutex);
    if (set.objects.size() >= kCacheEntries) set.objects.clear();
    set.objects.emplace(std::move(key), obj);
    return obj;
}

FanotifyAnswer FanotifyDecider::decide(int fd, uint32_t tid, bool exec, uint32_t& generation) const
{
    FanotifyAnswer answer;
    const auto set = current();
    generation = set ? set->generation : 0;
    if (!set) return answer;
    const Evaluator& eval = *set->evaluator;
    const bw_policy_set& ps = set->image->policy_set;
    const std::string path = fd_path(fd);
    const FileObject obj = object(*set, fd, path);
    const uint64_t file_policies = eval.policies_of(BW_KIND_FILE);
    const uint64_t exec_policies = eval.policies_of(BW_KIND_EXEC);
    const bool exe_scoped = ((file_policies | exec_policies) & ~ps.executable_free) != 0;

    if (!exec) {
        // Nobody can be denied or reported this file (every policy in
        // scope, reading and writing, and as code): an ignore mark spares
        // every later open of it the round trip, until it is modified or
        // the next generation flushes the marks.
        const bool file_any = eval.decide_file_in(file_policies, obj, kReadWrite).verdict != BW_VERDICT_ALLOW;
        const bool code_any =
            exec_policies && (eval.decide_exec_in(exec_policies, std::nullopt, obj, ExecUse::map).verdict !=
                                  BW_VERDICT_ALLOW ||
                              eval.decide_exec_in(exec_policies, std::nullopt, obj, ExecUse::map_no_interp).verdict !=
                                  BW_VERDICT_ALLOW);
        const bool code = code_any && is_elf(fd);
        if (!file_any && !code) {
            answer.ignore = true;
            counters_.ignored++;
            return answer;
        }
        // The scope first: a process no policy covers is let through
        // without reading what its open asked for.
        auto asker = read_asker(tid, cgroup2_mount_, exe_scoped || code);
        if (!asker) return answer;  // the thread is gone: nobody waits for the answer
        const uint64_t file_scope = file_any ? eval.policies_in_scope(asker->subject, BW_KIND_FILE, self_tgid_) : 0;
        const uint64_t code_scope = code ? eval.policies_in_scope(asker->subject, BW_KIND_EXEC, self_tgid_) : 0;
        if (!file_scope && !code_scope) return answer;
        complete_asker(*asker);
        Outcome out;
        std::vector<unsigned char> record;
        if (file_scope) {
            uint32_t access = kReadWrite;
            const auto call = read_syscall(tid);
            if (auto a = call ? open_access(*call, tid) : std::nullopt) access = *a;
            else counters_.unknown_call++;
            out = eval.decide_file_in(file_scope, obj, access);
            if (out.verdict != BW_VERDICT_ALLOW) record = file_record(out, generation, *asker, access, path);
        }
        if (code_scope) {
            // fanotify cannot see mmap(PROT_EXEC): a program or library an
            // [[exec]] rule denies cannot be opened at all (stricter than
            // BPF-LSM, which denies mapping it as code only).
            const ExecUse use = runs_without_interpreter(tid) ? ExecUse::map_no_interp : ExecUse::map;
            const Outcome as_code = eval.decide_exec_in(code_scope, asker->subject.exe, obj, use);
            if (stricter(as_code, out)) {
                out = as_code;
                answer.program = true;
                record = exec_record(out, generation, *asker, BW_ROUTE_MAP, path, asker->exe_path, false);
            }
        }
        answer.allow = out.verdict != BW_VERDICT_DENY;
        answer.verdict = out.verdict;
        answer.record = std::move(record);
        return answer;
    }

    // FAN_OPEN_EXEC_PERM: the program execve runs, a script's interpreter,
    // or the ELF interpreter (ld.so) of either — told apart by what the
    // thread asked execve to run.
    if (!exec_policies) return answer;
    auto asker = read_asker(tid, cgroup2_mount_, true);
    if (!asker) return answer;
    const uint64_t scope = eval.policies_in_scope(asker->subject, BW_KIND_EXEC, self_tgid_);
    if (!scope) return answer;
    complete_asker(*asker);
    bw_exec_route route = BW_ROUTE_EXEC;
    ExecUse use = ExecUse::run;
    std::string via;
    const auto call = read_syscall(tid);
    if (auto target = call ? exec_target(*call, tid) : std::nullopt; target && !same_file(*target, obj.self)) {
        const std::string interpreter = script_interpreter(*target);
        if (!interpreter.empty() && same_file(interpreter, obj.self)) {
            route = BW_ROUTE_INTERPRETER;
            via = *target;
        } else {
            use = ExecUse::map;  // the ELF interpreter: BPF-LSM decides it in mmap_file
            route = BW_ROUTE_MAP;
            via = asker->exe_path;
        }
    }
    const Outcome out = eval.decide_exec_in(scope, asker->subject.exe, obj, use);
    if (out.verdict != BW_VERDICT_ALLOW)
        answer.record = exec_record(out, generation, *asker, route, path, via, obj.self.nlink == 0);
    answer.allow = out.verdict != BW_VERDICT_DENY;
    answer.verdict = out.verdict;
    answer.program = true;
    return answer;
}

}  // namespace bulwark
