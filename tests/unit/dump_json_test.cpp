// bulwark compile --dump --json: every map, key and value of the image, and
// what decided each policy's verdict in it — read back with the JSON reader.
#include "compile/compiler.hpp"
#include "compile/dump.hpp"
#include "tool_support.hpp"
#include "util/json_value.hpp"

#include <doctest/doctest.h>

#include <sstream>

using namespace bulwark;
using namespace bulwark::test;

namespace {

const JsonValue* find_entry(const JsonValue& list, const std::string& field, const std::string& value)
{
    for (const auto& e : list.array())
        if (e.str(field) == value) return &e;
    return nullptr;
}

}  // namespace

TEST_CASE("dump --json: policies, rules, maps and what decided every value")
{
    const FakeSystem sys = server();
    auto policies = parse_all({{"w.toml", "[policy]\nname = \"w\"\n[scope]\nuid = 33\n[defaults]\nfile = \"audit\"\n"
                                          "[[file]]\nprefixes = [\"/etc/\"]\naction = \"deny\"\n"       // 7
                                          "[[file]]\npaths = [\"/etc/hosts\"]\naction = \"allow\"\n"   // 10
                                          "[[connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [22]\naction = \"deny\"\n"},
                               {"a.toml", "[policy]\nname = \"a\"\nmode = \"audit\"\n"
                                          "[[exec]]\nprefixes = [\"/tmp/\"]\naction = \"deny\"\n"}});
    CompileResult r = compile(policies, sys);
    REQUIRE(r.image);
    std::ostringstream out;
    dump_image_json(*r.image, out);
    std::string err;
    auto j = JsonValue::parse(out.str(), &err);
    INFO(err << "\n" << out.str());
    REQUIRE(j);

    const auto& ps = j->get("policies")->array();
    REQUIRE(ps.size() == 2);
    CHECK(ps[0].str("name") == "w");
    CHECK(ps[1].str("mode") == "audit");
    CHECK(ps[0].get("defaults")->get("read")->str("action") == "audit");
    CHECK(ps[0].get("defaults")->get("read")->str("at") == "w.toml:6");

    const auto& rules = j->get("rules")->array();
    REQUIRE(rules.size() == 4);
    CHECK(rules[1].str("at") == "w.toml:10");
    CHECK(rules[1].str("action") == "allow");
    CHECK(rules[3].str("kind") == "exec");

    const JsonValue& set = *j->get("policy_set");
    CHECK(set.get("enforcing")->array().size() == 1);
    CHECK(set.get("applies")->get("exec")->array()[0].string() == "a");
    CHECK(set.get("default_audit")->get("read")->array()[0].string() == "w");

    const JsonValue& maps = *j->get("maps");
    const JsonValue* etc = find_entry(*maps.get("inode_rules"), "path", "/etc/");
    REQUIRE(etc);
    CHECK(etc->get("key")->str("role") == "ancestor");
    CHECK(etc->get("value")->get("deny")->get("read")->array()[0].string() == "w");
    const JsonValue* hosts = find_entry(*maps.get("name_rules"), "path", "/etc/hosts");
    REQUIRE(hosts);
    CHECK(hosts->get("key")->str("name") == "hosts");
    bool by_rule = false;
    for (const auto& d : hosts->get("decided")->array())
        by_rule = by_rule || (d.str("policy") == "w" && d.str("rule") == "w.toml:10" && d.str("verdict") == "allow");
    CHECK(by_rule);
    // A key of policy a's: policy w's audit there comes from its default.
    const JsonValue* tmp = find_entry(*maps.get("inode_rules"), "path", "/tmp/");
    REQUIRE(tmp);
    bool by_default = false;
    for (const auto& d : tmp->get("decided")->array())
        by_default = by_default || (d.str("policy") == "w" && d.get("rule")->is_null() && d.str("default") == "w.toml:6");
    CHECK(by_default);

    CHECK(maps.get("scope_uids")->array()[0].get("uid")->integer() == 33);
    const auto& v4 = maps.get("connect_v4")->array();
    REQUIRE(v4.size() == 1);
    CHECK(v4[0].str("key") == "10.0.0.0/8");
    CHECK(v4[0].get("value")->get("by_port")->boolean());
    bool port22 = false;
    for (const auto& p : maps.get("connect_ports")->array())
        if (p.get("key")->str("ports") == "22-22" && p.get("key")->str("protocol") == "tcp")
            port22 = p.get("decided")->array()[0].str("rule") == "w.toml:13";
    CHECK(port22);
}

TEST_CASE("dump (text): a policy's bit that no rule put in a value is shown as its default's")
{
    const FakeSystem sys = server();
    auto policies = parse_all({{"w.toml", "[policy]\nname = \"w\"\n[defaults]\nfile = \"audit\"\n"
                                          "[[file]]\npaths = [\"/etc/hosts\"]\naccess = \"write\"\naction = \"deny\"\n"}});
    CompileResult r = compile(policies, sys);
    REQUIRE(r.image);
    std::ostringstream out;
    dump_image(*r.image, out);
    const std::string text = out.str();
    INFO(text);
    CHECK(text.find("      decided: w write by w.toml:5\n") != std::string::npos);
    CHECK(text.find("      default: w read by w.toml:4\n") != std::string::npos);
}
