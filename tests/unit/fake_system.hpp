// A fake machine for compiler and evaluator tests: an in-memory tree of
// directories, files and symlinks with kernel identities (dev, ino, nlink),
// mounts (a subtree on another device), bind mounts, hardlinks, a user table
// and a cgroup2 mount — everything SystemView offers, without root.
//
// It also plays the kernel: open() returns the FileObject that the BPF
// dentry walk (bpf/lib/path_walk.bpf.h) would see for the opened file:
//   - the walk follows d_parent, not the path as written: a symlink, "..",
//     a relative path lead to the same dentries;
//   - at the root of a filesystem (IS_ROOT: d_parent == d) it continues at
//     the mount point of the mount the file was opened through (a cross
//     step), then up that mount's parent filesystem;
//   - so a file opened through a bind mount first walks its ORIGINAL
//     directory chain up to its filesystem's root, then crosses at the bind
//     mount's mount point and walks up from there.
// describe_file() (engine/compile/evaluator.cpp) builds the same steps from
// SystemView alone; tests compare the two.
#pragma once

#include "compile/evaluator.hpp"
#include "compile/system_view.hpp"

#include <deque>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bulwark::test {

constexpr uint32_t mkdev(uint32_t major, uint32_t minor) { return (major << 20) | minor; }

class FakeSystem final : public SystemView {
public:
    static constexpr uint32_t root_dev = mkdev(8, 1);
    static constexpr uint32_t cgroup_dev = mkdev(0, 27);

    FakeSystem()
    {
        root_ = new_node(Kind::dir, root_dev, 2);
        nodes_[root_].parent = root_;
        mounts_.push_back({npos, npos, root_});
    }

    // ---- building the tree (throws std::logic_error on misuse) ----------

    // One directory; its parent must exist.
    FileIdentity mkdir(const std::string& path)
    {
        auto [dir, name] = parent_of(path);
        if (nodes_[dir.node].children.count(name)) throw std::logic_error("mkdir: exists: " + path);
        size_t n = new_node(Kind::dir, nodes_[dir.node].dev);
        link(dir.node, name, n);
        nodes_[n].nlink = 2;
        return identity(n);
    }

    // Every missing directory along `path` (like mkdir -p).
    FileIdentity mkdirs(const std::string& path)
    {
        std::string sofar;
        for (const auto& c : split(path)) {
            sofar += "/" + c;
            if (!resolve(sofar, true)) mkdir(sofar);
        }
        return *identify(path.empty() ? "/" : path);
    }

    // A regular file (parent must exist); `ino` 0: the next free number.
    FileIdentity touch(const std::string& path, uint64_t ino = 0)
    {
        if (auto r = resolve(path, true)) return identity(r->chain.back().node);
        auto [dir, name] = parent_of(path);
        size_t n = new_node(Kind::file, nodes_[dir.node].dev, ino);
        link(dir.node, name, n);
        return identity(n);
    }

    void symlink(const std::string& path, const std::string& target)
    {
        auto [dir, name] = parent_of(path);
        if (nodes_[dir.node].children.count(name)) throw std::logic_error("symlink: exists: " + path);
        size_t n = new_node(Kind::symlink, nodes_[dir.node].dev);
        nodes_[n].target = target;
        link(dir.node, name, n);
    }

    // A second name for an existing file (link(2)): same identity, nlink + 1.
    FileIdentity hardlink(const std::string& existing, const std::string& path)
    {
        auto r = resolve(existing, false);
        if (!r || nodes_[r->chain.back().node].kind != Kind::file) throw std::logic_error("hardlink: " + existing);
        auto [dir, name] = parent_of(path);
        if (nodes_[dir.node].dev != nodes_[r->chain.back().node].dev) throw std::logic_error("hardlink: EXDEV");
        size_t n = r->chain.back().node;
        nodes_[dir.node].children[name] = n;
        ++nodes_[n].nlink;
        return identity(n);
    }

    void unlink(const std::string& path)
    {
        auto [dir, name] = parent_of(path);
        auto it = nodes_[dir.node].children.find(name);
        if (it == nodes_[dir.node].children.end()) throw std::logic_error("unlink: " + path);
        --nodes_[it->second].nlink;
        nodes_[dir.node].children.erase(it);
    }

