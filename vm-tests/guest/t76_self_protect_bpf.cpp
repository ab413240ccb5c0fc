// bulwark's BPF objects (docs/decisions/011-self-protection.md, "bpf(2)"):
// from inside an enforcing policy's scope, no program, map or link
// bulwark owns can be had by id (GET_FD_BY_ID) or by pin (OBJ_GET), and a
// link fd obtained outside and inherited cannot detach or replace the
// link: each attempt fails with EPERM and is a "tamper" event naming the
// object and the bpf(2) command; outside every scope the same calls work;
// in audit mode they are would-deny and go through.
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

long sys_bpf(int cmd, bpf_attr& attr) { return syscall(SYS_bpf, cmd, &attr, sizeof(attr)); }

// bulwark_objects key (bulwark/abi.h: struct bw_object_key, enum bw_object_type).
struct ObjKey {
    uint32_t type, id;
    bool operator<(const ObjKey& o) const { return std::pair(type, id) < std::pair(o.type, o.id); }
};
constexpr uint32_t kProg = 1, kMap = 2, kLink = 3;
const char* type_name(uint32_t t) { return t == kProg ? "program" : t == kMap ? "map" : "link"; }

int get_fd_cmd(uint32_t t) {
    return t == kProg ? BPF_PROG_GET_FD_BY_ID : t == kMap ? BPF_MAP_GET_FD_BY_ID : BPF_LINK_GET_FD_BY_ID;
}
const char* get_fd_call(uint32_t t) {
    return t == kProg ? "prog-get-fd-by-id" : t == kMap ? "map-get-fd-by-id" : "link-get-fd-by-id";
}

// fd of object `id` of type `t`, or -errno.
int fd_by_id(uint32_t t, uint32_t id) {
    bpf_attr a{};
    if (t == kProg) a.prog_id = id;
    else if (t == kMap) a.map_id = id;
    else a.link_id = id;
    long fd = sys_bpf(get_fd_cmd(t), a);
    return fd < 0 ? -errno : static_cast<int>(fd);
}

// Every id of type `t` in the system (GET_NEXT_ID).
std::vector<uint32_t> all_ids(uint32_t t) {
    const int cmd = t == kProg ? BPF_PROG_GET_NEXT_ID : t == kMap ? BPF_MAP_GET_NEXT_ID : BPF_LINK_GET_NEXT_ID;
    std::vector<uint32_t> ids;
    uint32_t id = 0;
    for (;;) {
        bpf_attr a{};
        a.start_id = id;
        if (sys_bpf(cmd, a) != 0) break;
        id = a.next_id;
        ids.push_back(id);
    }
    return ids;
}

template <typename Info>
Info info_of(int fd) {
    Info info{};
    bpf_attr a{};
    a.info.bpf_fd = static_cast<uint32_t>(fd);
    a.info.info_len = sizeof(info);
    a.info.info = reinterpret_cast<uint64_t>(&info);
    if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, a) != 0) fail("BPF_OBJ_GET_INFO_BY_FD: ", errno_name(errno));
    return info;
}

// What bulwark registered as its own, read from outside every scope: the
// keys of the map named "bulwark_objects".
std::set<ObjKey> own_objects() {
    for (uint32_t id : all_ids(kMap)) {
        int fd = fd_by_id(kMap, id);
        if (fd < 0) continue;
        auto info = info_of<bpf_map_info>(fd);
        if (std::strcmp(info.name, "bulwark_objects") != 0) {
            close(fd);
            continue;
        }
        std::set<ObjKey> keys;
        ObjKey k{}, next{};
        bpf_attr a{};
        a.map_fd = static_cast<uint32_t>(fd);
        a.key = 0;
        a.next_key = reinterpret_cast<uint64_t>(&next);
        while (sys_bpf(BPF_MAP_GET_NEXT_KEY, a) == 0) {
            keys.insert(next);
            k = next;
            a.key = reinterpret_cast<uint64_t>(&k);
        }
        close(fd);
        return keys;
    }
    fail("no map named bulwark_objects");
    return {};
}

int obj_get(const std::string& path) {
    bpf_attr a{};
    a.pathname = reinterpret_cast<uint64_t>(path.c_str());
    long fd = sys_bpf(BPF_OBJ_GET, a);
    return fd < 0 ? -errno : static_cast<int>(fd);
}

int link_detach(int fd) {
    bpf_attr a{};
    a.link_detach.link_fd = static_cast<uint32_t>(fd);
    return sys_bpf(BPF_LINK_DETACH, a) == 0 ? 0 : errno;
}

