// File rules on overlayfs, the root of every container (issue 11): a real
// overlay mount (lower directory in the test's tmpfs, upper and work
// directories either in the same tmpfs or in a tmpfs of their own — the
// two ways overlayfs numbers inodes), rules written on the overlay's paths.
// A file of the lower layer, the same kind of file after copy-up, a file
// only in the upper layer, a tree in the overlay; read denial, create,
// unlink and rename in a write-protected overlay directory; the event names
// the path through the overlay; reading the lower layer directly is not
// decided by the overlay's rules; the rules still hold after the kernel has
// dropped the overlay's cached inodes; an audit-mode policy reports one
// would-deny per open (not a second one for the layer's file behind it).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "framework.hpp"
#include "support.hpp"

using namespace guest;

namespace {

int err(int rc) {
    return rc == 0 ? 0 : errno;
}

bool exists(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
}

// overlayfs is a module in Debian's cloud kernels.
void load_overlayfs() {
    load_module("overlay", [] { return read_file("/proc/filesystems").find("\toverlay\n") != std::string::npos; });
}

// lower/ in the test's directory; upper/ and work/ beside it (one tmpfs:
// overlayfs's "same fs" numbering) or on a tmpfs of their own (inode
// numbers of two filesystems: non-directories report the layer's device).
struct Overlay {
    std::string lower, upfs, upper, work, merged;
    bool own_upper;
    Overlay(const std::string& dir, bool separate_upper) : own_upper(separate_upper) {
        load_overlayfs();
        lower = dir + "/lower";
        upfs = dir + "/up";
        upper = upfs + "/upper";
        work = upfs + "/work";
        merged = dir + "/merged";
        make_dirs(lower);
        make_dirs(upfs);
        make_dirs(merged);
        if (own_upper && mount("tmpfs", upfs.c_str(), "tmpfs", 0, "mode=0755") != 0)
            fail("mount tmpfs ", upfs, ": ", errno_name(errno));
        make_dirs(upper);
        make_dirs(work);
    }
    void mount_it() const {
        const std::string opts = cat("lowerdir=", lower, ",upperdir=", upper, ",workdir=", work);
        if (mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) != 0)
            fail("mount overlay ", merged, " (", opts, "): ", errno_name(errno));
    }
    ~Overlay() {
        umount2(merged.c_str(), MNT_DETACH);
        if (own_upper) umount2(upfs.c_str(), MNT_DETACH);
    }
};

void drop_caches() {
    sync();
    write_file("/proc/sys/vm/drop_caches", "3\n");
}

void check_op(const Json& ev, const PolicyFile& p, const std::string& tag, const std::string& op,
              const std::string& access, const std::string& path) {
    check_event(ev, expect_self("deny", "t", p.rule(tag), path, access));
    require(ev.str("op") == op, "event op '", ev.str("op"), "', want '", op, "': ", ev.line());
    require(!ev.has("backing"), "an event for the process's own operation is not marked backing: ", ev.line());
}

