// The policy model: plain values, validated by the parser, every rule keeping
// its source position. Nothing downstream of the parser re-reads TOML.
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bulwark {

// A position in a policy file, 1-based like toml++ and compilers print it.
struct SourcePos {
    std::string file;
    uint32_t line = 0;
    uint32_t column = 0;
};

enum class Action : uint8_t { allow, audit, deny };
enum class Mode : uint8_t { enforce, audit };

// Access a file rule constrains; a bit set so "read" + "write" combine.
// Bit c is the map image's column c (BW_ACCESS_* in bulwark/abi.h, pinned
// by static_assert in compile/columns.cpp); columns 2 and 3 are exec's.
enum AccessBits : uint8_t {
    access_read = 0x01,
    access_write = 0x02,      // a file's content: open for writing, O_TRUNC, truncate
    access_create = 0x10,     // a new name in a directory: file, directory, symlink, node
    access_delete = 0x20,     // unlink, rmdir
    access_rename = 0x40,     // a name moving into, out of or within a tree; link(2)
    access_metadata = 0x80,   // chmod, chown, setxattr, removexattr, utimes
    // What `write` in a rule means (docs/decisions/009-file-rights.md):
    // nothing in the tree changes.
    access_changes = access_write | access_create | access_delete | access_rename | access_metadata,
    access_any = access_read | access_changes,
};

// The names of `access` in a [[file]] rule, in the order of the table in
// docs/policy-language.md, and the bit each one sets (before `write`
// implies the other changes).
inline constexpr std::string_view kAccessRightNames[] = {"read", "write", "create", "delete", "rename", "metadata"};
inline constexpr uint8_t kAccessRightBits[] = {access_read,   access_write,  access_create,
                                               access_delete, access_rename, access_metadata};
static_assert(std::size(kAccessRightNames) == std::size(kAccessRightBits));

// The bits a list of rights sets: `write` implies create, delete, rename
// and metadata (docs/decisions/009-file-rights.md); `names` has bit i for
// kAccessRightNames[i].
inline uint8_t access_of_names(uint8_t names)
{
    uint8_t bits = 0;
    for (size_t i = 0; i < sizeof(kAccessRightBits); ++i)
        if (names & (1u << i)) bits |= kAccessRightBits[i];
    if (bits & access_write) bits |= access_changes;
    return bits;
}

// A string value as written, with where it was written.
struct Located {
    std::string value;
    SourcePos pos;
};

// A uid as written: a number, or a user name resolved when compiled.
struct UidSpec {
    std::variant<uint32_t, std::string> value;
    SourcePos pos;
};

struct Scope {
    std::vector<Located> cgroups;      // as written: relative or absolute
    std::vector<UidSpec> uids;
    std::vector<Located> executables;  // absolute paths
    bool present = false;              // a [scope] table was given
    SourcePos pos;

    // Some processes are left out of it (an empty [scope] is every process).
    bool narrows() const { return !cgroups.empty() || !uids.empty() || !executables.empty(); }
};

struct Default {
    Action action = Action::allow;
    bool given = false;
    SourcePos pos;                     // of the value, when given
};

struct Defaults {
    Default file;
    Default exec;
    Default connect;
};

struct FileRule {
    std::vector<Located> paths;        // absolute, normalized, no trailing '/'
    std::vector<Located> prefixes;     // absolute, normalized, ending in '/'
    uint8_t access = access_any;       // AccessBits
    Action action = Action::deny;
    SourcePos pos;                     // of the [[file]] table header
};

struct ExecRule {
    std::vector<Located> paths;
    std::vector<Located> prefixes;
    // `fileless = true`: programs with no name in any directory — run from
    // a memfd_create fd, or from a deleted or O_TMPFILE file.
    bool fileless = false;
    SourcePos fileless_pos;            // of the value, when given
    Action action = Action::deny;
    SourcePos pos;
};

struct PortRange {
    uint16_t first = 0;
    uint16_t last = 65535;
    SourcePos pos;
};

enum ProtocolBits : uint8_t { proto_tcp = 1, proto_udp = 2, proto_any = 3 };

struct ConnectRule {
    std::vector<Located> cidrs;        // as written; parsed by the compiler
    std::vector<PortRange> ports;      // empty: all ports
    uint8_t protocols = proto_any;     // ProtocolBits
    Action action = Action::deny;
    SourcePos pos;
};

}  // namespace bulwark

// Monitors and [[test]] cases use the types above; Policy holds them.
#include "policy/monitor_model.hpp"
#include "policy/test_model.hpp"

namespace bulwark {

struct Policy {
    std::string name;
    Mode mode = Mode::enforce;
    std::string description;
    SourcePos pos;                     // of the name value
    SourcePos mode_pos;                // of the mode value, or of [policy]
    std::string file;                  // the file it came from
    Scope scope;
    Defaults defaults;
    std::vector<FileRule> files;
    std::vector<ExecRule> execs;
    std::vector<ConnectRule> connects;
    Monitors monitors;                 // [[monitor.*]] tables
    // [[test]] cases written in this file (offline checks, never loaded);
    // load_policies() also hands them out in ParseResult::tests.
    std::vector<TestCase> tests;
};

}  // namespace bulwark