// LINK_UPDATE to no program: EBADF from the kernel when nothing refuses first.
int link_update(int fd) {
    bpf_attr a{};
    a.link_update.link_fd = static_cast<uint32_t>(fd);
    a.link_update.new_prog_fd = static_cast<uint32_t>(-1);
    return sys_bpf(BPF_LINK_UPDATE, a) == 0 ? 0 : errno;
}


struct BpfAttempt {
    uint32_t type, id;
    std::string call;
};

void check_event(const Json& ev, const BpfAttempt& x, const std::string& verdict, const PolicyFile& p, pid_t child) {
    TamperCheck(ev, verdict, p, "bpf", child)
        .field("object", type_name(x.type))
        .field("call", x.call)
        .number("id", x.id)
        .done(cat(type_name(x.type), " ", x.id, " ", x.call));
}

}  // namespace

TEST("self-protect: bpf(2): in an enforcing policy's scope no fd of bulwark's programs, maps, links; no detach") {
    const std::string dir = test_dir(), secret = dir + "/secret";
    write_file(secret, "x\n");
    ScopedCgroup cg("bwt-bpf-" + std::to_string(getpid()));
    auto p = guard_policy(dir + "/pol", cg, secret, false);
    Bpffs fs(dir + "/bpf");
    const std::string pins = fs.dir + "/bulwark";
    Bulwark bw({{dir + "/pol"}, false, "-", {"--pin-dir", pins, "--stats-interval", "0"}});
    const Json ready = bw.wait_ready({"guard"});
    for (const char* want : {"bpf_map", "bpf_prog", "bpf"}) {
        bool found = false;
        for (const auto& prog : ready.list("programs")) found = found || prog == want;
        require(found, "ready line lacks program ", want, ": ", ready.line());
    }

    // What bulwark owns, and that it is everything: in this guest, every
    // program, link and map there is is bulwark's (each test's bulwark
    // stops before the next starts; a freed object leaves the id space at
    // once).
    const std::set<ObjKey> own = own_objects();
    size_t counts[4] = {};
    for (const auto& k : own) counts[k.type < 4 ? k.type : 0]++;
    require(counts[kProg] >= 5 && counts[kMap] >= 10 && counts[kLink] >= 5, "bulwark_objects holds ", counts[kProg],
            " programs, ", counts[kMap], " maps, ", counts[kLink], " links: too few");
    for (uint32_t t : {kProg, kMap, kLink})
        for (uint32_t id : all_ids(t))
            require(own.count({t, id}), type_name(t), " ", id, " exists but is not in bulwark_objects");

    // A link fd got outside every scope, inherited by the child.
    const uint32_t some_link = std::find_if(own.begin(), own.end(), [](const ObjKey& k) { return k.type == kLink; })->id;
    const int inherited = fd_by_id(kLink, some_link);
    require(inherited >= 0, "outside: LINK_GET_FD_BY_ID gave ", errno_name(-inherited));
    const std::vector<std::string> map_pins = files_in(pins + "/maps"), link_pins = files_in(pins + "/links");
    require(!map_pins.empty() && !link_pins.empty(), "no pins under ", pins);

    std::vector<BpfAttempt> expect;
    for (const auto& k : own) expect.push_back({k.type, k.id, get_fd_call(k.type)});
    for (const auto& pin : map_pins) {  // which map: its id, read outside
        int fd = obj_get(pin);
        require(fd >= 0, "outside: OBJ_GET ", pin, ": ", errno_name(-fd));
        expect.push_back({kMap, info_of<bpf_map_info>(fd).id, "obj-get"});
        close(fd);
    }
    expect.push_back({kLink, some_link, "link-detach"});
    expect.push_back({kLink, some_link, "link-update"});
    // A link pin gives an fd (no LSM hook makes link fds from pins) that
    // cannot be used either.
    {
        int fd = obj_get(link_pins.front());
        require(fd >= 0, "outside: OBJ_GET ", link_pins.front(), ": ", errno_name(-fd));
        expect.push_back({kLink, info_of<bpf_link_info>(fd).id, "link-detach"});
        close(fd);
    }

    auto r = run_child([&] {
        cg.enter();
        for (const auto& k : own) {
            int fd = fd_by_id(k.type, k.id);
            if (fd != -EPERM) fail("in scope: GET_FD_BY_ID of ", type_name(k.type), " ", k.id, " gave ", fd >= 0 ? "an fd" : errno_name(-fd), ", want EPERM");
        }
        for (const auto& pin : map_pins)
            if (int fd = obj_get(pin); fd != -EPERM) fail("in scope: OBJ_GET ", pin, " gave ", fd >= 0 ? "an fd" : errno_name(-fd), ", want EPERM");
        if (int e = link_detach(inherited); e != EPERM) fail("in scope: LINK_DETACH of an inherited fd gave ", errno_name(e), ", want EPERM");
        if (int e = link_update(inherited); e != EPERM) fail("in scope: LINK_UPDATE of an inherited fd gave ", errno_name(e), ", want EPERM");
        int pinned = obj_get(link_pins.front());
        if (pinned < 0) fail("in scope: OBJ_GET of a link pin gave ", errno_name(-pinned));
        if (int e = link_detach(pinned); e != EPERM) fail("in scope: LINK_DETACH of a pinned link gave ", errno_name(e), ", want EPERM");
        if (int e = open_errno(secret, O_RDONLY); e != EPERM) fail("in scope: open(secret) gave ", errno_name(e), ", want EPERM");
        return 0;
    });
    require(r.code == 0, "child exit ", r.code);
    for (const auto& x : expect) check_event(bw.next_verdict(cat(type_name(x.type), " ", x.id, " ", x.call)), x, "deny", p, r.pid);
    Json file = bw.next_verdict("open(secret) after the attempts");
    require(file.str("kind") == "file" && file.str("verdict") == "deny" && file.num("pid") == r.pid,
            "the next event is not the file denial: ", file.line());

    // Outside every scope (a child of the test, not bulwark's parent):
    // every object by id and by pin; LINK_UPDATE reaches the kernel.
    auto out = run_child([&] {
        for (const auto& k : own) {
            int fd = fd_by_id(k.type, k.id);
            if (fd < 0) fail("outside: GET_FD_BY_ID of ", type_name(k.type), " ", k.id, " gave ", errno_name(-fd));
            close(fd);
        }
        for (const auto& pin : map_pins)
            if (int fd = obj_get(pin); fd < 0) fail("outside: OBJ_GET ", pin, " gave ", errno_name(-fd));
        if (int e = link_update(inherited); e != EBADF)
            fail("outside: LINK_UPDATE to no program gave ", errno_name(e), ", want the kernel's EBADF");
        return 0;
    });
    require(out.code == 0, "outside child exit ", out.code);
    expect_next_denial(bw, cg, secret, "the outside calls");
    close(inherited);
    bw.stop_and_check();
    Json stats = final_stats(bw);
    require(stats.num("tamper_denied") == static_cast<long long>(expect.size()) &&
                stats.num("denied") == static_cast<long long>(expect.size() + 2),
            "stats: tamper_denied ", stats.str("tamper_denied"), " (want ", expect.size(), "), denied ",
            stats.str("denied"), " (want ", expect.size() + 2, "): ", stats.line());
}

