// The corpus of broken policies (tests/policies/bad/): every file names the
// diagnostics it must produce in comments,
//
//   # expect: [FILE:]LINE:COL: SEVERITY: MESSAGE-START-OR-PART
//
// and `bulwark lint` (parse, compile, lint checks — on a fake Debian
// server, so the machine-dependent ones are reproducible) must produce
// each of them, and no error or warning that is not expected. A directory
// is one policy set (expectations may name any of its files).
#include "lint/lint.hpp"
#include "tool_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>

using namespace bulwark;
using namespace bulwark::test;
namespace fs = std::filesystem;

namespace {

struct Expected {
    std::string file;  // basename
    uint32_t line = 0, column = 0;
    std::string severity, message;
    std::string where;  // the comment, for messages
};

// "# expect: [FILE:]LINE:COL: SEVERITY: MESSAGE" → Expected; nullopt for other lines.
std::optional<Expected> parse_expect(const std::string& line)
{
    const std::string tag = "# expect:";
    if (line.rfind(tag, 0) != 0) return std::nullopt;
    std::string rest = line.substr(tag.size());
    rest.erase(0, rest.find_first_not_of(' '));
    Expected e;
    if (auto toml = rest.find(".toml:"); toml != std::string::npos && toml < rest.find(' ')) {
        e.file = rest.substr(0, toml + 5);
        rest = rest.substr(toml + 6);
    }
    // LINE:COL: SEVERITY: MESSAGE
    const auto c1 = rest.find(':'), c2 = rest.find(':', c1 + 1), c3 = rest.find(':', c2 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos || c3 == std::string::npos) return std::nullopt;
    try {
        e.line = static_cast<uint32_t>(std::stoul(rest.substr(0, c1)));
        e.column = static_cast<uint32_t>(std::stoul(rest.substr(c1 + 1, c2 - c1 - 1)));
    } catch (...) {
        return std::nullopt;
    }
    e.severity = rest.substr(c2 + 2, c3 - c2 - 2);
    e.message = rest.substr(c3 + 2);
    if (e.severity != "error" && e.severity != "warning" && e.severity != "note") return std::nullopt;
    return e;
}

std::vector<Expected> expectations(const std::string& path)
{
    std::vector<Expected> out;
    std::ifstream in(path);
    uint32_t n = 0;
    for (std::string line; std::getline(in, line);) {
        ++n;
        auto e = parse_expect(line);
        if (!e) {
            CHECK_MESSAGE(line.find("expect:") == std::string::npos, "malformed expectation: " << path << ":" << n);
            continue;
        }
        if (e->file.empty()) e->file = fs::path(path).filename().string();
        e->where = fs::path(path).filename().string() + ":" + std::to_string(n);
        out.push_back(std::move(*e));
    }
    return out;
}

bool matches(const Expected& e, const Diagnostic& d)
{
    return fs::path(d.pos.file).filename().string() == e.file && d.pos.line == e.line && d.pos.column == e.column &&
           to_string(d.severity) == e.severity && d.message.find(e.message) != std::string::npos;
}

}  // namespace

TEST_CASE("corpus: every broken policy produces the diagnostics it names, and no others")
{
    const fs::path root = fs::path(BULWARK_SOURCE_DIR) / "tests/policies/bad";
    std::vector<fs::path> entries;
    for (const auto& e : fs::directory_iterator(root))
        if (e.is_directory() || e.path().extension() == ".toml") entries.push_back(e.path());
    std::sort(entries.begin(), entries.end());
    REQUIRE(entries.size() >= 15);

    const FakeSystem sys = server();
    size_t checked = 0;
    for (const fs::path& entry : entries) {
        std::vector<std::string> files;
        if (fs::is_directory(entry)) {
            for (const auto& f : fs::directory_iterator(entry))
                if (f.path().extension() == ".toml") files.push_back(f.path().string());
            std::sort(files.begin(), files.end());
        } else {
            files.push_back(entry.string());
        }
        std::vector<Expected> want;
        for (const auto& f : files) {
            auto e = expectations(f);
            want.insert(want.end(), e.begin(), e.end());
        }
        ParseResult parsed = load_policies(files);
        Diagnostics got = parsed.diagnostics;
        if (!parsed.diagnostics.has_errors()) got.append(lint_policies(parsed.policies, sys));

        INFO("corpus entry " << entry.filename().string() << "; diagnostics:\n" << text_of(got));
        CHECK_MESSAGE(!want.empty(), "no '# expect:' line");
        for (const Expected& e : want) {
            bool found = false;
            for (const Diagnostic& d : got.all()) found = found || matches(e, d);
            CHECK_MESSAGE(found, "missing: " << e.where << ": " << e.file << ":" << e.line << ":" << e.column << ": "
                                             << e.severity << ": " << e.message);
            checked += found;
        }
        for (const Diagnostic& d : got.all()) {
            if (d.severity == Severity::note) continue;
            bool expected = false;
            for (const Expected& e : want) expected = expected || matches(e, d);
            CHECK_MESSAGE(expected, "not expected: " << format(d));
        }
    }
    CHECK(checked >= 35);
}
