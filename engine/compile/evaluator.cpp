#include "compile/evaluator.hpp"

#include "compile/raw_key.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <sys/socket.h>

namespace bulwark {
namespace {

uint64_t lowest_bit_index(uint64_t mask)
{
    return static_cast<uint64_t>(__builtin_ctzll(mask));
}

}  // namespace

const char* to_string(bw_verdict v)
{
    switch (v) {
    case BW_VERDICT_ALLOW: return "allow";
    case BW_VERDICT_AUDIT: return "audit";
    case BW_VERDICT_WOULD_DENY: return "would-deny";
    case BW_VERDICT_DENY: return "deny";
    }
    return "allow";
}

Evaluator::Evaluator(const MapImage& image) : image_(image)
{
    for (size_t i = 0; i < image.inode_rules.size(); ++i) inodes_.emplace(raw(image.inode_rules[i].key), i);
    for (size_t i = 0; i < image.name_rules.size(); ++i) names_.emplace(raw(image.name_rules[i].key), i);
    for (size_t i = 0; i < image.scope_exe_inodes.size(); ++i) exe_inodes_.emplace(raw(image.scope_exe_inodes[i].first), i);
    for (size_t i = 0; i < image.scope_exe_names.size(); ++i) exe_names_.emplace(raw(image.scope_exe_names[i].first), i);
    for (size_t i = 0; i < image.connect_v4.size(); ++i) cidrs_.emplace("4" + raw(image.connect_v4[i].key), i);
    for (size_t i = 0; i < image.connect_v6.size(); ++i) cidrs_.emplace("6" + raw(image.connect_v6[i].key), i);
    for (size_t i = 0; i < image.connect_ports.size(); ++i) ports_.emplace(raw(image.connect_ports[i].key), i);
}

const bw_path_rule* Evaluator::walk(const FileObject& object, bool& too_deep) const
{
    too_deep = false;
    bool self = true;
    for (uint32_t i = 0; i < BW_WALK_MAX_DEPTH; ++i) {
        if (i >= object.steps.size()) break;  // malformed description: treat as root
        const WalkStep& step = object.steps[i];
        if (step.kind == WalkStep::Kind::root) return nullptr;
        if (step.kind == WalkStep::Kind::cross) {
            // From below the mount's root, the directory it covers holds
            // the entry: its own key decides, its names do not (as
            // bw_mount_step). Unknown (0) where only paths are known.
            if (self || !step.parent_ino) continue;
            auto dir = inodes_.find(raw_inode_key(step.parent_dev, step.parent_ino, BW_ROLE_ANCESTOR));
            if (dir != inodes_.end()) return &image_.inode_rules[dir->second].value;
            continue;
        }
        auto dir = inodes_.find(raw_inode_key(step.parent_dev, step.parent_ino, BW_ROLE_ANCESTOR));
        if (dir != inodes_.end()) {
            const bw_path_rule& value = image_.inode_rules[dir->second].value;
            if (value.flags & (self ? BW_ENTRY_NAMED_FILES : BW_ENTRY_NAMED_TREES)) {
                bw_name_key nk{};
                nk.parent_ino = step.parent_ino;
                nk.parent_dev = step.parent_dev;
                nk.role = self ? BW_ROLE_SELF : BW_ROLE_ANCESTOR;
                std::memcpy(nk.name, step.child_name.data(), std::min(step.child_name.size(), sizeof(nk.name) - 1));
                auto named = names_.find(raw(nk));
                if (named != names_.end()) return &image_.name_rules[named->second].value;
            }
            return &value;
        }
        self = false;
    }
    too_deep = object.steps.size() >= BW_WALK_MAX_DEPTH;
    return nullptr;
}

bw_path_rule Evaluator::walk_or_fallback(const FileObject& object) const
{
    const auto& set = image_.policy_set;
    bool too_deep = false;
    const bw_path_rule* found = walk(object, too_deep);
    bw_path_rule w{};
    if (found) {
        w = *found;
    } else {
        w.entry = too_deep ? BW_ENTRY_TOO_DEEP : BW_ENTRY_NONE;
        for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
            w.deny[c] = too_deep ? set.can_deny[c] : set.default_deny[c];
            w.audit[c] = too_deep ? set.can_audit[c] : set.default_audit[c];
        }
    }
    return w;
}

