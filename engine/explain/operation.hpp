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
    std::optional<FileObject> object;       // open, exec
    std::optional<Destination> destination; // connect
    uint32_t access = 0;                    // open: BW_ACCESS_* bits
    std::string canonical;                  // open, exec: the path as the kernel names it
};

// The process a case describes (uid, cgroup, executable), resolved on
// `system`; a message saying what could not be resolved otherwise.
std::variant<Subject, std::string> resolve_subject(const TestCase& tc, const SystemView& system);

// What the case describes, resolved on `system`; a message saying what
// could not be resolved (an unknown user, a missing cgroup, a path whose
// directory does not exist) otherwise.
std::variant<ResolvedOp, std::string> resolve_op(const TestCase& tc, const SystemView& system);

// The evaluator's verdict for a resolved operation. An exec is the read of
// the program (file_open) and then its run (bprm_check_security), as in
// the kernel; the program's interpreter and libraries are not modelled.
Outcome decide(const Evaluator& eval, const ResolvedOp& op);

// bw_verdict ↔ the model's Verdict (same order).
Verdict to_verdict(bw_verdict v);

// The kind of hook that decides an operation.
bw_kind kind_of(TestOp op);

// "open /etc/shadow (read)", "connect 10.0.0.1 443/tcp", "exec /usr/bin/nc",
// followed by the process when the case gives one: "as uid 33, cgroup …".
std::string describe(const TestCase& tc);

}  // namespace bulwark