    // A new file renamed over `path` (write to a temp file, rename(2)): the
    // name stays, the identity is new. Returns the new identity.
    FileIdentity replace(const std::string& path)
    {
        auto [dir, name] = parent_of(path);
        auto it = nodes_[dir.node].children.find(name);
        if (it == nodes_[dir.node].children.end()) throw std::logic_error("replace: " + path);
        --nodes_[it->second].nlink;
        size_t n = new_node(Kind::file, nodes_[dir.node].dev);
        nodes_[n].parent = dir.node;
        nodes_[n].name = name;
        it->second = n;
        return identity(n);
    }

    // A fresh filesystem on `dev` mounted on the existing directory `path`.
    FileIdentity mount(const std::string& path, uint32_t dev, uint64_t root_ino = 2)
    {
        auto r = resolve(path, true);
        if (!r || nodes_[r->chain.back().node].kind != Kind::dir) throw std::logic_error("mount: " + path);
        size_t root = new_node(Kind::dir, dev, root_ino);
        nodes_[root].parent = root;
        nodes_[root].nlink = 2;
        mounts_.push_back({r->chain.back().mnt, r->chain.back().node, root});
        return identity(root);
    }

    // mount --bind source target: `target` shows the directory `source`.
    void bind(const std::string& source, const std::string& target)
    {
        auto s = resolve(source, true);
        auto t = resolve(target, true);
        if (!s || !t || nodes_[s->chain.back().node].kind != Kind::dir || nodes_[t->chain.back().node].kind != Kind::dir)
            throw std::logic_error("bind: " + source + " " + target);
        mounts_.push_back({t->chain.back().mnt, t->chain.back().node, s->chain.back().node});
    }

    void add_user(const std::string& name, uint32_t uid) { users_[name] = uid; }

    // cgroup v2 mounted at `path` (created if missing); its root cgroup has id 1.
    void mount_cgroup2(const std::string& path = "/sys/fs/cgroup")
    {
        mkdirs(path);
        mount(path, cgroup_dev, 1);
        cgroup2_ = path;
    }
    // A cgroup, relative to the cgroup2 mount ("system.slice/nginx.service"); its id.
    uint64_t mkcgroup(const std::string& rel) { return mkdirs(cgroup_path(rel)).ino; }
    // What bpf_get_current_ancestor_cgroup_id(level) returns for a task in `rel`.
    std::vector<uint64_t> cgroup_ancestors(const std::string& rel) const
    {
        std::vector<uint64_t> ids{identify(*cgroup2_)->ino};
        std::string sofar = *cgroup2_;
        for (const auto& c : split(rel)) {
            sofar += "/" + c;
            auto id = identify(sofar);
            if (!id) throw std::logic_error("no cgroup " + sofar);
            ids.push_back(id->ino);
        }
        return ids;
    }

    // ---- the kernel's view ----------------------------------------------

    // The FileObject the BPF walk sees when `path` is opened (it must
    // exist): identity of the opened object and every walk step to "/".
    FileObject open(const std::string& path) const
    {
        auto r = resolve(path, true);
        if (!r) throw std::logic_error("open: no such file: " + path);
        const Loc obj = r->chain.back();
        size_t node = obj.node, mnt = obj.mnt, parent;
        std::string name;
        if (nodes_[node].kind == Kind::dir) {
            parent = nodes_[node].parent;
            name = nodes_[node].name;
        } else {  // the dentry it was opened through: one of its names
            parent = r->chain[r->chain.size() - 2].node;
            name = r->names.back();
        }
        FileObject out;
        out.self = identity(node);
        for (;;) {
            if (out.steps.size() > 4096) throw std::logic_error("open: loop");
            if (parent == node) {  // IS_ROOT: go up to the mount point
                const Mount& m = mounts_[mnt];
                if (m.parent == npos) {
                    out.steps.push_back({WalkStep::Kind::root, "", 0, 0});
                    return out;
                }
                out.steps.push_back(
                    {WalkStep::Kind::cross, "", nodes_[m.mountpoint].dev, nodes_[m.mountpoint].ino});
                node = m.mountpoint;
                mnt = m.parent;
            } else {
                out.steps.push_back({WalkStep::Kind::lookup, name, nodes_[parent].dev, nodes_[parent].ino});
                node = parent;
            }
            parent = nodes_[node].parent;
            name = nodes_[node].name;
        }
    }

