/*
 * bwt-prog: the program the exec tests and the exec benchmark run inside
 * the guests (vm-tests/guest/t30_exec.cpp, bench/exec_connect.cpp). Tiny
 * and static with no libc — raw system calls — so that a test can copy it
 * anywhere in a few microseconds and a fork+exec measures the kernel, not
 * a C library's start-up.
 *
 *   bwt-prog                       exit 0
 *   bwt-prog open PATH             open(PATH, O_RDONLY): exit 0, or the errno
 *   bwt-prog comm NAME ARGS...     prctl(PR_SET_NAME, NAME), then ARGS
 *   bwt-prog exec PATH ARGV...     execve(PATH, ARGV): the errno if it fails
 *   bwt-prog spawn PATH ARGV...    fork, the child execve(PATH, ARGV); exit
 *                                  with the child's exit status
 *   bwt-prog ANYTHING-ELSE         exit 0 (e.g. run as a script's #! interpreter)
 */
#define SYS_open 2
#define SYS_close 3
#define SYS_fork 57
#define SYS_execve 59
#define SYS_wait4 61
#define SYS_prctl 157
#define SYS_exit_group 231
#define PR_SET_NAME 15

static long sys3(long n, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

static long sys4(long n, long a, long b, long c, long d)
{
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return ret;
}

static int same(const char *a, const char *b)
{
    while (*a && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

static char **environ_of(char **argv, int argc)
{
	return argv + argc + 1;  /* the environment follows argv's NULL */
}

static int run(int argc, char **argv, char **envp)
{
    while (argc >= 3 && same(argv[0], "comm")) {
        sys3(SYS_prctl, PR_SET_NAME, (long)argv[1], 0);
        argc -= 2;
        argv += 2;
    }
    if (argc >= 3 && same(argv[0], "exec"))
        return (int)-sys3(SYS_execve, (long)argv[1], (long)(argv + 2), (long)envp);
    if (argc >= 3 && same(argv[0], "spawn")) {
        int status = 0;
        long pid = sys3(SYS_fork, 0, 0, 0);
        if (pid == 0)
            sys3(SYS_exit_group, (int)-sys3(SYS_execve, (long)argv[1], (long)(argv + 2), (long)envp), 0, 0);
        if (pid < 0)
            return (int)-pid;
        if (sys4(SYS_wait4, pid, (long)&status, 0, 0) < 0)
            return 255;
        return (status >> 8) & 0xff;
    }
    if (argc >= 2 && same(argv[0], "open")) {
        long fd = sys3(SYS_open, (long)argv[1], 0 /* O_RDONLY */, 0);
        if (fd < 0)
            return (int)-fd;
        sys3(SYS_close, fd, 0, 0);
    }
    return 0;
}

void bwt_start(long *sp) __attribute__((noreturn, used));
void bwt_start(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    sys3(SYS_exit_group, run(argc - 1, argv + 1, environ_of(argv, argc)), 0, 0);
    for (;;) {
    }
}

__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call bwt_start\n"
        "  hlt\n");
