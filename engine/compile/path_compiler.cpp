#include "compile/path_compiler.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <numeric>
#include <string_view>
#include <unordered_map>

namespace bulwark {
namespace {

// Hash maps keyed by std::string that are searched with a string_view:
// the walk up a key's path looks up its prefixes without copying them.
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

std::string dirname_of(const std::string& p)
{
    auto slash = p.find_last_of('/');
    return slash == 0 ? "/" : p.substr(0, slash);
}

// Where a rule path is anchored in the kernel.
struct Anchor {
    std::string canonical;             // no trailing '/', except "/"
    std::optional<FileIdentity> self;  // the object, when it exists
    std::optional<FileIdentity> parent;
    std::string name;                  // last component ("" for "/")
};

std::optional<Anchor> anchor_path(const PathRule& r, bool prefix, const SystemView& system, Diagnostics& diags)
{
    std::string path = r.path;
    if (prefix && path.size() > 1) path.pop_back();  // "/etc/ssh/" → "/etc/ssh"

    Anchor a;
    if (auto c = system.canonical(path)) {
        a.canonical = *c;
        a.self = system.identify(*c);
        if (!a.self) return std::nullopt;
    } else {
        auto parent = system.canonical(dirname_of(path));
        if (!parent) {
            diags.warning(r.pos, "neither " + path + " nor its parent directory exists; the rule is inactive "
                                 "until they exist and the policies are reloaded");
            return std::nullopt;
        }
        std::string name = path.substr(path.find_last_of('/') + 1);
        a.canonical = (*parent == "/" ? "" : *parent) + "/" + name;
    }
    if (a.canonical != "/") {
        a.name = a.canonical.substr(a.canonical.find_last_of('/') + 1);
        a.parent = system.identify(dirname_of(a.canonical));
        if (!a.parent) return std::nullopt;
    }
    // A rule the kernel could never match is refused, not compiled to
    // keys that silently match nothing (docs/decisions/013-overlayfs.md).
    if (auto why = system.unmatchable(a.self ? a.canonical : dirname_of(a.canonical))) {
        diags.error(r.pos, "rule path " + r.path + " cannot be enforced: " + *why +
                               "; remove the rule or keep the files it protects on another filesystem");
        return std::nullopt;
    }
    if (a.canonical != path) {
        diags.note(r.pos, path + " resolves to " + a.canonical + " (through a symlink); the rule applies there");
    }
    if (prefix && a.self && !a.self->is_dir) {
        diags.error(r.pos, "prefix " + r.path + " names a file, not a directory; put \"" + path +
                               "\" in paths for the exact file");
        return std::nullopt;
    }
    return a;
}

// The string form in which rules and keys are compared: exact paths as is,
// directory trees with a trailing '/'.
std::string tree_of(const std::string& canonical)
{
    return canonical == "/" ? "/" : canonical + "/";
}

struct RuleAtPath {
    uint32_t policy;
    int32_t rule;
    uint8_t columns;
    Action action;
    const std::string* own_as;         // PathRule::own_as
};

int strength(Action a)
{
    switch (a) {
    case Action::deny: return 2;
    case Action::audit: return 1;
    case Action::allow: return 0;
    }
    return 0;
}

struct EntryBuild {
    std::string keypath;               // exact path, or tree ending in '/'
    bw_role role;
    std::optional<FileIdentity> self;
    std::optional<FileIdentity> parent;
    std::string name;
    bool synthetic = true;
    uint32_t named = 0;                // BW_ENTRY_NAMED_*: name keys under it, by role
    SourcePos pos;                     // first rule that needed it
};

class PathCompiler {
public:
    PathCompiler(const SystemView& system, const CompileOptions& options, MapImage& image, Diagnostics& diags)
        : system_(system), options_(options), image_(image), diags_(diags)
    {
    }

    void add(const PathRule& r)
    {
        const bool prefix = r.path.back() == '/';
        auto a = r.own_as ? anchor_own(r, prefix) : anchor_path(r, prefix, system_, diags_);
        if (!a) return;
        RuleAtPath at{r.policy, r.rule, r.columns, r.action, r.own_as};
        if (prefix) {
            const std::string tree = tree_of(a->canonical);
            prefix_rules_[tree].push_back(at);
            auto& e = entry(tree, BW_ROLE_ANCESTOR, *a, r.pos);
            e.synthetic = false;
        } else {
            exact_rules_[a->canonical].push_back(at);
            auto& e = entry(a->canonical, BW_ROLE_SELF, *a, r.pos);
            e.synthetic = false;
        }
    }

