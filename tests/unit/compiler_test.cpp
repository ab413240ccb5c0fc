// The compiler on a fake machine: the keys and masks of the map image, and
// every error, warning and note it reports, with its position.
#include "compile/compiler.hpp"
#include "compile/dump.hpp"
#include "compile/evaluator.hpp"
#include "compile/scope_compiler.hpp"
#include "fake_system.hpp"
#include "policy/parser.hpp"
#include "policy_builder.hpp"

#include <doctest/doctest.h>

#include <sys/sysmacros.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

using namespace bulwark;
using namespace bulwark::test;

namespace {

FakeSystem machine()
{
    FakeSystem s;
    for (const char* d : {"/etc/ssh", "/root", "/home/alice", "/data/www", "/srv/www", "/tmp", "/var/log"})
        s.mkdirs(d);
    for (const char* f : {"/etc/shadow", "/etc/passwd", "/etc/ssh/sshd_config", "/data/www/index.html", "/tmp/x",
                          "/var/log/syslog"})
        s.touch(f);
    s.add_user("root", 0);
    s.add_user("www-data", 33);
    s.add_user("alice", 1000);
    s.mount_cgroup2();
    s.mkcgroup("system.slice/nginx.service");
    s.mkcgroup("user.slice");
    return s;
}

// A diagnostic containing `needle`, with this severity at this position.
#define EXPECT_DIAG(diags, sev, pos_, needle)                                  \
    do {                                                                        \
        INFO("diagnostics:\n" << dump(diags));                                  \
        const Diagnostic* d_ = find_diag((diags), (needle));                    \
        REQUIRE_MESSAGE(d_ != nullptr, "no diagnostic with: " << (needle));     \
        CHECK(d_->severity == (sev));                                           \
        CHECK(d_->pos.file == (pos_).file);                                     \
        CHECK(d_->pos.line == (pos_).line);                                     \
        CHECK(d_->pos.column == (pos_).column);                                 \
    } while (0)

// The compile failed: errors, and no image.
#define EXPECT_FAILED(r)                                  \
    do {                                                  \
        INFO("diagnostics:\n" << dump((r).diagnostics));  \
        CHECK((r).diagnostics.has_errors());              \
        CHECK_FALSE((r).image.has_value());               \
    } while (0)

const NameEntry* find_name(const MapImage& img, const FileIdentity& parent, const std::string& name, bw_role role)
{
    for (const auto& n : img.name_rules)
        if (n.key.parent_ino == parent.ino && n.key.parent_dev == parent.dev && n.key.role == role &&
            name == n.key.name)
            return &n;
    return nullptr;
}

const InodeEntry* find_inode(const MapImage& img, const FileIdentity& id, bw_role role)
{
    for (const auto& n : img.inode_rules)
        if (n.key.ino == id.ino && n.key.dev == id.dev && n.key.role == role) return &n;
    return nullptr;
}

std::string dump_of(const MapImage& img)
{
    std::ostringstream os;
    dump_image(img, os);
    return os.str();
}

}  // namespace

// ===========================================================================
// The image

TEST_CASE("image: an exact rule on an existing file — name key, own inode key, flagged parent")
{
    auto sys = machine();
    PolicyBuilder p("p");
    p.deny({"/etc/shadow"});
    auto r = compile({p}, sys);
    REQUIRE(r.image.has_value());
    CHECK(r.diagnostics.all().empty());
    const MapImage& img = *r.image;
    INFO(dump_of(img));

    const auto etc = *sys.identify("/etc");
    const auto shadow = *sys.identify("/etc/shadow");
    CHECK(img.name_rules.size() == 1);
    CHECK(img.inode_rules.size() == 2);

    const NameEntry* n = find_name(img, etc, "shadow", BW_ROLE_SELF);
    REQUIRE(n != nullptr);
    // NUL-padded to the end, as the BPF side builds the key
    for (size_t i = std::strlen("shadow"); i < sizeof(n->key.name); ++i) CHECK(n->key.name[i] == 0);
    CHECK(n->value.deny[BW_COL_READ] == 1);
    CHECK(n->value.deny[BW_COL_WRITE] == 1);
    CHECK(n->value.deny[BW_COL_EXEC] == 0);
    CHECK(n->value.audit[BW_COL_READ] == 0);
    CHECK(n->value.flags == 0);

    const InodeEntry* self = find_inode(img, shadow, BW_ROLE_SELF);
    REQUIRE(self != nullptr);
    CHECK(std::memcmp(&self->value, &n->value, sizeof(bw_path_rule)) == 0);

    const InodeEntry* parent = find_inode(img, etc, BW_ROLE_ANCESTOR);
    REQUIRE(parent != nullptr);
    CHECK(parent->value.flags == BW_ENTRY_NAMED_FILES);  // an exact rule's name: role self only
    CHECK(parent->value.deny[BW_COL_READ] == 0);

    const EntryInfo& info = img.entries.at(n->value.entry);
    CHECK(info.path == "/etc/shadow");
    CHECK(info.role == BW_ROLE_SELF);
    CHECK(info.key_kind == KeyKind::name);
    CHECK_FALSE(info.synthetic);
    // A rule without access decides read, write and the changes write implies.
    REQUIRE(info.decisions.size() == 6);
    CHECK(img.deciding_rule(n->value.entry, 0, BW_COL_READ) == 0);
    CHECK(img.deciding_rule(n->value.entry, 0, BW_COL_RENAME) == 0);
    CHECK(img.deciding_rule(n->value.entry, 0, BW_COL_WRITE) == 0);
    for (uint32_t c : {BW_COL_CREATE, BW_COL_DELETE, BW_COL_RENAME, BW_COL_METADATA}) {
        CHECK(n->value.deny[c] == 1);
        CHECK(img.deciding_rule(n->value.entry, 0, c) == 0);
    }
    CHECK(img.deciding_rule(n->value.entry, 0, BW_COL_EXEC) == -1);

    const EntryInfo& pinfo = img.entries.at(parent->value.entry);
    CHECK(pinfo.path == "/etc/");
    CHECK(pinfo.synthetic);
    CHECK(pinfo.decisions.empty());
    // Every entry's number is its index.
    for (const auto& e : img.inode_rules) CHECK(e.value.entry < img.entries.size());
    CHECK(img.rules.size() == 1);
    CHECK(img.rules[0].kind == "file");
    CHECK(img.rules[0].pos.line == p.rule_line(0));
}

