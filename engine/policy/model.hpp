// The policy model: plain values, validated by the parser, every rule keeping
// its source position. Nothing downstream of the parser re-reads TOML.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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
enum AccessBits : uint8_t { access_read = 1, access_write = 2, access_any = 3 };

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