void Evaluator::decide_columns(const bw_path_rule& w, const bw_path_rule* b, uint32_t access, Outcome& out) const
{
    const auto& set = image_.policy_set;
    for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
        if (!(access & (1u << c))) continue;  // BW_ACCESS_* bit c is column c
        const uint64_t bdeny = b ? b->deny[c] : 0, baudit = b ? b->audit[c] : 0;
        const uint64_t deny = (w.deny[c] | bdeny) & out.in_scope;
        const uint64_t audit = (w.audit[c] | baudit) & out.in_scope;
        auto pick = [&](bw_verdict v, uint64_t mask, uint64_t from_b) {
            const uint32_t p = static_cast<uint32_t>(lowest_bit_index(mask));
            out.verdict = v;
            out.policy = p;
            out.column = c;
            out.entry = (from_b & (1ull << p)) ? b->entry : w.entry;
        };
        if (deny & set.enforcing) {
            pick(BW_VERDICT_DENY, deny & set.enforcing, bdeny);
            return;
        }
        if ((deny & ~set.enforcing) && out.verdict < BW_VERDICT_WOULD_DENY)
            pick(BW_VERDICT_WOULD_DENY, deny & ~set.enforcing, bdeny);
        else if (audit && out.verdict < BW_VERDICT_AUDIT)
            pick(BW_VERDICT_AUDIT, audit, baudit);
    }
}

// The hardlink backstop: another name of a file that a rule names.
namespace {
const bw_path_rule* backstop(const MapImage& image, const std::unordered_map<std::string, size_t>& inodes,
                             const FileIdentity& self)
{
    if (self.nlink <= 1 || self.is_dir) return nullptr;
    auto it = inodes.find(raw_inode_key(self.dev, self.ino, BW_ROLE_SELF));
    return it == inodes.end() ? nullptr : &image.inode_rules[it->second].value;
}
}  // namespace

Outcome Evaluator::decide_file(const Subject& subject, const FileObject& object, uint32_t access,
                               uint32_t self_tgid) const
{
    return decide_file_in(policies_in_scope(subject, BW_KIND_FILE, self_tgid), object, access);
}

Outcome Evaluator::decide_file_in(uint64_t in_scope, const FileObject& object, uint32_t access) const
{
    Outcome out;
    out.in_scope = in_scope;
    if (!out.in_scope) return out;
    const bw_path_rule w = walk_or_fallback(object);
    decide_columns(w, backstop(image_, inodes_, object.self), access, out);
    return out;
}

// Mirrors decide() in bpf/lsm/self_protect.bpf.c.
Outcome Evaluator::decide_tamper(const Subject& subject, uint32_t self_tgid, uint32_t parent_tgid) const
{
    Outcome out;
    if (subject.tgid == 1 || subject.tgid == parent_tgid) return out;
    out.in_scope = policies_in_scope(subject, BW_KIND_TAMPER, self_tgid);
    if (!out.in_scope) return out;
    const uint64_t enforcing = out.in_scope & image_.policy_set.enforcing;
    out.verdict = enforcing ? BW_VERDICT_DENY : BW_VERDICT_WOULD_DENY;
    out.policy = static_cast<uint32_t>(lowest_bit_index(enforcing ? enforcing : out.in_scope));
    out.column = BW_COL_TAMPER;
    out.entry = BW_ENTRY_NONE;
    return out;
}

uint64_t Evaluator::policies_of(bw_kind kind) const
{
    return kind < BW_NR_ENFORCE_KINDS ? image_.policy_set.applies[kind] : 0;
}

// Mirrors bw_decide_program (bpf/lib/exec.bpf.h) and the hooks calling it.
Outcome Evaluator::decide_exec(const Subject& subject, const FileObject& program, ExecUse use,
                               uint32_t self_tgid) const
{
    return decide_exec_in(policies_in_scope(subject, BW_KIND_EXEC, self_tgid), subject.exe, program, use);
}