void overlay_enforce(bool separate_upper) {
    Fixture fx;
    Overlay ov(fx.dir, separate_upper);
    make_dirs(ov.lower + "/tree/sub");
    write_file(ov.lower + "/secret", "lower secret\n");
    write_file(ov.lower + "/cow", "copy me up\n");
    write_file(ov.lower + "/ok", "ok\n");
    write_file(ov.lower + "/tree/a", "a\n");
    write_file(ov.lower + "/tree/sub/b", "b\n");
    make_dirs(ov.lower + "/layer");
    write_file(ov.lower + "/layer/f", "in a tree denied by its lower-layer path\n");
    ov.mount_it();
    const std::string m = ov.merged;
    write_file(m + "/uponly", "only in the upper layer\n");
    require(exists(ov.upper + "/uponly") && !exists(ov.lower + "/uponly"), "uponly is not in the upper layer only");

    auto p = write_policy(fx.pol + "/t.toml", cat("[policy]\nname = \"t\"\n\n"
                                                  "[[file]] # secret\npaths = [\"", m, "/secret\"]\naction = \"deny\"\n\n"
                                                  "[[file]] # uponly\npaths = [\"", m, "/uponly\"]\naction = \"deny\"\n\n"
                                                  "[[file]] # cow\npaths = [\"", m, "/cow\"]\naccess = [\"read\"]\naction = \"deny\"\n\n"
                                                  "[[file]] # tree\nprefixes = [\"", m, "/tree/\"]\naction = \"deny\"\n\n"
                                                  "[[file]] # layer\nprefixes = [\"", ov.lower, "/layer/\"]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});

    // A file of the lower layer, through the overlay.
    expect_open(m + "/secret", O_RDONLY, EPERM, "a lower-layer file through the overlay");
    check_op(bw.next_verdict("open(merged/secret)"), p, "secret", "open", "read", m + "/secret");
    expect_open(m + "/ok", O_RDONLY, 0, "a lower-layer file beside it");
    fx.no_event_for(bw, "open(merged/ok)");
    // The same file in the lower directory is another file (docs/decisions/013-overlayfs.md).
    expect_open(ov.lower + "/secret", O_RDONLY, 0, "the lower layer's own file, opened directly");
    fx.no_event_for(bw, "open(lower/secret)");

    // A rule on the lower layer's own path decides opens of that path, not
    // of the overlay's file above it (6.6+ opens the layer's file as a
    // backing file: not decided again).
    expect_open(ov.lower + "/layer/f", O_RDONLY, EPERM, "the lower layer's own path under a rule on it");
    check_op(bw.next_verdict("open(lower/layer/f)"), p, "layer", "open", "read", ov.lower + "/layer/f");
    expect_open(m + "/layer/f", O_RDONLY, 0, "the overlay's file over a denied lower-layer path");
    fx.no_event_for(bw, "open(merged/layer/f)");

    // A file only in the upper layer.
    expect_open(m + "/uponly", O_RDONLY, EPERM, "an upper-only file");
    check_op(bw.next_verdict("open(merged/uponly)"), p, "uponly", "open", "read", m + "/uponly");

    // A tree in the overlay (lower-layer directories).
    expect_open(m + "/tree/a", O_RDONLY, EPERM, "a file in the denied tree");
    check_op(bw.next_verdict("open(merged/tree/a)"), p, "tree", "open", "read", m + "/tree/a");
    expect_open(m + "/tree/sub/b", O_WRONLY, EPERM, "a file deeper in the denied tree");
    check_op(bw.next_verdict("open(merged/tree/sub/b)"), p, "tree", "open", "write", m + "/tree/sub/b");

    // Copy-up: writing is allowed (the rule is read-only), and it copies the
    // file into the upper layer; reading it is still denied.
    require(!exists(ov.upper + "/cow"), "cow already copied up");
    expect_open(m + "/cow", O_WRONLY | O_APPEND, 0, "writing a read-denied file (copy-up)");
    fx.no_event_for(bw, "open(merged/cow, O_WRONLY)");
    require(exists(ov.upper + "/cow"), "open for writing did not copy cow up");
    expect_open(m + "/cow", O_RDONLY, EPERM, "a copied-up file");
    check_op(bw.next_verdict("open(merged/cow) after copy-up"), p, "cow", "open", "read", m + "/cow");
    // Copy-up by chmod, of a file in the denied tree: denied (metadata), and nothing copied.
    require(err(chmod((m + "/tree/a").c_str(), 0600)) == EPERM, "chmod(merged/tree/a) not EPERM");
    check_op(bw.next_verdict("chmod(merged/tree/a)"), p, "tree", "metadata", "metadata", m + "/tree/a");
    require(!exists(ov.upper + "/tree/a"), "a denied chmod copied tree/a up");

    // Changes in the write-protected overlay directory.
    require(open_errno(m + "/tree/new", O_WRONLY | O_CREAT) == EPERM, "create in merged/tree/ not EPERM");
    check_op(bw.next_verdict("create merged/tree/new"), p, "tree", "create", "create", m + "/tree/new");
    require(!exists(m + "/tree/new") && !exists(ov.upper + "/tree/new"), "merged/tree/new was created");
    require(err(unlink((m + "/tree/a").c_str())) == EPERM, "unlink(merged/tree/a) not EPERM");
    check_op(bw.next_verdict("unlink merged/tree/a"), p, "tree", "delete", "delete", m + "/tree/a");
    require(exists(m + "/tree/a"), "merged/tree/a is gone");
    require(err(rename((m + "/tree/a").c_str(), (m + "/moved").c_str())) == EPERM, "rename out of merged/tree/ not EPERM");
    check_op(bw.next_verdict("rename merged/tree/a"), p, "tree", "rename", "rename", m + "/tree/a");
    require(exists(m + "/tree/a") && !exists(m + "/moved"), "merged/tree/a was renamed");
    require(open_errno(m + "/free", O_WRONLY | O_CREAT) == 0, "create beside the tree");
    fx.no_event_for(bw, "create merged/free");

    // The kernel forgets the overlay's inodes (new ones get new numbers
    // when overlayfs cannot take them from the layers): rules still hold.
    drop_caches();
    expect_open(m + "/tree/a", O_RDONLY, EPERM, "the denied tree after drop_caches");
    check_op(bw.next_verdict("open(merged/tree/a) after drop_caches"), p, "tree", "open", "read", m + "/tree/a");
    expect_open(m + "/tree/sub/b", O_RDONLY, EPERM, "the denied tree's subdirectory after drop_caches");
    check_op(bw.next_verdict("open(merged/tree/sub/b) after drop_caches"), p, "tree", "open", "read", m + "/tree/sub/b");
    expect_open(m + "/secret", O_RDONLY, EPERM, "the lower-layer file after drop_caches");
    check_op(bw.next_verdict("open(merged/secret) after drop_caches"), p, "secret", "open", "read", m + "/secret");
    expect_open(m + "/cow", O_RDONLY, EPERM, "the copied-up file after drop_caches");
    check_op(bw.next_verdict("open(merged/cow) after drop_caches"), p, "cow", "open", "read", m + "/cow");
    expect_open(m + "/ok", O_RDONLY, 0, "the file beside them after drop_caches");
    fx.no_event_for(bw, "open(merged/ok) after drop_caches");
    bw.stop_and_check();
}

void overlay_audit(bool separate_upper) {
    Fixture fx;
    Overlay ov(fx.dir, separate_upper);
    write_file(ov.lower + "/secret", "lower secret\n");
    ov.mount_it();
    const std::string m = ov.merged;
    auto p = write_policy(fx.pol + "/t.toml", cat("[policy]\nname = \"t\"\nmode = \"audit\"\n\n"
                                                  "[[file]] # secret\npaths = [\"", m, "/secret\"]\naction = \"deny\"\n"));
    Bulwark bw({{fx.pol}});
    bw.wait_ready({"marker", "t"});
    expect_open(m + "/secret", O_RDONLY, 0, "audit mode");
    Json ev = bw.next_verdict("open(merged/secret) in audit mode");
    check_event(ev, expect_self("would-deny", "t", p.rule("secret"), m + "/secret", "read"));
    // The kernel's own open of the layer's file behind it is not another would-deny.
    fx.no_event_for(bw, "the backing open of merged/secret");
    bw.stop_and_check();
}

}  // namespace

TEST("overlay: lower, copied-up, upper-only files and a tree (upper on the same tmpfs)") {
    overlay_enforce(false);
}

TEST("overlay: lower, copied-up, upper-only files and a tree (upper on its own tmpfs)") {
    overlay_enforce(true);
}

TEST("overlay: audit mode reports one would-deny per open (same tmpfs)") {
    overlay_audit(false);
}

TEST("overlay: audit mode reports one would-deny per open (own tmpfs)") {
    overlay_audit(true);
}
