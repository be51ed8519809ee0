/* Plain attention over a block of queries sharing K/V rows (engine/attn_block.c) against the
 * same arithmetic in double precision: Q rounded to F16, scores and softmax exact, the
 * probabilities rounded to F16, value sums exact. The kernels' float sums may move a
 * probability by one F16 step, so each output may differ by 2^-10 of sum |p v|. Each token
 * sees only rows up to its own position, including blocks whose positions have gaps. */
#include "../lib/harness.h"
#include "attn_block.h"
#include "quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x5be0cd19137e2179ull;
static float frnd(void) { return ((float)(lb_test_rnd(&rng) & 0xffffff) / 16777216.0f) * 2.0f - 1.0f; }

enum { HD = 64, HEADS = 4, KVH = 2, CTX = 40, NTOK = 5 };

static void check_block(const int32_t *pos, int n_tok, int kvh)
{
    const size_t kv_stride = (size_t)KVH * HD, q_tok = (size_t)KVH * HEADS * HD;
    static lb_f16 k[CTX * KVH * HD], v[CTX * KVH * HD];
    static float q[NTOK * KVH * HEADS * HD], out[NTOK * KVH * HEADS * HD];
    for (int i = 0; i < CTX * KVH * HD; i++) {
        k[i] = lb_f32_to_f16(frnd() * 3);
        v[i] = lb_f32_to_f16(frnd() * 2);
    }
    for (int i = 0; i < NTOK * KVH * HEADS * HD; i++) {
        q[i] = frnd() * 3;
        out[i] = NAN;
    }
    const size_t first = (size_t)kvh * HEADS * HD;
    lb_attn_block b = {
        .hd = HD, .heads = HEADS, .n_tok = n_tok, .pos = pos, .q = q + first, .q_tok = q_tok,
        .k = k + (size_t)kvh * HD, .v = v + (size_t)kvh * HD, .kv_stride = kv_stride, .out = out + first,
        .scale = 0.125f,
    };
    float *scratch = malloc(lb_attn_block_scratch(HD, n_tok * HEADS, CTX) * sizeof(float));
    lb_attn_block_plain(&b, scratch, CTX);
    int bad = 0;
    for (int i = 0; i < n_tok; i++)
        for (int j = 0; j < HEADS; j++) {
            const float *qq = q + first + i * q_tok + (size_t)j * HD;
            double sc[CTX], max = -INFINITY, sum = 0;
            for (int t = 0; t <= pos[i]; t++) {
                sc[t] = 0;
                for (int d = 0; d < HD; d++)
                    sc[t] += (double)lb_f16_to_f32(lb_f32_to_f16(qq[d])) *
                             lb_f16_to_f32(k[(size_t)t * kv_stride + (size_t)kvh * HD + d]);
                sc[t] *= 0.125;
                max = sc[t] > max ? sc[t] : max;
            }
            for (int t = 0; t <= pos[i]; t++)
                sum += exp(sc[t] - max);
            for (int d = 0; d < HD; d++) {
                double want = 0, mag = 0;
                for (int t = 0; t <= pos[i]; t++) {
                    double p = lb_f16_to_f32(lb_f32_to_f16((float)(exp(sc[t] - max) / sum)));
                    double vv = lb_f16_to_f32(v[(size_t)t * kv_stride + (size_t)kvh * HD + d]);
                    want += p * vv;
                    mag += fabs(p * vv);
                }
                float got = out[first + i * q_tok + (size_t)j * HD + d];
                if (!(fabs(got - want) <= mag / 1024 + 1e-6) && bad++ < 3)
                    CHECK_MSG(0, "kv head %d token %d (pos %d) head %d dim %d: %g vs %g", kvh, i, pos[i], j, d, got,
                              want);
            }
        }
    /* the other K/V head's outputs are not touched */
    for (int i = 0; i < n_tok; i++)
        for (size_t e = 0; e < (size_t)HEADS * HD; e++)
            CHECK(isnan(out[i * q_tok + (kvh ? 0 : (size_t)HEADS * HD) + e]));
    free(scratch);
}

TEST(attn_block_matches_double_reference)
{
    const int32_t run[NTOK] = { 6, 7, 8, 9, 10 }, gaps[3] = { 2, 9, 33 }, one[1] = { 0 }, late[1] = { CTX - 1 };
    for (int kvh = 0; kvh < KVH; kvh++) {
        check_block(run, NTOK, kvh);
        check_block(gaps, 3, kvh);
        check_block(one, 1, kvh);
        check_block(late, 1, kvh);
    }
}
