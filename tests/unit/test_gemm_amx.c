/* The AMX matrix-matrix path against the (separately tested) vec_dot kernels on random
 * weights, with row and token counts that are not multiples of the 16x16 tiles. Activation
 * quantization is shared, so only the float summation order differs: tolerance 2e-5 of the
 * sum of |w_i x_i|. */
#include "../lib/harness.h"
#include "cpu_features.h"
#include "gemm.h"
#include "kern_simd.h"
#include "simd_blocks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x1234567887654321ull;
static uint32_t rnd(void) { return lb_test_rnd(&rng); }
static float frnd(void) { return ((float)(rnd() & 0xffffff) / 16777216.0f) * 2.0f - 1.0f; }

static float h2f(uint16_t h)
{
    uint32_t e = (h >> 10) & 31, m = h & 1023;
    float v = e ? ldexpf((float)(m | 1024), (int)e - 25) : ldexpf((float)m, -24);
    return (h & 0x8000) ? -v : v;
}

/* A small positive fp16 scale: exponent 5..12 (about 1e-3 .. 0.1). */
static uint16_t rnd_scale(void) { return (uint16_t)(((5 + rnd() % 8) << 10) | (rnd() & 1023)); }

enum { T_Q4_0 = 2, T_Q8_0 = 8, T_Q4_K = 12 };

static size_t row_bytes(int type, int k)
{
    return type == T_Q4_0 ? (size_t)k / 32 * 18 : type == T_Q8_0 ? (size_t)k / 32 * 34 : (size_t)k / 256 * 144;
}

static void fill_row(int type, void *row, int k)
{
    size_t n = row_bytes(type, k);
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)row)[i] = (uint8_t)rnd();
    if (type == T_Q4_0)
        for (int b = 0; b < k / 32; b++)
            ((lbs_q4_0 *)row)[b].d = rnd_scale();
    if (type == T_Q8_0)
        for (int b = 0; b < k / 32; b++) {
            ((lbs_q8_0 *)row)[b].d = rnd_scale();
            for (int j = 0; j < 32; j++)
                if (((lbs_q8_0 *)row)[b].qs[j] == -128)
                    ((lbs_q8_0 *)row)[b].qs[j] = -127;
        }
    if (type == T_Q4_K)
        for (int b = 0; b < k / 256; b++) {
            ((lbs_q4_K *)row)[b].d = rnd_scale();
            ((lbs_q4_K *)row)[b].dmin = rnd_scale();
        }
}

/* Sum of |w_i x_i| with the weights dequantized (for the tolerance only). */
static double mag_row(int type, const void *row, const float *x, int k)
{
    double m = 0;
    for (int i = 0; i < k; i++) {
        float w;
        if (type == T_Q4_0) {
            const lbs_q4_0 *b = (const lbs_q4_0 *)row + i / 32;
            int j = i % 32;
            w = (float)(((j < 16) ? (b->qs[j] & 15) : (b->qs[j - 16] >> 4)) - 8) * h2f(b->d);
        } else if (type == T_Q8_0) {
            const lbs_q8_0 *b = (const lbs_q8_0 *)row + i / 32;
            w = b->qs[i % 32] * h2f(b->d);
        } else {
            const lbs_q4_K *b = (const lbs_q4_K *)row + i / 256;
            uint8_t sc[8], mn[8];
            lbs_k4_scales(b->scales, sc, mn);
            int e = i % 256, sb = e / 32, l = e % 32;
            uint8_t byte = b->qs[(sb / 2) * 32 + l];
            int q = (sb & 1) ? byte >> 4 : byte & 15;
            w = h2f(b->d) * sc[sb] * q - h2f(b->dmin) * mn[sb];
        }
        m += fabs((double)w * x[i]);
    }
    return m;
}