TEST_CASE("image: a prefix on an existing directory is one inode key; a missing one is a name key")
{
    auto sys = machine();
    SUBCASE("existing")
    {
        PolicyBuilder p("p");
        p.deny({"/etc/ssh/"});
        auto r = compile({p}, sys);
        REQUIRE(r.image.has_value());
        const MapImage& img = *r.image;
        CHECK(img.name_rules.empty());
        REQUIRE(img.inode_rules.size() == 1);
        const InodeEntry* e = find_inode(img, *sys.identify("/etc/ssh"), BW_ROLE_ANCESTOR);
        REQUIRE(e != nullptr);
        CHECK(e->value.flags == 0);
        CHECK(e->value.deny[BW_COL_READ] == 1);
        CHECK(img.entries[e->value.entry].path == "/etc/ssh/");
        CHECK(img.entries[e->value.entry].key_kind == KeyKind::inode);
    }
    SUBCASE("missing, parent exists")
    {
        PolicyBuilder p("p");
        p.deny({"/srv/new/"});
        auto r = compile({p}, sys);
        REQUIRE(r.image.has_value());
        CHECK(r.diagnostics.all().empty());
        const MapImage& img = *r.image;
        const auto srv = *sys.identify("/srv");
        REQUIRE(img.name_rules.size() == 1);
        const NameEntry* n = find_name(img, srv, "new", BW_ROLE_ANCESTOR);
        REQUIRE(n != nullptr);
        CHECK(n->value.deny[BW_COL_WRITE] == 1);
        REQUIRE(img.inode_rules.size() == 1);
        const InodeEntry* parent = find_inode(img, srv, BW_ROLE_ANCESTOR);
        REQUIRE(parent != nullptr);
        CHECK(parent->value.flags == BW_ENTRY_NAMED_TREES);  // a tree's name: role ancestor only
        CHECK(img.entries[parent->value.entry].synthetic);
    }
    SUBCASE("a missing tree and an exact file in one directory: both roles flagged")
    {
        PolicyBuilder p("p");
        p.deny({"/srv/new/", "/srv/other.conf"});
        auto r = compile({p}, sys);
        REQUIRE(r.image.has_value());
        const MapImage& img = *r.image;
        const InodeEntry* parent = find_inode(img, *sys.identify("/srv"), BW_ROLE_ANCESTOR);
        REQUIRE(parent != nullptr);
        CHECK(parent->value.flags == BW_ENTRY_NAMED);
    }
    SUBCASE("an exact file that is missing: a name key, no inode key of its own")
    {
        PolicyBuilder p("p");
        p.deny({"/etc/new.conf"});
        auto r = compile({p}, sys);
        REQUIRE(r.image.has_value());
        const MapImage& img = *r.image;
        REQUIRE(img.name_rules.size() == 1);
        CHECK(find_name(img, *sys.identify("/etc"), "new.conf", BW_ROLE_SELF) != nullptr);
        REQUIRE(img.inode_rules.size() == 1);  // only /etc, flagged
        for (const auto& e : img.inode_rules) CHECK(e.key.role == BW_ROLE_ANCESTOR);
    }
    SUBCASE("an exact path and a prefix on the same directory are different keys")
    {
        PolicyBuilder p("p");
        p.deny({"/etc/ssh/"}).allow({"/etc/ssh"});
        auto r = compile({p}, sys);
        REQUIRE(r.image.has_value());
        const auto ssh = *sys.identify("/etc/ssh");
        CHECK(find_inode(*r.image, ssh, BW_ROLE_ANCESTOR) != nullptr);
        CHECK(find_inode(*r.image, ssh, BW_ROLE_SELF) != nullptr);
        CHECK(find_name(*r.image, *sys.identify("/etc"), "ssh", BW_ROLE_SELF) != nullptr);
    }
    SUBCASE("a prefix on \"/\"")
    {
        PolicyBuilder p("p");
        p.deny({"/"});
        auto r = compile({p}, sys);
        REQUIRE(r.image.has_value());
        CHECK(find_inode(*r.image, *sys.identify("/"), BW_ROLE_ANCESTOR) != nullptr);
        CHECK(r.image->name_rules.empty());
    }
}

