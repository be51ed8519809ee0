/* Sizes and dispatch of the AMX matrix-matrix path (see gemm.h). */
#include "gemm.h"

#include <string.h>

#include "cpu_features.h"
#include "repack.h"

enum { T_Q4_0 = 2, T_Q8_0 = 8, T_Q4_K = 12 }; /* ggml type ids */

bool lb_gemm_amx_usable(uint32_t wtype, int k, uint32_t layout)
{
    if (lb_cpu_isa() < LB_ISA_AMX || k <= 0)
        return false;
    switch (wtype) {
    case T_Q4_0: return k % 32 == 0;
    /* Only repacked (x4) Q8_0: the engine repacks every Q8_0 matmul weight that fits, so the
     * in-place tile loads for plain rows are left unused (the logit difference that once took
     * them off was a rounding flip of summation order, not a bug: bench/RESULTS.md). */
    case T_Q8_0: return k % 32 == 0 && layout == LB_LAYOUT_X4;
    case T_Q4_K: return k % 256 == 0;
    default: return false;
    }
}

static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

size_t lb_gemm_acts_bytes(int n_tok, int k)
{
    size_t tiles = (size_t)(n_tok + 15) / 16, kb = (size_t)k / 32;
    return round64(tiles * kb * 512) + 2 * round64(tiles * kb * 16 * sizeof(float));
}

size_t lb_gemm_scratch_bytes(int k)
{
    size_t kb = (size_t)k / 32;
    /* Two unpacked 16-row groups (A tiles, row scales, mins), two blocks' four int32 C tiles and
     * four float results (lb_amx_rows); one quantized activation row (q8_K is the larger: 292
     * bytes per 256) for lb_amx_acts_quantize, which fits in the first A tiles. */
    size_t rows = 2 * (round64(kb * 512) + 2 * round64(kb * 16 * sizeof(float))) + 2 * 4 * 1024 + 4 * 1024;
    size_t quant = round64((size_t)k) + round64((size_t)k / 256 * 292 + 292);
    return rows > quant ? rows : quant;
}

void lb_gemm_acts_init(lb_gemm_acts *a, void *mem, uint32_t wtype, int n_tok, int k)
{
    size_t tiles = (size_t)(n_tok + 15) / 16, kb = (size_t)k / 32;
    char *p = mem;
    a->wtype = wtype;
    a->n_tok = n_tok;
    a->k = k;
    a->kb = (int)kb;
    a->n_tiles = (int)tiles;
    a->b = (int8_t *)p;
    p += round64(tiles * kb * 512);
    a->da = (float *)p;
    p += round64(tiles * kb * 16 * sizeof(float));
    a->asum = (float *)p;
    /* Padding tokens of the last tile must be zero (quantize never writes them). */
    if (n_tok % 16) {
        size_t last = tiles - 1;
        memset(a->b + last * kb * 512, 0, kb * 512);
        memset(a->da + last * kb * 16, 0, kb * 16 * sizeof(float));
        memset(a->asum + last * kb * 16, 0, kb * 16 * sizeof(float));
    }
}

void lb_gemm_acts_quantize(lb_gemm_acts *a, const float *x, size_t ldx, int t0, int t1, void *scratch)
{
    lb_amx_acts_quantize(a, x, ldx, t0, t1, scratch);
}

void lb_gemm_rows(const lb_gemm_acts *a, const void *w, size_t row_bytes, uint32_t layout, int n_rows, int r0,
                  int r1, float *y, size_t ldy, void *scratch)
{
    lb_amx_rows(a, w, row_bytes, layout, n_rows, r0, r1, y, ldy, scratch);
}
