#include "../lib/harness.h"
#include "kernels.h"
#include "quant.h"

#include <math.h>
#include <stdlib.h>

TEST(f16_conversion)
{
    CHECK_EQ(lb_f32_to_f16(1.0f), 0x3c00);
    CHECK_EQ(lb_f32_to_f16(-2.0f), 0xc000);
    CHECK_EQ(lb_f32_to_f16(65504.0f), 0x7bff);
    CHECK_EQ(lb_f32_to_f16(65520.0f), 0x7c00);          /* ties to even: overflow to inf */
    CHECK_EQ(lb_f32_to_f16(65519.0f), 0x7bff);
    CHECK_EQ(lb_f32_to_f16(0.1f), 0x2e66);
    CHECK_EQ(lb_f32_to_f16(ldexpf(1, -24)), 0x0001);    /* smallest subnormal */
    CHECK_EQ(lb_f32_to_f16(ldexpf(1, -25)), 0x0000);    /* tie to even -> 0 */
    CHECK_EQ(lb_f32_to_f16(ldexpf(3, -25)), 0x0002);    /* tie to even -> 2 */
    CHECK_EQ(lb_f32_to_f16(1.0f + ldexpf(1, -11)), 0x3c00);   /* tie, even stays */
    CHECK_EQ(lb_f32_to_f16(1.0f + ldexpf(3, -11)), 0x3c02);   /* tie, odd rounds up */
    CHECK_EQ(lb_f32_to_f16(INFINITY), 0x7c00);
    CHECK((lb_f32_to_f16(NAN) & 0x7c00) == 0x7c00 && (lb_f32_to_f16(NAN) & 0x3ff));
    CHECK_NEAR(lb_f16_to_f32(0x3555), 0.333251953125, 0);
    CHECK_NEAR(lb_f16_to_f32(0x0001), ldexp(1, -24), 0);
    CHECK_NEAR(lb_f16_to_f32(0x03ff), ldexp(1023, -24), 0);
    CHECK(isinf(lb_f16_to_f32(0xfc00)) && lb_f16_to_f32(0xfc00) < 0);
    /* Every half survives a round trip through float. */
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = lb_f16_to_f32((lb_f16)h);
        if (!isnan(f) && lb_f32_to_f16(f) != h)
            bad++;
    }
    CHECK_EQ(bad, 0);
}

TEST(bf16_conversion)
{
    CHECK_EQ(lb_f32_to_bf16(1.0f), 0x3f80);
    CHECK_EQ(lb_f32_to_bf16(1.0f + ldexpf(1, -8)), 0x3f80);   /* tie to even */
    CHECK_EQ(lb_f32_to_bf16(1.0f + ldexpf(3, -8)), 0x3f82);
    CHECK_NEAR(lb_bf16_to_f32(0xc040), -3.0, 0);
    CHECK((lb_f32_to_bf16(NAN) & 0x7f80) == 0x7f80 && (lb_f32_to_bf16(NAN) & 0x7f));
}

TEST(q4_0_q4_1_blocks)
{
    block_q4_0 b = { 0 };
    b.d = lb_f32_to_f16(0.5f);
    memset(b.qs, 0x88, sizeof b.qs);  /* all zeros after -8 */
    b.qs[0] = 0x1F;
    float y[32];
    lb_dequantize_row_q4_0(&b, y, 32);
    CHECK_NEAR(y[0], 3.5, 0);
    CHECK_NEAR(y[16], -3.5, 0);
    CHECK_NEAR(y[1], 0, 0);
    block_q8_0 a = { 0 };
    a.d = lb_f32_to_f16(1.0f);
    a.qs[0] = 2;
    a.qs[16] = 3;
    float s;
    lb_vec_dot_q4_0_q8_0(32, &s, &b, &a);
    CHECK_NEAR(s, (7 * 2 - 7 * 3) * 0.5, 0);

    block_q4_1 c = { 0 };
    c.d = lb_f32_to_f16(0.5f);
    c.m = lb_f32_to_f16(1.0f);
    c.qs[1] = 0x3A;
    lb_dequantize_row_q4_1(&c, y, 32);
    CHECK_NEAR(y[1], 6.0, 0);
    CHECK_NEAR(y[17], 2.5, 0);
    CHECK_NEAR(y[0], 1.0, 0);
    block_q8_1 a1 = { 0 };
    a1.d = lb_f32_to_f16(1.0f);
    a1.qs[1] = 4;
    a1.qs[17] = -1;
    a1.s = lb_f32_to_f16(3.0f);  /* d * sum(qs) */
    lb_vec_dot_q4_1_q8_1(32, &s, &c, &a1);
    /* sum((q*d + m) * a) = d*(10*4 + 3*-1) + m*3 = 0.5*37 + 3 */
    CHECK_NEAR(s, 21.5, 0);
}