TEST_CASE("image: less specific rules and defaults are folded into every key, per policy and column")
{
    auto sys = machine();
    PolicyBuilder a("a"), b("b");
    a.deny({"/etc/"}).allow({"/etc/passwd"}, access_read);
    b.file_default(Action::audit).allow({"/etc/ssh/"});
    auto r = compile({a, b}, sys);
    REQUIRE(r.image.has_value());
    const MapImage& img = *r.image;
    INFO(dump_of(img));
    const NameEntry* passwd = find_name(img, *sys.identify("/etc"), "passwd", BW_ROLE_SELF);
    REQUIRE(passwd != nullptr);
    CHECK(passwd->value.deny[BW_COL_READ] == 0b00);   // a: exact allow read
    CHECK(passwd->value.deny[BW_COL_WRITE] == 0b01);  // a: /etc/ deny folded in
    CHECK(passwd->value.audit[BW_COL_READ] == 0b10);  // b: default audit folded in
    CHECK(passwd->value.audit[BW_COL_WRITE] == 0b10);
    const InodeEntry* ssh = find_inode(img, *sys.identify("/etc/ssh"), BW_ROLE_ANCESTOR);
    REQUIRE(ssh != nullptr);
    CHECK(ssh->value.deny[BW_COL_READ] == 0b01);  // a's /etc/ reaches into b's /etc/ssh/
    CHECK(ssh->value.audit[BW_COL_READ] == 0);    // b allows there
    CHECK(img.deciding_rule(ssh->value.entry, 0, BW_COL_READ) == 0);
    CHECK(img.deciding_rule(ssh->value.entry, 1, BW_COL_READ) == 2);
}

TEST_CASE("image: the policy set masks")
{
    auto sys = machine();
    PolicyBuilder a("a"), b("b"), c("c"), d("d");
    a.uid(33).deny({"/etc/shadow"}, access_write);
    b.audit_mode().cgroup("system.slice/nginx.service").file_default(Action::deny).audit({"/tmp/"}, access_read);
    c.allow({"/etc/"});  // can neither deny nor audit: never applies
    d.audit({"/var/log/"});
    CompileOptions opts;
    opts.generation = 42;
    auto r = compile({a, b, c, d}, sys, opts);
    REQUIRE(r.image.has_value());
    const auto& s = r.image->policy_set;
    CHECK(s.generation == 42);
    CHECK(s.active == 0b1111);
    CHECK(s.enforcing == 0b1101);
    CHECK(s.applies[BW_KIND_FILE] == 0b1011);
    CHECK(s.applies[BW_KIND_EXEC] == 0);
    // Every policy that decides something protects bulwark from its scope;
    // c decides nothing (docs/decisions/011-self-protection.md).
    CHECK(s.applies[BW_KIND_TAMPER] == 0b1011);
    CHECK(s.uid_free == 0b1110);
    CHECK(s.cgroup_free == 0b1101);
    CHECK(s.executable_free == 0b1111);
    CHECK(s.default_deny[BW_COL_READ] == 0b0010);
    CHECK(s.default_deny[BW_COL_WRITE] == 0b0010);
    CHECK(s.default_deny[BW_COL_EXEC] == 0);
    CHECK(s.default_audit[BW_COL_READ] == 0);
    CHECK(s.can_deny[BW_COL_READ] == 0b0010);
    CHECK(s.can_deny[BW_COL_WRITE] == 0b0011);
    CHECK(s.can_audit[BW_COL_READ] == 0b1010);
    CHECK(s.can_audit[BW_COL_WRITE] == 0b1000);
    CHECK(s.cgroup_levels == (1ull << 2));
    REQUIRE(r.image->policies.size() == 4);
    CHECK(r.image->policies[1].name == "b");
    CHECK(r.image->policies[1].mode == Mode::audit);
    CHECK(r.image->policies[1].file == "/etc/bulwark/b.toml");
    CHECK(r.image->policies[1].default_action[BW_COL_READ] == Action::deny);
    CHECK(r.image->policies[1].default_pos[BW_COL_WRITE].line == b.default_line());

    SUBCASE("an exec default makes a policy apply to exec")
    {
        Policy e = PolicyBuilder("e");
        e.defaults.exec = {Action::deny, true, {"e.toml", 5, 8}};
        auto re = compile({e}, sys);
        REQUIRE(re.image.has_value());
        CHECK(re.image->policy_set.applies[BW_KIND_EXEC] == 1);
        CHECK(re.image->policy_set.applies[BW_KIND_FILE] == 0);
        CHECK(re.image->policy_set.default_deny[BW_COL_EXEC] == 1);
    }
    SUBCASE("global audit: nothing enforces")
    {
        CompileOptions ga;
        ga.global_audit = true;
        auto rg = compile({a, b, c, d}, sys, ga);
        REQUIRE(rg.image.has_value());
        CHECK(rg.image->policy_set.enforcing == 0);
        for (const auto& info : rg.image->policies) CHECK(info.mode == Mode::audit);
    }
}

