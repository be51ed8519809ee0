/* glibc compatibility for Debian's static archives under musl: see glibc_shim.h.
 * Linked only into the musl builds (the host build has the real glibc). Each shim is unit
 * tested in tests/musl/test_glibc_shim.c. */
#include "glibc_shim.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* glibc's fortify failure path: message on stderr, then abort (no unwinding into bad state). */
static void __attribute__((noreturn)) chk_fail(const char *what)
{
    static const char pre[] = "*** buffer overflow detected ***: ";
    ssize_t w = write(2, pre, sizeof pre - 1);
    w = write(2, what, strlen(what));
    w = write(2, "\n", 1);
    (void)w;
    abort();
}

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap)
{
    (void)flag;
    if (maxlen > slen)
        chk_fail("vsnprintf");
    return vsnprintf(s, maxlen, fmt, ap);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __vsnprintf_chk(s, maxlen, flag, slen, fmt, ap);
    va_end(ap);
    return r;
}

int __vsprintf_chk(char *s, int flag, size_t slen, const char *fmt, va_list ap)
{
    (void)flag;
    if (slen == 0)
        chk_fail("vsprintf");
    int r = vsnprintf(s, slen, fmt, ap);
    if (r < 0 || (size_t)r >= slen)
        chk_fail("vsprintf");
    return r;
}

int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __vsprintf_chk(s, flag, slen, fmt, ap);
    va_end(ap);
    return r;
}

int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    return vfprintf(f, fmt, ap);
}

int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
    return __vfprintf_chk(stdout, flag, fmt, ap);
}

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __vfprintf_chk(f, flag, fmt, ap);
    va_end(ap);
    return r;
}

int __printf_chk(int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __vfprintf_chk(stdout, flag, fmt, ap);
    va_end(ap);
    return r;
}

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
    if (n > dstlen)
        chk_fail("memcpy");
    return memcpy(dst, src, n);
}

void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
    if (n > dstlen)
        chk_fail("memmove");
    return memmove(dst, src, n);
}

void *__memset_chk(void *dst, int c, size_t n, size_t dstlen)
{
    if (n > dstlen)
        chk_fail("memset");
    return memset(dst, c, n);
}

char *__strcpy_chk(char *dst, const char *src, size_t dstlen)
{
    size_t n = strlen(src) + 1;
    if (n > dstlen)
        chk_fail("strcpy");
    return memcpy(dst, src, n);
}

char *__strncpy_chk(char *dst, const char *src, size_t n, size_t dstlen)
{
    if (n > dstlen)
        chk_fail("strncpy");
    return strncpy(dst, src, n);
}

char *__strcat_chk(char *dst, const char *src, size_t dstlen)
{
    size_t dl = strnlen(dst, dstlen), sl = strlen(src);
    if (dl + sl + 1 > dstlen)
        chk_fail("strcat");
    memcpy(dst + dl, src, sl + 1);
    return dst;
}

void __explicit_bzero_chk(void *dst, size_t n, size_t dstlen)
{
    if (n > dstlen)
        chk_fail("explicit_bzero");
    explicit_bzero(dst, n);
}

/* glibc's CPU_ALLOC/CPU_FREE/CPU_COUNT helpers, used by OpenBLAS' affinity code. */
cpu_set_t *__sched_cpualloc(size_t count)
{
    return calloc(1, CPU_ALLOC_SIZE(count));
}

void __sched_cpufree(cpu_set_t *set)
{
    free(set);
}

int __sched_cpucount(size_t setsize, const cpu_set_t *set)
{
    const unsigned char *p = (const unsigned char *)set;
    int n = 0;
    for (size_t i = 0; i < setsize; i++)
        n += __builtin_popcount(p[i]);
    return n;
}
