/* Declarations of the glibc-only symbols that Debian's static libopenblas.a and libmbed*.a
 * reference. Those archives are compiled against glibc with _FORTIFY_SOURCE, so their objects
 * call the checked variants (__printf_chk, __memcpy_chk, ...) and glibc's CPU-set allocators.
 * musl has none of them; glibc_shim.c provides them for the static musl link only.
 * Semantics follow glibc: a checked call whose destination is too small aborts. */
#ifndef LB_GLIBC_SHIM_H
#define LB_GLIBC_SHIM_H

#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

int __printf_chk(int flag, const char *fmt, ...);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);
int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...);
int __vprintf_chk(int flag, const char *fmt, va_list ap);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);
int __vsprintf_chk(char *s, int flag, size_t slen, const char *fmt, va_list ap);
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);
void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t n, size_t dstlen);
char *__strcpy_chk(char *dst, const char *src, size_t dstlen);
char *__strncpy_chk(char *dst, const char *src, size_t n, size_t dstlen);
char *__strcat_chk(char *dst, const char *src, size_t dstlen);
void __explicit_bzero_chk(void *dst, size_t n, size_t dstlen);
cpu_set_t *__sched_cpualloc(size_t count);
void __sched_cpufree(cpu_set_t *set);
int __sched_cpucount(size_t setsize, const cpu_set_t *set);

#endif
