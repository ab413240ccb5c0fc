// bulwark compile --dump --json, the monitors (compile/dump_json_monitors.cpp):
// every monitor rule, every monitor map's keys and values, and the rule each
// policy reports through at each key — read back with the JSON reader.
#include "compile/compiler.hpp"
#include "compile/dump.hpp"
#include "tool_support.hpp"
#include "util/json_value.hpp"

#include <doctest/doctest.h>

#include <sstream>

using namespace bulwark;
using namespace bulwark::test;

namespace {

JsonValue dump(const std::vector<std::pair<std::string, std::string>>& files)
{
    const FakeSystem sys = server();
    CompileResult r = compile(parse_all(files), sys);
    INFO(text_of(r.diagnostics));
    REQUIRE(r.image);
    std::ostringstream out;
    dump_image_json(*r.image, out);
    std::string err;
    auto j = JsonValue::parse(out.str(), &err);
    INFO(err << "\n" << out.str());
    REQUIRE(j);
    return *j;
}

// The entries of `list` whose `field` (or key.field) is `value`.
const JsonValue* find(const JsonValue& list, const std::string& field, const std::string& value)
{
    for (const auto& e : list.array()) {
        if (e.str(field) == value) return &e;
        if (const JsonValue* k = e.get("key"); k && k->is_object() && k->str(field) == value) return &e;
    }
    return nullptr;
}

std::string first_reporter(const JsonValue& e)
{
    const auto& r = e.get("reported_by")->array();
    return r.empty() ? "" : r[0].str("policy") + " " + r[0].str("at");
}

}  // namespace

TEST_CASE("dump --json: monitor rules and maps, each value with the rule it reports through")
{
    const JsonValue j = dump({{"watch.toml", "[policy]\nname = \"watch\"\n"
                                             "[[monitor.file]]\npaths = [\"/etc/shadow\"]\nprefixes = [\"/etc/\"]\n"  // 3
                                             "[[monitor.file]]\nprefixes = [\"/etc/ssh/\"]\nrate_limit = 5\n"       // 6
                                             "[[monitor.syscalls]]\nuid = 1000\nallow = [\"read\"]\naction = \"kill\"\n"  // 9
                                             "[monitor.process]\nallowed = [\"/usr/bin/\"]\n"                     // 13
                                             "[[monitor.connect]]\ncidrs = [\"10.0.0.0/8\"]\nports = [22]\nprotocols = [\"tcp\"]\n"},  // 15
                              {"audit.toml", "[policy]\nname = \"audit\"\nmode = \"audit\"\n"
                                             "[[monitor.syscalls]]\nuid = 1000\nallow = [\"read\", \"write\"]\naction = \"kill\"\n"}});  // 4
    const JsonValue* mon = j.get("monitors");
    REQUIRE(mon);
    CHECK(mon->get("applies")->get("file")->array().size() == 1);
    CHECK(mon->get("applies")->get("syscalls")->array().size() == 2);

    const auto& rules = mon->get("rules")->array();
    REQUIRE(rules.size() == 6);
    CHECK(rules[1].str("at") == "watch.toml:6");
    CHECK(rules[1].get("rate_limit")->integer() == 5);
    CHECK(rules[2].str("kind") == "syscalls");
    CHECK(rules[2].str("action") == "kill");
    CHECK(rules[5].str("policy") == "audit");
    CHECK(rules[5].str("action") == "would-kill");  // an audit-mode policy never kills

    CHECK(mon->get("unresolved_paths_reported_by")->array()[0].str("at") == "watch.toml:3");
    CHECK(mon->get("programs_not_allowed_reported_by")->array()[0].str("at") == "watch.toml:13");

    const JsonValue& maps = *mon->get("maps");
    const JsonValue* shadow = find(*maps.get("mon_file_paths"), "path", "/etc/shadow");
    REQUIRE(shadow);
    CHECK(shadow->get("key")->get("exact")->boolean());
    CHECK(shadow->get("key")->get("prefixlen")->integer() == 96);  // 11 bytes and the NUL
    CHECK(first_reporter(*shadow) == "watch watch.toml:3");
    const JsonValue* ssh = find(*maps.get("mon_file_paths"), "path", "/etc/ssh/");
    REQUIRE(ssh);
    CHECK(!ssh->get("key")->get("exact")->boolean());
    CHECK(first_reporter(*ssh) == "watch watch.toml:6");  // the more specific prefix

    const JsonValue* usr = find(*maps.get("mon_process_allowed"), "path", "/usr/bin/");
    REQUIRE(usr);
    CHECK(usr->get("allowed_by")->array()[0].string() == "watch");

    const auto& uids = maps.get("mon_syscall_uids")->array();
    REQUIRE(uids.size() == 1);
    CHECK(uids[0].get("uid")->integer() == 1000);
    CHECK(uids[0].get("kill")->array().size() == 1);  // watch kills; audit would only say so
    CHECK(uids[0].get("reported_by")->array().size() == 2);
    CHECK(uids[0].get("reported_by")->array()[1].str("at") == "audit.toml:4");
    const JsonValue* write = find(*maps.get("mon_syscall_allowed"), "syscall", "write");
    REQUIRE(write);
    CHECK(write->get("nr")->integer() == 1);
    CHECK(write->get("allowed_by")->array().size() == 1);

    const JsonValue* net = find(*maps.get("mon_connect_nets"), "key", "10.0.0.0/8");
    REQUIRE(net);
    CHECK(net->str("family") == "ipv4");
    bool port22 = false, udp = false;
    for (const auto& p : maps.get("mon_connect_ports")->array()) {
        udp = udp || p.get("key")->str("protocol") == "udp";
        if (p.get("key")->str("ports") == "22-22") {
            port22 = first_reporter(p) == "watch watch.toml:15";
            CHECK(p.get("key")->str("network").find("10.0.0.0/8") == 0);
        }
    }
    CHECK(port22);
    CHECK(!udp);
}

TEST_CASE("dump --json: a set without monitors has empty monitor maps")
{
    const JsonValue j = dump({{"r.toml", "[policy]\nname = \"r\"\n[[file]]\npaths = [\"/etc/shadow\"]\naction = \"deny\"\n"}});
    const JsonValue* mon = j.get("monitors");
    REQUIRE(mon);
    CHECK(mon->get("rules")->array().empty());
    for (const auto& map : mon->get("maps")->members()) {
        INFO(map.first);
        CHECK(map.second.array().empty());
    }
}
