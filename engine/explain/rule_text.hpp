// The text of a rule as its author wrote it, for `explain` and `test`: the
// table from its header line up to the next table, without the blank and
// comment lines that trail it. Files are read once and kept.
#pragma once

#include "policy/model.hpp"

#include <map>
#include <string>
#include <vector>

namespace bulwark {

class RuleTexts {
public:
    // The lines of the table whose header is at `header` (1-based line);
    // empty when the file cannot be read.
    std::vector<std::string> table(const SourcePos& header);
    // The one line at `pos` (a [defaults] value), or "".
    std::string line(const SourcePos& pos);

private:
    const std::vector<std::string>* lines_of(const std::string& file);
    std::map<std::string, std::vector<std::string>> files_;
};

// "web.toml:14": the path as given and the line.
std::string location(const SourcePos& pos);

}  // namespace bulwark
