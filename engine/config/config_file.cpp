#include "config/config_file.hpp"

#include "policy/parse_detail.hpp"

#include <toml++/toml.h>

namespace bulwark {

namespace {

SourcePos at(const std::string& file, const toml::source_region& r)
{
    return SourcePos{file, r.begin.line, r.begin.column};
}

// One scalar as a flag argument; false (and an error) for other kinds.
bool token_of(const toml::node& n, std::string& out)
{
    if (const auto* s = n.as_string()) {
        out = s->get();
        return true;
    }
    if (const auto* i = n.as_integer()) {
        out = std::to_string(i->get());
        return true;
    }
    return false;
}

}  // namespace

std::vector<ConfigEntry> read_config(std::string_view text, const std::string& file, Diagnostics& diags)
{
    std::vector<ConfigEntry> entries;
    toml::table root;
    try {
        root = toml::parse(text, file);
    } catch (const toml::parse_error& e) {
        diags.error(at(file, e.source()), std::string(e.description()));
        return entries;
    }
    for (const auto& [key, node] : parse_detail::in_source_order(root)) {
        ConfigEntry e;
        e.key = std::string(key->str());
        e.pos = at(file, key->source());
        e.value_pos = at(file, node->source());
        if (const auto* b = node->as_boolean()) {
            e.boolean = true;
            e.enabled = b->get();
        } else if (const auto* a = node->as_array()) {
            for (const auto& el : *a) {
                std::string t;
                if (!token_of(el, t)) {
                    diags.error(at(file, el.source()), "each element of " + e.key + " must be a string or an integer, not " +
                                                           parse_detail::type_name(el));
                    continue;
                }
                e.tokens.push_back(std::move(t));
            }
            if (a->empty()) {
                diags.error(e.value_pos, e.key + " is an empty list; remove the key, or name at least one value");
                continue;
            }
        } else {
            std::string t;
            if (!token_of(*node, t)) {
                diags.error(e.value_pos, e.key + " must be a string, an integer, a boolean or a list, not " +
                                             std::string(parse_detail::type_name(*node)) +
                                             (node->is_table() ? "; bulwark.toml has no tables: write key = value" : ""));
                continue;
            }
            e.tokens.push_back(std::move(t));
        }
        entries.push_back(std::move(e));
    }
    return entries;
}

}  // namespace bulwark
