// bulwark report (engine/report/): a dry run's events summarised, and the
// allow rules --suggest proposes — which must themselves be valid policy
// TOML. Also the JSON reader they rest on.
#include "policy/parser.hpp"
#include "report/policy_lookup.hpp"
#include "report/report.hpp"
#include "report/suggest.hpp"
#include "util/json_value.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace bulwark;

namespace {

// A verdict event line as bulwark run writes it.
std::string event(const std::string& kind, const std::string& verdict, const std::string& policy,
                  const std::string& rule, const std::string& time, const std::string& exe, int uid,
                  const std::string& object, const std::string& cgroup = "/user.slice")
{
    std::string s = "{\"type\":\"verdict\",\"time\":\"" + time + "\",\"kind\":\"" + kind + "\",\"verdict\":\"" + verdict +
                    "\",\"policy\":\"" + policy + "\",\"rule\":\"" + rule + "\",\"pid\":1,\"uid\":" + std::to_string(uid) +
                    ",\"comm\":\"x\",\"exe\":\"" + exe + "\",\"cgroup\":\"" + cgroup + "\",";
    if (kind == "connect") {
        const auto colon = object.find_last_of(':');
        s += "\"addr\":\"" + object.substr(0, colon) + "\",\"port\":" + object.substr(colon + 1) + ",\"protocol\":\"tcp\"";
    } else if (kind == "file") {
        s += "\"path\":\"" + object + "\",\"access\":\"read\"";
    } else {
        s += "\"path\":\"" + object + "\",\"route\":\"exec\"";
    }
    return s + "}\n";
}

const char* kPolicy =
    "[policy]\n"                                  // 1
    "name = \"bastion\"\n"                        // 2
    "[defaults]\n"                                // 3
    "exec = \"deny\"\n"                           // 4
    "connect = \"deny\"\n"                        // 5
    "[[exec]]\n"                                  // 6
    "paths = [\"/usr/bin/ssh\"]\n"                // 7
    "action = \"allow\"\n"                        // 8
    "[[file]]\n"                                  // 9
    "prefixes = [\"/etc/ssh/\"]\n"                // 10
    "action = \"deny\"\n";                        // 11

std::string dry_run()
{
    return "{\"type\":\"ready\",\"generation\":1}\n" +
           event("exec", "would-deny", "bastion", "b.toml:4", "2026-01-01T00:00:02Z", "/usr/bin/bash", 1000, "/usr/bin/vim") +
           event("exec", "would-deny", "bastion", "b.toml:4", "2026-01-01T00:00:01Z", "/usr/bin/bash", 1001, "/usr/bin/vim") +
           event("exec", "would-deny", "bastion", "b.toml:4", "2026-01-01T00:00:03Z", "/usr/bin/bash", 1000, "/usr/bin/less") +
           event("connect", "would-deny", "bastion", "b.toml:5", "2026-01-01T00:00:04Z", "/usr/bin/ssh", 1000, "10.1.1.1:2222") +
           event("file", "would-deny", "bastion", "b.toml:9", "2026-01-01T00:00:05Z", "/usr/bin/cat", 1000,
                 "/etc/ssh/ssh_host_rsa_key") +
           event("file", "audit", "other", "o.toml:7", "2026-01-01T00:00:06Z", "/usr/sbin/cron", 0, "/etc/crontab",
                 "/system.slice/cron.service") +
           "garbage\n{\"type\":\"stats\",\"lost\":3,\"deny_lost\":1}\n";
}

// The policy written to b.toml in a fresh directory, for rule lookups.
struct PolicyFiles {
    std::filesystem::path dir;
    std::vector<Policy> policies;
    PolicyFiles()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "bulwark-report-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
        std::ofstream(dir / "b.toml") << kPolicy;
        ParseResult r = load_policies({(dir / "b.toml").string()});
        REQUIRE(!r.diagnostics.has_errors());
        policies = std::move(r.policies);
    }
    ~PolicyFiles() { std::filesystem::remove_all(dir); }
};

}  // namespace

TEST_CASE("report: events grouped by rule, program and cgroup")
{
    std::istringstream in(dry_run());
    Report r = summarise(in);
    CHECK(r.lines == 9);
    CHECK(r.malformed == 1);
    CHECK(r.other == 2);
    CHECK(r.lost == 3);
    CHECK(r.deny_lost == 1);
    REQUIRE(r.events.size() == 6);
    CHECK(r.all.first == "2026-01-01T00:00:01Z");
    CHECK(r.all.last == "2026-01-01T00:00:06Z");

    const Tally& exec = r.by_rule.at({"bastion", "b.toml:4", "exec"});
    CHECK(exec.count == 3);
    CHECK(exec.first == "2026-01-01T00:00:01Z");
    CHECK(exec.last == "2026-01-01T00:00:03Z");
    CHECK(exec.programs.at("/usr/bin/bash") == 3);
    CHECK(exec.objects.at("exec /usr/bin/vim") == 2);
    CHECK(r.by_rule.at({"bastion", "b.toml:5", "connect"}).objects.count("connect 10.1.1.1:2222/tcp") == 1);
    CHECK(r.by_program.at("/usr/bin/bash").count == 3);
    CHECK(r.by_cgroup.at("/system.slice/cron.service").verdicts.at("audit") == 1);

    PolicyFiles files;
    PolicyRuleLookup lookup(files.policies);
    std::ostringstream out;
    print_report(r, &lookup, out);
    const std::string text = out.str();
    INFO(text);
    CHECK(text.find("6 verdict events (5 would-deny, 1 audit) from 2026-01-01T00:00:01Z to 2026-01-01T00:00:06Z") !=
          std::string::npos);
    CHECK(text.find("warning: 3 events were lost (ring buffer full; 1 of them denials)") != std::string::npos);
    CHECK(text.find("  bastion  b.toml:4  exec: 3 would-deny") != std::string::npos);
    CHECK(text.find("      | [defaults] exec = \"deny\"\n      enforcing it would have denied 3 operations of 1 program "
                    "that ran:\n        3  /usr/bin/bash\n") != std::string::npos);
    CHECK(text.find("      | [[file]]\n      | prefixes = [\"/etc/ssh/\"]\n") != std::string::npos);
    CHECK(text.find("an audit rule: reported, nothing would be denied") != std::string::npos);
}

