/* ggml block layouts as seen by the SIMD kernels (engine/kern_*.c). They are byte-identical
 * to engine/quant.h's structs (checked with static asserts in kern_table.c); the kernels use
 * their own names so they compile independently of the scalar code. */
#ifndef LB_SIMD_BLOCKS_H
#define LB_SIMD_BLOCKS_H

#include <stddef.h>
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

/* The x4 weight layout (engine/repack.h): rows in groups of 4; per group, the 4 rows' fp16
 * scales of every block first ([block][row]), then the quants of every block with the rows
 * interleaved 4 bytes at a time: byte j*16 + r*4 + i of a block is row r's quant byte 4j + i
 * (j < 4 for Q4_0's 16 nibble bytes, j < 8 for Q8_0's 32 bytes). Same size as the rows. */
#define LBS_X4_QBYTES_Q4_0 64
#define LBS_X4_QBYTES_Q8_0 128

/* One token's activations for the x4 kernels: the q8_0 values of each 32-block (qs: [kb][32];
 * the kernels broadcast each 4-value group to the 4 interleaved rows in registers), the block
 * sum times minus the weights' offset in lanes 0-3 (ns: [kb][8]), the block scale (dx: [kb]). */
typedef struct {
    int8_t *qs;
    int32_t *ns;
    float *dx;
} lbs_x4_act;

/* Bytes of one token's lbs_x4_act for rows of k elements (a multiple of 64), and the parts
 * laid out in mem (64-byte aligned) by lbs_x4_act_at. */
static inline size_t lbs_x4_act_bytes(int k)
{
    size_t kb = (size_t)k / LBS_QK;
    return (kb * 68 + 63) & ~(size_t)63;
}

static inline lbs_x4_act lbs_x4_act_at(void *mem, int k)
{
    size_t kb = (size_t)k / LBS_QK;
    lbs_x4_act a = { (int8_t *)mem, (int32_t *)((char *)mem + kb * 32), (float *)((char *)mem + kb * 64) };
    return a;
}

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
