/* Maps an ISA level to its compiled kernel set (see kern_simd.h). */
#include "kern_simd.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "ggml_type.h"
#include "kernels.h"
#include "quant.h"

#define FILL(t, isa)                                                  \
    do {                                                              \
        (t)->quantize_row_q8_0 = lb_kern_##isa##_quantize_row_q8_0;   \
        (t)->quantize_row_q8_K = lb_kern_##isa##_quantize_row_q8_K;   \
        (t)->vec_dot_q4_0_q8_0 = lb_kern_##isa##_vec_dot_q4_0_q8_0;   \
        (t)->vec_dot_q8_0_q8_0 = lb_kern_##isa##_vec_dot_q8_0_q8_0;   \
        (t)->vec_dot_q4_K_q8_K = lb_kern_##isa##_vec_dot_q4_K_q8_K;   \
        (t)->vec_dot_q6_K_q8_K = lb_kern_##isa##_vec_dot_q6_K_q8_K;   \
        (t)->vec_dot_f16 = lb_kern_##isa##_vec_dot_f16;               \
        (t)->vec_dot_bf16 = lb_kern_##isa##_vec_dot_bf16;             \
        (t)->vec_dot_q4_1_q8_1 = lb_kern_##isa##_vec_dot_q4_1_q8_1;   \
        (t)->vec_dot_q5_0_q8_0 = lb_kern_##isa##_vec_dot_q5_0_q8_0;   \
        (t)->vec_dot_q5_1_q8_1 = lb_kern_##isa##_vec_dot_q5_1_q8_1;   \
        (t)->vec_dot_q5_K_q8_K = lb_kern_##isa##_vec_dot_q5_K_q8_K;   \
        (t)->quantize_row_f16 = lb_kern_##isa##_quantize_row_f16;     \
        (t)->dequantize_row_f16 = lb_kern_##isa##_dequantize_row_f16; \
        (t)->axpy_f16 = lb_kern_##isa##_axpy_f16;                     \
        (t)->dot_f16_rows = lb_kern_##isa##_dot_f16_rows;             \
        (t)->axpy_f16_rows = lb_kern_##isa##_axpy_f16_rows;           \
        (t)->dot_f16_multi = lb_kern_##isa##_dot_f16_multi;           \
        (t)->axpy_f16_multi = lb_kern_##isa##_axpy_f16_multi;         \
        (t)->gemv_q4_0 = lb_kern_##isa##_gemv_q4_0;                   \
        (t)->gemv_act_from_q8_0 = lb_kern_##isa##_gemv_act_from_q8_0; \
        (t)->f16_acc_fma = lb_kern_##isa##_f16_acc_fma;               \
        (t)->f16_scale = lb_kern_##isa##_f16_scale;                   \
        (t)->gemm_x4_q4_0 = lb_kern_##isa##_gemm_x4_q4_0;             \
        (t)->gemm_x4_q8_0 = lb_kern_##isa##_gemm_x4_q8_0;             \
        (t)->gemm_x4_q4_K = lb_kern_##isa##_gemm_x4_q4_K;             \
        (t)->x4_act = lb_kern_##isa##_x4_act;                         \
        (t)->gemm_x4_q6_K = lb_kern_##isa##_gemm_x4_q6_K;             \
        (t)->x4_act_q4_K = lb_kern_##isa##_x4_act_q4_K;               \
        (t)->x4_act_q6_K = lb_kern_##isa##_x4_act_q6_K;               \
        (t)->silu_mul = lb_kern_##isa##_silu_mul;                     \
        (t)->softmax_f16r = lb_kern_##isa##_softmax_f16r;             \
    } while (0)

