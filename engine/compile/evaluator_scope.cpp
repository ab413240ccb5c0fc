// The reference evaluator's scope (compile/evaluator.hpp): which policies
// hold a process, per dimension what it is now OR what its history's marks
// hold — bw_sticky_policies_in_scope and bw_mark_task
// (bpf/lib/sticky_scope.bpf.h), key for key. Kept apart from the decisions
// (evaluator.cpp) because the two change for different reasons.
#include "compile/evaluator.hpp"

#include "compile/raw_key.hpp"

#include <algorithm>
#include <cstring>

namespace bulwark {

uint64_t Evaluator::executable_scope(const Subject& subject) const
{
    const auto& set = image_.policy_set;
    uint64_t m = set.executable_free;
    if (!subject.exe) return m;  // a kernel thread runs no program
    if (auto it = exe_inodes_.find(raw_inode_key(subject.exe->self.dev, subject.exe->self.ino, BW_ROLE_SELF));
        it != exe_inodes_.end())
        return m | image_.scope_exe_inodes[it->second].second;
    bw_name_key nk{};
    nk.parent_ino = subject.exe->parent_ino;
    nk.parent_dev = subject.exe->self.dev;  // the program's filesystem, as the BPF side reads it
    nk.role = BW_ROLE_SELF;
    std::memcpy(nk.name, subject.exe->name.data(), std::min(subject.exe->name.size(), sizeof(nk.name) - 1));
    if (auto it = exe_names_.find(raw(nk)); it != exe_names_.end()) return m | image_.scope_exe_names[it->second].second;
    return m;
}

Marks Evaluator::marks(const Subject& subject) const
{
    const auto& set = image_.policy_set;
    const SubjectHistory& h = subject.history;
    Marks out;
    if (h.empty()) return out;
    // Each kind as bw_mark_uid, _cgroup, _exe fill their slots: distinct
    // keys, and one more than the room makes the kind full.
    auto add = [](auto& marked, const auto& key) {
        if (std::find(marked.begin(), marked.end(), key) == marked.end()) marked.push_back(key);
    };
    std::vector<uint64_t> uids, cgroups;
    std::vector<std::string> exes;  // raw inode keys
    if (~set.uid_free & set.active) {
        for (uint32_t uid : h.uids) {
            for (const auto& [u, mask] : image_.scope_uids) {
                if (u != uid) continue;
                add(uids, uint64_t(uid));
                out.uids |= mask;
            }
        }
    }
    // Every scoped level of each cgroup, as bw_mark_cgroup_step walks them
    // up from the leaf; a leaf BW_CGROUP_MAX_LEVEL deep or deeper stops the
    // walk before it marks anything.
    for (const auto& chain : h.cgroups) {
        if (chain.size() > BW_CGROUP_MAX_LEVEL) continue;
        for (uint32_t level = 0; level < chain.size(); ++level) {
            if (!(set.cgroup_levels & (1ull << level))) continue;
            for (const auto& [cg, mask] : image_.scope_cgroups) {
                if (cg != chain[level]) continue;
                add(cgroups, cg);
                out.cgroups |= mask;
            }
        }
    }
    // Programs by inode only: one matched by its (parent, name) key alone
    // is in scope while it runs, but bw_mark_task does not mark it.
    if (~set.executable_free & set.active) {
        for (const ExeIdentity& exe : h.exes) {
            const std::string key = raw_inode_key(exe.self.dev, exe.self.ino, BW_ROLE_SELF);
            if (auto it = exe_inodes_.find(key); it != exe_inodes_.end()) {
                add(exes, key);  // two names of one inode (hard links) are one mark
                out.exes |= image_.scope_exe_inodes[it->second].second;
            }
        }
    }
    // Out of room: in scope of every policy constraining the kind, as
    // bw_marked_* answer for a full kind.
    auto room = [&](bool full, uint32_t flag, uint64_t& mask) {
        if (!full && !(h.full & flag)) return;
        out.full |= flag;
        mask = ~0ull;
    };
    room(uids.size() > BW_MARK_UIDS, BW_MARK_FULL_UID, out.uids);
    room(cgroups.size() > BW_MARK_CGROUPS, BW_MARK_FULL_CGROUP, out.cgroups);
    room(exes.size() > BW_MARK_EXES, BW_MARK_FULL_EXE, out.exes);
    return out;
}

uint64_t Evaluator::policies_in_scope(const Subject& subject, bw_kind kind, uint32_t self_tgid) const
{
    const auto& set = image_.policy_set;
    if (self_tgid != 0 && subject.tgid == self_tgid) return 0;
    if (kind >= BW_NR_ENFORCE_KINDS) return 0;
    uint64_t in = set.applies[kind];
    if (!in) return 0;
    const Marks mk = marks(subject);  // nothing without a history
    if (in & ~set.uid_free) {
        uint64_t m = set.uid_free | mk.uids;
        for (const auto& [uid, mask] : image_.scope_uids)
            if (uid == subject.uid) m |= mask;
        in &= m;
        if (!in) return 0;
    }
    if (in & ~set.cgroup_free) {
        uint64_t m = set.cgroup_free | mk.cgroups;
        for (uint32_t level = 0; level < BW_CGROUP_MAX_LEVEL; ++level) {
            if (!(set.cgroup_levels & (1ull << level))) continue;
            const uint64_t id = level < subject.cgroup_ancestors.size() ? subject.cgroup_ancestors[level] : 0;
            if (!id) break;
            for (const auto& [cg, mask] : image_.scope_cgroups)
                if (cg == id) m |= mask;
        }
        in &= m;
        if (!in) return 0;
    }
    if (in & ~set.executable_free) in &= executable_scope(subject) | mk.exes;
    return in;
}

}  // namespace bulwark
