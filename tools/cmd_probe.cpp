// bulwark probe: what can this kernel enforce, and through what? Prints
// what bulwark checks before it loads anything, then per kind of rule the
// backend it gets and why (docs/decisions/010-backends.md); where BPF-LSM
// is built but not active, the kernel argument that activates it. Exit 0
// when BPF-LSM decides every kind here, 3 when not (fallbacks or nothing).
#include "backend/coverage.hpp"
#include "commands.hpp"
#include "kernel/probe.hpp"
#include "util/error.hpp"

#include <iomanip>
#include <iostream>

namespace bulwark {

int cmd_probe(const Args& args)
{
    if (!args.empty()) {
        std::cout << "usage: bulwark probe\n\nSay what this kernel can enforce: whether BPF-LSM is active and "
                     "accepted, which\nhooks exist, and per kind of rule (file open, file operations, exec, exec "
                     "through\nthe loader, connect, monitors) which backend decides it and why. Exit 0 if BPF-LSM\n"
                     "decides every kind, 3 if not.\n\n"
                     "examples:\n"
                     "  bulwark probe\n"
                     "  bulwark probe >/dev/null && echo \"BPF-LSM enforces everything here\"\n";
        return args[0] == "--help" || args[0] == "-h" ? exit_ok : exit_usage;
    }
    const KernelSupport s = probe_kernel();
    std::cout << "kernel:            " << s.kernel_release << '\n'
              << "active LSMs:       " << s.lsm_list.value_or("(unreadable)") << '\n'
              << "bpf LSM active:    " << (s.bpf_lsm_active ? "yes" : "no") << '\n'
              << "LSM programs load: " << (s.lsm_programs_load ? "yes" : "no") << '\n';
    for (const char* hook : {"file_open", "bprm_check_security", "mmap_file", "socket_connect", "socket_sendmsg",
                             "task_kill", "ptrace_access_check", "bpf_map", "bpf_prog", "bpf"})
        std::cout << "hook " << std::left << std::setw(21) << std::string(hook) + ":"
                  << (lsm_hook_exists(hook) ? "present" : "absent") << '\n';
    const BackendSupport support = backend_support(s);
    const Backends backends = choose_backends(support);
    std::cout << "BPF-LSM:           " << (support.bpf_lsm ? "enforces" : "cannot enforce: " + support.bpf_lsm_why_not)
              << '\n';
    std::cout << "backends (kind of rule: mechanism, why):\n";
    for (const auto& r : coverage(support, backends))
        std::cout << "  " << std::left << std::setw(25) << r.what + ":" << std::setw(19) << r.mechanism + " " << r.why
                  << '\n';
    if (const auto arg = lsm_argument(s)) {
        std::cout << "to enable BPF-LSM: boot with " << *arg << "\n"
                  << "  (GRUB: add it to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub, reboot)\n";
    }
    if (!support.bpf_lsm) {
        std::cout << "enforcement:       degraded: only the kinds above with a mechanism other than none\n";
        return exit_unsupported;
    }
    std::cout << "enforcement:       possible (BPF-LSM)\n";
    return exit_ok;
}

}  // namespace bulwark
