// Building policies in code for compiler and evaluator tests, the way the
// parser would produce them: every rule, path, scope value and default has
// a distinct source position, so tests can check where a diagnostic or an
// event points. Also: compiling a set against a FakeSystem and deciding
// file opens through the reference evaluator.
#pragma once

#include "compile/compiler.hpp"
#include "compile/evaluator.hpp"
#include "fake_system.hpp"
#include "policy/model.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace bulwark::test {

constexpr uint32_t R = BW_ACCESS_READ;
constexpr uint32_t W = BW_ACCESS_WRITE;
constexpr uint32_t RW = BW_ACCESS_READ | BW_ACCESS_WRITE;

// A task as the BPF side sees it (fields set by name: Subject grows).
inline Subject subject(uint32_t tgid, uint32_t uid, std::vector<uint64_t> cgroup_ancestors = {})
{
    Subject s;
    s.tgid = tgid;
    s.uid = uid;
    s.cgroup_ancestors = std::move(cgroup_ancestors);
    return s;
}

// Positions: [policy] at line 1, name at 2:8, mode at 3:8; then every call
// takes the next lines. A [[file]] header is at column 1 and its paths are
// on the following lines, one per line, at column 5.
class PolicyBuilder {
public:
    explicit PolicyBuilder(const std::string& name, std::string file = "")
    {
        if (file.empty()) file = "/etc/bulwark/" + name + ".toml";
        p_.name = name;
        p_.file = file;
        p_.pos = {file, 2, 8};
        p_.mode_pos = {file, 1, 1};
    }

    PolicyBuilder& audit_mode()
    {
        p_.mode = Mode::audit;
        p_.mode_pos = {p_.file, 3, 8};
        return *this;
    }

    PolicyBuilder& uid(uint32_t uid) { return uid_spec(UidSpec{uid, {}}); }
    PolicyBuilder& uid(int uid) { return this->uid(static_cast<uint32_t>(uid)); }
    PolicyBuilder& uid(const std::string& user) { return uid_spec(UidSpec{user, {}}); }
    PolicyBuilder& uid(const char* user) { return uid(std::string(user)); }
    PolicyBuilder& cgroup(const std::string& cg)
    {
        scope_header();
        p_.scope.cgroups.push_back({cg, next(10)});
        return *this;
    }
    PolicyBuilder& executable(const std::string& exe)
    {
        scope_header();
        p_.scope.executables.push_back({exe, next(15)});
        return *this;
    }

    // [defaults] file = "..."
    PolicyBuilder& file_default(Action a)
    {
        p_.defaults.file = {a, true, next(8)};
        return *this;
    }

    // A [[file]] rule; entries ending in '/' are prefixes, others exact paths.
    PolicyBuilder& rule(Action a, std::initializer_list<std::string> paths, uint8_t access = access_any)
    {
        FileRule r;
        r.action = a;
        r.access = access;
        r.pos = next(1);
        for (const auto& p : paths) {
            Located l{p, next(5)};
            (p.back() == '/' ? r.prefixes : r.paths).push_back(std::move(l));
        }
        next(1);  // access = / action = lines
        p_.files.push_back(std::move(r));
        return *this;
    }
    PolicyBuilder& deny(std::initializer_list<std::string> paths, uint8_t access = access_any)
    {
        return rule(Action::deny, paths, access);
    }
    PolicyBuilder& allow(std::initializer_list<std::string> paths, uint8_t access = access_any)
    {
        return rule(Action::allow, paths, access);
    }
    PolicyBuilder& audit(std::initializer_list<std::string> paths, uint8_t access = access_any)
    {
        return rule(Action::audit, paths, access);
    }

    // [[exec]] / [[connect]] (not supported by the compiler yet).
    PolicyBuilder& exec_rule(const std::string& path)
    {
        ExecRule r;
        r.pos = next(1);
        r.paths.push_back({path, next(5)});
        p_.execs.push_back(std::move(r));
        return *this;
    }
    PolicyBuilder& connect_rule(const std::string& cidr)
    {
        ConnectRule r;
        r.pos = next(1);
        r.cidrs.push_back({cidr, next(5)});
        p_.connects.push_back(std::move(r));
        return *this;
    }

