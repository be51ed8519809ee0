/* lb_cpu() kept for its users; the detection itself lives in cpu_features.c (one cpuid
 * reader, with AMX permission and the LLMBOX_ISA override). */
#include "cpu.h"

#include "cpu_features.h"

const lb_cpu_features *lb_cpu(void)
{
    static lb_cpu_features g_cpu;
    static bool g_done;
    if (g_done)
        return &g_cpu;
    const lb_cpu_caps *c = lb_cpu_caps_get();
    lb_cpu_features f = { 0 };
    f.avx2 = c->os_avx && c->avx2;
    f.fma = c->os_avx && c->fma;
    f.f16c = c->os_avx && c->f16c;
    f.avx512f = c->os_avx512 && c->avx512f;
    f.avx512bw = c->os_avx512 && c->avx512bw;
    f.avx512vl = c->os_avx512 && c->avx512vl;
    f.avx512dq = c->os_avx512 && c->avx512dq;
    f.avx512vnni = c->os_avx512 && c->avx512vnni;
    f.avxvnni = c->os_avx && c->avxvnni;
    f.amx_tile = c->amx_permitted && c->amx_tile;
    f.amx_int8 = c->amx_permitted && c->amx_int8;
    g_cpu = f;
    g_done = true;
    return &g_cpu;
}

#include <stdio.h>
#include <unistd.h>

int lb_cpu_physical_cores_at(const char *root)
{
    enum { MAX = 4096 };
    static unsigned long seen[MAX];
    int n_seen = 0;
    for (int cpu = 0; cpu < MAX; cpu++) {
        char path[512];
        unsigned long pkg = 0, core = 0;
        snprintf(path, sizeof path, "%s/cpu%d/topology/core_id", root, cpu);
        FILE *f = fopen(path, "r");
        if (!f)
            break;
        int ok = fscanf(f, "%lu", &core) == 1;
        fclose(f);
        snprintf(path, sizeof path, "%s/cpu%d/topology/physical_package_id", root, cpu);
        f = fopen(path, "r");
        if (f) {
            ok = ok && fscanf(f, "%lu", &pkg) == 1;
            fclose(f);
        }
        if (!ok)
            continue;
        unsigned long key = (pkg << 20) | core;
        int dup = 0;
        for (int i = 0; i < n_seen && !dup; i++)
            dup = seen[i] == key;
        if (!dup && n_seen < MAX)
            seen[n_seen++] = key;
    }
    if (n_seen > 0)
        return n_seen;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int lb_cpu_physical_cores(void) { return lb_cpu_physical_cores_at("/sys/devices/system/cpu"); }