TEST("self-protect: bpf(2): in audit mode GET_FD_BY_ID of bulwark's objects is would-deny and works") {
    const std::string dir = test_dir(), secret = dir + "/secret";
    write_file(secret, "x\n");
    ScopedCgroup cg("bwt-bpf-" + std::to_string(getpid()));
    auto p = guard_policy(dir + "/pol", cg, secret, true);
    Bulwark bw({{dir + "/pol"}, false, "-", {"--stats-interval", "0"}});
    bw.wait_ready({"guard"}, "audit");
    const std::set<ObjKey> own = own_objects();
    std::vector<BpfAttempt> expect;
    for (uint32_t t : {kProg, kMap, kLink}) {
        auto it = std::find_if(own.begin(), own.end(), [t](const ObjKey& k) { return k.type == t; });
        require(it != own.end(), "bulwark owns no ", type_name(t));
        expect.push_back({t, it->id, get_fd_call(t)});
    }
    auto r = run_child([&] {
        cg.enter();
        for (const auto& x : expect) {
            int fd = fd_by_id(x.type, x.id);
            if (fd < 0) fail("audit: GET_FD_BY_ID of ", type_name(x.type), " ", x.id, " gave ", errno_name(-fd));
            close(fd);
        }
        return 0;
    });
    require(r.code == 0, "child exit ", r.code);
    for (const auto& x : expect) check_event(bw.next_verdict(get_fd_call(x.type)), x, "would-deny", p, r.pid);
    bw.stop_and_check();
    Json stats = final_stats(bw);
    require(stats.num("tamper_denied") == 0 && stats.num("would_deny") == 3, "stats: ", stats.line());
}
