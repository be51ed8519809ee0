#include "cpu.h"

#include <cpuid.h>
#include <stdint.h>

static lb_cpu_features g_cpu;
static bool g_done;

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

const lb_cpu_features *lb_cpu(void)
{
    if (g_done)
        return &g_cpu;
    unsigned a, b, c, d;
    lb_cpu_features f = { 0 };
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        bool osxsave = c & (1u << 27);
        uint64_t xcr0 = osxsave ? xgetbv0() : 0;
        bool ymm = (xcr0 & 6) == 6, zmm = (xcr0 & 0xe6) == 0xe6;
        bool tiles = (xcr0 & (3u << 17)) == (3u << 17);
        f.fma = ymm && (c & (1u << 12));
        f.f16c = ymm && (c & (1u << 29));
        if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
            f.avx2 = ymm && (b & (1u << 5));
            f.avx512f = zmm && (b & (1u << 16));
            f.avx512dq = zmm && (b & (1u << 17));
            f.avx512bw = zmm && (b & (1u << 30));
            f.avx512vl = zmm && (b & (1u << 31));
            f.avx512vnni = zmm && (c & (1u << 11));
            f.amx_tile = tiles && (d & (1u << 24));
            f.amx_int8 = tiles && (d & (1u << 25));
        }
        if (__get_cpuid_count(7, 1, &a, &b, &c, &d))
            f.avxvnni = ymm && (a & (1u << 4));
    }
    g_cpu = f;
    g_done = true;
    return &g_cpu;
}
