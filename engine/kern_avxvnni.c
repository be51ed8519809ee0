/* AVX-VNNI kernels (Alder Lake and later without AVX-512): 256-bit VPDPBUSD/VPDPWSSD. */
#define KERN(name) lb_kern_avxvnni_##name
#define DPBUSD(acc, u, s) _mm256_dpbusd_avx_epi32((acc), (u), (s))
#define DPWSSD(acc, a, b) _mm256_dpwssd_avx_epi32((acc), (a), (b))
#define KERN_VNNI 1
#include "kern_x86.h"