TEST_CASE("image: scope maps — uids by number and name merged, cgroups by id")
{
    auto sys = machine();
    PolicyBuilder a("a"), b("b");
    a.uid(33).uid(0).cgroup("system.slice/nginx.service").deny({"/etc/shadow"});
    b.uid("www-data").uid("alice").cgroup("/sys/fs/cgroup/system.slice/nginx.service").cgroup("user.slice")
        .deny({"/etc/shadow"});
    auto r = compile({a, b}, sys);
    REQUIRE(r.image.has_value());
    using U = std::pair<uint32_t, uint64_t>;
    CHECK(r.image->scope_uids == std::vector<U>{{0, 0b01}, {33, 0b11}, {1000, 0b10}});
    const uint64_t nginx = sys.identify("/sys/fs/cgroup/system.slice/nginx.service")->ino;
    const uint64_t user = sys.identify("/sys/fs/cgroup/user.slice")->ino;
    std::vector<std::pair<uint64_t, uint64_t>> want{{nginx, 0b11}, {user, 0b10}};
    std::sort(want.begin(), want.end());
    CHECK(r.image->scope_cgroups == want);
    CHECK(r.image->policy_set.cgroup_levels == ((1ull << 1) | (1ull << 2)));
    CHECK(r.image->policy_set.uid_free == 0);
}

TEST_CASE("image: the same input compiles to the same bytes")
{
    auto sys = machine();
    PolicyBuilder a("a"), b("b");
    a.deny({"/etc/shadow", "/etc/ssh/", "/srv/new/", "/etc/new"}).allow({"/etc/ssh/sshd_config"});
    b.uid(33).audit({"/var/log/", "/tmp/x"});
    auto r1 = compile({a, b}, sys);
    auto r2 = compile({a, b}, sys);
    REQUIRE(r1.image.has_value());
    REQUIRE(r2.image.has_value());
    REQUIRE(r1.image->inode_rules.size() == r2.image->inode_rules.size());
    REQUIRE(r1.image->name_rules.size() == r2.image->name_rules.size());
    for (size_t i = 0; i < r1.image->inode_rules.size(); ++i)
        CHECK(std::memcmp(&r1.image->inode_rules[i], &r2.image->inode_rules[i], sizeof(InodeEntry)) == 0);
    for (size_t i = 0; i < r1.image->name_rules.size(); ++i)
        CHECK(std::memcmp(&r1.image->name_rules[i], &r2.image->name_rules[i], sizeof(NameEntry)) == 0);
    CHECK(dump_of(*r1.image) == dump_of(*r2.image));
    CHECK(dump_of(*r1.image).find("[named files]") != std::string::npos);
    CHECK(dump_of(*r1.image).find("[named trees]") != std::string::npos);
}

// ===========================================================================
// Scope errors

TEST_CASE("error: unknown user")
{
    auto sys = machine();
    PolicyBuilder p("p");
    p.uid(33).uid("ghost");
    const SourcePos at = p.last();
    p.deny({"/etc/shadow"});
    auto r = compile({p}, sys);
    EXPECT_FAILED(r);
    CHECK(r.diagnostics.error_count() == 1);
    EXPECT_DIAG(r.diagnostics, Severity::error, at, "unknown user \"ghost\"");
}

TEST_CASE("error: cgroup directory missing")
{
    auto sys = machine();
    PolicyBuilder p("p");
    p.cgroup("system.slice/nginx.service").cgroup("system.slice/missing.service");
    const SourcePos at = p.last();
    p.deny({"/etc/shadow"});
    auto r = compile({p}, sys);
    EXPECT_FAILED(r);
    CHECK(r.diagnostics.error_count() == 1);
    EXPECT_DIAG(r.diagnostics, Severity::error, at,
                "cgroup directory /sys/fs/cgroup/system.slice/missing.service does not exist");
}

TEST_CASE("error: cgroup v2 not mounted")
{
    FakeSystem sys;
    sys.mkdirs("/etc");
    PolicyBuilder p("p");
    p.cgroup("system.slice");
    const SourcePos first = p.last();
    p.cgroup("user.slice").deny({"/etc/shadow"});
    auto r = compile({p}, sys);
    EXPECT_FAILED(r);
    CHECK(r.diagnostics.error_count() == 2);  // one per cgroup value
    EXPECT_DIAG(r.diagnostics, Severity::error, first, "cgroup v2 is not mounted");
}