TEST(q5_0_q5_1_blocks)
{
    block_q5_0 b = { 0 };
    b.d = lb_f32_to_f16(1.0f);
    b.qh[0] = 0x01;  /* element 0 */
    b.qh[2] = 0x01;  /* element 16 */
    b.qs[0] = 0x21;
    float y[32];
    lb_dequantize_row_q5_0(&b, y, 32);
    CHECK_NEAR(y[0], 1, 0);
    CHECK_NEAR(y[16], 2, 0);
    CHECK_NEAR(y[1], -16, 0);
    CHECK_NEAR(y[31], -16, 0);
    block_q8_0 a = { 0 };
    a.d = lb_f32_to_f16(0.5f);
    a.qs[0] = 10;
    a.qs[16] = 1;
    a.qs[31] = -2;
    float s;
    lb_vec_dot_q5_0_q8_0(32, &s, &b, &a);
    CHECK_NEAR(s, (1 * 10 + 2 * 1 + -16 * -2) * 0.5, 0);

    block_q5_1 c = { 0 };
    c.d = lb_f32_to_f16(2.0f);
    c.m = lb_f32_to_f16(-1.0f);
    c.qh[0] = 0x01;
    c.qh[2] = 0x01;
    c.qs[0] = 0x21;
    lb_dequantize_row_q5_1(&c, y, 32);
    CHECK_NEAR(y[0], 33, 0);
    CHECK_NEAR(y[16], 35, 0);
    CHECK_NEAR(y[5], -1, 0);
}

TEST(q8_blocks_and_activation_quantization)
{
    block_q8_0 b = { 0 };
    b.d = lb_f32_to_f16(0.25f);
    b.qs[5] = -4;
    float y[256];
    lb_dequantize_row_q8_0(&b, y, 32);
    CHECK_NEAR(y[5], -1.0, 0);

    float x[256] = { 0 };
    x[0] = 1.0f;
    x[1] = -0.5f;
    x[2] = 0.25f;
    block_q8_0 q;
    lb_quantize_row_q8_0(x, &q, 32);
    CHECK_EQ(q.qs[0], 127);
    CHECK_EQ(q.qs[1], -64);   /* -63.5 rounds to even */
    CHECK_EQ(q.qs[2], 32);    /* 31.75 */
    CHECK_EQ(q.d, lb_f32_to_f16(1.0f / 127));
    block_q8_1 q1;
    lb_quantize_row_q8_1(x, &q1, 32);
    CHECK_EQ(q1.qs[1], -64);
    CHECK_EQ(q1.s, lb_f32_to_f16((1.0f / 127) * (127 - 64 + 32)));

    x[3] = -2.0f;  /* largest magnitude, negative */
    block_q8_K k;
    lb_quantize_row_q8_K(x, &k, 256);
    CHECK_EQ(k.qs[3], -127);
    CHECK_EQ(k.qs[0], 64);    /* 63.5 rounds to even */
    CHECK_EQ(k.qs[1], -32);   /* -31.75 */
    CHECK_EQ(k.qs[2], 16);    /* 15.875 */
    CHECK_EQ(k.bsums[0], 64 - 32 + 16 - 127);
    CHECK_EQ(k.bsums[1], 0);
    CHECK_NEAR(k.d, 1.0 / 63.5, 1e-9);
    memset(x, 0, sizeof x);
    lb_quantize_row_q8_K(x, &k, 256);
    CHECK(k.d == 0 && k.qs[0] == 0);
}

