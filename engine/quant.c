/* Scalar reference kernels for the ggml block formats (see quant.h). */
#include "quant.h"

#include <math.h>
#include <stdlib.h>

/* Round half to even, as ggml's nearest_int and x86 _mm256_round_ps(NEAREST) do. */
static inline int nearest_int(float f) { return (int)lrintf(f); }

/* ---- dequantize ---------------------------------------------------------------------- */

void lb_dequantize_row_f32(const void *x, float *y, int64_t n)
{
    memcpy(y, x, (size_t)n * sizeof(float));
}

void lb_dequantize_row_f16(const void *x, float *y, int64_t n)
{
    const lb_f16 *h = x;
    for (int64_t i = 0; i < n; i++)
        y[i] = lb_f16_to_f32(h[i]);
}

void lb_dequantize_row_bf16(const void *x, float *y, int64_t n)
{
    const lb_bf16 *h = x;
    for (int64_t i = 0; i < n; i++)
        y[i] = lb_bf16_to_f32(h[i]);
}

void lb_dequantize_row_q4_0(const void *vx, float *y, int64_t n)
{
    const block_q4_0 *x = vx;
    for (int64_t i = 0; i < n / QK4_0; i++) {
        float d = lb_f16_to_f32(x[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            y[i * QK4_0 + j] = ((x[i].qs[j] & 0x0F) - 8) * d;
            y[i * QK4_0 + j + QK4_0 / 2] = ((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void lb_dequantize_row_q4_1(const void *vx, float *y, int64_t n)
{
    const block_q4_1 *x = vx;
    for (int64_t i = 0; i < n / QK4_1; i++) {
        float d = lb_f16_to_f32(x[i].d), m = lb_f16_to_f32(x[i].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            y[i * QK4_1 + j] = (x[i].qs[j] & 0x0F) * d + m;
            y[i * QK4_1 + j + QK4_1 / 2] = (x[i].qs[j] >> 4) * d + m;
        }
    }
}

/* 5-bit values: low nibble from qs, fifth bit from qh (bit j for element j, bit j+16 for j+16). */
static inline void q5_vals(const uint8_t *qs, const uint8_t *qh4, int j, int *v0, int *v1)
{
    uint32_t qh;
    memcpy(&qh, qh4, 4);
    *v0 = (qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10);
    *v1 = (qs[j] >> 4) | ((qh >> (j + 12)) & 0x10);
}

void lb_dequantize_row_q5_0(const void *vx, float *y, int64_t n)
{
    const block_q5_0 *x = vx;
    for (int64_t i = 0; i < n / QK5_0; i++) {
        float d = lb_f16_to_f32(x[i].d);
        for (int j = 0; j < QK5_0 / 2; j++) {
            int v0, v1;
            q5_vals(x[i].qs, x[i].qh, j, &v0, &v1);
            y[i * QK5_0 + j] = (v0 - 16) * d;
            y[i * QK5_0 + j + QK5_0 / 2] = (v1 - 16) * d;
        }
    }
}

void lb_dequantize_row_q5_1(const void *vx, float *y, int64_t n)
{
    const block_q5_1 *x = vx;
    for (int64_t i = 0; i < n / QK5_1; i++) {
        float d = lb_f16_to_f32(x[i].d), m = lb_f16_to_f32(x[i].m);
        for (int j = 0; j < QK5_1 / 2; j++) {
            int v0, v1;
            q5_vals(x[i].qs, x[i].qh, j, &v0, &v1);
            y[i * QK5_1 + j] = v0 * d + m;
            y[i * QK5_1 + j + QK5_1 / 2] = v1 * d + m;
        }
    }
}

void lb_dequantize_row_q8_0(const void *vx, float *y, int64_t n)
{
    const block_q8_0 *x = vx;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        float d = lb_f16_to_f32(x[i].d);
        for (int j = 0; j < QK8_0; j++)
            y[i * QK8_0 + j] = x[i].qs[j] * d;
    }
}

void lb_dequantize_row_q8_1(const void *vx, float *y, int64_t n)
{
    const block_q8_1 *x = vx;
    for (int64_t i = 0; i < n / QK8_1; i++) {
        float d = lb_f16_to_f32(x[i].d);
        for (int j = 0; j < QK8_1; j++)
            y[i * QK8_1 + j] = x[i].qs[j] * d;
    }
}

void lb_dequantize_row_q4_K(const void *vx, float *y, int64_t n)
{
    const block_q4_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *q = x[i].qs;
        float d = lb_f16_to_f32(x[i].d), min = lb_f16_to_f32(x[i].dmin);
        int is = 0;
        for (int j = 0; j < QK_K; j += 64) {
            uint8_t sc, m;
            lb_get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
            float d1 = d * sc, m1 = min * m;
            lb_get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
            float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; l++)
                *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++)
                *y++ = d2 * (q[l] >> 4) - m2;
            q += 32;
            is += 2;
        }
    }
}

void lb_dequantize_row_q5_K(const void *vx, float *y, int64_t n)
{
    const block_q5_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *ql = x[i].qs, *qh = x[i].qh;
        float d = lb_f16_to_f32(x[i].d), min = lb_f16_to_f32(x[i].dmin);
        int is = 0;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < QK_K; j += 64) {
            uint8_t sc, m;
            lb_get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
            float d1 = d * sc, m1 = min * m;
            lb_get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
            float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; l++)
                *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++)
                *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
            ql += 32;
            is += 2;
            u1 <<= 2;
            u2 <<= 2;
        }
    }
}

