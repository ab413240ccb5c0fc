// policies/schema.json, the JSON Schema that TOML editors (taplo) validate
// policies with while typing: every shipped policy validates, and it
// rejects exactly the corpus files the parser rejects (the structural
// errors lint reports) — checked with a minimal JSON Schema validator over
// toml++'s tree, written here so CI installs nothing for it. The validator
// refuses keywords it does not implement, so the schema cannot silently
// depend on one.
// g++ 12 warns, wrongly, about std::function inside <regex> when built with
// the sanitizers (GCC bug 105562); the warning is in the library, not here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "policy/parser.hpp"
#include "util/json_value.hpp"

#include <doctest/doctest.h>

#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using namespace bulwark;
namespace fs = std::filesystem;

namespace {

class Validator {
public:
    explicit Validator(const JsonValue& root) : root_(root) { check_keywords(root); }

    // "" when `node` is valid, else where and why it is not (the first problem).
    std::string validate(const toml::node& node) const
    {
        std::string why;
        return valid(root_, node, "", why) ? "" : why;
    }

private:
    static void check_keywords(const JsonValue& s)
    {
        static const std::set<std::string> known{
            "$schema", "$id", "title", "description", "definitions", "type", "properties", "required",
            "additionalProperties", "items", "minItems", "minLength", "enum", "const", "pattern", "minimum", "maximum",
            "anyOf", "allOf", "if", "then", "else", "$ref", "maxProperties", "minProperties"};
        if (s.is_bool()) return;
        REQUIRE(s.is_object());
        for (const auto& member : s.members()) {
            const std::string& k = member.first;
            const auto& v = member.second;
            INFO("schema keyword " << k);
            REQUIRE(known.count(k));
            if (k == "properties" || k == "definitions")
                for (const auto& [name, sub] : v.members()) check_keywords(sub);
            else if (k == "items" || k == "additionalProperties" || k == "if" || k == "then" || k == "else")
                check_keywords(v);
            else if (k == "anyOf" || k == "allOf")
                for (const auto& sub : v.array()) check_keywords(sub);
        }
    }

    const JsonValue& resolve(const JsonValue& s) const
    {
        const JsonValue* ref = s.is_object() ? s.get("$ref") : nullptr;
        if (!ref) return s;
        const std::string prefix = "#/definitions/";
        REQUIRE(ref->string().rfind(prefix, 0) == 0);
        const JsonValue* target = root_.get("definitions")->get(ref->string().substr(prefix.size()));
        REQUIRE(target);
        return *target;
    }

    static bool same(const JsonValue& j, const toml::node& n)
    {
        if (j.is_string()) return n.is_string() && n.as_string()->get() == j.string();
        if (j.is_bool()) return n.is_boolean() && n.as_boolean()->get() == j.boolean();
        if (j.is_integer()) return n.is_integer() && n.as_integer()->get() == j.integer();
        return false;
    }

    static bool has_type(const std::string& t, const toml::node& n)
    {
        if (t == "object") return n.is_table();
        if (t == "array") return n.is_array();
        if (t == "string") return n.is_string();
        if (t == "integer") return n.is_integer();
        if (t == "number") return n.is_integer() || n.is_floating_point();
        if (t == "boolean") return n.is_boolean();
        return false;
    }

    bool fail(std::string& why, const std::string& at, const std::string& what) const
    {
        if (why.empty()) why = (at.empty() ? "(top)" : at) + ": " + what;
        return false;
    }

