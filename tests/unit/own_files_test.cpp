// bulwark's own files (docs/decisions/011-self-protection.md, "Files"): the
// keys the compiler makes of CompileOptions::own_paths, and the tamper
// record of a change to one (docs/events.md, kind "tamper", op of a file).
#include "compile/columns.hpp"
#include "compile/compiler.hpp"
#include "events/decoder.hpp"
#include "policy/parser.hpp"
#include "util/json_value.hpp"

#include "fake_system.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <sstream>

using namespace bulwark;

namespace {

const std::vector<OwnPath> kOwn = {{"/etc/bulwark/policies.d/", "policy"},
                                   {"/usr/sbin/bulwark", "binary"},
                                   {"/sys/fs/bpf/bulwark/", "pins"}};

test::FakeSystem machine()
{
    test::FakeSystem s;
    s.mkdirs("/etc/bulwark/policies.d");
    s.touch("/etc/bulwark/policies.d/a.toml");
    s.touch("/etc/shadow");
    s.mkdirs("/usr/sbin");
    s.touch("/usr/sbin/bulwark");
    s.mkdirs("/sys/fs/bpf/bulwark/maps");
    s.mkdirs("/tmp");
    s.touch("/tmp/x");
    return s;
}

// "guard" enforces a file rule on uid 1000, "runner" audits an exec rule for
// every process, "watch" only monitors.
const std::vector<std::string> kTexts = {
    "[policy]\nname = \"guard\"\n\n[scope]\nuid = [1000]\n\n[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n",
    "[policy]\nname = \"runner\"\nmode = \"audit\"\n\n[[exec]]\npaths = [\"/tmp/x\"]\naction = \"deny\"\n",
    "[policy]\nname = \"watch\"\n\n[[monitor.file]]\npaths = [\"/etc/shadow\"]\n"};

CompileResult compiled(const test::FakeSystem& sys, const std::vector<OwnPath>& own)
{
    std::vector<Policy> policies;
    int n = 0;
    for (const auto& t : kTexts) {
        ParseResult r = parse_policy_text(t, "t" + std::to_string(n++) + ".toml");
        REQUIRE(!r.diagnostics.has_errors());
        policies.push_back(std::move(r.policies.at(0)));
    }
    CompileOptions o;
    o.own_paths = own;
    return compile(policies, sys, o);
}

std::shared_ptr<const MapImage> image_with(const std::vector<OwnPath>& own)
{
    CompileResult c = compiled(machine(), own);
    std::ostringstream diags;
    c.diagnostics.print(diags);
    INFO(diags.str());
    REQUIRE(c.image);
    return std::make_shared<const MapImage>(std::move(*c.image));
}

uint32_t entry_of(const MapImage& image, const std::string& path)
{
    for (uint32_t i = 0; i < image.entries.size(); ++i)
        if (image.entries[i].path == path) return i;
    FAIL("no entry for " << path);
    return 0;
}

// The value of the inode key of `entry` with `role`.
const bw_path_rule* inode_value(const MapImage& image, uint32_t entry, uint32_t role)
{
    for (const auto& e : image.inode_rules)
        if (e.value.entry == entry && e.key.role == role) return &e.value;
    return nullptr;
}

}  // namespace