    void finish()
    {
        // Name keys need their parent directory flagged: add the parent as
        // a (possibly synthetic) directory entry. Collect first: entry()
        // inserts into the map being iterated.
        // Each directory once, from its first child in key order.
        std::vector<uint32_t> order = entry_order();
        struct Parent {
            std::string dir;
            SourcePos pos;
            uint32_t named;  // BW_ENTRY_NAMED_* of its children's roles
        };
        std::vector<Parent> parents;
        StringMap<size_t> seen;
        for (uint32_t i : order) {
            const EntryBuild& e = entries_[i];
            if (!uses_name_key(e)) continue;
            const std::string& path = e.keypath;
            std::string dir = dirname_of(e.role == BW_ROLE_SELF ? path : path.substr(0, path.size() - 1));
            const uint32_t named = e.role == BW_ROLE_SELF ? BW_ENTRY_NAMED_FILES : BW_ENTRY_NAMED_TREES;
            auto [at, added] = seen.try_emplace(dir, parents.size());
            if (added) parents.push_back({std::move(dir), e.pos, named});
            else parents[at->second].named |= named;
        }
        const auto before = static_cast<uint32_t>(entries_.size());
        for (auto& [dir, pos, named] : parents) {
            Anchor a;
            a.canonical = dir;
            a.self = system_.identify(dir);
            if (!a.self) continue;
            if (dir != "/") {
                a.parent = system_.identify(dirname_of(dir));
                a.name = dir.substr(dir.find_last_of('/') + 1);
            }
            entry(tree_of(dir), BW_ROLE_ANCESTOR, a, pos).named |= named;
        }
        // The directories added just now, merged into the key order.
        std::vector<uint32_t> added(entries_.size() - before);
        std::iota(added.begin(), added.end(), before);
        std::sort(added.begin(), added.end(), [this](uint32_t a, uint32_t b) { return key_less(a, b); });
        std::vector<uint32_t> merged;
        merged.reserve(entries_.size());
        std::merge(order.begin(), order.end(), added.begin(), added.end(), std::back_inserter(merged),
                   [this](uint32_t a, uint32_t b) { return key_less(a, b); });
        order = std::move(merged);
        // No reallocation while emitting: add_unique's index points into them.
        image_.inode_rules.reserve(image_.inode_rules.size() + order.size());
        image_.name_rules.reserve(image_.name_rules.size() + order.size());
        image_.entries.reserve(image_.entries.size() + order.size());
        for (uint32_t i : order) emit(entries_[i]);
        fill_dir_filter();
        if (image_.inode_rules.size() > options_.max_path_keys || image_.name_rules.size() > options_.max_path_keys) {
            diags_.error(last_pos_, "the policies need " +
                                        std::to_string(std::max(image_.inode_rules.size(), image_.name_rules.size())) +
                                        " path keys, more than the maps hold (" +
                                        std::to_string(options_.max_path_keys) + "); use prefixes or split the set");
        }
    }

private:
    // One of bulwark's own paths: one that cannot be anchored (on a
    // filesystem whose identities the kernel cannot match) is unprotected,
    // said once, and never stops bulwark from starting.
    std::optional<Anchor> anchor_own(const PathRule& r, bool prefix)
    {
        Diagnostics scratch;
        auto a = anchor_path(r, prefix, system_, scratch);
        if (a && !scratch.has_errors()) return a;
        if (own_warned_.try_emplace(r.path, true).second) {
            std::string why = "it cannot be identified";
            for (const auto& d : scratch.all())
                if (d.severity != Severity::note) why = d.message;
            diags_.warning(r.pos, "bulwark's own " + *r.own_as + " " + r.path +
                                      " is not protected against changes: " + why);
        }
        return std::nullopt;
    }

    // The walk's pre-check (abi.h, docs/decisions/006-dir-filter.md): both
    // bits of every directory key the walk can find. Only ANCESTOR keys:
    // SELF keys are looked up by the hardlink backstop, which has no filter.
    void fill_dir_filter()
    {
        auto& filter = image_.policy_set.dir_filter;
        std::fill(std::begin(filter), std::end(filter), 0);
        for (const auto& e : image_.inode_rules) {
            if (e.key.role != BW_ROLE_ANCESTOR) continue;
            const uint64_t h = bw_dir_filter_hash(e.key.dev, e.key.ino);
            for (const uint32_t bit : {bw_dir_filter_bit1(h), bw_dir_filter_bit2(h)})
                filter[bit / 64] |= 1ull << (bit % 64);
        }
    }