    // ---- SystemView -------------------------------------------------------

    std::optional<FileIdentity> identify(const std::string& path) const override
    {
        auto r = resolve(path, true);
        if (!r) return std::nullopt;
        return identity(r->chain.back().node);
    }

    std::optional<std::string> canonical(const std::string& path) const override
    {
        auto r = resolve(path, true);
        if (!r) return std::nullopt;
        std::string out;
        for (size_t i = 1; i < r->names.size(); ++i) out += "/" + r->names[i];
        return out.empty() ? "/" : out;
    }

    std::optional<uint32_t> uid_of_user(const std::string& name) const override
    {
        auto it = users_.find(name);
        if (it == users_.end()) return std::nullopt;
        return it->second;
    }

    std::optional<std::string> cgroup2_mount() const override { return cgroup2_; }

    // Paths at or below `dir` are on a filesystem whose kernel objects do
    // not carry stat(2)'s identities (a btrfs subvolume): unmatchable() says `why`.
    void mark_unmatchable(const std::string& dir, const std::string& why) { unmatchable_[dir] = why; }
    // /sys/kernel/security/lsm as this machine would list it (default: not known).
    void set_lsm_list(std::string list) { lsm_list_ = std::move(list); }
    std::optional<std::string> lsm_list() const override { return lsm_list_; }
    std::optional<std::string> unmatchable(const std::string& path) const override
    {
        for (const auto& [dir, why] : unmatchable_)
            if (path == dir || path.rfind(dir + "/", 0) == 0) return path + ": " + why;
        return std::nullopt;
    }

    std::string cgroup_path(const std::string& rel) const
    {
        if (!cgroup2_) throw std::logic_error("cgroup2 not mounted");
        return rel.empty() ? *cgroup2_ : *cgroup2_ + "/" + rel;
    }

private:
    static constexpr size_t npos = static_cast<size_t>(-1);
    enum class Kind { dir, file, symlink };
    struct Node {
        Kind kind = Kind::file;
        uint32_t dev = 0;
        uint64_t ino = 0;
        uint32_t nlink = 1;
        std::string target;                      // symlinks
        std::map<std::string, size_t> children;  // directories
        size_t parent = npos;                    // d_parent (directories; files: first name)
        std::string name;
    };
    struct Mount {
        size_t parent;      // index in mounts_, npos for the root mount
        size_t mountpoint;  // directory node in the parent mount
        size_t root;        // directory node shown at the mount point
    };
    struct Loc {
        size_t mnt;
        size_t node;
    };
    struct Resolved {
        std::vector<Loc> chain;           // chain[0]: "/"
        std::vector<std::string> names;   // names[i]: name of chain[i] in chain[i-1]
    };

    static std::vector<std::string> split(const std::string& path)
    {
        std::vector<std::string> out;
        std::string cur;
        for (char ch : path) {
            if (ch == '/') {
                if (!cur.empty()) out.push_back(cur);
                cur.clear();
            } else {
                cur += ch;
            }
        }
        if (!cur.empty()) out.push_back(cur);
        return out;
    }

    size_t new_node(Kind kind, uint32_t dev, uint64_t ino = 0)
    {
        if (ino == 0) ino = next_ino_.try_emplace(dev, 100).first->second++;
        Node n;
        n.kind = kind;
        n.dev = dev;
        n.ino = ino;
        nodes_.push_back(std::move(n));
        return nodes_.size() - 1;
    }

    void link(size_t dir, const std::string& name, size_t n)
    {
        nodes_[dir].children[name] = n;
        nodes_[n].parent = dir;
        nodes_[n].name = name;
    }

    FileIdentity identity(size_t n) const
    {
        const Node& x = nodes_[n];
        return FileIdentity{x.dev, x.ino, x.kind == Kind::dir, x.nlink};
    }

    // Step into a mount mounted on `l`, if any (repeatedly: stacked mounts).
    Loc enter(Loc l) const
    {
        for (bool moved = true; moved;) {
            moved = false;
            for (size_t m = 1; m < mounts_.size(); ++m) {
                if (mounts_[m].parent == l.mnt && mounts_[m].mountpoint == l.node) {
                    l = {m, mounts_[m].root};
                    moved = true;
                    break;
                }
            }
        }
        return l;
    }

