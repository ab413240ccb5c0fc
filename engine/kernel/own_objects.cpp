#include "kernel/own_objects.hpp"

#include "compile/system_view.hpp"  // kernel_dev
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <cerrno>
#include <cstddef>
#include <string>
#include <sys/stat.h>
#include <vector>
#include <unistd.h>

namespace bulwark {
namespace {

int objects_fd = -1;
bw_object_owner owner{};

const char* type_name(bw_object_type type)
{
    switch (type) {
    case BW_OBJ_PROG: return "program";
    case BW_OBJ_MAP: return "map";
    case BW_OBJ_LINK: return "link";
    }
    return "object";
}

// Whether the object `key` names still exists: a fd by its id (then
// closed at once). Only ENOENT says it is gone; any other failure keeps it.
bool exists(const bw_object_key& key)
{
    int fd = -1;
    if (key.type == BW_OBJ_PROG) fd = bpf_prog_get_fd_by_id(key.id);
    else if (key.type == BW_OBJ_MAP) fd = bpf_map_get_fd_by_id(key.id);
    else fd = bpf_link_get_fd_by_id(key.id);
    if (fd >= 0) {
        ::close(fd);
        return true;
    }
    return errno != ENOENT;
}

}  // namespace

void set_own_objects_map(int fd)
{
    objects_fd = fd;
    struct stat st{};
    if (fd >= 0 && ::stat("/proc/self/exe", &st) == 0) {
        owner.exe_ino = st.st_ino;
        owner.exe_dev = kernel_dev(st.st_dev);
    }
    owner.parent_tgid = static_cast<uint32_t>(::getppid());
}

size_t prune_own_objects()
{
    if (objects_fd < 0) return 0;
    std::vector<bw_object_key> dead;
    bw_object_key key{};
    bw_object_key next{};
    const void* prev = nullptr;
    while (bpf_map_get_next_key(objects_fd, prev, &next) == 0) {
        if (!exists(next)) dead.push_back(next);
        key = next;
        prev = &key;
    }
    size_t removed = 0;
    for (const auto& k : dead)
        if (bpf_map_delete_elem(objects_fd, &k) == 0) ++removed;
    return removed;
}

void own_object(bw_object_type type, int fd)
{
    if (objects_fd < 0 || fd < 0) return;
    __u32 id = 0;
    int err = 0;
    if (type == BW_OBJ_PROG) {
        bpf_prog_info info{};
        __u32 len = sizeof(info);
        err = bpf_obj_get_info_by_fd(fd, &info, &len);
        id = info.id;
    } else if (type == BW_OBJ_MAP) {
        bpf_map_info info{};
        __u32 len = sizeof(info);
        err = bpf_obj_get_info_by_fd(fd, &info, &len);
        id = info.id;
    } else {
        bpf_link_info info{};
        __u32 len = sizeof(info);
        err = bpf_obj_get_info_by_fd(fd, &info, &len);
        id = info.id;
    }
    if (err != 0 || id == 0)
        throw Error(std::string("cannot read the id of bulwark's own ") + type_name(type) + ": " + errno_text(errno));
    const bw_object_key key{static_cast<__u32>(type), id};
    // A full map may still hold objects that are gone (a takeover that
    // failed before pruning): make room once before giving up.
    if (bpf_map_update_elem(objects_fd, &key, &owner, BPF_ANY) != 0 &&
        (errno != E2BIG || prune_own_objects() == 0 || bpf_map_update_elem(objects_fd, &key, &owner, BPF_ANY) != 0))
        throw Error(std::string("cannot register bulwark's own ") + type_name(type) + " " + std::to_string(id) +
                    " in bulwark_objects: " + errno_text(errno));
}

}  // namespace bulwark