TEST_CASE("error: cgroup paths with \"..\", too deep, or naming a file")
{
    auto sys = machine();
    SUBCASE("..")
    {
        PolicyBuilder p("p");
        p.cgroup("system.slice/../user.slice");
        auto r = compile({p}, sys);
        EXPECT_FAILED(r);
        EXPECT_DIAG(r.diagnostics, Severity::error, p.last(), "contains \".\" or \"..\"");
    }
    SUBCASE("deeper than BW_CGROUP_MAX_LEVEL - 1")
    {
        std::string rel = "l1";
        for (int i = 2; i <= BW_CGROUP_MAX_LEVEL; ++i) rel += "/l" + std::to_string(i);
        sys.mkcgroup(rel);
        PolicyBuilder p("p");
        p.cgroup(rel);
        auto r = compile({p}, sys);
        EXPECT_FAILED(r);
        EXPECT_DIAG(r.diagnostics, Severity::error, p.last(), "levels deep");
        // one level less is fine
        PolicyBuilder q("q");
        q.cgroup(rel.substr(0, rel.rfind('/'))).deny({"/etc/shadow"});
        CHECK(compile({q}, sys).image.has_value());
    }
    SUBCASE("a file in the cgroup tree")
    {
        sys.touch("/sys/fs/cgroup/cgroup.procs");
        PolicyBuilder p("p");
        p.cgroup("cgroup.procs");
        auto r = compile({p}, sys);
        EXPECT_FAILED(r);
        EXPECT_DIAG(r.diagnostics, Severity::error, p.last(), "does not exist");
    }
}

TEST_CASE("error: more scope entries than max_scope_keys")
{
    auto sys = machine();
    PolicyBuilder p("p");
    p.uid(1).uid(2).uid(3).deny({"/etc/shadow"});
    CompileOptions opts;
    opts.max_scope_keys = 3;
    CHECK(compile({p}, sys, opts).image.has_value());
    opts.max_scope_keys = 2;
    auto r = compile({p}, sys, opts);
    EXPECT_FAILED(r);
    CHECK(find_diag(r.diagnostics, "more scope entries than the maps hold (2)") != nullptr);
}

// ===========================================================================
// Path errors, warnings, notes

TEST_CASE("error: rule paths on a btrfs subvolume are refused, with why, at the path")
{
    auto sys = machine();
    sys.mkdirs("/srv/vol/sub");
    sys.touch("/srv/vol/secret");
    sys.mark_unmatchable("/srv/vol", "on btrfs (test)");
    PolicyBuilder p("p");
    p.deny({"/etc/shadow", "/srv/vol/secret", "/srv/vol/sub/", "/srv/vol/missing"});
    auto r = compile({p}, sys);
    EXPECT_FAILED(r);
    CHECK(r.diagnostics.error_count() == 3);
    // An existing file, an existing tree, a missing name in the subvolume (its parent is there).
    EXPECT_DIAG(r.diagnostics, Severity::error, p.path_pos(0, 1),
                "rule path /srv/vol/secret cannot be enforced: /srv/vol/secret: on btrfs (test)");
    EXPECT_DIAG(r.diagnostics, Severity::error, p.path_pos(0, 2),
                "rule path /srv/vol/sub/ cannot be enforced: /srv/vol/sub: on btrfs (test)");
    EXPECT_DIAG(r.diagnostics, Severity::error, p.path_pos(0, 3),
                "rule path /srv/vol/missing cannot be enforced: /srv/vol: on btrfs (test)");
    CHECK(find_diag(r.diagnostics, "remove the rule or keep the files it protects on another filesystem") != nullptr);
}

TEST_CASE("btrfs: the same rules compile where the filesystem's numbers agree")
{
    auto sys = machine();
    sys.mkdirs("/srv/vol/sub");
    sys.touch("/srv/vol/secret");
    PolicyBuilder p("p");
    p.deny({"/srv/vol/secret", "/srv/vol/sub/", "/srv/vol/missing"});
    auto r = compile({p}, sys);
    INFO("diagnostics:\n" << dump(r.diagnostics));
    CHECK_FALSE(r.diagnostics.has_errors());
    CHECK(r.image.has_value());
}

TEST_CASE("error: a prefix naming a file")
{
    auto sys = machine();
    PolicyBuilder p("p");
    p.deny({"/etc/ssh/", "/etc/passwd/"});
    auto r = compile({p}, sys);
    EXPECT_FAILED(r);
    CHECK(r.diagnostics.error_count() == 1);
    EXPECT_DIAG(r.diagnostics, Severity::error, p.path_pos(0, 1), "prefix /etc/passwd/ names a file, not a directory");
    CHECK(find_diag(r.diagnostics, "put \"/etc/passwd\" in paths") != nullptr);
}

TEST_CASE("error: two rule paths that are the same directory or file under different names")
{
    auto sys = machine();
    SUBCASE("a bind mount, in one policy")
    {
        sys.bind("/data/www", "/srv/www");
        PolicyBuilder p("p");
        p.deny({"/data/www/"}).allow({"/srv/www/"});
        auto r = compile({p}, sys);
        EXPECT_FAILED(r);
        CHECK(r.diagnostics.error_count() == 1);
        EXPECT_DIAG(r.diagnostics, Severity::error, p.path_pos(1, 0),
                    "/srv/www/ and /data/www/ are the same file or directory");
    }
    SUBCASE("a bind mount, across policies")
    {
        sys.bind("/data/www", "/srv/www");
        PolicyBuilder a("a"), b("b");
        a.deny({"/srv/www/"});
        b.deny({"/data/www/"});
        auto r = compile({a, b}, sys);
        EXPECT_FAILED(r);
        EXPECT_DIAG(r.diagnostics, Severity::error, a.path_pos(0, 0), "are the same file or directory");
    }
    SUBCASE("a hardlink")
    {
        sys.hardlink("/etc/shadow", "/tmp/sh");
        PolicyBuilder p("p");
        p.deny({"/etc/shadow"}).audit({"/tmp/sh"});
        auto r = compile({p}, sys);
        EXPECT_FAILED(r);
        EXPECT_DIAG(r.diagnostics, Severity::error, p.path_pos(1, 0),
                    "/tmp/sh and /etc/shadow are the same file or directory");
    }
    SUBCASE("not an error: the same path written twice, or spelled through a symlink")
    {
        sys.symlink("/cfg", "/etc");
        PolicyBuilder a("a"), b("b");
        a.deny({"/etc/shadow", "/etc/ssh/"}).audit({"/etc/shadow"});
        b.deny({"/cfg/shadow", "/cfg/ssh/"});
        auto r = compile({a, b}, sys);
        INFO(dump(r.diagnostics));
        REQUIRE(r.image.has_value());
        CHECK_FALSE(r.diagnostics.has_errors());
        CHECK(r.image->name_rules.size() == 1);
        const NameEntry* n = find_name(*r.image, *sys.identify("/etc"), "shadow", BW_ROLE_SELF);
        REQUIRE(n != nullptr);
        CHECK(n->value.deny[BW_COL_READ] == 0b11);
    }
}

