// RealSystem resolves a path's directory once and the name with one lstat:
// its answers must be realpath(3)'s and stat(2)'s, whatever the path holds.
#include "compile/system_view.hpp"

#include <doctest/doctest.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace bulwark;
namespace fs = std::filesystem;

namespace {

std::optional<std::string> libc_realpath(const std::string& p)
{
    char buf[PATH_MAX];
    if (::realpath(p.c_str(), buf) == nullptr) return std::nullopt;
    return std::string(buf);
}

struct Tree {
    std::string root;
    Tree()
    {
        char tmpl[] = "/tmp/bw-sysview-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        root = tmpl;
        fs::create_directories(root + "/real/sub");
        std::ofstream(root + "/real/file") << "x";
        std::ofstream(root + "/real/sub/deep") << "y";
        fs::create_symlink(root + "/real", root + "/dirlink");
        fs::create_symlink("file", root + "/real/filelink");
        fs::create_symlink("sub/../file", root + "/real/twisty");
        fs::create_symlink("nowhere", root + "/real/dangling");
    }
    ~Tree() { fs::remove_all(root); }
};

}  // namespace

TEST_CASE("RealSystem::canonical and identify agree with realpath(3) and stat(2)")
{
    Tree t;
    const std::string r = t.root;
    const std::string paths[] = {
        "/", r, r + "/", r + "/real", r + "/real/", r + "/real/file", r + "/real/sub/deep",
        r + "/dirlink/file", r + "/dirlink/sub/deep", r + "/dirlink", r + "/real/filelink",
        r + "/real/twisty", r + "/real/dangling", r + "/real/missing", r + "/nodir/missing",
        r + "/real/sub/../file", r + "/real/./file", r + "/real/sub/..", r + "/real/.", r + "//real//file",
        r + "/real/file/impossible",
    };
    RealSystem sys;
    for (int pass = 0; pass < 2; ++pass) {  // the second pass answers from what the first remembered
        for (const auto& p : paths) {
            CAPTURE(p);
            CAPTURE(pass);
            const auto want = libc_realpath(p);
            const auto got = sys.canonical(p);
            CHECK(got == want);
            if (!got) continue;
            struct stat st {};
            REQUIRE(::stat(got->c_str(), &st) == 0);
            const auto id = sys.identify(*got);
            REQUIRE(id);
            CHECK(id->ino == static_cast<uint64_t>(st.st_ino));
            CHECK(id->dev == kernel_dev(st.st_dev));
            CHECK(id->is_dir == S_ISDIR(st.st_mode));
            CHECK(id->nlink == static_cast<uint32_t>(st.st_nlink));
        }
    }
    CHECK_FALSE(sys.identify(r + "/real/missing"));
}