    static bool uses_name_key(const EntryBuild& e) { return e.role == BW_ROLE_SELF || !e.self; }

    // The entry for (keypath, role), made on first use. The reference is
    // good until the next call.
    EntryBuild& entry(const std::string& keypath, bw_role role, const Anchor& a, const SourcePos& pos)
    {
        auto& index = role == BW_ROLE_SELF ? self_index_ : ancestor_index_;
        auto [it, inserted] = index.try_emplace(keypath, static_cast<uint32_t>(entries_.size()));
        if (inserted) {
            entries_.push_back(EntryBuild{keypath, role, a.self, a.parent, a.name, true, false, pos});
            last_pos_ = pos;
        }
        return entries_[it->second];
    }

    // (keypath, role) order: the order of the image's entries.
    bool key_less(uint32_t a, uint32_t b) const
    {
        const EntryBuild &x = entries_[a], &y = entries_[b];
        if (const int c = x.keypath.compare(y.keypath); c != 0) return c < 0;
        return x.role < y.role;
    }

    std::vector<uint32_t> entry_order() const
    {
        std::vector<uint32_t> order(entries_.size());
        std::iota(order.begin(), order.end(), 0u);
        std::sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) { return key_less(a, b); });
        return order;
    }

    // The prefix rules at `tree` (ending in '/') and at every tree above
    // it, the deepest first; remembered per tree (rule paths share their
    // directories).
    using Chain = std::vector<const std::vector<RuleAtPath>*>;
    const Chain& chain(std::string_view tree)
    {
        if (auto known = chains_.find(tree); known != chains_.end()) return known->second;
        Chain c;
        if (auto found = prefix_rules_.find(tree); found != prefix_rules_.end()) c.push_back(&found->second);
        if (tree.size() > 1) {
            const Chain& up = chain(tree.substr(0, tree.rfind('/', tree.size() - 2) + 1));
            c.insert(c.end(), up.begin(), up.end());
        }
        return chains_.emplace(std::string(tree), std::move(c)).first->second;
    }