TEST_CASE("error: more path keys than max_path_keys")
{
    auto sys = machine();
    SUBCASE("inode keys")
    {
        PolicyBuilder p("p");
        p.deny({"/etc/", "/root/", "/home/"});
        CompileOptions opts;
        opts.max_path_keys = 3;
        CHECK(compile({p}, sys, opts).image.has_value());
        opts.max_path_keys = 2;
        auto r = compile({p}, sys, opts);
        EXPECT_FAILED(r);
        const Diagnostic* d = find_diag(r.diagnostics, "the policies need 3 path keys, more than the maps hold (2)");
        REQUIRE(d != nullptr);
        CHECK(d->severity == Severity::error);
        CHECK(d->pos.file == p.file());
        CHECK(d->pos.line > 0);
    }
    SUBCASE("name keys")
    {
        PolicyBuilder p("p");
        p.deny({"/etc/a", "/etc/b", "/etc/c"});  // 3 name keys, 1 inode key
        CompileOptions opts;
        opts.max_path_keys = 2;
        auto r = compile({p}, sys, opts);
        EXPECT_FAILED(r);
        CHECK(find_diag(r.diagnostics, "need 3 path keys") != nullptr);
    }
}

TEST_CASE("error: more than 64 policies")
{
    auto sys = machine();
    std::vector<Policy> ps;
    for (int i = 0; i < BW_MAX_POLICIES; ++i) {
        PolicyBuilder p("p" + std::to_string(i));
        p.deny({"/etc/shadow"});
        ps.push_back(p);
    }
    auto ok = compile(ps, sys);
    REQUIRE(ok.image.has_value());
    CHECK(ok.image->policy_set.active == ~0ull);
    CHECK(ok.image->policy_set.enforcing == ~0ull);
    // policy 63 (the highest bit) decides like any other
    Evaluator ev(*ok.image);
    auto o = ev.decide_file({}, sys.open("/etc/shadow"), R);
    CHECK(verdict(o) == "deny");

    PolicyBuilder extra("p64");
    extra.deny({"/etc/passwd"});
    ps.push_back(extra);
    auto r = compile(ps, sys);
    EXPECT_FAILED(r);
    EXPECT_DIAG(r.diagnostics, Severity::error, extra.policy().pos, "more than 64 policies");
}

TEST_CASE("warning: a rule path whose parent directory does not exist is inactive")
{
    auto sys = machine();
    PolicyBuilder p("p");
    p.deny({"/opt/app/secret", "/etc/shadow"}).deny({"/opt/app/data/"});
    auto r = compile({p}, sys);
    INFO(dump(r.diagnostics));
    REQUIRE(r.image.has_value());
    CHECK_FALSE(r.diagnostics.has_errors());
    CHECK(count(r.diagnostics, Severity::warning) == 2);
    EXPECT_DIAG(r.diagnostics, Severity::warning, p.path_pos(0, 0),
                "neither /opt/app/secret nor its parent directory exists");
    EXPECT_DIAG(r.diagnostics, Severity::warning, p.path_pos(1, 0), "neither /opt/app/data nor its parent");
    CHECK(find_diag(r.diagnostics, "the rule is inactive") != nullptr);
    for (const auto& e : r.image->entries) CHECK(e.path.rfind("/opt", 0) != 0);
    // The other path of the same rule is in force; once /opt/app/secret exists
    // (without a reload) it is still not covered.
    Evaluator ev(*r.image);
    CHECK(verdict(ev.decide_file({}, sys.open("/etc/shadow"), R)) == "deny");
    sys.mkdirs("/opt/app");
    sys.touch("/opt/app/secret");
    CHECK(verdict(ev.decide_file({}, sys.open("/opt/app/secret"), R)) == "allow");
    // After a reload it is (and /opt/app/data/, whose parent now exists, is anchored by name).
    Compiled again({p}, sys);
    CHECK(count(again.diagnostics(), Severity::warning) == 0);
    CHECK(verdict(again.eval().decide_file({}, sys.open("/opt/app/secret"), R)) == "deny");
    sys.mkdirs("/opt/app/data/x");
    sys.touch("/opt/app/data/x/f");
    CHECK(verdict(again.eval().decide_file({}, sys.open("/opt/app/data/x/f"), R)) == "deny");
}

