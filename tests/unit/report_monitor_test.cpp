// bulwark report and "type":"monitor" events: counted per policy and
// monitor rule (with the rate limit's suppressed counts and the table's
// text), apart from verdicts, which they never change; --suggest leaves
// them out and says so.
#include "policy/parser.hpp"
#include "report/policy_lookup.hpp"
#include "report/report.hpp"
#include "report/suggest.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace bulwark;

namespace {

const char* kWatch = "[policy]\nname = \"watch\"\n"
                     "[[monitor.file]]\npaths = [\"/etc/shadow\"]\n"                       // 3
                     "[[monitor.syscalls]]\nuid = 1000\nallow = [\"read\", \"write\"]\n";  // 5

std::string events()
{
    const std::string head = R"({"type":"monitor","time":"2026-01-01T00:00:0)";
    return R"({"type":"ready","generation":1,"mode":"monitor"})" "\n" +
           head + R"(1Z","monitor":"file","policy":"watch","rule":"w.toml:3","action":"report","suppressed":0,"pid":5,"uid":0,"comm":"cat","exe":"/usr/bin/cat","cgroup":"/demo","syscall":"openat","path":"/etc/shadow","access":"read"})" "\n" +
           head + R"(2Z","monitor":"file","policy":"watch","rule":"w.toml:3","action":"report","suppressed":7,"pid":6,"uid":0,"comm":"cat","exe":"/usr/bin/cat","cgroup":"/demo","syscall":"openat","path":"/etc/shadow","access":"read"})" "\n" +
           head + R"(3Z","monitor":"file","policy":"watch","rule":"w.toml:3","action":"report","suppressed":0,"pid":7,"uid":0,"comm":"sh","exe":"/usr/bin/dash","cgroup":"/demo","syscall":"openat","path":"","path_unresolved":true,"reason":"cwd too deep"})" "\n" +
           head + R"(4Z","monitor":"syscalls","policy":"watch","rule":"w.toml:5","action":"report","suppressed":0,"pid":8,"uid":1000,"comm":"uname","exe":"/usr/bin/uname","cgroup":"/demo","syscall":"uname","nr":63,"abi":"x86_64"})" "\n" +
           head + R"(5Z","monitor":"syscalls","policy":"watch","rule":"w.toml:5","action":"kill","suppressed":0,"pid":9,"uid":1000,"comm":"gdb","exe":"/usr/bin/gdb","cgroup":"/demo","syscall":"ptrace","nr":101,"abi":"x86_64"})" "\n" +
           head + R"(6Z","monitor":"connect","policy":"watch","rule":"w.toml:9","action":"report","suppressed":0,"pid":10,"uid":0,"comm":"curl","exe":"/usr/bin/curl","cgroup":"/demo","addr":"169.254.169.254","port":80,"protocol":"tcp","family":"ipv4","call":"connect"})" "\n" +
           head + R"(7Z","monitor":"process","policy":"watch","rule":"w.toml:12","action":"report","suppressed":0,"pid":11,"uid":0,"comm":"helper","exe":"/tmp/helper","cgroup":"/demo","path":"/tmp/helper","parent_exe":"/usr/bin/bash","not_allowed":["program"]})" "\n" +
           R"({"type":"stats","generation":1,"events":7,"lost":0,"deny_lost":0,"monitor_events":7,"suppressed":7})" "\n";
}

}  // namespace

TEST_CASE("report: monitor events are counted per policy and monitor rule, apart from verdicts")
{
    std::istringstream in(events());
    const Report r = summarise(in);
    CHECK(r.lines == 9);
    CHECK(r.other == 2);  // ready, stats
    CHECK(r.events.empty());
    REQUIRE(r.monitor_events.size() == 7);
    const Tally& file = r.by_monitor.at({"watch", "w.toml:3", "file"});
    CHECK(file.count == 3);
    CHECK(file.objects.at("open /etc/shadow (read)") == 2);
    CHECK(file.objects.at("open (a name that could not be made absolute: cwd too deep)") == 1);
    CHECK(r.suppressed.at({"watch", "w.toml:3", "file"}) == 7);
    const Tally& sys = r.by_monitor.at({"watch", "w.toml:5", "syscalls"});
    CHECK(sys.verdicts.at("report") == 1);
    CHECK(sys.verdicts.at("kill") == 1);
    CHECK(sys.objects.at("syscall ptrace") == 1);
    CHECK(r.by_monitor.at({"watch", "w.toml:9", "connect"}).objects.count("connect 169.254.169.254:80/tcp") == 1);
    CHECK(r.by_monitor.at({"watch", "w.toml:12", "process"}).objects.count("exec /tmp/helper") == 1);
    CHECK(r.monitors.first == "2026-01-01T00:00:01Z");
    CHECK(r.monitors.last == "2026-01-01T00:00:07Z");
}

TEST_CASE("report: monitor events printed with their table's text; --suggest leaves them out")
{
    std::istringstream in(events());
    const Report r = summarise(in);

    std::string tmpl = (std::filesystem::temp_directory_path() / "bulwark-report-mon-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    const std::filesystem::path dir = tmpl;
    std::ofstream(dir / "w.toml") << kWatch;
    ParseResult parsed = load_policies({(dir / "w.toml").string()});
    REQUIRE(!parsed.diagnostics.has_errors());
    PolicyRuleLookup lookup(std::move(parsed.policies));

    std::ostringstream out;
    print_report(r, &lookup, out);
    const std::string text = out.str();
    INFO(text);
    CHECK(text.find("9 lines, 0 verdict events, 7 monitor events (1 kill, 6 report) from 2026-01-01T00:00:01Z to "
                    "2026-01-01T00:00:07Z") != std::string::npos);
    CHECK(text.find("nothing was denied, would have been denied, or audited") != std::string::npos);
    CHECK(text.find("monitor events by policy and rule") != std::string::npos);
    CHECK(text.find("  watch  w.toml:3  monitor.file: 3 report, from 2026-01-01T00:00:01Z to 2026-01-01T00:00:03Z\n"
                    "      and 7 more suppressed by its rate_limit") != std::string::npos);
    CHECK(text.find("      | [[monitor.file]]\n      | paths = [\"/etc/shadow\"]\n") != std::string::npos);
    CHECK(text.find("  watch  w.toml:5  monitor.syscalls: 1 kill, 1 report") != std::string::npos);
    CHECK(text.find("        1  syscall ptrace\n") != std::string::npos);

    const std::string s = suggest_rules(r, &lookup, "events.jsonl");
    INFO(s);
    CHECK(s.find("# 7 monitor events left out: monitors report, they deny nothing") != std::string::npos);
    CHECK(s.find("# [[monitor.syscalls]] at w.toml:5 (policy \"watch\") reported syscalls outside its allow list; "
                 "if they are expected, add them to it:\n#   \"ptrace\", \"uname\"\n") != std::string::npos);
    CHECK(s.find("[[") == s.find("[[monitor.syscalls]]"));  // no rule is proposed, only comments
    CHECK(s.find("# Nothing to suggest.") != std::string::npos);
    std::filesystem::remove_all(dir);
}
