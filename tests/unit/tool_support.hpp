// Shared by the tests of the offline tools (lint, explain, test): policies
// parsed from TOML text as the tools read them, a fake machine shaped like
// a Debian server, and diagnostics lookup.
#pragma once

#include "compile/compiler.hpp"
#include "fake_system.hpp"
#include "policy/parser.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace bulwark::test {

// A merged-/usr Debian machine: /bin, /sbin, /lib, /lib64 are symlinks
// into /usr; a shell, an init, a loader; users root, www-data, alice;
// cgroup v2 at /sys/fs/cgroup with nginx's service and a login session.
inline FakeSystem server()
{
    FakeSystem s;
    for (const char* d : {"/usr/bin", "/usr/sbin", "/usr/lib/systemd", "/usr/lib64", "/etc/ssh", "/etc/cron.d", "/root",
                          "/home/alice", "/srv/www", "/tmp", "/var/log", "/var/www/html"})
        s.mkdirs(d);
    for (const char* f : {"/usr/bin/dash", "/usr/bin/bash", "/usr/bin/ls", "/usr/bin/curl", "/usr/bin/ssh",
                          "/usr/lib/systemd/systemd", "/usr/lib64/ld-linux-x86-64.so.2", "/usr/sbin/nginx",
                          "/etc/shadow", "/etc/passwd", "/etc/hosts", "/etc/ssh/sshd_config", "/srv/www/index.html",
                          "/var/www/html/index.html", "/tmp/x"})
        s.touch(f);
    s.symlink("/bin", "usr/bin");
    s.symlink("/sbin", "usr/sbin");
    s.symlink("/lib", "usr/lib");
    s.symlink("/lib64", "usr/lib64");
    s.symlink("/usr/bin/sh", "dash");
    s.symlink("/usr/sbin/init", "../lib/systemd/systemd");
    s.add_user("root", 0);
    s.add_user("www-data", 33);
    s.add_user("alice", 1000);
    s.mount_cgroup2();
    s.mkcgroup("system.slice/nginx.service");
    s.mkcgroup("user.slice/user-1000.slice");
    return s;
}

// Policies parsed from (file name, text) pairs; every file must parse.
inline std::vector<Policy> parse_all(const std::vector<std::pair<std::string, std::string>>& files,
                                     std::vector<TestCase>* tests = nullptr)
{
    std::vector<Policy> out;
    // Named references, not a structured binding: doctest's INFO captures
    // in a lambda, which Debian 12's clang refuses for bindings.
    for (const auto& file : files) {
        const std::string& name = file.first;
        const std::string& text = file.second;
        ParseResult r = parse_policy_text(text, name);
        std::ostringstream os;
        r.diagnostics.print(os);
        INFO("parsing " << name << ":\n" << os.str());
        REQUIRE(!r.diagnostics.has_errors());
        for (auto& p : r.policies) out.push_back(std::move(p));
        if (tests) tests->insert(tests->end(), r.tests.begin(), r.tests.end());
    }
    return out;
}

inline std::string text_of(const Diagnostics& d)
{
    std::ostringstream os;
    d.print(os);
    return os.str();
}

inline std::vector<const Diagnostic*> all_with(const Diagnostics& ds, const std::string& needle)
{
    std::vector<const Diagnostic*> out;
    for (const Diagnostic& d : ds.all())
        if (d.message.find(needle) != std::string::npos) out.push_back(&d);
    return out;
}

// A policy set parsed and compiled on `sys` (it must compile), with its
// [[test]] cases.
struct CompiledSet {
    std::vector<Policy> policies;
    std::vector<TestCase> tests;
    MapImage image;
};

inline CompiledSet compile_set(const std::vector<std::pair<std::string, std::string>>& files, const SystemView& sys)
{
    CompiledSet s;
    s.policies = parse_all(files, &s.tests);
    CompileResult r = compile(s.policies, sys);
    INFO(text_of(r.diagnostics));
    REQUIRE(r.image.has_value());
    s.image = std::move(*r.image);
    return s;
}

}  // namespace bulwark::test