    // Line of the i-th [[file]] header, of the file default, of the last thing added.
    uint32_t rule_line(size_t i) const { return p_.files.at(i).pos.line; }
    uint32_t default_line() const { return p_.defaults.file.pos.line; }
    SourcePos last() const { return last_; }
    // Position of the j-th path/prefix value (in the order given) of rule i.
    SourcePos path_pos(size_t i, size_t j) const
    {
        const auto& r = p_.files.at(i);
        std::vector<SourcePos> all;
        for (const auto& l : r.paths) all.push_back(l.pos);
        for (const auto& l : r.prefixes) all.push_back(l.pos);
        std::sort(all.begin(), all.end(), [](const SourcePos& a, const SourcePos& b) { return a.line < b.line; });
        return all.at(j);
    }
    const std::string& file() const { return p_.file; }

    const Policy& policy() const { return p_; }
    operator Policy() const { return p_; }  // NOLINT: builders read naturally in vectors

private:
    SourcePos next(uint32_t column)
    {
        last_ = {p_.file, line_++, column};
        return last_;
    }
    void scope_header()
    {
        if (!p_.scope.present) {
            p_.scope.present = true;
            p_.scope.pos = next(1);
        }
    }
    PolicyBuilder& uid_spec(UidSpec s)
    {
        scope_header();
        s.pos = next(7);
        p_.scope.uids.push_back(std::move(s));
        return *this;
    }

    Policy p_;
    uint32_t line_ = 4;
    SourcePos last_;
};

inline std::string dump(const Diagnostics& d)
{
    std::ostringstream os;
    d.print(os);
    return os.str();
}

inline const Diagnostic* find_diag(const Diagnostics& ds, const std::string& needle)
{
    for (const Diagnostic& d : ds.all())
        if (d.message.find(needle) != std::string::npos) return &d;
    return nullptr;
}

inline size_t count(const Diagnostics& ds, Severity s)
{
    size_t n = 0;
    for (const auto& d : ds.all()) n += d.severity == s;
    return n;
}

// A compiled set and its evaluator. Not movable: the evaluator holds a
// reference to the image.
class Compiled {
public:
    Compiled(const std::vector<Policy>& policies, const SystemView& system, const CompileOptions& options = {})
        : result_(compile(policies, system, options)), image_(take(result_)), eval_(image_)
    {
    }
    Compiled(const Compiled&) = delete;
    Compiled& operator=(const Compiled&) = delete;

    const MapImage& image() const { return image_; }
    const Evaluator& eval() const { return eval_; }
    const Diagnostics& diagnostics() const { return result_.diagnostics; }

private:
    static MapImage take(CompileResult& r)
    {
        INFO("diagnostics:\n" << dump(r.diagnostics));
        REQUIRE(r.image.has_value());
        return std::move(*r.image);
    }
    CompileResult result_;
    MapImage image_;
    Evaluator eval_;
};

// Open `path` on the fake machine as `subject` and decide it. The object is
// the kernel's view (FakeSystem::open); unless `bind_involved`, describe_file()
// must produce exactly the same description.
inline Outcome open_as(const Compiled& c, const FakeSystem& sys, const std::string& path, uint32_t access,
                       const Subject& subject = {}, uint32_t self_tgid = 0, bool bind_involved = false)
{
    const FileObject kernel = sys.open(path);
    if (!bind_involved) {
        auto described = describe_file(sys, path);
        INFO("path " << path);
        REQUIRE(described.has_value());
        INFO("kernel:    " << to_text(kernel));
        INFO("described: " << to_text(*described));
        CHECK(same_object(kernel, *described));
    }
    return c.eval().decide_file(subject, kernel, access, self_tgid);
}

inline std::string verdict(const Outcome& o) { return to_string(o.verdict); }

// The entry whose EntryInfo::path is `path` (tree keys end in '/');
// BW_ENTRY_NONE when there is none.
inline uint32_t entry_for(const MapImage& image, const std::string& path, bw_role role)
{
    for (size_t i = 0; i < image.entries.size(); ++i)
        if (image.entries[i].path == path && image.entries[i].role == role) return static_cast<uint32_t>(i);
    return BW_ENTRY_NONE;
}

// "file.toml:LINE" of what decided `o`.
inline std::string location(const Compiled& c, const Outcome& o)
{
    return c.image().rule_location(o.entry, o.policy, o.column);
}

}  // namespace bulwark::test