TEST_CASE("report --suggest: allow rules for what an allowlist denied, as valid TOML")
{
    std::istringstream in(dry_run());
    Report r = summarise(in);
    PolicyFiles files;
    PolicyRuleLookup lookup(files.policies);
    CHECK(lookup.is_default("bastion", "b.toml:4") == std::optional<bool>(true));
    CHECK(lookup.is_default("bastion", "b.toml:9") == std::optional<bool>(false));
    CHECK(!lookup.is_default("bastion", "b.toml:99"));

    const std::string toml = suggest_rules(r, &lookup, "events.jsonl");
    INFO(toml);
    CHECK(toml.find("\"/usr/bin/less\",  # 1 time, by /usr/bin/bash (uid 1000), last 2026-01-01T00:00:03Z") !=
          std::string::npos);
    CHECK(toml.find("\"/usr/bin/vim\",  # 2 times, by /usr/bin/bash (uid 1000), /usr/bin/bash (uid 1001)") !=
          std::string::npos);
    CHECK(toml.find("cidrs = [\n  \"10.1.1.1/32\",") != std::string::npos);
    CHECK(toml.find("ports = [2222]") != std::string::npos);
    // The deny rule's would-deny is not second-guessed; audits are not denials.
    CHECK(toml.find("ssh_host_rsa_key") == std::string::npos);
    CHECK(toml.find("crontab") == std::string::npos);

    // Pasted into a policy, the suggestion parses cleanly.
    ParseResult p = parse_policy_text(std::string("[policy]\nname = \"s\"\n") + toml, "s.toml");
    std::ostringstream d;
    p.diagnostics.print(d);
    INFO(d.str());
    CHECK(p.diagnostics.all().empty());
    REQUIRE(p.policies.size() == 1);
    CHECK(p.policies[0].execs.size() == 1);
    CHECK(p.policies[0].execs[0].paths.size() == 2);
    CHECK(p.policies[0].connects.size() == 1);

    SUBCASE("without the policies, everything denied is proposed, and many files become a prefix")
    {
        std::string lines;
        for (int i = 0; i < 5; ++i)
            lines += event("file", "would-deny", "p", "p.toml:3", "2026-01-01T00:00:0" + std::to_string(i) + "Z",
                           "/usr/bin/app", 33, "/srv/data/f" + std::to_string(i));
        std::istringstream in2(lines + dry_run());
        Report r2 = summarise(in2);
        const std::string all = suggest_rules(r2, nullptr, "-");
        INFO(all);
        CHECK(all.find("ssh_host_rsa_key") != std::string::npos);
        CHECK(all.find("prefixes = [\n  \"/srv/data/\",  # 5 times") != std::string::npos);
        CHECK(all.find("give --policy") != std::string::npos);
        ParseResult p2 = parse_policy_text(std::string("[policy]\nname = \"s\"\n") + all, "s.toml");
        CHECK(!p2.diagnostics.has_errors());
    }
}

TEST_CASE("json: the reader")
{
    auto v = JsonValue::parse(R"( {"a": [1, -2.5e1, true, false, null], "s": "x\"\\\u00e9\ud83d\ude00\n", "o": {}} )");
    REQUIRE(v);
    REQUIRE(v->is_object());
    const auto& a = v->get("a")->array();
    REQUIRE(a.size() == 5);
    CHECK(a[0].is_integer());
    CHECK(a[0].integer() == 1);
    CHECK(!a[1].is_integer());
    CHECK(a[1].number() == -25.0);
    CHECK(a[2].boolean());
    CHECK(!a[3].boolean());
    CHECK(a[4].is_null());
    CHECK(v->str("s") == "x\"\\\xc3\xa9\xf0\x9f\x98\x80\n");
    CHECK(v->get("o")->members().empty());
    CHECK(v->get("missing") == nullptr);
    std::string err;
    for (const char* bad : {"{", "[1,]", "{\"a\" 1}", "\"\\x\"", "01x", "[1] 2", "\"a\nb\""})
        CHECK_MESSAGE(!JsonValue::parse(bad, &err), bad);
    CHECK(err.find("at byte") == 0);
}
