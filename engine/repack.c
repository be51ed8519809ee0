#include "repack.h"

#include <stdlib.h>
#include <string.h>

#include "ggml_type.h"
#include "simd_blocks.h"

bool lb_repack_enabled(void)
{
    const char *e = getenv("LLMBOX_REPACK");
    return !(e && strcmp(e, "0") == 0);
}

static size_t quant_bytes(uint32_t type) { return type == LB_TYPE_Q4_0 ? 16 : 32; }

bool lb_x4_fits(uint32_t type, int64_t ne0, int64_t ne1)
{
    bool k_quant = type == LB_TYPE_Q4_K || type == LB_TYPE_Q6_K;
    int64_t blk = k_quant ? LBS_QK_K : LBS_QK;
    return (type == LB_TYPE_Q4_0 || type == LB_TYPE_Q8_0 || k_quant) && ne0 > 0 && ne0 % blk == 0 && ne1 > 0 &&
           ne1 % 4 == 0;
}

size_t lb_x4_group_bytes(uint32_t type, int64_t ne0)
{
    if (type == LB_TYPE_Q4_K || type == LB_TYPE_Q6_K)
        return (size_t)(ne0 / LBS_QK_K) * (type == LB_TYPE_Q4_K ? LBS_X4_SB_Q4_K : LBS_X4_SB_Q6_K);
    return (size_t)(ne0 / LBS_QK) * (8 + 4 * quant_bytes(type));
}

/* `n` bytes of row r (0-3), 8 at a time, into chunks of 4 rows: row byte 32c + 8j + i goes to
 * c*128 + j*32 + r*8 + i (simd_blocks.h). */
static void interleave(const uint8_t *row, int r, size_t n, uint8_t *dst)
{
    for (size_t j = 0; j < n / 8; j++)
        memcpy(dst + j * 32 + (size_t)r * 8, row + 8 * j, 8);
}

static void deinterleave(const uint8_t *src, int r, size_t n, uint8_t *row)
{
    for (size_t j = 0; j < n / 8; j++)
        memcpy(row + 8 * j, src + j * 32 + (size_t)r * 8, 8);
}

/* Q4_K super-block b of the 4 rows at `rows` (row stride rb) into its 576 x4 bytes. */
static void pack_q4_K(const uint8_t *rows, size_t rb, size_t b, uint8_t *dst)
{
    uint8_t u[64];
    for (int r = 0; r < 4; r++) {
        const lbs_q4_K *x = (const lbs_q4_K *)(rows + (size_t)r * rb) + b;
        uint8_t sc[8], mn[8];
        memcpy(dst + r * 2, &x->d, 2);
        memcpy(dst + 8 + r * 2, &x->dmin, 2);
        lbs_k4_scales(x->scales, sc, mn);
        for (int j = 0; j < 8; j++) {
            u[4 * j + r] = sc[j];
            u[32 + lbs_x4k_min_at(r, j)] = mn[j];
        }
        interleave(x->qs, r, sizeof x->qs, dst + LBS_X4_HDR_Q4_K);
    }
    lbs_x4k_pack(u, dst + 16);
}

static void pack_q6_K(const uint8_t *rows, size_t rb, size_t b, uint8_t *dst)
{
    for (int r = 0; r < 4; r++) {
        const lbs_q6_K *x = (const lbs_q6_K *)(rows + (size_t)r * rb) + b;
        memcpy(dst + r * 2, &x->d, 2);
        for (int g = 0; g < 16; g++)
            dst[8 + 4 * g + r] = (uint8_t)x->scales[g];
        interleave(x->ql, r, sizeof x->ql, dst + LBS_X4_QL_Q6_K);
        interleave(x->qh, r, sizeof x->qh, dst + LBS_X4_QH_Q6_K);
    }
}

static void get_q6_K(const uint8_t *sb, int r, lbs_q6_K *x)
{
    memcpy(&x->d, sb + r * 2, 2);
    for (int g = 0; g < 16; g++)
        x->scales[g] = (int8_t)sb[8 + 4 * g + r];
    deinterleave(sb + LBS_X4_QL_Q6_K, r, sizeof x->ql, x->ql);
    deinterleave(sb + LBS_X4_QH_Q6_K, r, sizeof x->qh, x->qh);
}

