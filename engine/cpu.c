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