void lb_simd_kernels_for(lb_isa isa, lb_simd_kernels *out)
{
    memset(out, 0, sizeof *out);
    out->isa = isa;
    switch (isa) {
    case LB_ISA_AVX2: FILL(out, avx2); break;
    case LB_ISA_AVXVNNI:
        FILL(out, avxvnni);
        out->gemv_q8_0 = lb_kern_avxvnni_gemv_q8_0;
        break;
    case LB_ISA_AVX512:
    case LB_ISA_AMX:
        /* kern_zmm_avx512.c's 512-bit Q4_0 dot measured slower than the 256-bit one here
         * (bench/RESULTS.md): it stays for tests and benches, not selected. */
        FILL(out, avx512);
        out->gemv_q8_0 = lb_kern_avx512_gemv_q8_0;
        if (lb_cpu_caps_get()->zmm_x4) {
            out->gemm_x4_q4_0 = lb_kern_avx512_gemm_x4z_q4_0;
            out->gemm_x4_q8_0 = lb_kern_avx512_gemm_x4z_q8_0;
        }
        break;
    default: out->isa = LB_ISA_SCALAR; break;
    }
}

lb_gemm_x4_fn lb_simd_gemm_x4(const lb_simd_kernels *k, uint32_t type)
{
    switch (type) {
    case LB_TYPE_Q4_0: return k->gemm_x4_q4_0;
    case LB_TYPE_Q8_0: return k->gemm_x4_q8_0;
    case LB_TYPE_Q4_K: return k->gemm_x4_q4_K;
    case LB_TYPE_Q6_K: return k->gemm_x4_q6_K;
    default: return NULL;
    }
}

void lb_simd_x4_act(const lb_simd_kernels *k, uint32_t type, const float *x, int n, lbs_x4_act *act)
{
    if (type == LB_TYPE_Q4_K)
        k->x4_act_q4_K(x, n, act);
    else if (type == LB_TYPE_Q6_K)
        k->x4_act_q6_K(x, n, act);
    else
        k->x4_act(x, n, type == LB_TYPE_Q4_0 ? 3 : 7, act); /* the weights' offset: 8 or 128 */
}

const char *lb_kernels_install_simd(struct lb_type_traits *t)
{
    lb_isa isa = lb_cpu_isa();
    lb_simd_kernels k;
    lb_simd_kernels_for(isa, &k);
    if (k.isa == LB_ISA_SCALAR)
        return lb_isa_name(LB_ISA_SCALAR);
    t[LB_TYPE_Q4_0].vec_dot = k.vec_dot_q4_0_q8_0;
    t[LB_TYPE_Q8_0].vec_dot = k.vec_dot_q8_0_q8_0;
    t[LB_TYPE_Q4_K].vec_dot = k.vec_dot_q4_K_q8_K;
    t[LB_TYPE_Q6_K].vec_dot = k.vec_dot_q6_K_q8_K;
    t[LB_TYPE_Q8_0].from_float = k.quantize_row_q8_0;
    t[LB_TYPE_Q8_K].from_float = k.quantize_row_q8_K;
    t[LB_TYPE_F16].vec_dot = k.vec_dot_f16;
    t[LB_TYPE_BF16].vec_dot = k.vec_dot_bf16;
    t[LB_TYPE_Q4_1].vec_dot = k.vec_dot_q4_1_q8_1;
    t[LB_TYPE_Q5_0].vec_dot = k.vec_dot_q5_0_q8_0;
    t[LB_TYPE_Q5_1].vec_dot = k.vec_dot_q5_1_q8_1;
    t[LB_TYPE_Q5_K].vec_dot = k.vec_dot_q5_K_q8_K;
    t[LB_TYPE_F16].from_float = k.quantize_row_f16;
    t[LB_TYPE_F16].to_float = k.dequantize_row_f16;
    return lb_isa_name(isa);
}

static void axpy_f16_scalar(int n, float a, const void *vx, float *y)
{
    const lb_f16 *x = vx;
    for (int i = 0; i < n; i++)
        y[i] += a * lb_f16_to_f32(x[i]);
}

static void dot_f16_rows_scalar(int n, int rows, const void *x, size_t stride, const void *y, float *s)
{
    for (int t = 0; t < rows; t++)
        lb_vec_dot_f16(n, &s[t], (const lb_f16 *)x + (size_t)t * stride, y);
}

