#include "harness.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_TESTS 1024

struct test {
    const char *file, *name;
    lb_test_fn fn;
};

static struct test g_tests[MAX_TESTS];
static int g_ntests;
static int g_failed_current;
static const char *g_skip_current;
static char g_fail_msg[512];
static char g_tmpdir[256];

void lb_test_register(const char *file, const char *name, lb_test_fn fn)
{
    if (g_ntests == MAX_TESTS) {
        fprintf(stderr, "harness: too many tests\n");
        exit(2);
    }
    const char *slash = strrchr(file, '/');
    g_tests[g_ntests++] = (struct test){ slash ? slash + 1 : file, name, fn };
}

void lb_test_fail(const char *file, int line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "  %s:%d: %s\n", file, line, msg);
    if (!g_failed_current)
        snprintf(g_fail_msg, sizeof g_fail_msg, "%s:%d: %s", file, line, msg);
    g_failed_current = 1;
}

void lb_test_skip(const char *why) { g_skip_current = why; }

const char *lb_test_shared(const char *rel)
{
    static char buf[8][1024];
    static int i;
    const char *root = getenv("LLMBOX_SHARED");
    char *b = buf[i++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", root && *root ? root : "../shared", rel);
    return b;
}

static int rm_cb(const char *p, const struct stat *s, int t, struct FTW *f)
{
    (void)s; (void)t; (void)f;
    return remove(p);
}

const char *lb_test_tmpdir(void)
{
    if (!g_tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(g_tmpdir, sizeof g_tmpdir, "%s/lbtest.XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(g_tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return g_tmpdir;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    const char *only = argc > 1 ? argv[1] : NULL;
    for (int i = 0; i < g_ntests; i++) {
        struct test *t = &g_tests[i];
        if (only && strcmp(only, t->name) != 0)
            continue;
        g_failed_current = 0;
        g_skip_current = NULL;
        g_fail_msg[0] = 0;
        t->fn();
        if (g_tmpdir[0]) {
            nftw(g_tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
            g_tmpdir[0] = 0;
        }
        if (g_failed_current) {
            printf("FAIL %s/%s: %s\n", t->file, t->name, g_fail_msg);
            failed++;
        } else if (g_skip_current) {
            printf("SKIP %s/%s: %s\n", t->file, t->name, g_skip_current);
            skipped++;
        } else {
            printf("PASS %s/%s\n", t->file, t->name);
            passed++;
        }
        fflush(stdout);
    }
    fprintf(stderr, "(%s: %d passed, %d failed, %d skipped)\n", argv[0], passed, failed, skipped);
    return failed ? 1 : 0;
}
