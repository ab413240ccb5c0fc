// The guest benchmarks' rule sets (bench-compare, bench-startup): N rules of
// each kind ("these N files may not be opened, these N programs may not run,
// these N CIDRs may not be reached"), written as one policy scoped to the
// cgroup /bench. Header-only, like guest_support.hpp.
#pragma once

#include "guest_support.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

// N denied entries under DIR/nN/deny: even i an exact file fI, odd i a tree
// dI/. The same names are the file rules and the exec rules; the CIDRs are
// N distinct networks (half /32 in 10.0.0.0/8, half /24 from 20.0.0.0), none 127.0.0.1.
struct RuleSet {
    int n = 0;
    std::string deny_dir;
    std::vector<std::string> exact, prefixes;  // absolute; prefixes end in '/'
    std::vector<std::string> cidrs;
    std::string policy_file;
};

inline std::string ipv4(uint32_t a)
{
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." + std::to_string((a >> 8) & 0xff) +
           "." + std::to_string(a & 0xff);
}

// Creates the files and directories under `dir` and writes DIR/nN.toml.
inline RuleSet make_rules(const std::string& dir, int n)
{
    RuleSet r;
    r.n = n;
    r.deny_dir = dir + "/n" + std::to_string(n) + "/deny";
    mkdirs(r.deny_dir);
    for (int i = 0; i < n; ++i) {
        const uint32_t v = static_cast<uint32_t>(i / 2);
        if (i % 2 == 0) {
            const std::string f = r.deny_dir + "/f" + std::to_string(i);
            int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
            if (fd < 0) die("create " + f);
            ::close(fd);
            r.exact.push_back(f);
            r.cidrs.push_back(ipv4((10u << 24) | v) + "/32");
        } else {
            const std::string d = r.deny_dir + "/d" + std::to_string(i);
            if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) die("mkdir " + d);
            r.prefixes.push_back(d + "/");
            r.cidrs.push_back(ipv4((20u << 24) + (v << 8)) + "/24");
        }
    }
    auto list = [](const std::vector<std::string>& v) {
        std::string s = "[";
        for (const auto& x : v) s += "\"" + x + "\",";
        return s + "]";
    };
    std::string p = "[policy]\nname = \"bench\"\n\n[scope]\ncgroup = [\"/bench\"]\n\n";
    for (const char* kind : {"file", "exec"}) {
        p += std::string("[[") + kind + "]]\n";
        if (!r.exact.empty()) p += "paths = " + list(r.exact) + "\n";
        if (!r.prefixes.empty()) p += "prefixes = " + list(r.prefixes) + "\n";
        p += "action = \"deny\"\n\n";
    }
    p += "[[connect]]\ncidrs = " + list(r.cidrs) + "\naction = \"deny\"\n";
    r.policy_file = dir + "/n" + std::to_string(n) + ".toml";
    write_file(r.policy_file, p);
    return r;
}

}  // namespace bench