static void axpy_f16_rows_scalar(int n, int rows, const float *a, const void *x, size_t stride, float *y)
{
    for (int t = 0; t < rows; t++)
        axpy_f16_scalar(n, a[t], (const lb_f16 *)x + (size_t)t * stride, y);
}

static void dot_f16_multi_scalar(int n, int rows, const void *x, size_t stride, int nq, const float *y, float *s,
                                 size_t ss)
{
    for (int q = 0; q < nq; q++)
        for (int t = 0; t < rows; t++) {
            const lb_f16 *r = (const lb_f16 *)x + (size_t)t * stride;
            float sum = 0;
            for (int d = 0; d < n; d++)
                sum += lb_f16_to_f32(r[d]) * y[(size_t)q * n + d];
            s[(size_t)q * ss + t] = sum;
        }
}

static void axpy_f16_multi_scalar(int n, int rows, const float *a, size_t as, const void *x, size_t stride, int nq,
                                  float *y)
{
    for (int q = 0; q < nq; q++)
        axpy_f16_rows_scalar(n, rows, a + (size_t)q * as, x, stride, y + (size_t)q * n);
}

/* The F16 attention kernels of the current level, chosen once (like the dispatch table). */
static struct {
    lb_axpy_fn axpy;
    void (*dot_rows)(int, int, const void *, size_t, const void *, float *);
    void (*axpy_rows)(int, int, const float *, const void *, size_t, float *);
    void (*dot_multi)(int, int, const void *, size_t, int, const float *, float *, size_t);
    void (*axpy_multi)(int, int, const float *, size_t, const void *, size_t, int, float *);
} g_f16;
static pthread_once_t g_f16_once = PTHREAD_ONCE_INIT;

static void f16_select(void)
{
    lb_simd_kernels k;
    lb_simd_kernels_for(lb_cpu_isa(), &k);
    g_f16.axpy = k.axpy_f16 ? k.axpy_f16 : axpy_f16_scalar;
    g_f16.dot_rows = k.dot_f16_rows ? k.dot_f16_rows : dot_f16_rows_scalar;
    g_f16.axpy_rows = k.axpy_f16_rows ? k.axpy_f16_rows : axpy_f16_rows_scalar;
    g_f16.dot_multi = k.dot_f16_multi ? k.dot_f16_multi : dot_f16_multi_scalar;
    g_f16.axpy_multi = k.axpy_f16_multi ? k.axpy_f16_multi : axpy_f16_multi_scalar;
}

void lb_axpy_f16(int n, float a, const void *x, float *y)
{
    pthread_once(&g_f16_once, f16_select);
    g_f16.axpy(n, a, x, y);
}

void lb_dot_f16_rows(int n, int rows, const void *x, size_t stride, const void *y, float *s)
{
    pthread_once(&g_f16_once, f16_select);
    g_f16.dot_rows(n, rows, x, stride, y, s);
}

void lb_axpy_f16_rows(int n, int rows, const float *a, const void *x, size_t stride, float *y)
{
    pthread_once(&g_f16_once, f16_select);
    g_f16.axpy_rows(n, rows, a, x, stride, y);
}

void lb_dot_f16_multi(int n, int rows, const void *x, size_t stride, int nq, const float *y, float *s, size_t ss)
{
    pthread_once(&g_f16_once, f16_select);
    g_f16.dot_multi(n, rows, x, stride, nq, y, s, ss);
}

void lb_axpy_f16_multi(int n, int rows, const float *a, size_t as, const void *x, size_t stride, int nq, float *y)
{
    pthread_once(&g_f16_once, f16_select);
    g_f16.axpy_multi(n, rows, a, as, x, stride, nq, y);
}

