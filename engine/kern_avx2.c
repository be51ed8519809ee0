/* AVX2+FMA+F16C kernels (Haswell/Zen and later): int8 dot products via maddubs+madd. */
#define KERN(name) lb_kern_avx2_##name
#define DPBUSD(acc, u, s) _mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), _mm256_set1_epi16(1)))
#define DPWSSD(acc, a, b) _mm256_add_epi32((acc), _mm256_madd_epi16((a), (b)))
#include "kern_x86.h"
