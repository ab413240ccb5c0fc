#include "kernel/probe.hpp"

#include "fanotify/backend.hpp"

#include "compile/system_view.hpp"
#include "kernel/bpf_handles.hpp"
#include "util/error.hpp"
#include "util/lsm_list.hpp"

#include <bpf/libbpf.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>

namespace bulwark {
namespace {

constexpr const char* kSecurityfs = "/sys/kernel/security";

// The LSM list, mounting securityfs first when it is not: it often is not,
// and mounting it changes nothing else.
std::optional<std::string> read_lsm_list_mounting()
{
    if (auto list = read_lsm_list()) return list;
    struct stat st {};
    if (::stat(kSecurityfs, &st) == 0 && S_ISDIR(st.st_mode)) ::mount("securityfs", kSecurityfs, "securityfs", 0, nullptr);
    return read_lsm_list();
}

}  // namespace

KernelSupport probe_kernel()
{
    KernelSupport s;
    s.lsm_list = read_lsm_list_mounting();
    s.bpf_lsm_active = s.lsm_list && lsm_list_has(*s.lsm_list, "bpf");
    s.lsm_programs_load = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_LSM, nullptr) == 1;
    struct utsname u {};
    if (::uname(&u) == 0) s.kernel_release = u.release;
    return s;
}

void require_lsm_enforcement(const KernelSupport& s)
{
    if (!s.lsm_list) {
        throw Error("cannot read the active LSM list (" + std::string(kLsmListPath) +
                        "), so bulwark cannot tell whether BPF-LSM programs would enforce anything",
                    "mount securityfs (mount -t securityfs securityfs /sys/kernel/security) and run again",
                    exit_unsupported);
    }
    if (!s.bpf_lsm_active) {
        throw Error("\"bpf\" is not in the kernel's active LSM list (" + *s.lsm_list +
                        "): BPF-LSM programs would load and deny nothing, so bulwark refuses to start",
                    "boot with bpf in the list, e.g. lsm=" + *s.lsm_list +
                        ",bpf on the kernel command line (the kernel needs CONFIG_BPF_LSM=y)",
                    exit_unsupported);
    }
    if (!s.lsm_programs_load) {
        throw Error("this kernel (" + s.kernel_release +
                        ") refuses BPF-LSM programs although bpf is an active LSM (loading an LSM program "
                        "fails), so bulwark cannot enforce here",
                    "run on a kernel that accepts them (vm-tests/run boots Debian's 6.1 and 6.12 kernels, "
                    "where they load), or load policies that only hold monitors",
                    exit_unsupported);
    }
}

BackendSupport backend_support(const KernelSupport& s)
{
    BackendSupport b;
    try {
        require_lsm_enforcement(s);
        b.bpf_lsm = true;
    } catch (const Error& e) {
        b.bpf_lsm_why_not = e.what();
    }
    if (!RealSystem().cgroup2_mount()) {
        b.cgroup_sock_addr_why_not = "cgroup v2 is not mounted (its root is where the socket hooks attach)";
    } else if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, nullptr) != 1) {
        b.cgroup_sock_addr_why_not = "this kernel refuses cgroup socket-address programs (CONFIG_CGROUP_BPF)";
    } else {
        b.cgroup_sock_addr = true;
    }
    b.fanotify = fanotify_available(b.fanotify_why_not);
    return b;
}

std::optional<std::string> lsm_argument(const KernelSupport& s)
{
    if (!s.lsm_list || s.bpf_lsm_active || !lsm_hook_exists("file_open")) return std::nullopt;
    return "lsm=" + *s.lsm_list + (s.lsm_list->empty() ? "" : ",") + "bpf";
}

bool lsm_hook_exists(const std::string& hook)
{
    BtfPtr vmlinux(btf__load_vmlinux_btf());
    return lsm_hook_exists(vmlinux.get(), hook);
}

bool lsm_hook_exists(const btf* vmlinux, const std::string& hook)
{
    if (!vmlinux) return false;
    return btf__find_by_name_kind(vmlinux, ("bpf_lsm_" + hook).c_str(), BTF_KIND_FUNC) >= 0;
}

int lsm_hook_arity(const btf* vmlinux, const std::string& hook)
{
    if (!vmlinux) return -1;
    const int id = btf__find_by_name_kind(vmlinux, ("bpf_lsm_" + hook).c_str(), BTF_KIND_FUNC);
    const btf_type* func = id < 0 ? nullptr : btf__type_by_id(vmlinux, static_cast<__u32>(id));
    const btf_type* proto = func ? btf__type_by_id(vmlinux, func->type) : nullptr;
    return proto && btf_is_func_proto(proto) ? btf_vlen(proto) : -1;
}

}  // namespace bulwark
