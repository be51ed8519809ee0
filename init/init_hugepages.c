#include "init_hugepages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

long lb_hugepages_for_bytes(uint64_t bytes)
{
    uint64_t pages = (bytes + LB_HUGEPAGE_BYTES - 1) / LB_HUGEPAGE_BYTES;
    return (long)(pages + 2);
}

static long mem_total_kib(const char *root)
{
    char p[4096], *text = NULL;
    size_t len;
    long kib = -1;
    if (lb_path_join(p, sizeof p, root, "/proc/meminfo") || lb_read_file(p, 1 << 16, &text, &len, NULL))
        return -1;
    const char *m = strstr(text, "MemTotal:");
    if (m)
        kib = strtol(m + 9, NULL, 10);
    free(text);
    return kib;
}

int lb_hugepages_reserve(const char *root, long want, long *got, lb_err *err)
{
    char p[4096], v[32];
    *got = 0;
    long total = mem_total_kib(root);
    if (total > 0) {
        long cap = total / 2 / (LB_HUGEPAGE_BYTES / 1024);
        if (want > cap)
            want = cap;
    }
    if (want < 0)
        want = 0;
    if (lb_path_join(p, sizeof p, root, "/proc/sys/vm/nr_hugepages"))
        return lb_err_set(err, LB_ELIMIT, "path too long");
    int n = snprintf(v, sizeof v, "%ld\n", want);
    FILE *f = fopen(p, "w");
    if (!f)
        return lb_err_set(err, LB_ENOTSUP, "hugepages unavailable (%s)", p);
    int ok = fwrite(v, 1, (size_t)n, f) == (size_t)n;
    ok &= fclose(f) == 0;
    if (!ok)
        return lb_err_set(err, LB_EIO, "writing %s failed", p);
    if (lb_read_text(p, v, sizeof v, err))
        return err ? err->code : LB_EIO;
    *got = strtol(v, NULL, 10);
    return 0;
}
