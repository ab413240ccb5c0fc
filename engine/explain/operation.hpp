// One operation as `explain` and `test` describe it (a TestCase: what is
// done, by which process), turned into what the BPF side sees — the
// Subject, and the FileObject or Destination — and decided by the
// reference evaluator.
#pragma once

#include "compile/evaluator.hpp"
#include "compile/map_image.hpp"
#include "compile/system_view.hpp"
#include "policy/model.hpp"

#include <optional>
#include <string>
#include <variant>

namespace bulwark {

struct ResolvedOp {
    TestOp op = TestOp::open;
    Subject subject;
    std::optional<FileObject> object;       // every op but connect
    std::optional<FileObject> target;       // rename, link: where the name goes
    std::optional<Destination> destination; // connect
    uint32_t access = 0;                    // file ops: the BW_ACCESS_* bits decided
    std::string canonical;                  // the path (object) as the kernel names it
    std::string target_canonical;           // rename, link: the target as the kernel names it
};

// The column an operation on files other than open decides, as a
// BW_ACCESS_* bit (docs/decisions/009-file-rights.md): create → create,
// delete → delete, rename and link → rename (at both ends), truncate →
// write, metadata → metadata; 0 for open, exec and connect.
uint32_t change_access(TestOp op);

// The two ends of a rename or link, each a single-path operation (no
// target) deciding the same column; `op` itself for other operations.
ResolvedOp source_end(const ResolvedOp& op);
ResolvedOp target_end(const ResolvedOp& op);

// The process a case describes (uid, cgroup, executable, and the parent_*
// history), resolved on `system`; a message saying what could not be
// resolved otherwise. Each value of the history is resolved as its key
// without "parent_" is.
std::variant<Subject, std::string> resolve_subject(const TestCase& tc, const SystemView& system);

// What the case describes, resolved on `system`; a message saying what
// could not be resolved (an unknown user, a missing cgroup, a path whose
// directory does not exist) otherwise.
std::variant<ResolvedOp, std::string> resolve_op(const TestCase& tc, const SystemView& system);

// The evaluator's verdict for a resolved operation. An exec is the read of
// the program (file_open) and then its run (bprm_check_security), as in
// the kernel; the program's interpreter and libraries are not modelled.
// A rename or link is decided at its source, then at its target (the
// target's directory plus the new name): the stronger verdict is the
// operation's, and at equal ones the source's, which is decided first.
Outcome decide(const Evaluator& eval, const ResolvedOp& op);

// bw_verdict ↔ the model's Verdict (same order).
Verdict to_verdict(bw_verdict v);

// An open's access as `test` and `explain` print it: "read", "write", "read,write".
std::string access_text(uint8_t access);

// The kind of hook that decides an operation.
bw_kind kind_of(TestOp op);

// The process a case gives, "" when it gives none: "uid 33, cgroup …,
// executable /bin/sh", then what it was before, "after executable
// /usr/sbin/nginx, uid 0" ("uid 0" stands for the default process).
std::string process_text(const TestCase& tc);

// "open /etc/shadow (read)", "connect 10.0.0.1 443/tcp", "exec /usr/bin/nc",
// followed by the process when the case gives one: "as uid 33, cgroup …".
std::string describe(const TestCase& tc);

}  // namespace bulwark