/* Plain blocks are [fp16 d][quants]: Q4_0 16 nibble bytes, Q8_0 32 int8. */
void lb_x4_pack(uint32_t type, const void *src, void *dst, int64_t ne0, int64_t ne1)
{
    if (type == LB_TYPE_Q4_K || type == LB_TYPE_Q6_K) {
        const bool q4 = type == LB_TYPE_Q4_K;
        const size_t nb = (size_t)(ne0 / LBS_QK_K), sbb = q4 ? LBS_X4_SB_Q4_K : LBS_X4_SB_Q6_K, rb = nb * sbb / 4;
        for (int64_t g = 0; g < ne1 / 4; g++)
            for (size_t b = 0; b < nb; b++) {
                const uint8_t *rows = (const uint8_t *)src + (size_t)g * 4 * rb;
                uint8_t *out = (uint8_t *)dst + (size_t)g * 4 * rb + b * sbb;
                if (q4)
                    pack_q4_K(rows, rb, b, out);
                else
                    pack_q6_K(rows, rb, b, out);
            }
        return;
    }
    const size_t qb = quant_bytes(type), blk = 2 + qb, nb = (size_t)(ne0 / LBS_QK), rb = nb * blk;
    for (int64_t g = 0; g < ne1 / 4; g++) {
        uint8_t *sc = (uint8_t *)dst + (size_t)g * 4 * rb, *qs = sc + nb * 8;
        for (int r = 0; r < 4; r++) {
            const uint8_t *row = (const uint8_t *)src + ((size_t)g * 4 + (size_t)r) * rb;
            for (size_t b = 0; b < nb; b++) {
                memcpy(sc + b * 8 + (size_t)r * 2, row + b * blk, 2);
                interleave(row + b * blk + 2, r, qb, qs + b * 4 * qb);
            }
        }
    }
}

/* The inverse of lbs_k4_scales: 8 scales and 8 mins of 6 bits into ggml's 12 bytes. */
static void k4_scales_pack(const uint8_t sc[8], const uint8_t mn[8], uint8_t q[12])
{
    for (int j = 0; j < 4; j++) {
        q[j] = (uint8_t)(sc[j] | (sc[j + 4] >> 4) << 6);
        q[j + 4] = (uint8_t)(mn[j] | (mn[j + 4] >> 4) << 6);
        q[j + 8] = (uint8_t)((sc[j + 4] & 15) | (mn[j + 4] & 15) << 4);
    }
}

static void get_q4_K(const uint8_t *sb, int r, lbs_q4_K *x)
{
    uint8_t u[64], sc[8], mn[8];
    memcpy(&x->d, sb + r * 2, 2);
    memcpy(&x->dmin, sb + 8 + r * 2, 2);
    lbs_x4k_unpack(sb + 16, u);
    for (int j = 0; j < 8; j++) {
        sc[j] = u[4 * j + r];
        mn[j] = u[32 + lbs_x4k_min_at(r, j)];
    }
    k4_scales_pack(sc, mn, x->scales);
    deinterleave(sb + LBS_X4_HDR_Q4_K, r, sizeof x->qs, x->qs);
}

void lb_x4_get_block(uint32_t type, const void *group, int64_t ne0, int r, int64_t b, void *block)
{
    if (type == LB_TYPE_Q4_K) {
        get_q4_K((const uint8_t *)group + (size_t)b * LBS_X4_SB_Q4_K, r, block);
        return;
    }
    if (type == LB_TYPE_Q6_K) {
        get_q6_K((const uint8_t *)group + (size_t)b * LBS_X4_SB_Q6_K, r, block);
        return;
    }
    const size_t qb = quant_bytes(type), nb = (size_t)(ne0 / LBS_QK);
    const uint8_t *sc = group, *qs = sc + nb * 8 + (size_t)b * 4 * qb;
    uint8_t *out = block;
    memcpy(out, sc + (size_t)b * 8 + (size_t)r * 2, 2);
    deinterleave(qs, r, qb, out + 2);
}
