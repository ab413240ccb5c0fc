// The reference evaluator: (map image, operation) → verdict, deciding
// exactly as the BPF programs do — same scope order, same walk, same
// fold of verdict masks. `explain`, `test` and the differential tests in
// the guests rely on it; keep it in step with bpf/lib/*.bpf.h.
#pragma once

#include "compile/map_image.hpp"
#include "compile/system_view.hpp"

#include <array>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bulwark {

// The program a task runs (mm->exe_file), as [scope] executable sees it.
struct ExeIdentity {
    FileIdentity self;
    uint32_t parent_dev = 0;      // the directory holding it, and its name there
    uint64_t parent_ino = 0;
    std::string name;
};

// What a process or its ancestors were before now, for sticky scope
// (docs/decisions/012-sticky-scope.md): the programs, uids and cgroups it
// had before an exec, a uid change or a cgroup move, or that an ancestor
// had when it forked. These are values, not marks: like bw_mark_task, the
// evaluator keeps of them only the scope keys of the set it decides for,
// BW_MARK_* of each kind at most, and a kind with more counts as out of
// room (Evaluator::marks).
struct SubjectHistory {
    std::vector<ExeIdentity> exes;
    std::vector<uint32_t> uids;
    std::vector<std::vector<uint64_t>> cgroups;  // each as Subject::cgroup_ancestors
    // BW_MARK_FULL_*: kinds known to be out of room whatever the values say
    // (as bw_task_marks.full; `explain` carries a whole set's over to a
    // policy compiled alone, whose fewer keys would not fill the room).
    uint32_t full = 0;
    bool empty() const { return exes.empty() && uids.empty() && cgroups.empty() && !full; }
};

// The process asking, as the BPF side sees it.
struct Subject {
    uint32_t tgid = 0;
    uint32_t uid = 0;
    // Ancestor cgroup ids by level (index 0 = root); empty: no cgroup v2.
    std::vector<uint64_t> cgroup_ancestors;
    std::optional<ExeIdentity> exe = std::nullopt;  // nullopt: a kernel thread (no program)
    SubjectHistory history = {};  // empty: scope is what it is now (fanotify, cgroup socket backends)
};

// What a subject's history adds to its scope: the policies whose keys its
// marks hold, per dimension (bw_marked_uids, _cgroups, _exes), ~0 for a
// dimension out of room.
struct Marks {
    uint64_t exes = 0, uids = 0, cgroups = 0;
    uint32_t full = 0;            // BW_MARK_FULL_*: the dimensions out of room
};

// Which hook decides a program (docs/decisions/003-exec.md).
enum class ExecUse : uint8_t {
    run,            // bprm_check_security: execve, or a script's interpreter
    map,            // mmap/mprotect PROT_EXEC by a process with an ELF interpreter
    map_no_interp,  // ... by one without: ld.so run as a program, a static program
};

// A destination as connect(2) or sendto(2) gives it.
struct Destination {
    uint16_t family = 2;          // AF_INET or AF_INET6 (10), as given
    std::array<uint8_t, 16> addr{};  // 4 bytes for AF_INET
    uint16_t port = 0;
    uint8_t protocol = BW_PROTO_TCP;  // enum bw_protocol
    // The IPv4 source the socket is bound to (0.0.0.0: none): where the
    // kernel really sends a connection to 0.0.0.0 (bw_dest_match).
    std::array<uint8_t, 4> bound_v4{};
};

// One iteration of the BPF dentry walk, from the object towards "/".
struct WalkStep {
    enum class Kind : uint8_t { lookup, cross, root } kind = Kind::lookup;
    std::string child_name;       // lookup: name of the dentry below parent
    // lookup: the directory holding child_name; cross: the directory the
    // mount covers (0 when not known: paths show the mounted root only).
    uint32_t parent_dev = 0;
    uint64_t parent_ino = 0;
};

struct FileObject {
    FileIdentity self;
    std::vector<WalkStep> steps;  // ends with a root step unless too deep
};

struct Outcome {
    bw_verdict verdict = BW_VERDICT_ALLOW;
    uint32_t policy = BW_POLICY_NONE;
    uint32_t column = 0;
    uint32_t entry = BW_ENTRY_NONE;
    uint64_t in_scope = 0;        // policies whose scope held
};