TEST_CASE("own files: every deciding policy denies each change right at bulwark's files; reads stay its own")
{
    auto image = image_with(kOwn);
    const auto& s = image->policy_set;
    // "runner" decides programs only, and now also keeps its scope off bulwark's files.
    CHECK(s.applies[BW_KIND_FILE] == 0b011);
    CHECK(s.applies[BW_KIND_TAMPER] == 0b011);
    const uint32_t dir = entry_of(*image, "/etc/bulwark/policies.d/");
    CHECK(image->entries[dir].protected_as == "policy");
    const bw_path_rule* v = inode_value(*image, dir, BW_ROLE_ANCESTOR);
    REQUIRE(v);
    CHECK((v->flags & BW_ENTRY_PROTECTED) != 0);
    CHECK((v->flags & BW_ENTRY_OWN_BINARY) == 0);
    // The policy directory only from the scoped policy's processes: the
    // global "runner" has the operator's shell in scope, who edits it.
    for (uint32_t c = 0; c < BW_NR_COLUMNS; ++c) {
        CAPTURE(c);
        const bool change = (kChangeColumnBits >> c) & 1u;
        CHECK(v->deny[c] == (change ? 0b001u : 0u));
    }
    // Named by the policy's [policy] table, as its other attempts on bulwark.
    CHECK(image->rule_location(dir, 0, BW_COL_DELETE) == "t0.toml:2");

    // The executable from both.
    const uint32_t exe = entry_of(*image, "/usr/sbin/bulwark");
    CHECK(image->entries[exe].protected_as == "binary");
    const bw_path_rule* self = inode_value(*image, exe, BW_ROLE_SELF);
    REQUIRE(self);
    CHECK((self->flags & (BW_ENTRY_PROTECTED | BW_ENTRY_OWN_BINARY)) == (BW_ENTRY_PROTECTED | BW_ENTRY_OWN_BINARY));
    CHECK(self->deny[BW_COL_METADATA] == 0b011u);
    CHECK(image->rule_location(exe, 1, BW_COL_RENAME) == "t1.toml:2");
    CHECK(image->entries[entry_of(*image, "/sys/fs/bpf/bulwark/")].protected_as == "pins");

    // The policies' own rules are untouched: /etc/shadow is not bulwark's.
    const uint32_t shadow = entry_of(*image, "/etc/shadow");
    CHECK(image->entries[shadow].protected_as.empty());
}

TEST_CASE("own files: the offline tools protect nothing, and compile as before")
{
    auto image = image_with({});
    CHECK(image->policy_set.applies[BW_KIND_FILE] == 0b001);
    for (const auto& e : image->entries) CHECK(e.protected_as.empty());
    for (const auto& r : image->rules) CHECK(r.kind != "tamper");
}

TEST_CASE("own files: one that cannot be identified is said once, and never stops the set")
{
    test::FakeSystem sys = machine();
    sys.mark_unmatchable("/usr/sbin", "a btrfs subvolume");
    CompileResult c = compiled(sys, kOwn);
    REQUIRE(c.image);
    int warnings = 0;
    for (const auto& d : c.diagnostics.all())
        if (d.severity == Severity::warning && d.message.find("bulwark's own binary /usr/sbin/bulwark") == 0) {
            ++warnings;
            CHECK(d.message.find("btrfs") != std::string::npos);
        }
    CHECK(warnings == 1);
    for (const auto& e : c.image->entries) CHECK(e.path != "/usr/sbin/bulwark");
}

TEST_CASE("own files decoder: a change to bulwark's policy directory names op, call, object, path and target")
{
    auto image = image_with(kOwn);
    CgroupNames cgroups{""};
    EventDecoder decoder{cgroups};
    decoder.add_generation(1, image);
    bw_tamper_event e{};
    e.h.kind = BW_KIND_TAMPER;
    e.h.verdict = BW_VERDICT_DENY;
    e.h.generation = 1;
    e.h.policy = 0;
    e.h.entry = entry_of(*image, "/etc/bulwark/policies.d/");
    e.h.column = BW_COL_RENAME;
    e.h.pid = 42;
    std::strcpy(e.h.comm, "mv");
    e.op = BW_TAMPER_FILE;
    e.file_op = BW_OP_RENAME;
    e.call = BW_FCALL_RENAME;
    std::strcpy(e.path, "/tmp/decoy.toml");
    std::strcpy(e.target, "/etc/bulwark/policies.d/a.toml");
    std::string out;
    REQUIRE(decoder.decode(&e, sizeof e, out));
    auto v = JsonValue::parse(out.substr(0, out.size() - 1));
    REQUIRE(v);
    CHECK(v->str("kind") == "tamper");
    CHECK(v->str("verdict") == "deny");
    CHECK(v->str("op") == "rename");
    CHECK(v->str("call") == "rename");
    CHECK(v->str("object") == "policy");
    CHECK(v->str("path") == "/tmp/decoy.toml");
    CHECK(v->str("target") == "/etc/bulwark/policies.d/a.toml");
    CHECK(v->str("rule") == "t0.toml:2");
}
