#include "util/lsm_list.hpp"

#include <fstream>
#include <sstream>

namespace bulwark {

std::optional<std::string> read_lsm_list()
{
    std::ifstream in(kLsmListPath);
    if (!in) return std::nullopt;
    std::string list;
    std::getline(in, list);
    return list;
}

bool lsm_list_has(const std::string& list, const std::string& name)
{
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ','))
        if (item == name) return true;
    return false;
}

}  // namespace bulwark