Outcome Evaluator::decide_exec_in(uint64_t in_scope, const std::optional<ExeIdentity>& exe,
                                  const FileObject& program, ExecUse use) const
{
    const auto& set = image_.policy_set;
    Outcome out;
    out.in_scope = in_scope;
    if (!out.in_scope) return out;
    // Mapping the process's own program: decided when it was executed.
    if (use != ExecUse::run && exe && exe->self.dev == program.self.dev && exe->self.ino == program.self.ino)
        return out;
    const uint32_t column = use == ExecUse::map ? BW_COL_MAP : BW_COL_EXEC;
    bw_path_rule w = walk_or_fallback(program);
    bw_path_rule fileless{};
    const bw_path_rule* b = nullptr;
    if (program.self.nlink == 0) {
        for (uint32_t c : {BW_COL_EXEC, BW_COL_MAP}) {
            fileless.deny[c] = set.fileless_deny;
            fileless.audit[c] = set.fileless_audit;
            w.deny[c] &= ~set.fileless;
            w.audit[c] &= ~set.fileless;
        }
        fileless.entry = set.fileless_entry;
        b = &fileless;
    } else {
        b = backstop(image_, inodes_, program.self);
    }
    decide_columns(w, b, 1u << column, out);
    return out;
}

// Mirrors bw_read_dest, bw_dest_match and bw_decide_connect (bpf/lib/connect.bpf.h).
Outcome Evaluator::decide_connect(const Subject& subject, const Destination& dest, uint32_t self_tgid) const
{
    const auto& set = image_.policy_set;
    Outcome out;
    out.in_scope = policies_in_scope(subject, BW_KIND_CONNECT, self_tgid);
    if (!out.in_scope) return out;

    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    bool v4 = dest.family == AF_INET;
    std::array<uint8_t, 16> match{};
    if (v4) {
        std::memcpy(match.data(), dest.addr.data(), 4);
    } else if (std::memcmp(dest.addr.data(), mapped, 12) == 0) {
        std::memcpy(match.data(), dest.addr.data() + 12, 4);
        v4 = true;
    } else {
        match = dest.addr;
    }
    static const std::array<uint8_t, 16> zero{};
    if (v4 && std::memcmp(match.data(), zero.data(), 4) == 0) {
        if (std::memcmp(dest.bound_v4.data(), zero.data(), 4) != 0) {
            std::memcpy(match.data(), dest.bound_v4.data(), 4);
        } else {
            match[0] = 127;
            match[3] = 1;
        }
    } else if (!v4 && match == zero) {
        match[15] = 1;
    }

    // Longest prefix first, as the LPM trie answers.
    const bw_connect_rule* r = nullptr;
    const uint32_t bits = v4 ? 32 : 128;
    for (int64_t len = bits; len >= 0 && !r; --len) {
        std::array<uint8_t, 16> m = match;
        for (uint32_t i = 0; i < bits / 8; ++i) {
            const int64_t first = int64_t(i) * 8;
            if (first >= len) m[i] = 0;
            else if (len - first < 8) m[i] &= static_cast<uint8_t>(0xff << (8 - (len - first)));
        }
        std::string key;
        if (v4) {
            bw_cidr4_key k{};
            k.prefixlen = static_cast<uint32_t>(len);
            std::memcpy(k.addr, m.data(), 4);
            key = "4" + raw(k);
            if (auto it = cidrs_.find(key); it != cidrs_.end()) r = &image_.connect_v4[it->second].value;
        } else {
            bw_cidr6_key k{};
            k.prefixlen = static_cast<uint32_t>(len);
            std::memcpy(k.addr, m.data(), 16);
            key = "6" + raw(k);
            if (auto it = cidrs_.find(key); it != cidrs_.end()) r = &image_.connect_v6[it->second].value;
        }
    }
    if (r && (r->flags & BW_CONNECT_BY_PORT)) {
        const bw_connect_rule* p = nullptr;
        for (int32_t b = 16; b >= 0 && !p; --b) {
            bw_port_key k{};
            k.prefixlen = 40 + static_cast<uint32_t>(b);
            k.entry = r->entry;
            k.protocol = dest.protocol;
            const uint16_t port = b == 0 ? 0 : static_cast<uint16_t>(dest.port & (0xffffu << (16 - b)));
            k.port[0] = static_cast<uint8_t>(port >> 8);
            k.port[1] = static_cast<uint8_t>(port & 0xff);
            if (auto it = ports_.find(raw(k)); it != ports_.end()) p = &image_.connect_ports[it->second].value;
        }
        r = p;
    }
    uint64_t deny = r ? r->deny : set.connect_default_deny;
    uint64_t audit = r ? r->audit : set.connect_default_audit;
    deny &= out.in_scope;
    audit &= out.in_scope;
    out.column = BW_COL_CONNECT;
    out.entry = r ? r->entry : BW_ENTRY_NONE;
    if (deny & set.enforcing) {
        out.verdict = BW_VERDICT_DENY;
        out.policy = static_cast<uint32_t>(lowest_bit_index(deny & set.enforcing));
    } else if (deny) {
        out.verdict = BW_VERDICT_WOULD_DENY;
        out.policy = static_cast<uint32_t>(lowest_bit_index(deny));
    } else if (audit) {
        out.verdict = BW_VERDICT_AUDIT;
        out.policy = static_cast<uint32_t>(lowest_bit_index(audit));
    }
    return out;
}

