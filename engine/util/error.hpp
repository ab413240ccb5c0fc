// Operational failures (the kernel refused, a file could not be read) are
// thrown as bulwark::Error at the edges and printed by the command line as
// "bulwark: error: what" plus what to do. Problems in policies are not
// exceptions: they are Diagnostics, collected and printed with positions.
#pragma once

#include <stdexcept>
#include <string>

namespace bulwark {

class Error : public std::runtime_error {
public:
    Error(std::string what, std::string hint = {}, int exit_code = 4)
        : std::runtime_error(std::move(what)), hint_(std::move(hint)), exit_code_(exit_code)
    {
    }
    const std::string& hint() const { return hint_; }
    int exit_code() const { return exit_code_; }

private:
    std::string hint_;
    int exit_code_;
};

// Exit statuses of the command line.
enum ExitCode : int {
    exit_ok = 0,
    exit_policy_errors = 1,   // diagnostics with errors; nothing loaded
    exit_usage = 2,           // bad invocation
    exit_unsupported = 3,     // the kernel cannot enforce what was asked
    exit_failure = 4,         // anything else that failed
    exit_not_running = 5,     // reload/stop/status: no bulwark answers on the control socket
};

std::string errno_text(int err);  // "Operation not permitted (EPERM)"

}  // namespace bulwark