    bool valid(const JsonValue& schema, const toml::node& n, const std::string& at, std::string& why) const
    {
        const JsonValue& s = resolve(schema);
        if (s.is_bool()) return s.boolean() || fail(why, at, "not allowed here");
        if (const JsonValue* t = s.get("type"); t && !has_type(t->string(), n))
            return fail(why, at, "not of type " + t->string());
        if (const JsonValue* e = s.get("enum")) {
            bool any = false;
            for (const auto& x : e->array()) any = any || same(x, n);
            if (!any) return fail(why, at, "not one of the enum values");
        }
        if (const JsonValue* c = s.get("const"); c && !same(*c, n)) return fail(why, at, "not the const value");
        if (const auto* str = n.as_string()) {
            if (const JsonValue* p = s.get("pattern");
                p && !std::regex_search(str->get(), std::regex(p->string(), std::regex::ECMAScript)))
                return fail(why, at, "\"" + str->get() + "\" does not match " + p->string());
            if (const JsonValue* m = s.get("minLength"); m && str->get().size() < size_t(m->integer()))
                return fail(why, at, "too short");
        }
        if (const auto* i = n.as_integer()) {
            if (const JsonValue* m = s.get("minimum"); m && i->get() < m->integer()) return fail(why, at, "below minimum");
            if (const JsonValue* m = s.get("maximum"); m && i->get() > m->integer()) return fail(why, at, "above maximum");
        }
        if (const auto* a = n.as_array()) {
            if (const JsonValue* m = s.get("minItems"); m && a->size() < size_t(m->integer()))
                return fail(why, at, "too few items");
            if (const JsonValue* items = s.get("items"))
                for (size_t k = 0; k < a->size(); ++k)
                    if (!valid(*items, *a->get(k), at + "[" + std::to_string(k) + "]", why)) return false;
        }
        if (const auto* t = n.as_table()) {
            if (const JsonValue* m = s.get("maxProperties"); m && t->size() > size_t(m->integer()))
                return fail(why, at, "too many keys");
            if (const JsonValue* m = s.get("minProperties"); m && t->size() < size_t(m->integer()))
                return fail(why, at, "too few keys");
            if (const JsonValue* req = s.get("required"))
                for (const auto& r : req->array())
                    if (!t->contains(r.string())) return fail(why, at, "missing " + r.string());
            const JsonValue* props = s.get("properties");
            for (auto&& [k, v] : *t) {
                const std::string key(k.str());
                const JsonValue* sub = props ? props->get(key) : nullptr;
                if (!sub) sub = s.get("additionalProperties");
                if (sub && !valid(*sub, v, at + "." + key, why)) return false;
            }
        }
        if (const JsonValue* all = s.get("allOf"))
            for (const auto& sub : all->array())
                if (!valid(sub, n, at, why)) return false;
        if (const JsonValue* any = s.get("anyOf")) {
            bool ok = false;
            for (const auto& sub : any->array()) {
                std::string ignored;
                ok = ok || valid(sub, n, at, ignored);
            }
            if (!ok) return fail(why, at, "matches none of the alternatives");
        }
        if (const JsonValue* cond = s.get("if")) {
            std::string ignored;
            const JsonValue* branch = valid(*cond, n, at, ignored) ? s.get("then") : s.get("else");
            if (branch && !valid(*branch, n, at, why)) return false;
        }
        return true;
    }

    const JsonValue& root_;
};

std::string read(const fs::path& p)
{
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const fs::path kRepo = BULWARK_SOURCE_DIR;

JsonValue load_schema()
{
    std::string err;
    auto s = JsonValue::parse(read(kRepo / "policies/schema.json"), &err);
    INFO(err);
    REQUIRE(s);
    return *s;
}

std::string check(const Validator& v, std::string_view text)
{
    toml::table t = toml::parse(text);
    return v.validate(t);
}

}  // namespace

TEST_CASE("schema: every shipped policy, and every good test policy, validates")
{
    const JsonValue schema = load_schema();
    const Validator v(schema);
    size_t n = 0;
    for (const fs::path& dir : {kRepo / "policies", kRepo / "tests/policies/good"}) {
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            if (e.path().extension() != ".toml") continue;
            INFO(e.path().string());
            toml::table t = toml::parse_file(e.path().string());
            CHECK(v.validate(t) == "");
            ++n;
        }
    }
    CHECK(n >= 9);
}