static void silu_mul_scalar(int n, float *g, const float *u)
{
    for (int i = 0; i < n; i++)
        g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static void (*g_silu)(int, float *, const float *);

void lb_silu_mul(int n, float *g, const float *u)
{
    void (*f)(int, float *, const float *) = __atomic_load_n(&g_silu, __ATOMIC_ACQUIRE);
    if (!f) {
        lb_simd_kernels k;
        lb_simd_kernels_for(lb_cpu_isa(), &k);
        f = k.silu_mul ? k.silu_mul : silu_mul_scalar;
        __atomic_store_n(&g_silu, f, __ATOMIC_RELEASE);
    }
    f(n, g, u);
}

static void softmax_f16r_scalar(int n, float scale, const float *s, float *p)
{
    float max = -INFINITY;
    for (int t = 0; t < n; t++)
        max = s[t] * scale > max ? s[t] * scale : max;
    double sum = 0;
    for (int t = 0; t < n; t++) {
        p[t] = expf(s[t] * scale - max);
        sum += p[t];
    }
    const float inv = (float)(1.0 / sum);
    for (int t = 0; t < n; t++)
        p[t] = lb_f16_to_f32(lb_f32_to_f16(p[t] * inv));
}

static void (*g_softmax)(int, float, const float *, float *);

void lb_softmax_f16r(int n, float scale, const float *s, float *p)
{
    void (*f)(int, float, const float *, float *) = __atomic_load_n(&g_softmax, __ATOMIC_ACQUIRE);
    if (!f) {
        lb_simd_kernels k;
        lb_simd_kernels_for(lb_cpu_isa(), &k);
        f = k.softmax_f16r ? k.softmax_f16r : softmax_f16r_scalar;
        __atomic_store_n(&g_softmax, f, __ATOMIC_RELEASE);
    }
    f(n, scale, s, p);
}

static void f16_acc_fma_scalar(int n_fma, int n, uint16_t *acc, const uint16_t *v, float vs)
{
    int d = 0;
    for (; d < n_fma; d++)
        acc[d] = lb_f32_to_f16(fmaf(lb_f16_to_f32(v[d]), vs, lb_f16_to_f32(acc[d])));
    for (; d < n; d++) {
        float prod = lb_f16_to_f32(v[d]) * vs;
        acc[d] = lb_f32_to_f16(lb_f16_to_f32(acc[d]) + prod);
    }
}

static void f16_scale_scalar(int n, uint16_t *acc, float ms)
{
    for (int d = 0; d < n; d++)
        acc[d] = lb_f32_to_f16(lb_f16_to_f32(acc[d]) * ms);
}

static void (*g_acc_fma)(int, int, uint16_t *, const uint16_t *, float);
static void (*g_scale)(int, uint16_t *, float);

static void pick_f16_acc(void)
{
    lb_simd_kernels k;
    lb_simd_kernels_for(lb_cpu_isa(), &k);
    __atomic_store_n(&g_scale, k.f16_scale ? k.f16_scale : f16_scale_scalar, __ATOMIC_RELEASE);
    __atomic_store_n(&g_acc_fma, k.f16_acc_fma ? k.f16_acc_fma : f16_acc_fma_scalar, __ATOMIC_RELEASE);
}

void lb_f16_acc_fma(int n_fma, int n, uint16_t *acc, const uint16_t *v, float vs)
{
    void (*f)(int, int, uint16_t *, const uint16_t *, float) = __atomic_load_n(&g_acc_fma, __ATOMIC_ACQUIRE);
    if (!f) {
        pick_f16_acc();
        f = __atomic_load_n(&g_acc_fma, __ATOMIC_ACQUIRE);
    }
    f(n_fma, n, acc, v, vs);
}

void lb_f16_scale(int n, uint16_t *acc, float ms)
{
    void (*f)(int, uint16_t *, float) = __atomic_load_n(&g_scale, __ATOMIC_ACQUIRE);
    if (!f) {
        pick_f16_acc();
        f = __atomic_load_n(&g_scale, __ATOMIC_ACQUIRE);
    }
    f(n, acc, ms);
}
