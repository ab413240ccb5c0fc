#include "explain/rule_text.hpp"

#include <fstream>

namespace bulwark {
namespace {

std::string trim(const std::string& s)
{
    const auto a = s.find_first_not_of(" \t\r");
    if (a == std::string::npos) return "";
    const auto b = s.find_last_not_of(" \t\r");
    return s.substr(a, b - a + 1);
}

}  // namespace

std::string location(const SourcePos& pos)
{
    return pos.file + ":" + std::to_string(pos.line);
}

const std::vector<std::string>* RuleTexts::lines_of(const std::string& file)
{
    auto it = files_.find(file);
    if (it == files_.end()) {
        std::vector<std::string> lines;
        std::ifstream in(file);
        for (std::string l; std::getline(in, l);) lines.push_back(l);
        it = files_.emplace(file, std::move(lines)).first;
    }
    return it->second.empty() ? nullptr : &it->second;
}

std::vector<std::string> RuleTexts::table(const SourcePos& header)
{
    std::vector<std::string> out;
    const auto* lines = lines_of(header.file);
    if (!lines || header.line == 0 || header.line > lines->size()) return out;
    for (size_t i = header.line - 1; i < lines->size(); ++i) {
        const std::string t = trim((*lines)[i]);
        if (i + 1 > header.line && !t.empty() && t[0] == '[') break;  // the next table
        out.push_back((*lines)[i]);
    }
    while (!out.empty()) {
        const std::string t = trim(out.back());
        if (!t.empty() && t[0] != '#') break;
        out.pop_back();
    }
    return out;
}

std::string RuleTexts::line(const SourcePos& pos)
{
    const auto* lines = lines_of(pos.file);
    if (!lines || pos.line == 0 || pos.line > lines->size()) return "";
    return trim((*lines)[pos.line - 1]);
}

}  // namespace bulwark