TEST(q4_K_q5_K_blocks)
{
    block_q4_K b = { 0 };
    b.d = lb_f32_to_f16(1.0f);
    b.dmin = lb_f32_to_f16(0.5f);
    b.scales[0] = 0x42;  /* sub-block 0 scale 2; top bits feed sub-block 4's scale */
    b.scales[4] = 3;     /* sub-block 0 min 3 */
    b.scales[8] = 0x21;  /* sub-block 4: scale 1 | 16, min 2 */
    b.qs[0] = 0x75;
    b.qs[64] = 0x03;
    float y[256];
    lb_dequantize_row_q4_K(&b, y, 256);
    CHECK_NEAR(y[0], 2 * 5 - 0.5 * 3, 0);
    CHECK_NEAR(y[32], 0, 0);
    CHECK_NEAR(y[128], 17 * 3 - 0.5 * 2, 0);
    CHECK_NEAR(y[129], -1, 0);
    CHECK_NEAR(y[1], -1.5, 0);

    block_q5_K c = { 0 };
    c.d = b.d;
    c.dmin = b.dmin;
    memcpy(c.scales, b.scales, sizeof c.scales);
    memcpy(c.qs, b.qs, 64);
    c.qh[0] = 0x01 | 0x10;  /* +16 for element 0 (u1=1) and for element 128 (u1=16) */
    memcpy(c.qs + 64, b.qs + 64, 64);
    lb_dequantize_row_q5_K(&c, y, 256);
    CHECK_NEAR(y[0], 2 * 21 - 1.5, 0);
    CHECK_NEAR(y[128], 17 * 19 - 1, 0);
    CHECK_NEAR(y[129], -1, 0);
}

TEST(q6_K_block)
{
    block_q6_K b = { 0 };
    b.d = lb_f32_to_f16(0.5f);
    b.scales[0] = 3;
    b.scales[15] = -2;
    b.ql[0] = 0x05;
    b.qh[0] = 0x02;
    b.ql[127] = 0xF0;
    b.qh[63] = 0xC0;
    float y[256];
    lb_dequantize_row_q6_K(&b, y, 256);
    CHECK_NEAR(y[0], 0.5 * 3 * 5, 0);
    CHECK_NEAR(y[1], 0.5 * 3 * -32, 0);
    CHECK_NEAR(y[64], 0, 0);            /* scale 4 is 0 */
    CHECK_NEAR(y[255], 0.5 * -2 * 31, 0);
    block_q8_K a = { 0 };
    a.d = 0.25f;
    a.qs[0] = 2;
    a.qs[255] = -1;
    float s;
    lb_vec_dot_q6_K_q8_K(256, &s, &b, &a);
    CHECK_NEAR(s, (7.5 * 2 + -31 * -1) * 0.25, 1e-6);
}

static float frand(unsigned *seed) { return (float)rand_r(seed) / RAND_MAX * 2.0f - 1.0f; }