TEST_CASE("note: a rule path through a symlink applies where it resolves")
{
    auto sys = machine();
    sys.symlink("/cfg", "/etc");
    sys.symlink("/etc/current", "ssh/sshd_config");
    PolicyBuilder p("p");
    p.deny({"/cfg/shadow", "/etc/current", "/cfg/ssh/"});
    auto r = compile({p}, sys);
    INFO(dump(r.diagnostics));
    REQUIRE(r.image.has_value());
    CHECK(count(r.diagnostics, Severity::note) == 3);
    EXPECT_DIAG(r.diagnostics, Severity::note, p.path_pos(0, 0), "/cfg/shadow resolves to /etc/shadow");
    EXPECT_DIAG(r.diagnostics, Severity::note, p.path_pos(0, 1), "/etc/current resolves to /etc/ssh/sshd_config");
    EXPECT_DIAG(r.diagnostics, Severity::note, p.path_pos(0, 2), "/cfg/ssh resolves to /etc/ssh");
    CHECK(entry_for(*r.image, "/etc/shadow", BW_ROLE_SELF) != BW_ENTRY_NONE);
    CHECK(entry_for(*r.image, "/etc/ssh/sshd_config", BW_ROLE_SELF) != BW_ENTRY_NONE);
    CHECK(entry_for(*r.image, "/etc/ssh/", BW_ROLE_ANCESTOR) != BW_ENTRY_NONE);
    // a missing file in a symlinked directory: anchored in the real one, with a note
    PolicyBuilder q("q");
    q.deny({"/cfg/new"});
    auto rq = compile({q}, sys);
    REQUIRE(rq.image.has_value());
    EXPECT_DIAG(rq.diagnostics, Severity::note, q.path_pos(0, 0), "/cfg/new resolves to /etc/new");
    CHECK(find_name(*rq.image, *sys.identify("/etc"), "new", BW_ROLE_SELF) != nullptr);
}

TEST_CASE("errors: all are reported, and any error leaves no image")
{
    auto sys = machine();
    PolicyBuilder good("good"), bad("bad");
    good.deny({"/etc/shadow"});
    bad.uid("ghost").cgroup("nope").deny({"/etc/passwd/"});
    auto r = compile({good, bad}, sys);
    EXPECT_FAILED(r);
    CHECK(r.diagnostics.error_count() == 3);
    for (const auto& d : r.diagnostics.all()) CHECK(d.pos.file == bad.file());
    // formatted as file:line:col: error: message
    std::ostringstream os;
    r.diagnostics.print(os);
    CHECK(os.str().find("/etc/bulwark/bad.toml:") == 0);
    CHECK(os.str().find(": error: unknown user \"ghost\"") != std::string::npos);
    // warnings and notes alone do not fail a compile
    PolicyBuilder w("w");
    w.deny({"/nope/nope/x"});
    auto rw = compile({w}, sys);
    CHECK(rw.image.has_value());
    CHECK(count(rw.diagnostics, Severity::warning) == 1);
}

// ===========================================================================
// Helpers of the compiler

TEST_CASE("resolve_cgroup: relative, absolute under the mount, levels")
{
    const std::string m = "/sys/fs/cgroup";
    auto a = resolve_cgroup("system.slice/nginx.service", m);
    REQUIRE(a.has_value());
    CHECK(a->path == "/sys/fs/cgroup/system.slice/nginx.service");
    CHECK(a->level == 2);
    auto b = resolve_cgroup("/system.slice", m);
    REQUIRE(b.has_value());
    CHECK(b->path == "/sys/fs/cgroup/system.slice");
    CHECK(b->level == 1);
    auto c = resolve_cgroup("/sys/fs/cgroup/user.slice/u", m);
    REQUIRE(c.has_value());
    CHECK(c->path == "/sys/fs/cgroup/user.slice/u");
    CHECK(c->level == 2);
    auto root = resolve_cgroup("/sys/fs/cgroup", m);
    REQUIRE(root.has_value());
    CHECK(root->path == m);
    CHECK(root->level == 0);
    // "/sys/fs/cgroupX" is not under the mount: relative
    auto x = resolve_cgroup("/sys/fs/cgroupX", m);
    REQUIRE(x.has_value());
    CHECK(x->path == "/sys/fs/cgroup/sys/fs/cgroupX");
    CHECK_FALSE(resolve_cgroup("a/../b", m).has_value());
    CHECK_FALSE(resolve_cgroup("./a", m).has_value());
}

TEST_CASE("kernel_dev: userspace st_dev to the kernel's major << 20 | minor")
{
    CHECK(kernel_dev(makedev(8, 1)) == ((8u << 20) | 1u));
    CHECK(kernel_dev(makedev(259, 3)) == ((259u << 20) | 3u));
    CHECK(kernel_dev(makedev(0, 300)) == 300u);
    CHECK(kernel_dev(makedev(8, 1)) == mkdev(8, 1));
}

// ===========================================================================
// From policy text

