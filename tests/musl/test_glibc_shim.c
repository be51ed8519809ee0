/* Each glibc shim, exercised in the static musl build where it is actually used. */
/* These calls overflow on purpose (the shims must abort); gcc sees through the builtins. */
#pragma GCC diagnostic ignored "-Wformat-overflow"
#pragma GCC diagnostic ignored "-Wformat-truncation"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-truncation"
#include "../lib/harness.h"
#include "compat/glibc_shim.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn in a child; returns 1 when the child died of SIGABRT (the fortify failure path). */
static int aborts(void (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0)
            dup2(fd, 2);
        fn();
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

static char small[4];
static volatile size_t big = 8; /* volatile: keep the compiler from folding the overflow */
static void ovf_memcpy(void) { __memcpy_chk(small, "12345678", big, sizeof small); }
static void ovf_memmove(void) { __memmove_chk(small, "12345678", big, sizeof small); }
static void ovf_memset(void) { __memset_chk(small, 0, big, sizeof small); }
static void ovf_strcpy(void) { __strcpy_chk(small, "toolong", sizeof small); }
static void ovf_strncpy(void) { __strncpy_chk(small, "x", big, sizeof small); }
static void ovf_strcat(void) { small[0] = 'a'; small[1] = 0; __strcat_chk(small, "bcd", sizeof small); }
static void ovf_sprintf(void) { __sprintf_chk(small, 1, sizeof small, "%s", "12345"); }
static void ovf_snprintf(void) { __snprintf_chk(small, big, 1, sizeof small, "%d", 1); }
static void ovf_bzero(void) { __explicit_bzero_chk(small, big, sizeof small); }

TEST(memory_checks_copy_and_abort_on_overflow)
{
    char d[8];
    CHECK(__memcpy_chk(d, "abcdefg", 8, sizeof d) == d && strcmp(d, "abcdefg") == 0);
    CHECK(__memmove_chk(d + 1, d, 3, sizeof d - 1) == d + 1 && memcmp(d, "aabcefg", 7) == 0);
    CHECK(__memset_chk(d, 'z', 2, sizeof d) == d && d[0] == 'z' && d[1] == 'z' && d[2] == 'b');
    __explicit_bzero_chk(d, 2, sizeof d);
    CHECK(d[0] == 0 && d[1] == 0);
    CHECK(aborts(ovf_memcpy));
    CHECK(aborts(ovf_memmove));
    CHECK(aborts(ovf_memset));
    CHECK(aborts(ovf_bzero));
}

TEST(string_checks)
{
    char d[8];
    CHECK_STR(__strcpy_chk(d, "abc", sizeof d), "abc");
    CHECK_STR(__strcat_chk(d, "def", sizeof d), "abcdef");
    __strncpy_chk(d, "xy", 4, sizeof d);
    CHECK(d[0] == 'x' && d[1] == 'y' && d[2] == 0 && d[3] == 0);
    CHECK(aborts(ovf_strcpy));
    CHECK(aborts(ovf_strncpy));
    CHECK(aborts(ovf_strcat));
}

TEST(printf_family)
{
    char d[16];
    CHECK_EQ(__sprintf_chk(d, 1, sizeof d, "%d-%s", 7, "x"), 3);
    CHECK_STR(d, "7-x");
    CHECK_EQ(__snprintf_chk(d, sizeof d, 1, sizeof d, "%05d", 42), 5);
    CHECK_STR(d, "00042");
    CHECK_EQ(__snprintf_chk(d, 3, 1, sizeof d, "%s", "truncate"), 8);
    CHECK_STR(d, "tr");
    CHECK(aborts(ovf_sprintf));
    CHECK(aborts(ovf_snprintf));

    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    CHECK_EQ(__fprintf_chk(f, 1, "%s=%d;", "a", 1), 4);
    fclose(f);
    CHECK_STR(mem, "a=1;");
    free(mem);

    /* __printf_chk writes to stdout: redirect stdout into a pipe and read it back. */
    int p[2];
    CHECK(pipe(p) == 0);
    fflush(stdout);
    int saved = dup(1);
    dup2(p[1], 1);
    CHECK_EQ(__printf_chk(1, "[%d]", 5), 3);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(p[1]);
    char got[8] = "";
    CHECK_EQ(read(p[0], got, sizeof got - 1), 3);
    close(p[0]);
    CHECK_STR(got, "[5]");
}

TEST(sched_cpu_sets)
{
    cpu_set_t *set = __sched_cpualloc(130);
    CHECK(set != NULL);
    size_t sz = CPU_ALLOC_SIZE(130);
    CPU_SET_S(0, sz, set);
    CPU_SET_S(64, sz, set);
    CPU_SET_S(129, sz, set);
    CHECK_EQ(__sched_cpucount(sz, set), 3);
    __sched_cpufree(set);
}
