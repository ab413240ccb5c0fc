// The subcommands of build/bulwark. Each takes its own arguments (after
// the subcommand name) and returns the process exit status (ExitCode).
#pragma once

#include <string>
#include <vector>

namespace bulwark {

using Args = std::vector<std::string>;

int cmd_run(const Args& args);
int cmd_lint(const Args& args);
int cmd_compile(const Args& args);
int cmd_probe(const Args& args);
int cmd_explain(const Args& args);
int cmd_test(const Args& args);
int cmd_report(const Args& args);
// The control socket's clients (cmd_control.cpp).
int cmd_reload(const Args& args);
int cmd_stop(const Args& args);
int cmd_status(const Args& args);

}  // namespace bulwark
