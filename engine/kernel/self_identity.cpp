#include "kernel/self_identity.hpp"

#include "util/error.hpp"
#include "util/pid_namespace.hpp"
#include "whoami.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <memory>
#include <unistd.h>

namespace bulwark {

std::optional<uint32_t> kernel_self_tgid(std::string& why)
{
    std::unique_ptr<whoami_bpf, void (*)(whoami_bpf*)> skel(whoami_bpf__open_and_load(), whoami_bpf__destroy);
    if (!skel) {
        why = "the kernel refused the raw tracepoint program that asks: " + errno_text(errno);
        return std::nullopt;
    }
    // No context, no flags: the test run happens synchronously on this
    // CPU, in this thread (BPF_F_TEST_RUN_ON_CPU would run it elsewhere).
    LIBBPF_OPTS(bpf_test_run_opts, run);
    if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bulwark_whoami), &run) != 0) {
        why = "BPF_PROG_TEST_RUN of the raw tracepoint program that asks failed: " + errno_text(errno);
        return std::nullopt;
    }
    return static_cast<uint32_t>(run.retval);
}

uint32_t learn_self_tgid()
{
    std::string why;
    const std::optional<uint32_t> probed = kernel_self_tgid(why);
    return choose_self_tgid(probed, why, own_pid_namespace(), static_cast<uint32_t>(::getpid()));
}

uint32_t learn_self_parent_tgid()
{
    return own_pid_namespace() == PidNamespace::initial ? static_cast<uint32_t>(::getppid()) : 0;
}

}  // namespace bulwark
