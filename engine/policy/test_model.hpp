// Offline test cases in the policy model: [[test]] tables, as the parser
// validated them. A case names one operation (open a file, run a program,
// connect to an address), the process doing it, and the verdict the loaded
// policy set must reach; `bulwark test` decides it with the reference
// evaluator, and the guest tests (vm-tests/guest/t50_policy_cases.cpp) with
// the real kernel. Included by policy/model.hpp (include that one): these
// types use its SourcePos, Located and UidSpec.
#pragma once

#include "policy/model.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

// The order of the names `op` takes (policy/parse_tests.cpp). The file
// operations past connect are the hooks of docs/decisions/009-file-rights.md;
// `remove` is written "delete".
enum class TestOp : uint8_t { open, exec, connect, create, remove, rename, link, truncate, metadata };

// The operations that name a second path, `target` (where the name goes).
inline bool has_target(TestOp op)
{
    return op == TestOp::rename || op == TestOp::link;
}

// The operations on files other than opening them: decided by [[file]]
// rules, never by [[exec]] rules.
inline bool is_file_change(TestOp op)
{
    return op >= TestOp::create;
}

// The verdicts a case can expect, in the order of enum bw_verdict.
enum class Verdict : uint8_t { allow, audit, would_deny, deny };

struct TestCase {
    std::string name;
    TestOp op = TestOp::open;
    Located path;                      // every op but connect: absolute, normalized
    Located target;                    // rename, link: where the name goes
    uint8_t access = access_read;      // open: AccessBits, "read" when not given
    Located addr;                      // connect: an IPv4 or IPv6 address
    uint16_t port = 0;                 // connect
    uint8_t protocol = proto_tcp;      // connect: one ProtocolBits bit, "tcp" when not given
    // The process: root in the root cgroup running no program that any
    // [scope] executable names, unless said otherwise.
    std::optional<UidSpec> uid;
    std::optional<Located> cgroup;     // as written: relative or absolute
    std::optional<Located> executable; // the program the process runs
    // What the process or one of its ancestors was before (sticky scope,
    // docs/decisions/012-sticky-scope.md): parent_executable, parent_uid,
    // parent_cgroup, each written as its key above. Empty: nothing before.
    std::vector<Located> parent_executables;
    std::vector<UidSpec> parent_uids;
    std::vector<Located> parent_cgroups;
    Verdict expect = Verdict::allow;
    SourcePos pos;                     // of the [[test]] header
    SourcePos expect_pos;              // of the expect value
};

const char* to_string(TestOp op);      // "open", "exec", "connect", "create", "delete", ...

// The operation a name means ("delete" is TestOp::remove); nullopt if none.
// The one parser of operation names: [[test]] op and `bulwark explain`.
std::optional<TestOp> test_op(std::string_view name);

// The names test_op knows, in TestOp order.
extern const std::string_view kTestOpNames[9];
const char* to_string(Verdict v);      // "allow", "audit", "would-deny", "deny"

}  // namespace bulwark