    // Every policy's verdict per column at this key, most specific rule first.
    // `exact`: per column, the policies that an exact rule at this key decides.
    void fold(const EntryBuild& e, bw_path_rule& value, EntryInfo& info, uint64_t (&exact)[BW_NR_COLUMNS])
    {
        const auto& set = image_.policy_set;
        const std::string_view s = e.keypath;
        uint64_t decided[BW_NR_COLUMNS] = {};
        // The key's own path (exact, or its tree), then every tree above it.
        const bool self = e.role == BW_ROLE_SELF;
        const auto& own = self ? exact_rules_ : prefix_rules_;
        if (auto found = own.find(s); found != own.end()) fold_rules(found->second, self, decided, value, info, exact);
        if (s.size() > 1) {
            const size_t up = self ? s.rfind('/') : s.rfind('/', s.size() - 2);
            for (const auto* rules : chain(s.substr(0, up + 1))) fold_rules(*rules, false, decided, value, info, exact);
        }
        for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
            value.deny[c] |= set.default_deny[c] & ~decided[c];
            value.audit[c] |= set.default_audit[c] & ~decided[c];
        }
    }

    // The rules at one path, for the (policy, column) pairs no deeper path decided.
    void fold_rules(const std::vector<RuleAtPath>& rules, bool exact_path, uint64_t (&decided)[BW_NR_COLUMNS],
                    bw_path_rule& value, EntryInfo& info, uint64_t (&exact)[BW_NR_COLUMNS])
    {
        // Strongest action per (policy, column) among rules at this path,
        // in (policy, column) order.
        best_.clear();
        for (const auto& r : rules) {
            for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
                if (!(r.columns & (1u << c)) || (decided[c] & (1ull << r.policy))) continue;
                auto slot = std::find_if(best_.begin(), best_.end(),
                                         [&](const Best& b) { return b.policy == r.policy && b.column == c; });
                if (slot == best_.end()) best_.push_back({r.policy, c, &r});
                else if (strength(r.action) > strength(slot->rule->action)) slot->rule = &r;
            }
        }
        std::sort(best_.begin(), best_.end(), [](const Best& a, const Best& b) {
            return a.policy != b.policy ? a.policy < b.policy : a.column < b.column;
        });
        for (const auto& [policy, c, r] : best_) {
            decided[c] |= 1ull << policy;
            if (exact_path) exact[c] |= 1ull << policy;
            if (r->own_as && info.protected_as.empty()) info.protected_as = *r->own_as;
            if (r->action == Action::deny) value.deny[c] |= 1ull << policy;
            if (r->action == Action::audit) value.audit[c] |= 1ull << policy;
            info.decisions.push_back({policy, c, r->rule});
        }
    }

    void emit(const EntryBuild& e)
    {
        const uint32_t id = static_cast<uint32_t>(image_.entries.size());
        EntryInfo info;
        info.path = e.keypath;
        info.role = e.role;
        info.synthetic = e.synthetic;
        info.key_kind = uses_name_key(e) ? KeyKind::name : KeyKind::inode;
        bw_path_rule value{};
        value.entry = id;
        value.flags = e.named;
        uint64_t exact[BW_NR_COLUMNS] = {};
        fold(e, value, info, exact);
        // Decided by bulwark's own protection somewhere: the kernel reports
        // a change here as tampering; the executable's own key also says
        // that whoever runs it is bulwark.
        if (!info.protected_as.empty()) value.flags |= BW_ENTRY_PROTECTED;
        if (info.protected_as == "binary" && e.role == BW_ROLE_SELF) value.flags |= BW_ENTRY_OWN_BINARY;
        image_.entries.push_back(std::move(info));

        if (uses_name_key(e)) {
            NameEntry n{};
            n.key.parent_ino = e.parent->ino;
            n.key.parent_dev = e.parent->dev;
            n.key.role = e.role;
            std::memcpy(n.key.name, e.name.data(), std::min(e.name.size(), sizeof(n.key.name) - 1));
            n.value = value;
            add_unique(names_, image_.name_rules, n, e);
        }
        // The object's own identity: directories for trees, and existing
        // exact files so that their other names (hardlinks) match too.
        if (e.self) {
            InodeEntry n{};
            n.key.ino = e.self->ino;
            n.key.dev = e.self->dev;
            n.key.role = e.role;
            n.value = value;
            // A file's own key is looked up only as the hardlink backstop, for
            // every name of the file: it carries what the exact rules decide,
            // not what this name's directories or the defaults decide there.
            if (e.role == BW_ROLE_SELF) {
                for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
                    n.value.deny[c] &= exact[c];
                    n.value.audit[c] &= exact[c];
                }
            }
            add_unique(inodes_, image_.inode_rules, n, e);
        }
    }

    // One key per identity: a second path to the same key is an error.
    // `index` holds views of the keys in `out`, which emit() reserved.
    template <typename Entry>
    void add_unique(std::unordered_map<std::string_view, std::string_view>& index, std::vector<Entry>& out,
                    const Entry& n, const EntryBuild& e)
    {
        out.push_back(n);
        const std::string_view raw(reinterpret_cast<const char*>(&out.back().key), sizeof(n.key));
        auto [it, inserted] = index.try_emplace(raw, e.keypath);
        if (!inserted) {
            out.pop_back();
            diags_.error(e.pos, e.keypath + " and " + std::string(it->second) +
                                    " are the same file or directory (a hardlink or a bind mount); name it one way");
        }
    }

    struct Best {
        uint32_t policy, column;
        const RuleAtPath* rule;
    };

    const SystemView& system_;
    const CompileOptions& options_;
    MapImage& image_;
    Diagnostics& diags_;
    std::vector<EntryBuild> entries_;
    StringMap<uint32_t> self_index_, ancestor_index_;  // (keypath, role) → entries_
    StringMap<std::vector<RuleAtPath>> exact_rules_, prefix_rules_;
    std::unordered_map<std::string_view, std::string_view> inodes_, names_;
    std::vector<Best> best_;
    StringMap<Chain> chains_;
    StringMap<bool> own_warned_;       // own paths said to be unprotected
    SourcePos last_pos_;
};

}  // namespace

void compile_paths(const std::vector<PathRule>& rules, const SystemView& system, const CompileOptions& options,
                   MapImage& image, Diagnostics& diags)
{
    PathCompiler pc(system, options, image, diags);
    for (const auto& r : rules) pc.add(r);
    pc.finish();
}

}  // namespace bulwark
