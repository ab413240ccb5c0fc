/*
 * bwt-dyn: a dynamically linked program for the exec tests
 * (vm-tests/guest/t30_exec.cpp): run directly, the kernel maps it and its
 * ELF interpreter; run as `ld.so bwt-dyn`, the loader maps it itself, with
 * mmap(PROT_EXEC), which is what the mmap_file hook has to catch. It maps
 * libc.so.6 either way. Exits 0, or with the errno of opening argv[1].
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 0;
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}
