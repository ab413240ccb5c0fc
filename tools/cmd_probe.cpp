// bulwark probe: can this kernel enforce? Prints what bulwark checks before
// it loads anything; exit 0 when BPF-LSM enforcement works here, 3 when not.
#include "commands.hpp"
#include "kernel/probe.hpp"
#include "util/error.hpp"

#include <iomanip>
#include <iostream>

namespace bulwark {

int cmd_probe(const Args& args)
{
    if (!args.empty()) {
        std::cout << "usage: bulwark probe\n\nSay whether this kernel can enforce bulwark policies "
                     "(BPF-LSM active and accepted,\nwhich hooks exist). Exit 0 if it can, 3 if not.\n\n"
                     "examples:\n"
                     "  bulwark probe\n"
                     "  bulwark probe >/dev/null && echo \"this kernel enforces\"\n";
        return args[0] == "--help" || args[0] == "-h" ? exit_ok : exit_usage;
    }
    const KernelSupport s = probe_kernel();
    std::cout << "kernel:            " << s.kernel_release << '\n'
              << "active LSMs:       " << s.lsm_list.value_or("(unreadable)") << '\n'
              << "bpf LSM active:    " << (s.bpf_lsm_active ? "yes" : "no") << '\n'
              << "LSM programs load: " << (s.lsm_programs_load ? "yes" : "no") << '\n';
    for (const char* hook : {"file_open", "bprm_check_security", "mmap_file", "socket_connect", "socket_sendmsg"})
        std::cout << "hook " << std::left << std::setw(21) << std::string(hook) + ":"
                  << (lsm_hook_exists(hook) ? "present" : "absent") << '\n';
    try {
        require_lsm_enforcement(s);
    } catch (const Error& e) {
        std::cout << "enforcement:       not possible: " << e.what() << '\n';
        return exit_unsupported;
    }
    std::cout << "enforcement:       possible\n";
    return exit_ok;
}

}  // namespace bulwark
