/* AVX-512 VNNI kernels: EVEX-encoded VPDPBUSD/VPDPWSSD (32 vector registers), mostly 256 bits wide. */
#define KERN(name) lb_kern_avx512_##name
#define DPBUSD(acc, u, s) _mm256_dpbusd_epi32((acc), (u), (s))
#define DPWSSD(acc, a, b) _mm256_dpwssd_epi32((acc), (a), (b))
#define KERN_VNNI 1
#define KERN_ZMM 1 /* the 512-bit x4 kernels (kern_x4.h) */
#include "kern_x86.h"
