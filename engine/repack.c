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
    return (type == LB_TYPE_Q4_0 || type == LB_TYPE_Q8_0) && ne0 > 0 && ne0 % LBS_QK == 0 && ne1 > 0 && ne1 % 4 == 0;
}

size_t lb_x4_group_bytes(uint32_t type, int64_t ne0)
{
    return (size_t)(ne0 / LBS_QK) * (8 + 4 * quant_bytes(type));
}

/* Plain blocks are [fp16 d][quants]: Q4_0 16 nibble bytes, Q8_0 32 int8. */
void lb_x4_pack(uint32_t type, const void *src, void *dst, int64_t ne0, int64_t ne1)
{
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

void lb_x4_get_block(uint32_t type, const void *group, int64_t ne0, int r, int64_t b, void *block)
{
    const size_t qb = quant_bytes(type), nb = (size_t)(ne0 / LBS_QK);
    const uint8_t *sc = group, *qs = sc + nb * 8 + (size_t)b * 4 * qb;
    uint8_t *out = block;
    memcpy(out, sc + (size_t)b * 8 + (size_t)r * 2, 2);
    for (size_t j = 0; j < qb / 4; j++)
        memcpy(out + 2 + j * 4, qs + j * 16 + (size_t)r * 4, 4);
}