class Evaluator {
public:
    explicit Evaluator(const MapImage& image);

    // Per dimension, what the subject matches now OR what its history's
    // marks hold, as bw_sticky_policies_in_scope (bpf/lib/sticky_scope.bpf.h).
    uint64_t policies_in_scope(const Subject& subject, bw_kind kind, uint32_t self_tgid) const;
    // The marks the kernel would hold for `subject.history` under this set:
    // a value is marked only if it is a scope key (a program by its inode
    // only, every scoped level of a cgroup), and more distinct keys of a
    // kind than BW_MARK_* leaves that kind out of room. The current values
    // take no room here, though the kernel may have marked them too (on a
    // cgroup move, or when it first saw the process).
    Marks marks(const Subject& subject) const;
    // access: BW_ACCESS_* bits requested (file_open: read and/or write)
    Outcome decide_file(const Subject& subject, const FileObject& object, uint32_t access,
                        uint32_t self_tgid = 0) const;

    // Running or mapping `program` (object.self.nlink == 0: fileless).
    // `self_tgid`: bulwark's own process, never decided.
    Outcome decide_exec(const Subject& subject, const FileObject& program, ExecUse use,
                        uint32_t self_tgid = 0) const;
    Outcome decide_connect(const Subject& subject, const Destination& dest, uint32_t self_tgid = 0) const;
    // `subject` signalling bulwark (signal != 0) or passing a ptrace check
    // on it (bpf/lsm/self_protect.bpf.c): PID 1, bulwark's parent
    // (`parent_tgid`) and bulwark itself are never in scope.
    Outcome decide_tamper(const Subject& subject, uint32_t self_tgid, uint32_t parent_tgid) const;

    // The same decisions for the policies `in_scope` (bits), whoever asks:
    // with every policy of a kind in scope, the strictest answer any
    // process can get (the fanotify backend's "nobody can be denied this").
    Outcome decide_file_in(uint64_t in_scope, const FileObject& object, uint32_t access) const;
    Outcome decide_exec_in(uint64_t in_scope, const std::optional<ExeIdentity>& exe, const FileObject& program,
                           ExecUse use) const;
    // Every policy that decides `kind` (bw_policy_set.applies).
    uint64_t policies_of(bw_kind kind) const;

    // The walk alone: the deciding key's value, or nullptr when the walk
    // reached "/" without a key; `too_deep` when it ran out of depth.
    const bw_path_rule* walk(const FileObject& object, bool& too_deep) const;

private:
    // bw_decide: from the walk's value `w` and `b` (hardlink backstop or
    // fileless masks, may be null) to the verdict for `access` bits.
    void decide_columns(const bw_path_rule& w, const bw_path_rule* b, uint32_t access, Outcome& out) const;
    // The walk's value, or the fallback when no key matched.
    bw_path_rule walk_or_fallback(const FileObject& object) const;
    uint64_t executable_scope(const Subject& subject) const;

    const MapImage& image_;
    std::unordered_map<std::string, size_t> inodes_;  // raw key bytes → index
    std::unordered_map<std::string, size_t> names_;
    std::unordered_map<std::string, size_t> exe_inodes_, exe_names_;
    std::unordered_map<std::string, size_t> cidrs_, ports_;  // raw LPM key bytes → index
};

// A destination from its textual address: "127.0.0.1" (AF_INET) or "::1",
// "::ffff:127.0.0.1" (AF_INET6); nullopt if not an address.
std::optional<Destination> destination(const std::string& addr, uint16_t port, uint8_t protocol = BW_PROTO_TCP);

// The exe identity of the program at `path` on this machine (symlinks
// resolved, as the kernel's exe_file is).
std::optional<ExeIdentity> describe_exe(const SystemView& system, const std::string& path);

// How the BPF walk will see `path` on this machine: identities of every
// directory up to "/", with mount crossings. A missing final component is
// described as a file about to be created in its parent.
std::optional<FileObject> describe_file(const SystemView& system, const std::string& path);

const char* to_string(bw_verdict v);

}  // namespace bulwark