    // Path resolution as the kernel does it: relative paths from "/",
    // "." skipped, ".." back one component, symlinks spliced in.
    std::optional<Resolved> resolve(const std::string& path, bool follow_last) const
    {
        std::deque<std::string> todo;
        for (auto& c : split(path)) todo.push_back(c);
        const bool want_dir = path.size() > 1 && path.back() == '/';
        Resolved r{{enter({0, root_})}, {""}};
        int links = 0;
        while (!todo.empty()) {
            std::string name = todo.front();
            todo.pop_front();
            if (name == ".") continue;
            if (name == "..") {
                if (r.chain.size() > 1) {
                    r.chain.pop_back();
                    r.names.pop_back();
                }
                continue;
            }
            const Loc cur = r.chain.back();
            const Node& dir = nodes_[cur.node];
            if (dir.kind != Kind::dir) return std::nullopt;
            auto it = dir.children.find(name);
            if (it == dir.children.end()) return std::nullopt;
            const Node& child = nodes_[it->second];
            if (child.kind == Kind::symlink && (!todo.empty() || follow_last || want_dir)) {
                if (++links > 40) return std::nullopt;
                auto parts = split(child.target);
                todo.insert(todo.begin(), parts.begin(), parts.end());
                if (!child.target.empty() && child.target[0] == '/') {
                    r.chain.resize(1);
                    r.names.resize(1);
                }
                continue;
            }
            r.chain.push_back(enter({cur.mnt, it->second}));
            r.names.push_back(name);
        }
        if (want_dir && nodes_[r.chain.back().node].kind != Kind::dir) return std::nullopt;
        return r;
    }

    std::pair<Loc, std::string> parent_of(const std::string& path) const
    {
        auto parts = split(path);
        if (parts.empty()) throw std::logic_error("no parent: " + path);
        std::string parent;
        for (size_t i = 0; i + 1 < parts.size(); ++i) parent += "/" + parts[i];
        auto r = resolve(parent.empty() ? "/" : parent, true);
        if (!r || nodes_[r->chain.back().node].kind != Kind::dir)
            throw std::logic_error("parent directory missing: " + path);
        return {r->chain.back(), parts.back()};
    }

    std::vector<Node> nodes_;
    std::vector<Mount> mounts_;
    size_t root_ = 0;
    std::map<uint32_t, uint64_t> next_ino_;
    std::map<std::string, uint32_t> users_;
    std::optional<std::string> cgroup2_;
    std::map<std::string, std::string> unmatchable_;
    std::optional<std::string> lsm_list_;
};

// ---- comparing walk descriptions -----------------------------------------

inline std::string to_text(const FileObject& o)
{
    std::ostringstream s;
    s << "self{dev=" << o.self.dev << " ino=" << o.self.ino << (o.self.is_dir ? " dir" : "") << " nlink=" << o.self.nlink
      << "}";
    for (const auto& st : o.steps) {
        switch (st.kind) {
        case WalkStep::Kind::lookup:
            s << " [" << st.parent_dev << ":" << st.parent_ino << " \"" << st.child_name << "\"]";
            break;
        case WalkStep::Kind::cross: s << " cross"; break;
        case WalkStep::Kind::root: s << " root"; break;
        }
    }
    return s.str();
}

inline bool same_steps(const std::vector<WalkStep>& a, const std::vector<WalkStep>& b)
{
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].kind != b[i].kind) return false;
        // A cross's covered directory is the kernel's alone: paths show
        // the mounted root (describe_file leaves it 0). It can decide only
        // for rules compiled before the mount, which explain never has.
        if (a[i].kind == WalkStep::Kind::cross) continue;
        if (a[i].child_name != b[i].child_name || a[i].parent_dev != b[i].parent_dev ||
            a[i].parent_ino != b[i].parent_ino)
            return false;
    }
    return true;
}

inline bool same_object(const FileObject& a, const FileObject& b) { return a.self == b.self && same_steps(a.steps, b.steps); }

}  // namespace bulwark::test