namespace {

std::vector<Policy> parse_ok(const std::string& text, const std::string& file)
{
    auto pr = parse_policy_text(text, file);
    INFO("parse diagnostics:\n" << dump(pr.diagnostics));
    REQUIRE_FALSE(pr.diagnostics.has_errors());
    return pr.policies;
}

}  // namespace

TEST_CASE("parsed policies: compile, decide, and name the rule's line")
{
    auto sys = machine();
    const std::string text = R"([policy]
name = "web"
mode = "enforce"

[scope]
uid = [33, "alice"]

[defaults]
file = "audit"

[[file]]
paths = ["/etc/shadow"]
prefixes = ["/etc/ssh/"]
action = "deny"

[[file]]
prefixes = ["/tmp/"]
access = ["write"]
action = "allow"
)";
    auto ps = parse_ok(text, "/etc/bulwark/web.toml");
    REQUIRE(ps.size() == 1);
    Compiled c(ps, sys);
    const Subject www = subject(1, 33);
    auto o = c.eval().decide_file(www, sys.open("/etc/ssh/sshd_config"), R);
    CHECK(verdict(o) == "deny");
    CHECK(location(c, o) == "web.toml:11");
    auto d = c.eval().decide_file(www, sys.open("/var/log/syslog"), R);
    CHECK(verdict(d) == "audit");
    CHECK(location(c, d) == "web.toml:9");
    CHECK(verdict(c.eval().decide_file(www, sys.open("/tmp/x"), W)) == "allow");
    auto tr = c.eval().decide_file(www, sys.open("/tmp/x"), R);
    CHECK(verdict(tr) == "audit");
    CHECK(location(c, tr) == "web.toml:9");
    CHECK(verdict(c.eval().decide_file(subject(1, 1000), sys.open("/etc/shadow"), W)) == "deny");
    CHECK(c.eval().decide_file(subject(1, 0), sys.open("/etc/shadow"), W).in_scope == 0);
}

TEST_CASE("parsed policies: compiler diagnostics point at the value in the file")
{
    auto sys = machine();
    const std::string text = R"([policy]
name = "bad"

[scope]
uid = [33, "ghost"]
cgroup = ["system.slice/nope.service"]

[[file]]
prefixes = ["/etc/ssh/", "/etc/passwd/"]
paths = ["/opt/x/y"]
action = "deny"
)";
    auto ps = parse_ok(text, "/etc/bulwark/bad.toml");
    auto r = compile(ps, sys);
    EXPECT_FAILED(r);
    EXPECT_DIAG(r.diagnostics, Severity::error, (SourcePos{"/etc/bulwark/bad.toml", 5, 12}), "unknown user \"ghost\"");
    EXPECT_DIAG(r.diagnostics, Severity::error, (SourcePos{"/etc/bulwark/bad.toml", 6, 11}),
                "cgroup directory /sys/fs/cgroup/system.slice/nope.service does not exist");
    EXPECT_DIAG(r.diagnostics, Severity::error, (SourcePos{"/etc/bulwark/bad.toml", 9, 26}),
                "prefix /etc/passwd/ names a file");
    EXPECT_DIAG(r.diagnostics, Severity::warning, (SourcePos{"/etc/bulwark/bad.toml", 10, 10}),
                "neither /opt/x/y nor its parent directory exists");
}

TEST_CASE("parsed policies: two files, audit mode, and a bind-mount clash")
{
    auto sys = machine();
    auto a = parse_ok(R"([policy]
name = "a"
mode = "audit"

[[file]]
paths = ["/etc/shadow"]
action = "deny"
)",
                      "a.toml");
    auto b = parse_ok(R"([policy]
name = "b"

[[file]]
prefixes = ["/etc/"]
action = "deny"

[[file]]
paths = ["/etc/passwd"]
access = ["read"]
action = "allow"
)",
                      "b.toml");
    std::vector<Policy> both = a;
    both.insert(both.end(), b.begin(), b.end());
    Compiled c(both, sys);
    auto s = c.eval().decide_file({}, sys.open("/etc/shadow"), R);
    CHECK(verdict(s) == "deny");
    CHECK(s.policy == 1);
    CHECK(location(c, s) == "b.toml:4");
    CHECK(verdict(c.eval().decide_file({}, sys.open("/etc/passwd"), R)) == "allow");
    auto pw = c.eval().decide_file({}, sys.open("/etc/passwd"), W);
    CHECK(verdict(pw) == "deny");
    CHECK(location(c, pw) == "b.toml:4");
    // only a: would-deny at a.toml:5
    Compiled ca(a, sys);
    auto w = ca.eval().decide_file({}, sys.open("/etc/shadow"), RW);
    CHECK(verdict(w) == "would-deny");
    CHECK(location(ca, w) == "a.toml:5");

    sys.bind("/data/www", "/srv/www");
    auto clash = parse_ok(R"([policy]
name = "clash"

[[file]]
prefixes = ["/data/www/", "/srv/www/"]
action = "deny"
)",
                          "clash.toml");
    auto r = compile(clash, sys);
    EXPECT_FAILED(r);
    EXPECT_DIAG(r.diagnostics, Severity::error, (SourcePos{"clash.toml", 5, 27}), "are the same file or directory");
}
