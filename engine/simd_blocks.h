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
 * interleaved 8 bytes at a time: byte j*32 + r*8 + i of a block is row r's quant byte 8j + i
 * (j < 2 for Q4_0's 16 nibble bytes, j < 4 for Q8_0's 32 bytes), so 32-byte vector j holds
 * row r in int32 lanes 2r and 2r + 1 and meets activation bytes 8j..8j+7 broadcast to every
 * row. Same size as the rows. */
#define LBS_X4_QBYTES_Q4_0 64
#define LBS_X4_QBYTES_Q8_0 128

/* Q4_K in the x4 layout: per super-block (256 elements) of a group, 576 bytes: the 4 rows'
 * fp16 d then dmin (16 bytes), their 6-bit scales and mins re-encoded for vector unpacking
 * (48 bytes, lbs_x4k_unpack), then the quants interleaved as Q4_0's (512 bytes: byte
 * c*128 + j*32 + r*8 + i is row r's quant byte 32c + 8j + i). */
#define LBS_X4_SB_Q4_K 576
#define LBS_X4_HDR_Q4_K 64

/* The 64 unpacked 6-bit values of a Q4_K x4 super-block: u[4j + r] is row r's scale of
 * sub-block j; u[32 + m] its min in the order the kernels multiply them with the activation
 * sums (lbs_x4k_min_at). Stored as low nibbles (e[i]: u[i] | u[32 + i] << 4) and high bit
 * pairs (e[32 + i % 16] bits 2 * (i / 16)). */
static inline void lbs_x4k_unpack(const uint8_t e[48], uint8_t u[64])
{
    for (int i = 0; i < 64; i++)
        u[i] = (uint8_t)((i < 32 ? e[i] & 15 : e[i - 32] >> 4) | ((e[32 + i % 16] >> (2 * (i / 16)) & 3) << 4));
}

static inline void lbs_x4k_pack(const uint8_t u[64], uint8_t e[48])
{
    for (int i = 0; i < 48; i++)
        e[i] = 0;
    for (int i = 0; i < 64; i++) {
        e[i % 32] |= (uint8_t)((u[i] & 15) << (i < 32 ? 0 : 4));
        e[32 + i % 16] |= (uint8_t)((u[i] >> 4 & 3) << (2 * (i / 16)));
    }
}

/* Index into u[32..] of row r's min of sub-block j: int32 lane L = 2r + j % 4 / 2 (a lane of
 * row r) of vector j / 4 holds sub-blocks j and j ^ 1 as its two int16 halves (vpmaddwd pairs). */
static inline int lbs_x4k_min_at(int r, int j) { return 16 * (j / 4) + 4 * r + j % 4; }

/* Q6_K in the x4 layout: per super-block of a group, 840 bytes: the 4 rows' fp16 d (8 bytes),
 * their int8 scales as [group of 16][row] (64 bytes), then ql (512 bytes) and qh (256 bytes)
 * interleaved as Q4_0's quants: byte c*128 + j*32 + r*8 + i of each is row r's byte
 * 32c + 8j + i. */
#define LBS_X4_SB_Q6_K 840
#define LBS_X4_QL_Q6_K 72
#define LBS_X4_QH_Q6_K 584

/* The 16-element group whose sum meets int16 element e (0-63) of the Q6_K kernel's 4
 * vpmaddwd vectors: vector e / 16, int32 lane L = e % 16 / 2 (row L / 2), pair half e % 2. */
static inline int lbs_x6k_group_at(int e) { return 4 * (e / 16) + 2 * (e % 16 / 2 % 2) + e % 2; }

/* One token's activations for the x4 kernels: the q8 values (qs: [k]; the kernels broadcast
 * each 8 bytes to the 4 interleaved rows) and the block scale (dx).
 * Q4_0/Q8_0 (q8_0 blocks): ns [kb][2], the block sum times minus the weights' offset and 0
 * (broadcast: the first lane of each row).
 * Q4_K (q8_K super-blocks, dx per 256): bs [kb / 8][32], the sums of the 8 sub-blocks as
 * int16 in the order of lbs_x4k_min_at's pairs.
 * Q6_K (q8_K): bs [kb / 8][64], the sums of the 16 groups of 16 in lbs_x6k_group_at's order. */
typedef struct {
    int8_t *qs;
    int32_t *ns;
    int16_t *bs; /* the same memory as ns */
    float *dx;
} lbs_x4_act;

/* Bytes of one token's lbs_x4_act for rows of k elements (a multiple of 64), and the parts
 * laid out in mem (64-byte aligned) by lbs_x4_act_at. */
static inline size_t lbs_x4_act_bytes(int k)
{
    size_t kb = (size_t)k / LBS_QK;
    return (kb * 52 + 63) & ~(size_t)63;
}

static inline lbs_x4_act lbs_x4_act_at(void *mem, int k)
{
    size_t kb = (size_t)k / LBS_QK;
    char *m = mem;
    lbs_x4_act a = { (int8_t *)m, (int32_t *)(m + kb * 32), (int16_t *)(m + kb * 32), (float *)(m + kb * 48) };
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