TEST_CASE("schema: rejects the corpus files the parser rejects, accepts the others")
{
    const JsonValue schema = load_schema();
    const Validator v(schema);
    size_t rejected = 0, accepted = 0;
    for (const auto& e : fs::directory_iterator(kRepo / "tests/policies/bad")) {
        if (e.path().extension() != ".toml") continue;  // directories: cross-file checks a schema cannot see
        const std::string text = read(e.path());
        toml::table t;
        try {
            t = toml::parse(text);
        } catch (const toml::parse_error&) {
            continue;  // not TOML: nothing for a schema to look at
        }
        const bool parser_rejects = parse_policy_text(text, e.path().filename().string()).diagnostics.has_errors();
        const std::string why = v.validate(t);
        INFO(e.path().filename().string() << ": " << (why.empty() ? "valid" : why));
        CHECK(parser_rejects == !why.empty());
        (parser_rejects ? rejected : accepted) += 1;
    }
    CHECK(rejected >= 5);
    CHECK(accepted >= 8);
}

TEST_CASE("schema: structural errors, one at a time")
{
    const JsonValue schema = load_schema();
    const Validator v(schema);
    const std::string head = "[policy]\nname = \"p\"\n";
    CHECK(check(v, head + "[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n") == "");
    CHECK(check(v, "[[test]]\nname = \"n\"\nop = \"exec\"\npath = \"/a\"\nexpect = \"deny\"\n") == "");  // a test file
    CHECK(check(v, head + "[[exec]]\nfileless = true\naction = \"deny\"\n") == "");
    CHECK(check(v, head + "[monitor.process]\nallowed = [\"/usr/bin/\", \"/usr/sbin/nginx\"]\n") == "");
    const std::string history_case = "[[test]]\nname = \"n\"\nop = \"open\"\npath = \"/a\"\nexpect = \"deny\"\n";
    CHECK(check(v, history_case + "parent_executable = \"/usr/sbin/nginx\"\nparent_uid = [0, \"www-data\"]\n"
                                  "parent_cgroup = [\"system.slice/nginx.service\"]\n") == "");

    CHECK(check(v, "[[file]]\npaths = \"/a\"\naction = \"deny\"\n") != "");          // no [policy]
    CHECK(check(v, head + "[[file]]\npaths = \"/a\"\n") != "");                      // no action
    CHECK(check(v, head + "[[file]]\nprefixes = [\"/a\"]\naction = \"deny\"\n") != "");   // prefix without '/'
    CHECK(check(v, head + "[[file]]\npaths = [\"/a/../b\"]\naction = \"deny\"\n") != "");  // not normalized
    CHECK(check(v, head + "[[file]]\npaths = [\"/a//b\"]\naction = \"deny\"\n") != "");
    CHECK(check(v, head + "[[file]]\naction = \"deny\"\n") != "");                    // neither paths nor prefixes
    CHECK(check(v, head + "[[exec]]\nfileless = false\naction = \"deny\"\n") != "");
    CHECK(check(v, head + "[[connect]]\ncidrs = [\"10.0.0.0/33\"]\naction = \"deny\"\n") != "");
    CHECK(check(v, head + "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [70000]\naction = \"deny\"\n") != "");
    CHECK(check(v, head + "[scope]\nuid = []\n") != "");
    CHECK(check(v, head + "[defaults]\nexec = \"block\"\n") != "");
    CHECK(check(v, head + "[monitor]\n") != "");
    CHECK(check(v, head + "[[test]]\nname = \"n\"\nop = \"connect\"\naddr = \"10.0.0.1\"\nport = 1\npath = \"/a\"\n"
                          "expect = \"deny\"\n") != "");
    CHECK(check(v, head + "[[test]]\nname = \"n\"\nop = \"open\"\nexpect = \"deny\"\n") != "");  // no path
    CHECK(check(v, history_case + "parent_executable = []\n") != "");
    CHECK(check(v, history_case + "parent_uid = [-1]\n") != "");
    CHECK(check(v, history_case + "parent_cgroup = \"a//b\"\n") != "");
    CHECK(check(v, head + "[[test]]\nname = \"n\"\nop = \"exec\"\npath = \"/a\"\naccess = \"read\"\nexpect = \"deny\"\n") != "");
}