/* Random weight blocks with sane scales: random bytes, then scale fields set to small halves. */
static void random_weights(uint32_t type, void *buf, int nblocks, unsigned *seed)
{
    size_t bs = lb_type_block_bytes(type);
    uint8_t *p = buf;
    for (size_t i = 0; i < bs * (size_t)nblocks; i++)
        p[i] = (uint8_t)rand_r(seed);
    for (int b = 0; b < nblocks; b++) {
        uint8_t *blk = p + b * bs;
        lb_f16 d = lb_f32_to_f16(0.01f + 0.05f * fabsf(frand(seed)));
        lb_f16 m = lb_f32_to_f16(0.05f * frand(seed));
        switch (type) {
        case LB_TYPE_Q4_0: case LB_TYPE_Q5_0: case LB_TYPE_Q8_0:
            memcpy(blk, &d, 2);
            break;
        case LB_TYPE_Q4_1: case LB_TYPE_Q5_1: case LB_TYPE_Q4_K: case LB_TYPE_Q5_K:
            memcpy(blk, &d, 2);
            memcpy(blk + 2, &m, 2);
            break;
        case LB_TYPE_Q6_K:
            memcpy(blk + 208, &d, 2);
            break;
        case LB_TYPE_F16: case LB_TYPE_BF16:
            for (int i = 0; i < (int)bs; i += 2) {
                float v = frand(seed);
                lb_f16 h = type == LB_TYPE_F16 ? lb_f32_to_f16(v) : lb_f32_to_bf16(v);
                memcpy(blk + i, &h, 2);
            }
            break;
        case LB_TYPE_F32:
            for (int i = 0; i < (int)bs; i += 4) {
                float v = frand(seed);
                memcpy(blk + i, &v, 4);
            }
            break;
        }
    }
}

/* For every weight type: vec_dot(x, quantize(y)) equals the float dot product of the
 * dequantized rows (the integer path is exact up to float rounding; q8_1's s is an f16). */
TEST(vec_dot_matches_dequantized_dot_every_type)
{
    const uint32_t types[] = { LB_TYPE_F32, LB_TYPE_F16, LB_TYPE_BF16, LB_TYPE_Q4_0, LB_TYPE_Q4_1,
                               LB_TYPE_Q5_0, LB_TYPE_Q5_1, LB_TYPE_Q8_0, LB_TYPE_Q4_K, LB_TYPE_Q5_K,
                               LB_TYPE_Q6_K };
    enum { N = 512 };
    unsigned seed = 1234;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        uint32_t t = types[ti];
        const lb_type_traits *tr = lb_kernels_scalar(t);
        const lb_type_traits *vt = lb_kernels_scalar(tr->vec_dot_type);
        CHECK(tr->supported && tr->vec_dot && vt->from_float && vt->to_float);
        if (!tr->vec_dot)
            continue;
        for (int rep = 0; rep < 20; rep++) {
            static uint8_t w[N * 4], a[N * 4];
            float x[N], wf[N], af[N];
            random_weights(t, w, N / lb_type_block_elems(t), &seed);
            for (int i = 0; i < N; i++)
                x[i] = frand(&seed) * (rep % 3 == 0 ? 10.0f : 1.0f);
            vt->from_float(x, a, N);
            tr->to_float(w, wf, N);
            vt->to_float(a, af, N);
            double ref = 0, mag = 0;
            for (int i = 0; i < N; i++) {
                ref += (double)wf[i] * af[i];
                mag += fabs((double)wf[i] * af[i]);
            }
            float s;
            tr->vec_dot(N, &s, w, a);
            double tol = 1e-5 * mag + 1e-6;
            if (t == LB_TYPE_Q4_1 || t == LB_TYPE_Q5_1) {
                /* m * s with s = f16(d * sum): relative error 2^-11 of each block's |m*d*sum| */
                tol = 1e-3 * mag + 1e-4;
            }
            CHECK_MSG(fabs(s - ref) <= tol, "%s rep %d: %g vs %g", lb_type_name(t), rep, s, ref);
            /* Activation quantization error is small relative to the values. */
            double err = 0, xm = 0;
            for (int i = 0; i < N; i++) {
                err = fmax(err, fabs(af[i] - x[i]));
                xm = fmax(xm, fabs(x[i]));
            }
            CHECK_MSG(err <= xm / 100, "%s activations: max err %g of %g", lb_type_name(tr->vec_dot_type), err, xm);
        }
    }
}
