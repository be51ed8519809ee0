/* ggml block layouts as seen by the SIMD kernels (engine/kern_*.c). They are byte-identical
 * to engine/quant.h's structs (checked with static asserts in kern_table.c); the kernels use
 * their own names so they compile independently of the scalar code. */
#ifndef LB_SIMD_BLOCKS_H
#define LB_SIMD_BLOCKS_H

#include <stdint.h>

#define LBS_QK 32
#define LBS_QK_K 256

typedef struct { uint16_t d; uint8_t qs[16]; } lbs_q4_0;
typedef struct { uint16_t d, m; uint8_t qs[16]; } lbs_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } lbs_q5_0;
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; } lbs_q5_1;
typedef struct { uint16_t d; int8_t qs[32]; } lbs_q8_0;
typedef struct { uint16_t d, s; int8_t qs[32]; } lbs_q8_1;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } lbs_q4_K;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } lbs_q5_K;
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } lbs_q6_K;
typedef struct { float d; int8_t qs[256]; int16_t bsums[16]; } lbs_q8_K;

_Static_assert(sizeof(lbs_q4_0) == 18, "q4_0");
_Static_assert(sizeof(lbs_q4_1) == 20, "q4_1");
_Static_assert(sizeof(lbs_q5_0) == 22, "q5_0");
_Static_assert(sizeof(lbs_q5_1) == 24, "q5_1");
_Static_assert(sizeof(lbs_q8_0) == 34, "q8_0");
_Static_assert(sizeof(lbs_q8_1) == 36, "q8_1");
_Static_assert(sizeof(lbs_q4_K) == 144, "q4_K");
_Static_assert(sizeof(lbs_q5_K) == 176, "q5_K");
_Static_assert(sizeof(lbs_q6_K) == 210, "q6_K");
_Static_assert(sizeof(lbs_q8_K) == 292, "q8_K");

/* One token's activations for the GEMV kernels (kern_x86.h): int8 values, the float scale
 * of each 32-block and minus its lane sums (8 lanes of 4 values). */
typedef struct {
    int8_t *qs;   /* [k] */
    int32_t *nls; /* [k / 32][8] */
    float *dy;    /* [k / 32] */
} lbs_gemv_act;

/* Unpacks the 6-bit scales and mins of a Q4_K/Q5_K block (8 sub-blocks of 32). */
static inline void lbs_k4_scales(const uint8_t q[12], uint8_t sc[8], uint8_t mn[8])
{
    for (int j = 0; j < 4; j++) {
        sc[j] = q[j] & 63;
        mn[j] = q[j + 4] & 63;
        sc[j + 4] = (q[j + 8] & 0xF) | ((q[j] >> 6) << 4);
        mn[j + 4] = (q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4);
    }
}

#endif
