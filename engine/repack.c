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
    int64_t blk = type == LB_TYPE_Q4_K ? LBS_QK_K : LBS_QK;
    return (type == LB_TYPE_Q4_0 || type == LB_TYPE_Q8_0 || type == LB_TYPE_Q4_K) && ne0 > 0 && ne0 % blk == 0 &&
           ne1 > 0 && ne1 % 4 == 0;
}

size_t lb_x4_group_bytes(uint32_t type, int64_t ne0)
{
    if (type == LB_TYPE_Q4_K)
        return (size_t)(ne0 / LBS_QK_K) * LBS_X4_SB_Q4_K;
    return (size_t)(ne0 / LBS_QK) * (8 + 4 * quant_bytes(type));
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
        for (int j = 0; j < 32; j++)
            memcpy(dst + LBS_X4_HDR_Q4_K + (j / 8) * 128 + (j % 8) * 16 + r * 4, x->qs + 4 * j, 4);
    }
    lbs_x4k_pack(u, dst + 16);
}

/* Plain blocks are [fp16 d][quants]: Q4_0 16 nibble bytes, Q8_0 32 int8. */
void lb_x4_pack(uint32_t type, const void *src, void *dst, int64_t ne0, int64_t ne1)
{
    if (type == LB_TYPE_Q4_K) {
        const size_t nb = (size_t)(ne0 / LBS_QK_K), rb = nb * sizeof(lbs_q4_K);
        for (int64_t g = 0; g < ne1 / 4; g++)
            for (size_t b = 0; b < nb; b++)
                pack_q4_K((const uint8_t *)src + (size_t)g * 4 * rb, rb, b,
                          (uint8_t *)dst + (size_t)g * 4 * rb + b * LBS_X4_SB_Q4_K);
        return;
    }
    const size_t qb = quant_bytes(type), blk = 2 + qb, nb = (size_t)(ne0 / LBS_QK), rb = nb * blk;
    for (int64_t g = 0; g < ne1 / 4; g++) {
        uint8_t *sc = (uint8_t *)dst + (size_t)g * 4 * rb, *qs = sc + nb * 8;
        for (int r = 0; r < 4; r++) {
            const uint8_t *row = (const uint8_t *)src + ((size_t)g * 4 + (size_t)r) * rb;
            for (size_t b = 0; b < nb; b++) {
                memcpy(sc + b * 8 + (size_t)r * 2, row + b * blk, 2);
                for (size_t j = 0; j < qb / 4; j++)
                    memcpy(qs + b * 4 * qb + j * 16 + (size_t)r * 4, row + b * blk + 2 + j * 4, 4);
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
    for (int j = 0; j < 32; j++)
        memcpy(x->qs + 4 * j, sb + LBS_X4_HDR_Q4_K + (j / 8) * 128 + (j % 8) * 16 + r * 4, 4);
}

void lb_x4_get_block(uint32_t type, const void *group, int64_t ne0, int r, int64_t b, void *block)
{
    if (type == LB_TYPE_Q4_K) {
        get_q4_K((const uint8_t *)group + (size_t)b * LBS_X4_SB_Q4_K, r, block);
        return;
    }
    const size_t qb = quant_bytes(type), nb = (size_t)(ne0 / LBS_QK);
    const uint8_t *sc = group, *qs = sc + nb * 8 + (size_t)b * 4 * qb;
    uint8_t *out = block;
    memcpy(out, sc + (size_t)b * 8 + (size_t)r * 2, 2);
    for (size_t j = 0; j < qb / 4; j++)
        memcpy(out + 2 + j * 4, qs + j * 16 + (size_t)r * 4, 4);
}