/* The 256 signed 6-bit values of a q6_K block, in element order. */
static void q6_K_vals(const block_q6_K *b, int8_t *out)
{
    const uint8_t *ql = b->ql, *qh = b->qh;
    for (int n = 0; n < QK_K; n += 128) {
        for (int l = 0; l < 32; l++) {
            out[n + l + 0] = (int8_t)(((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
            out[n + l + 32] = (int8_t)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
            out[n + l + 64] = (int8_t)(((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
            out[n + l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        }
        ql += 64;
        qh += 32;
    }
}

void lb_dequantize_row_q6_K(const void *vx, float *y, int64_t n)
{
    const block_q6_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        q6_K_vals(&x[i], q);
        float d = lb_f16_to_f32(x[i].d);
        for (int j = 0; j < QK_K; j++)
            y[i * QK_K + j] = d * x[i].scales[j / 16] * q[j];
    }
}

void lb_dequantize_row_q8_K(const void *vx, float *y, int64_t n)
{
    const block_q8_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++)
        for (int j = 0; j < QK_K; j++)
            y[i * QK_K + j] = x[i].d * x[i].qs[j];
}

/* ---- quantize activations ------------------------------------------------------------ */

void lb_quantize_row_f32(const float *x, void *y, int64_t n)
{
    memcpy(y, x, (size_t)n * sizeof(float));
}

void lb_quantize_row_f16(const float *x, void *vy, int64_t n)
{
    lb_f16 *y = vy;
    for (int64_t i = 0; i < n; i++)
        y[i] = lb_f32_to_f16(x[i]);
}

void lb_quantize_row_bf16(const float *x, void *vy, int64_t n)
{
    lb_bf16 *y = vy;
    for (int64_t i = 0; i < n; i++)
        y[i] = lb_f32_to_bf16(x[i]);
}

/* q8_0/q8_1 as ggml's x86 path computes them: d = amax/127, scale by 127/amax, round to
 * nearest even. */
static float q8_block(const float *x, int8_t *q, int *sum)
{
    float amax = 0.0f;
    for (int j = 0; j < 32; j++)
        amax = fmaxf(amax, fabsf(x[j]));
    float d = amax / 127.0f;
    float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    int s = 0;
    for (int j = 0; j < 32; j++) {
        q[j] = (int8_t)nearest_int(x[j] * id);
        s += q[j];
    }
    *sum = s;
    return d;
}

void lb_quantize_row_q8_0(const float *x, void *vy, int64_t n)
{
    block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        int sum;
        y[i].d = lb_f32_to_f16(q8_block(x + i * QK8_0, y[i].qs, &sum));
    }
}

void lb_quantize_row_q8_1(const float *x, void *vy, int64_t n)
{
    block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / QK8_1; i++) {
        int sum;
        float d = q8_block(x + i * QK8_1, y[i].qs, &sum);
        y[i].d = lb_f32_to_f16(d);
        y[i].s = lb_f32_to_f16(d * (float)sum);
    }
}

/* q8_K as ggml: scale from the signed value of largest magnitude so it maps to -127 (a
 * value of the other sign may reach -128 ... 127), d kept as float, 16-element sums. */
void lb_quantize_row_q8_K(const float *x, void *vy, int64_t n)
{
    block_q8_K *y = vy;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max = 0, amax = 0;
        for (int j = 0; j < QK_K; j++) {
            float ax = fabsf(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < QK_K; j++) {
            int v = nearest_int(iscale * x[j]);
            y[i].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++)
                sum += y[i].qs[j * 16 + l];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}

/* ---- dot products -------------------------------------------------------------------- */

void lb_vec_dot_f32(int n, float *s, const void *vx, const void *vy)
{
    const float *x = vx, *y = vy;
    /* Eight partial sums, like one AVX register of accumulators. */
    float acc[8] = { 0 };
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += x[i + l] * y[i + l];
    float sum = 0;
    for (; i < n; i++)
        sum += x[i] * y[i];
    for (int l = 0; l < 8; l++)
        sum += acc[l];
    *s = sum;
}

void lb_vec_dot_f16(int n, float *s, const void *vx, const void *vy)
{
    const lb_f16 *x = vx, *y = vy;
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)(lb_f16_to_f32(x[i]) * lb_f16_to_f32(y[i]));
    *s = (float)sum;
}

void lb_vec_dot_bf16(int n, float *s, const void *vx, const void *vy)
{
    const lb_bf16 *x = vx, *y = vy;
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)(lb_bf16_to_f32(x[i]) * lb_bf16_to_f32(y[i]));
    *s = (float)sum;
}

void lb_vec_dot_q4_0_q8_0(int n, float *s, const void *vx, const void *vy)
{
    const block_q4_0 *x = vx;
    const block_q8_0 *y = vy;
    float sumf = 0;
    for (int ib = 0; ib < n / QK8_0; ib++) {
        int sumi = 0;
        for (int j = 0; j < QK8_0 / 2; j++) {
            sumi += ((x[ib].qs[j] & 0x0F) - 8) * y[ib].qs[j];
            sumi += ((x[ib].qs[j] >> 4) - 8) * y[ib].qs[j + QK8_0 / 2];
        }
        sumf += sumi * (lb_f16_to_f32(x[ib].d) * lb_f16_to_f32(y[ib].d));
    }
    *s = sumf;
}

void lb_vec_dot_q4_1_q8_1(int n, float *s, const void *vx, const void *vy)
{
    const block_q4_1 *x = vx;
    const block_q8_1 *y = vy;
    float sumf = 0;
    for (int ib = 0; ib < n / QK8_1; ib++) {
        int sumi = 0;
        for (int j = 0; j < QK8_1 / 2; j++) {
            sumi += (x[ib].qs[j] & 0x0F) * y[ib].qs[j];
            sumi += (x[ib].qs[j] >> 4) * y[ib].qs[j + QK8_1 / 2];
        }
        sumf += (lb_f16_to_f32(x[ib].d) * lb_f16_to_f32(y[ib].d)) * sumi +
                lb_f16_to_f32(x[ib].m) * lb_f16_to_f32(y[ib].s);
    }
    *s = sumf;
}

void lb_vec_dot_q5_0_q8_0(int n, float *s, const void *vx, const void *vy)
{
    const block_q5_0 *x = vx;
    const block_q8_0 *y = vy;
    float sumf = 0;
    for (int ib = 0; ib < n / QK8_0; ib++) {
        int sumi = 0;
        for (int j = 0; j < QK8_0 / 2; j++) {
            int v0, v1;
            q5_vals(x[ib].qs, x[ib].qh, j, &v0, &v1);
            sumi += (v0 - 16) * y[ib].qs[j] + (v1 - 16) * y[ib].qs[j + QK8_0 / 2];
        }
        sumf += (lb_f16_to_f32(x[ib].d) * lb_f16_to_f32(y[ib].d)) * sumi;
    }
    *s = sumf;
}

void lb_vec_dot_q5_1_q8_1(int n, float *s, const void *vx, const void *vy)
{
    const block_q5_1 *x = vx;
    const block_q8_1 *y = vy;
    float sumf = 0;
    for (int ib = 0; ib < n / QK8_1; ib++) {
        int sumi = 0;
        for (int j = 0; j < QK8_1 / 2; j++) {
            int v0, v1;
            q5_vals(x[ib].qs, x[ib].qh, j, &v0, &v1);
            sumi += v0 * y[ib].qs[j] + v1 * y[ib].qs[j + QK8_1 / 2];
        }
        sumf += (lb_f16_to_f32(x[ib].d) * lb_f16_to_f32(y[ib].d)) * sumi +
                lb_f16_to_f32(x[ib].m) * lb_f16_to_f32(y[ib].s);
    }
    *s = sumf;
}

void lb_vec_dot_q8_0_q8_0(int n, float *s, const void *vx, const void *vy)
{
    const block_q8_0 *x = vx;
    const block_q8_0 *y = vy;
    float sumf = 0;
    for (int ib = 0; ib < n / QK8_0; ib++) {
        int sumi = 0;
        for (int j = 0; j < QK8_0; j++)
            sumi += x[ib].qs[j] * y[ib].qs[j];
        sumf += sumi * (lb_f16_to_f32(x[ib].d) * lb_f16_to_f32(y[ib].d));
    }
    *s = sumf;
}

/* q4_K / q5_K: per super-block, integer sum of scale * (q . q8) over the eight 32-element
 * sub-blocks, minus the mins applied to q8's 16-element sums. */
static float k_dot(const uint8_t *scales, const uint8_t *q /* 256 values 0..31 */, const block_q8_K *y,
                   float d, float dmin)
{
    int sumi = 0, summ = 0;
    for (int j = 0; j < QK_K / 32; j++) {
        uint8_t sc, m;
        lb_get_scale_min_k4(j, scales, &sc, &m);
        int dot = 0;
        for (int l = 0; l < 32; l++)
            dot += q[j * 32 + l] * y->qs[j * 32 + l];
        sumi += sc * dot;
        summ += m * (y->bsums[2 * j] + y->bsums[2 * j + 1]);
    }
    return d * y->d * (float)sumi - dmin * y->d * (float)summ;
}

void lb_vec_dot_q4_K_q8_K(int n, float *s, const void *vx, const void *vy)
{
    const block_q4_K *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0;
    for (int i = 0; i < n / QK_K; i++) {
        uint8_t q[QK_K];
        for (int j = 0; j < QK_K / 64; j++)
            for (int l = 0; l < 32; l++) {
                q[j * 64 + l] = x[i].qs[j * 32 + l] & 0xF;
                q[j * 64 + 32 + l] = x[i].qs[j * 32 + l] >> 4;
            }
        sumf += k_dot(x[i].scales, q, &y[i], lb_f16_to_f32(x[i].d), lb_f16_to_f32(x[i].dmin));
    }
    *s = sumf;
}

void lb_vec_dot_q5_K_q8_K(int n, float *s, const void *vx, const void *vy)
{
    const block_q5_K *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0;
    for (int i = 0; i < n / QK_K; i++) {
        uint8_t q[QK_K];
        for (int j = 0; j < QK_K / 64; j++)
            for (int l = 0; l < 32; l++) {
                uint8_t h = x[i].qh[l];
                q[j * 64 + l] = (uint8_t)((x[i].qs[j * 32 + l] & 0xF) | (((h >> (2 * j)) & 1) << 4));
                q[j * 64 + 32 + l] = (uint8_t)((x[i].qs[j * 32 + l] >> 4) | (((h >> (2 * j + 1)) & 1) << 4));
            }
        sumf += k_dot(x[i].scales, q, &y[i], lb_f16_to_f32(x[i].d), lb_f16_to_f32(x[i].dmin));
    }
    *s = sumf;
}

void lb_vec_dot_q6_K_q8_K(int n, float *s, const void *vx, const void *vy)
{
    const block_q6_K *x = vx;
    const block_q8_K *y = vy;
    float sumf = 0;
    for (int i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        q6_K_vals(&x[i], q);
        int sumi = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            int dot = 0;
            for (int l = 0; l < 16; l++)
                dot += q[j * 16 + l] * y[i].qs[j * 16 + l];
            sumi += x[i].scales[j] * dot;
        }
        sumf += lb_f16_to_f32(x[i].d) * y[i].d * (float)sumi;
    }
    *s = sumf;
}
