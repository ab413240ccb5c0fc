// Which of an LSM object's programs the loader keeps on this kernel
// (select_lsm_programs): a hook whose prototype changed between kernels
// has one program per prototype, named "<name>__<N>args", and exactly the
// one whose N is the kernel's number of arguments is loaded. Nothing is
// loaded here: the object is only opened and its programs' autoload read.
#include "enforce.skel.h"
#include "kernel/bpf_handles.hpp"
#include "kernel/object_registry.hpp"
#include "kernel/probe.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>

using namespace bulwark;

TEST_CASE("program names: \"__<N>args\" gives N, any other name -1")
{
    CHECK(program_arity("bulwark_inode_setattr__2args") == 2);
    CHECK(program_arity("bulwark_inode_setattr__3args") == 3);
    CHECK(program_arity("bulwark_file_open") == -1);
    CHECK(program_arity("x__args") == -1);
    CHECK(program_arity("x__3arg") == -1);
    CHECK(program_arity("x__3argsx") == -1);
    CHECK(program_arity("x_3args") == -1);
}

TEST_CASE("a hook's arity comes from this kernel's BTF")
{
    BtfPtr vmlinux(btf__load_vmlinux_btf());
    REQUIRE(vmlinux);
    CHECK(lsm_hook_arity(vmlinux.get(), "file_open") == 1);
    CHECK(lsm_hook_arity(vmlinux.get(), "no_such_hook") == -1);
    const int setattr = lsm_hook_arity(vmlinux.get(), "inode_setattr");
    CHECK_MESSAGE((setattr == 2 || setattr == 3), "inode_setattr takes ", setattr);  // 6.1: 2; 6.8 on: 3
}

TEST_CASE("inode_setattr: of the enforce object's two programs, the one this kernel's prototype takes is kept")
{
    BtfPtr vmlinux(btf__load_vmlinux_btf());
    REQUIRE(vmlinux);
    const int setattr = lsm_hook_arity(vmlinux.get(), "inode_setattr");
    enforce_bpf* skel = enforce_bpf__open();
    REQUIRE(skel);
    ProgramOptions options;
    options.lsm_programs = {"inode_setattr", "file_open"};
    select_lsm_programs(skel->obj, options);
    std::map<std::string, bool> kept;  // program name → autoload
    bpf_program* prog;
    bpf_object__for_each_program(prog, skel->obj)
    {
        if (attach_point(prog) == "inode_setattr" || attach_point(prog) == "file_open")
            kept[bpf_program__name(prog)] = bpf_program__autoload(prog);
        else if (std::string(bpf_program__section_name(prog)).rfind("lsm/", 0) == 0)
            CHECK_MESSAGE(!bpf_program__autoload(prog), bpf_program__name(prog), " is not asked for");
    }
    enforce_bpf__destroy(skel);
    CHECK(kept.size() == 3);
    CHECK(kept["bulwark_inode_setattr__2args"] == (setattr == 2));
    CHECK(kept["bulwark_inode_setattr__3args"] == (setattr == 3));
    CHECK(kept["bulwark_file_open"]);
}