std::optional<Destination> destination(const std::string& addr, uint16_t port, uint8_t protocol)
{
    Destination d;
    d.port = port;
    d.protocol = protocol;
    if (addr.find(':') != std::string::npos) {
        d.family = AF_INET6;
        if (inet_pton(AF_INET6, addr.c_str(), d.addr.data()) != 1) return std::nullopt;
    } else {
        d.family = AF_INET;
        if (inet_pton(AF_INET, addr.c_str(), d.addr.data()) != 1) return std::nullopt;
    }
    return d;
}

std::optional<ExeIdentity> describe_exe(const SystemView& system, const std::string& path)
{
    auto c = system.canonical(path);
    if (!c) return std::nullopt;
    auto self = system.identify(*c);
    auto slash = c->find_last_of('/');
    auto parent = system.identify(slash == 0 ? "/" : c->substr(0, slash));
    if (!self || !parent) return std::nullopt;
    return ExeIdentity{*self, parent->dev, parent->ino, c->substr(slash + 1)};
}

std::optional<FileObject> describe_file(const SystemView& system, const std::string& path)
{
    std::string canonical;
    bool exists = true;
    if (auto c = system.canonical(path)) {
        canonical = *c;
    } else {
        auto slash = path.find_last_of('/');
        if (slash == std::string::npos) return std::nullopt;
        auto parent = system.canonical(slash == 0 ? "/" : path.substr(0, slash));
        if (!parent) return std::nullopt;
        canonical = (*parent == "/" ? "" : *parent) + path.substr(slash);
        exists = false;
    }
    // Components and the identity of every prefix: "/", "/a", "/a/b", …
    std::vector<std::string> names{""};
    std::vector<std::string> prefixes{"/"};
    for (size_t i = 1; i < canonical.size();) {
        size_t j = canonical.find('/', i);
        if (j == std::string::npos) j = canonical.size();
        names.push_back(canonical.substr(i, j - i));
        prefixes.push_back(canonical.substr(0, j));
        i = j + 1;
    }
    std::vector<std::optional<FileIdentity>> ids;
    for (const auto& p : prefixes) ids.push_back(system.identify(p));
    if (!exists) ids.back().reset();

    FileObject obj;
    if (ids.back()) {
        obj.self = *ids.back();
    } else {
        obj.self = FileIdentity{ids.size() >= 2 && ids[ids.size() - 2] ? ids[ids.size() - 2]->dev : 0, 0, false, 1};
    }
    for (size_t i = names.size() - 1; i >= 1; --i) {
        const auto& parent = ids[i - 1];
        if (!parent) return std::nullopt;
        if (ids[i] && ids[i]->dev != parent->dev) obj.steps.push_back({WalkStep::Kind::cross, "", 0, 0});
        obj.steps.push_back({WalkStep::Kind::lookup, names[i], parent->dev, parent->ino});
    }
    obj.steps.push_back({WalkStep::Kind::root, "", 0, 0});
    return obj;
}

}  // namespace bulwark
