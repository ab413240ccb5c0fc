// Rules as lint reasons about them: every path of every [[file]] and
// [[exec]] rule, and every CIDR of every [[connect]] rule, reduced to the
// key the compiler folds it into (the canonical path, with symlinks
// resolved), and the per-policy fold the compiler does, on the model:
// which rule of a policy decides at a key, and what the policy would
// decide there without a given rule.
#pragma once

#include "compile/connect_compiler.hpp"
#include "compile/system_view.hpp"
#include "policy/model.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::lint {

enum class RuleKind : uint8_t { file, exec, connect };
const char* to_string(RuleKind k);

// One path of a [[file]] / [[exec]] rule.
struct PathKey {
    uint32_t policy = 0;
    RuleKind kind = RuleKind::file;
    size_t rule = 0;              // index in the policy's files / execs
    std::string key;              // canonical: "/etc/shadow", or a tree "/etc/ssh/"
    bool exact = false;
    uint8_t columns = 0;          // bit c: decides bw_column c
    Action action = Action::deny;
    const Located* written = nullptr;  // the value as written
};

// One CIDR of a [[connect]] rule.
struct NetKey {
    uint32_t policy = 0;
    size_t rule = 0;              // index in the policy's connects
    Network net;
    uint8_t protocols = proto_any;
    std::vector<std::pair<uint16_t, uint16_t>> ports;  // empty: all
    Action action = Action::deny;
    const Located* written = nullptr;
};

struct RuleKeys {
    std::vector<PathKey> paths;
    std::vector<NetKey> nets;
    // Indexes into `paths` by (key, exact), in order: the fold looks up
    // levels, not every rule (large sets stay linear).
    std::map<std::pair<std::string, bool>, std::vector<size_t>> by_key;
};

// Keys of every rule of every policy; paths that cannot be resolved on
// `system` (not even imagined) are left out.
RuleKeys rule_keys(const std::vector<Policy>& policies, const SystemView& system);

// The canonical key of a path as written ("/bin/sh" → "/usr/bin/dash";
// prefixes keep their trailing '/').
std::optional<std::string> canonical_key(const std::string& written, const SystemView& system);

// What policy `policy` decides in `column` for objects at `key` (exact:
// the file itself; else everything in the tree), ignoring every path of
// the rule `skip` belongs to (or none): the deciding rule's key, or
// nullptr for the policy's default.
struct PathDecision {
    const PathKey* rule = nullptr;  // nullptr: the default
    Action action = Action::allow;
};
PathDecision decide_path(const RuleKeys& keys, const Policy& p, uint32_t policy, RuleKind kind,
                         const std::string& key, bool exact, uint32_t column, const PathKey* skip = nullptr);

// The same for a destination in `net` (at the level of `net` itself),
// protocol bit `proto` (ProtocolBits) and port, ignoring the rule `skip`
// belongs to.
struct NetDecision {
    const NetKey* rule = nullptr;
    Action action = Action::allow;
};
NetDecision decide_net(const RuleKeys& keys, const Policy& p, uint32_t policy, const Network& net, uint8_t proto,
                       uint16_t port, const NetKey* skip = nullptr);

// Ports where the verdict at one network may change: every range edge of
// every rule of `policy` (so checking these ports checks them all).
std::vector<uint16_t> port_cuts(const RuleKeys& keys, uint32_t policy);

bool covers(const NetKey& k, uint8_t proto, uint16_t port);
bool same_rule(const PathKey& a, const PathKey& b);
bool same_rule(const NetKey& a, const NetKey& b);
// `outer` contains `inner` (same family, shorter or equal prefix).
bool contains(const Network& outer, const Network& inner);
// `tree` (ending in '/') is `key` or holds it.
bool under(const std::string& key, const std::string& tree);

int strength(Action a);
const char* action_name(Action a);

}  // namespace bulwark::lint
