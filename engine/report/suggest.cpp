#include "report/suggest.hpp"

#include "policy/value_checks.hpp"

#include <map>
#include <set>
#include <sstream>

namespace bulwark {
namespace {

// Files under one directory from which a prefix is proposed instead.
constexpr size_t kFilesForPrefix = 4;

struct Seen {
    size_t count = 0;
    std::set<std::string> by;     // "program (uid N)"
    std::string last;
    void add(const ReportEvent& e)
    {
        ++count;
        by.insert(e.program() + (e.uid >= 0 ? " (uid " + std::to_string(e.uid) + ")" : ""));
        if (e.time > last) last = e.time;
    }
    std::string comment() const
    {
        std::string who;
        size_t n = 0;
        for (const auto& b : by) {
            if (n++ == 2) {
                who += ", ...";
                break;
            }
            who += (who.empty() ? "" : ", ") + b;
        }
        return std::to_string(count) + (count == 1 ? " time" : " times") + ", by " + who + ", last " + last;
    }
};

std::string dirname_of(const std::string& p)
{
    const auto slash = p.find_last_of('/');
    return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
}

void list_rule(std::ostream& out, const std::string& table, const std::string& key,
               const std::map<std::string, Seen>& items, const std::string& extra)
{
    out << "[[" << table << "]]\n" << key << " = [\n";
    for (const auto& [value, seen] : items) out << "  " << quote_value(value, 4096) << ",  # " << seen.comment() << '\n';
    out << "]\n" << extra << "action = \"allow\"\n\n";
}

struct PolicySuggestions {
    size_t events = 0;
    std::map<std::string, Seen> programs;                       // exec
    std::map<std::string, std::map<std::string, Seen>> files;   // access → path
    std::map<std::pair<std::string, std::string>, std::map<int64_t, Seen>> connects;  // (addr, proto) → port
    size_t fileless = 0;
};

// Monitor events deny nothing, so no allow rule follows from them; say
// they were left out, and list the syscalls each syscalls monitor reported
// (candidates for its allow list, as comments only).
void monitor_notes(const Report& r, std::ostream& out)
{
    if (r.monitor_events.empty()) return;
    out << "# " << r.monitor_events.size() << (r.monitor_events.size() == 1 ? " monitor event" : " monitor events")
        << " left out: monitors report, they deny nothing, so no allow rule follows from them.\n";
    std::map<std::pair<std::string, std::string>, std::set<std::string>> syscalls;  // (policy, rule) → names
    for (const ReportEvent& e : r.monitor_events)
        if (e.kind == "syscalls" && !e.syscall.empty()) syscalls[{e.policy, e.rule}].insert(e.syscall);
    for (const auto& [at, names] : syscalls) {
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + quote_value(n);
        out << "# [[monitor.syscalls]] at " << at.second << " (policy " << quote_value(at.first)
            << ") reported syscalls outside its allow list; if they are expected, add them to it:\n#   " << list
            << "\n";
    }
    out << '\n';
}

}  // namespace

std::string suggest_rules(const Report& r, const RuleLookup* lookup, const std::string& source)
{
    std::map<std::string, PolicySuggestions> by_policy;
    for (const ReportEvent& e : r.events) {
        if (e.verdict != "would-deny" && e.verdict != "deny") continue;
        if (lookup) {
            auto d = lookup->is_default(e.policy, e.rule);
            if (!d || !*d) continue;  // an explicit deny rule: not second-guessed
        }
        PolicySuggestions& s = by_policy[e.policy];
        ++s.events;
        if (e.kind == "exec") {
            if (e.path.empty() || e.path[0] != '/') ++s.fileless;
            else s.programs[e.path].add(e);
        } else if (e.kind == "file") {
            if (!e.path.empty() && e.path[0] == '/') s.files[e.access.empty() ? "read" : e.access][e.path].add(e);
        } else if (e.kind == "connect") {
            s.connects[{e.addr, e.protocol}][e.port].add(e);
        }
    }

    std::ostringstream out;
    out << "# Suggested by `bulwark report --suggest` from " << source << " (" << r.events.size()
        << " verdict events";
    if (!r.events.empty()) out << ", " << r.all.first << " to " << r.all.last;
    out << ").\n";
    if (lookup)
        out << "# Allow rules for what each policy's allowlist ([defaults] ... = \"deny\") would have\n"
               "# denied; what its deny rules would have denied is left alone.\n";
    else
        out << "# Allow rules for everything that would have been denied: without --policy the report\n"
               "# cannot tell an allowlist's default from a deny rule you meant; give --policy.\n";
    out << "# Review every line before adding it to the policy: a would-deny may be the very\n"
           "# attack the policy is there to stop.\n\n";
    monitor_notes(r, out);
    if (by_policy.empty()) {
        out << "# Nothing to suggest.\n";
        return out.str();
    }

    for (auto& [policy, s] : by_policy) {
        out << "# ---- policy " << quote_value(policy) << ": " << s.events << (s.events == 1 ? " event" : " events")
            << "\n\n";
        if (!s.programs.empty()) list_rule(out, "exec", "paths", s.programs, "");
        if (s.fileless)
            out << "# " << s.fileless << " fileless program(s) (memfd, deleted files) would have been denied: no path "
                   "can allow them; look at the events\n\n";
        for (auto& [access, paths] : s.files) {
            // Many files in one directory: propose the directory.
            std::map<std::string, std::vector<std::string>> by_dir;
            for (const auto& [p, seen] : paths) by_dir[dirname_of(p)].push_back(p);
            std::map<std::string, Seen> exact, prefixes;
            for (const auto& [dir, files] : by_dir) {
                if (files.size() >= kFilesForPrefix && dir != "/") {
                    Seen merged;
                    for (const auto& f : files) {
                        const Seen& x = paths.at(f);
                        merged.count += x.count;
                        merged.by.insert(x.by.begin(), x.by.end());
                        if (x.last > merged.last) merged.last = x.last;
                    }
                    prefixes[dir + "/"] = merged;
                } else {
                    for (const auto& f : files) exact[f] = paths.at(f);
                }
            }
            std::string acc;
            if (access == "read") acc = "access = [\"read\"]\n";
            else if (access == "write") acc = "access = [\"write\"]\n";
            else acc = "access = [\"read\", \"write\"]\n";
            if (!exact.empty()) list_rule(out, "file", "paths", exact, acc);
            if (!prefixes.empty()) {
                out << "# " << prefixes.size() << " director" << (prefixes.size() == 1 ? "y" : "ies") << " with "
                    << kFilesForPrefix << " or more files denied: the whole tree is proposed\n";
                list_rule(out, "file", "prefixes", prefixes, acc);
            }
        }
        for (const auto& [dest, ports] : s.connects) {
            const auto& [addr, proto] = dest;
            const bool v6 = addr.find(':') != std::string::npos;
            std::map<std::string, Seen> cidr;
            Seen all;
            std::string port_list;
            for (const auto& [port, seen] : ports) {
                port_list += (port_list.empty() ? "" : ", ") + std::to_string(port);
                all.count += seen.count;
                all.by.insert(seen.by.begin(), seen.by.end());
                if (seen.last > all.last) all.last = seen.last;
            }
            cidr[addr + (v6 ? "/128" : "/32")] = all;
            list_rule(out, "connect", "cidrs", cidr,
                      "ports = [" + port_list + "]\nprotocols = [" + quote_value(proto.empty() ? "tcp" : proto) + "]\n");
        }
    }
    return out.str();
}

}  // namespace bulwark
