/* Quantized block formats, byte-identical to ggml's (a GGUF file's tensor bytes are arrays
 * of these), F16/BF16 conversion, and the scalar reference kernels. The scalar kernels follow
 * ggml's CPU arithmetic (activations quantized to q8_0 / q8_1 / q8_K, integer dot products per
 * block, one float scale per block) so logits match llama.cpp closely; SIMD variants must
 * give the same results within rounding and are tested against these. */
#ifndef LB_QUANT_H
#define LB_QUANT_H

#include <stdint.h>
#include <string.h>

#include "ggml_type.h"

typedef uint16_t lb_f16;
typedef uint16_t lb_bf16;

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK_K 256
#define K_SCALE_SIZE 12

typedef struct { lb_f16 d; uint8_t qs[QK4_0 / 2]; } block_q4_0;
typedef struct { lb_f16 d, m; uint8_t qs[QK4_1 / 2]; } block_q4_1;
typedef struct { lb_f16 d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; } block_q5_0;
typedef struct { lb_f16 d, m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; } block_q5_1;
typedef struct { lb_f16 d; int8_t qs[QK8_0]; } block_q8_0;
typedef struct { lb_f16 d, s; int8_t qs[QK8_1]; } block_q8_1;  /* s = d * sum(qs) */
typedef struct { lb_f16 d, dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qs[QK_K / 2]; } block_q4_K;
typedef struct { lb_f16 d, dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2]; } block_q5_K;
typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; lb_f16 d; } block_q6_K;
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } block_q8_K;

_Static_assert(sizeof(block_q4_0) == 18, "q4_0");
_Static_assert(sizeof(block_q4_1) == 20, "q4_1");
_Static_assert(sizeof(block_q5_0) == 22, "q5_0");
_Static_assert(sizeof(block_q5_1) == 24, "q5_1");
_Static_assert(sizeof(block_q8_0) == 34, "q8_0");
_Static_assert(sizeof(block_q8_1) == 36, "q8_1");
_Static_assert(sizeof(block_q4_K) == 144, "q4_K");
_Static_assert(sizeof(block_q5_K) == 176, "q5_K");
_Static_assert(sizeof(block_q6_K) == 210, "q6_K");
_Static_assert(sizeof(block_q8_K) == 292, "q8_K");

/* IEEE half <-> float, round to nearest even (as F16C and ggml do). */
static inline float lb_f16_to_f32(lb_f16 h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {  /* subnormal: exact as man * 2^-24 */
            float f = (float)man * 5.9604644775390625e-8f;
            memcpy(&bits, &f, 4);
            bits |= sign;
        }
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline lb_f16 lb_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u)  /* inf or nan (keep nan quiet) */
        return (lb_f16)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 | ((ax >> 13) & 0x3ff) : 0));
    if (ax >= 0x477ff000u)  /* rounds to >= 65520: inf */
        return (lb_f16)(sign | 0x7c00);
    if (ax < 0x38800000u) {  /* below the smallest normal half: subnormal or zero */
        float a;
        memcpy(&a, &ax, 4);
        /* Adding 0.5 shifts the value so the FPU's own RNE rounds at 2^-24 granularity. */
        a += 0.5f;
        uint32_t b;
        memcpy(&b, &a, 4);
        return (lb_f16)(sign | (b - 0x3f000000u));
    }
    uint32_t mant_odd = (ax >> 13) & 1;
    ax += 0xfff + mant_odd;  /* round to nearest even on the 13 dropped bits */
    return (lb_f16)(sign | ((ax - 0x38000000u) >> 13));
}

static inline float lb_bf16_to_f32(lb_bf16 h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline lb_bf16 lb_f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u)  /* nan: force quiet */
        return (lb_bf16)((x >> 16) | 64);
    return (lb_bf16)((x + (0x7fff + ((x >> 16) & 1))) >> 16);
}

/* Scalar reference kernels. n is the number of elements (a multiple of the block size).
 * dequantize: blocks -> floats. quantize: floats -> activation blocks.
 * vec_dot: dot product of one weight row x (its type) with one activation row y (its
 * vec_dot type, see kernels.h), result in *s. */
void lb_dequantize_row_f32(const void *x, float *y, int64_t n);
void lb_dequantize_row_f16(const void *x, float *y, int64_t n);
void lb_dequantize_row_bf16(const void *x, float *y, int64_t n);
void lb_dequantize_row_q4_0(const void *x, float *y, int64_t n);
void lb_dequantize_row_q4_1(const void *x, float *y, int64_t n);
void lb_dequantize_row_q5_0(const void *x, float *y, int64_t n);
void lb_dequantize_row_q5_1(const void *x, float *y, int64_t n);
void lb_dequantize_row_q8_0(const void *x, float *y, int64_t n);
void lb_dequantize_row_q8_1(const void *x, float *y, int64_t n);
void lb_dequantize_row_q4_K(const void *x, float *y, int64_t n);
void lb_dequantize_row_q5_K(const void *x, float *y, int64_t n);
void lb_dequantize_row_q6_K(const void *x, float *y, int64_t n);
void lb_dequantize_row_q8_K(const void *x, float *y, int64_t n);

void lb_quantize_row_f32(const float *x, void *y, int64_t n);
void lb_quantize_row_f16(const float *x, void *y, int64_t n);
void lb_quantize_row_bf16(const float *x, void *y, int64_t n);
void lb_quantize_row_q8_0(const float *x, void *y, int64_t n);
void lb_quantize_row_q8_1(const float *x, void *y, int64_t n);
void lb_quantize_row_q8_K(const float *x, void *y, int64_t n);

void lb_vec_dot_f32(int n, float *s, const void *x, const void *y);
void lb_vec_dot_f16(int n, float *s, const void *x, const void *y);
void lb_vec_dot_bf16(int n, float *s, const void *x, const void *y);
void lb_vec_dot_q4_0_q8_0(int n, float *s, const void *x, const void *y);
void lb_vec_dot_q4_1_q8_1(int n, float *s, const void *x, const void *y);
void lb_vec_dot_q5_0_q8_0(int n, float *s, const void *x, const void *y);
void lb_vec_dot_q5_1_q8_1(int n, float *s, const void *x, const void *y);
void lb_vec_dot_q8_0_q8_0(int n, float *s, const void *x, const void *y);
void lb_vec_dot_q4_K_q8_K(int n, float *s, const void *x, const void *y);
void lb_vec_dot_q5_K_q8_K(int n, float *s, const void *x, const void *y);
void lb_vec_dot_q6_K_q8_K(int n, float *s, const void *x, const void *y);

/* The 6-bit scale and min of sub-block j of a q4_K/q5_K super-block. */
static inline void lb_get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

#endif
