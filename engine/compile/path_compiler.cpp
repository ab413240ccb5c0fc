#include "compile/path_compiler.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <unordered_map>

namespace bulwark {
namespace {

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
    bool named_children = false;
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
        auto a = anchor_path(r, prefix, system_, diags_);
        if (!a) return;
        RuleAtPath at{r.policy, r.rule, r.columns, r.action};
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
        std::vector<std::pair<std::string, SourcePos>> parents;
        for (auto& [k, e] : entries_) {
            if (!uses_name_key(e)) continue;
            const std::string& path = e.keypath;
            parents.emplace_back(dirname_of(e.role == BW_ROLE_SELF ? path : path.substr(0, path.size() - 1)), e.pos);
        }
        for (auto& [dir, pos] : parents) {
            Anchor a;
            a.canonical = dir;
            a.self = system_.identify(dir);
            if (!a.self) continue;
            if (dir != "/") {
                a.parent = system_.identify(dirname_of(dir));
                a.name = dir.substr(dir.find_last_of('/') + 1);
            }
            entry(tree_of(dir), BW_ROLE_ANCESTOR, a, pos).named_children = true;
        }
        for (auto& [k, e] : entries_) emit(e);
        fill_dir_filter();
        if (image_.inode_rules.size() > options_.max_path_keys || image_.name_rules.size() > options_.max_path_keys) {
            diags_.error(last_pos_, "the policies need " +
                                        std::to_string(std::max(image_.inode_rules.size(), image_.name_rules.size())) +
                                        " path keys, more than the maps hold (" +
                                        std::to_string(options_.max_path_keys) + "); use prefixes or split the set");
        }
    }

private:
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

    EntryBuild& entry(const std::string& keypath, bw_role role, const Anchor& a, const SourcePos& pos)
    {
        auto [it, inserted] = entries_.try_emplace({keypath, role});
        if (inserted) {
            it->second = EntryBuild{keypath, role, a.self, a.parent, a.name, true, false, pos};
            last_pos_ = pos;
        }
        return it->second;
    }

    // Every policy's verdict per column at this key, most specific rule first.
    // `exact`: per column, the policies that an exact rule at this key decides.
    void fold(const EntryBuild& e, bw_path_rule& value, EntryInfo& info, uint64_t (&exact)[BW_NR_COLUMNS])
    {
        const auto& set = image_.policy_set;
        std::vector<std::string> candidates;
        if (e.role == BW_ROLE_SELF) candidates.push_back(e.keypath);
        const std::string& s = e.keypath;
        for (size_t i = s.size(); i-- > 0;)
            if (s[i] == '/') candidates.push_back(s.substr(0, i + 1));

        uint64_t decided[BW_NR_COLUMNS] = {};
        for (size_t ci = 0; ci < candidates.size(); ++ci) {
            const bool exact_path = e.role == BW_ROLE_SELF && ci == 0;
            const auto& table = exact_path ? exact_rules_ : prefix_rules_;
            auto found = table.find(candidates[ci]);
            if (found == table.end()) continue;
            // Strongest action per (policy, column) among rules at this path.
            std::map<std::pair<uint32_t, uint32_t>, const RuleAtPath*> best;
            for (const auto& r : found->second) {
                for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
                    if (!(r.columns & (1u << c)) || (decided[c] & (1ull << r.policy))) continue;
                    auto& slot = best[{r.policy, c}];
                    if (!slot || strength(r.action) > strength(slot->action)) slot = &r;
                }
            }
            for (const auto& [pc, r] : best) {
                const auto [policy, c] = pc;
                decided[c] |= 1ull << policy;
                if (exact_path) exact[c] |= 1ull << policy;
                if (r->action == Action::deny) value.deny[c] |= 1ull << policy;
                if (r->action == Action::audit) value.audit[c] |= 1ull << policy;
                info.decisions.push_back({policy, c, r->rule});
            }
        }
        for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
            value.deny[c] |= set.default_deny[c] & ~decided[c];
            value.audit[c] |= set.default_audit[c] & ~decided[c];
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
        value.flags = e.named_children ? BW_ENTRY_NAMED_CHILDREN : 0;
        uint64_t exact[BW_NR_COLUMNS] = {};
        fold(e, value, info, exact);
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

    template <typename Entry, typename Index>
    void add_unique(Index& index, std::vector<Entry>& out, const Entry& n, const EntryBuild& e)
    {
        std::string raw(reinterpret_cast<const char*>(&n.key), sizeof(n.key));
        auto [it, inserted] = index.try_emplace(raw, e.keypath);
        if (!inserted) {
            diags_.error(e.pos, e.keypath + " and " + it->second +
                                    " are the same file or directory (a hardlink or a bind mount); name it one way");
            return;
        }
        out.push_back(n);
    }

    const SystemView& system_;
    const CompileOptions& options_;
    MapImage& image_;
    Diagnostics& diags_;
    std::map<std::pair<std::string, bw_role>, EntryBuild> entries_;
    std::unordered_map<std::string, std::vector<RuleAtPath>> exact_rules_, prefix_rules_;
    std::unordered_map<std::string, std::string> inodes_, names_;
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