static void check_type(int type, int n_rows, int k, int n_tok)
{
    size_t rb = row_bytes(type, k);
    uint8_t *w = malloc(rb * n_rows);
    float *x = malloc(sizeof(float) * k * n_tok);
    float *y = malloc(sizeof(float) * n_rows * n_tok);
    void *acts_mem = aligned_alloc(64, (lb_gemm_acts_bytes(n_tok, k) + 63) & ~(size_t)63);
    void *scratch = aligned_alloc(64, (lb_gemm_scratch_bytes(k) + 63) & ~(size_t)63);
    void *q = malloc((size_t)k / 32 * 36 + 400);
    for (int r = 0; r < n_rows; r++)
        fill_row(type, w + r * rb, k);
    for (int i = 0; i < k * n_tok; i++)
        x[i] = frnd() * 2.0f;
    for (int i = 0; i < n_rows * n_tok; i++)
        y[i] = NAN;

    lb_gemm_acts a;
    lb_gemm_acts_init(&a, acts_mem, (uint32_t)type, n_tok, k);
    /* two "threads": token halves, then row groups of 16 */
    lb_gemm_acts_quantize(&a, x, k, 0, n_tok / 2, scratch);
    lb_gemm_acts_quantize(&a, x, k, n_tok / 2, n_tok, scratch);
    int split = (n_rows / 32) * 16;
    lb_gemm_rows(&a, w, rb, LB_LAYOUT_PLAIN, n_rows, 0, split, y, n_rows, scratch);
    lb_gemm_rows(&a, w, rb, LB_LAYOUT_PLAIN, n_rows, split, n_rows, y, n_rows, scratch);

    int bad = 0;
    for (int t = 0; t < n_tok && bad < 5; t++) {
        float ref;
        for (int r = 0; r < n_rows && bad < 5; r++) {
            if (type == T_Q4_K) {
                lb_kern_avx512_quantize_row_q8_K(x + t * k, q, k);
                lb_kern_avx512_vec_dot_q4_K_q8_K(k, &ref, w + r * rb, q);
            } else {
                lb_kern_avx512_quantize_row_q8_0(x + t * k, q, k);
                if (type == T_Q4_0)
                    lb_kern_avx512_vec_dot_q4_0_q8_0(k, &ref, w + r * rb, q);
                else
                    lb_kern_avx512_vec_dot_q8_0_q8_0(k, &ref, w + r * rb, q);
            }
            double tol = 2e-5 * mag_row(type, w + r * rb, x + t * k, k) + 1e-6;
            float got = y[t * n_rows + r];
            if (!(fabs(got - ref) <= tol)) {
                bad++;
                CHECK_MSG(0, "type %d row %d tok %d: %.8g vs %.8g (tol %g)", type, r, t, got, ref, tol);
            }
        }
    }
    free(w);
    free(x);
    free(y);
    free(acts_mem);
    free(scratch);
    free(q);
}

TEST(gemm_amx_matches_vec_dot)
{
    if (!lb_gemm_amx_usable(T_Q4_0, 256, LB_LAYOUT_PLAIN))
        SKIP("no AMX-INT8 on this CPU (or LLMBOX_ISA below amx)");
    check_type(T_Q4_0, 40, 512, 21);
    check_type(T_Q8_0, 40, 512, 21);
    check_type(T_Q8_0, 32, 256, 16);
    check_type(T_Q4_K, 40, 512, 21);
    check_type(T_Q4_K, 17, 256, 3);
}

TEST(gemm_amx_usable_follows_isa_level)
{
    lb_isa before = lb_cpu_isa();
    lb_cpu_isa_set(LB_ISA_AVX512);
    CHECK(!lb_gemm_amx_usable(T_Q4_0, 256, LB_LAYOUT_PLAIN));
    lb_cpu_isa_set(before);
    CHECK(!lb_gemm_amx_usable(14 /* Q6_K */, 256, LB_LAYOUT_PLAIN));
    CHECK(!lb_gemm_amx_usable(T_Q4_K, 32, LB_LAYOUT_PLAIN)); /* K-quants need whole super-blocks */
    if (lb_cpu_caps_get()->best >= LB_ISA_AMX)
        CHECK(lb_gemm_amx_usable(T_Q4_K, 512, LB_LAYOUT_PLAIN));
}
