/* Minimal unit-test harness. A test file defines TEST(name) { ... CHECK(...); } blocks; they
 * register themselves, and harness_main.c runs them all and prints one line per test:
 *   PASS <file>/<name> | FAIL <file>/<name>: <why> | SKIP <file>/<name>: <why>
 * tests/run_all.sh counts those lines across every suite. */
#ifndef LB_HARNESS_H
#define LB_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*lb_test_fn)(void);
void lb_test_register(const char *file, const char *name, lb_test_fn fn);
void lb_test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void lb_test_skip(const char *why);
/* Path below the shared test data directory (env LLMBOX_SHARED, default ../shared). */
const char *lb_test_shared(const char *rel);
/* A fresh temporary directory for this test (removed by the harness afterwards). */
const char *lb_test_tmpdir(void);

#define TEST(name)                                                                     \
    static void name(void);                                                            \
    __attribute__((constructor)) static void lb_reg_##name(void)                       \
    {                                                                                  \
        lb_test_register(__FILE__, #name, name);                                       \
    }                                                                                  \
    static void name(void)

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond))                                                                   \
            lb_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                      \
    } while (0)

#define CHECK_MSG(cond, ...)                                                           \
    do {                                                                               \
        if (!(cond))                                                                   \
            lb_test_fail(__FILE__, __LINE__, __VA_ARGS__);                             \
    } while (0)

#define CHECK_EQ(a, b)                                                                 \
    do {                                                                               \
        long long lb_a_ = (long long)(a), lb_b_ = (long long)(b);                      \
        if (lb_a_ != lb_b_)                                                            \
            lb_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, lb_a_, lb_b_); \
    } while (0)

#define CHECK_STR(a, b)                                                                \
    do {                                                                               \
        const char *lb_a_ = (a), *lb_b_ = (b);                                         \
        if (!lb_a_ || !lb_b_ || strcmp(lb_a_, lb_b_) != 0)                             \
            lb_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,     \
                         lb_a_ ? lb_a_ : "(null)", lb_b_ ? lb_b_ : "(null)");          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                          \
    do {                                                                               \
        double lb_a_ = (a), lb_b_ = (b);                                               \
        if (!(lb_a_ - lb_b_ <= (tol) && lb_b_ - lb_a_ <= (tol)))                       \
            lb_test_fail(__FILE__, __LINE__, "%s ~ %s: %g vs %g (tol %g)", #a, #b, lb_a_, lb_b_, (double)(tol)); \
    } while (0)

/* Deterministic xorshift numbers for test data; each test file keeps its own seed. */
static inline uint32_t lb_test_rnd(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (uint32_t)(*state >> 16);
}

#define SKIP(why)                                                                      \
    do {                                                                               \
        lb_test_skip(why);                                                             \
        return;                                                                        \
    } while (0)

#endif
