#include "kernels.h"

#include <pthread.h>

#include "kern_simd.h"
#include "quant.h"

static lb_type_traits g_scalar[LB_TYPE_COUNT];
static lb_type_traits g_active[LB_TYPE_COUNT];
static const char *g_isa = "scalar";
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void set(lb_type_traits *t, uint32_t type, uint32_t vdt, lb_vec_dot_fn dot, lb_from_float_fn from,
                lb_to_float_fn to)
{
    t[type] = (lb_type_traits){ dot != NULL, vdt, dot, from, to };
}

static void fill_scalar(lb_type_traits *t)
{
    set(t, LB_TYPE_F32, LB_TYPE_F32, lb_vec_dot_f32, lb_quantize_row_f32, lb_dequantize_row_f32);
    set(t, LB_TYPE_F16, LB_TYPE_F16, lb_vec_dot_f16, lb_quantize_row_f16, lb_dequantize_row_f16);
    set(t, LB_TYPE_BF16, LB_TYPE_BF16, lb_vec_dot_bf16, lb_quantize_row_bf16, lb_dequantize_row_bf16);
    set(t, LB_TYPE_Q4_0, LB_TYPE_Q8_0, lb_vec_dot_q4_0_q8_0, NULL, lb_dequantize_row_q4_0);
    set(t, LB_TYPE_Q4_1, LB_TYPE_Q8_1, lb_vec_dot_q4_1_q8_1, NULL, lb_dequantize_row_q4_1);
    set(t, LB_TYPE_Q5_0, LB_TYPE_Q8_0, lb_vec_dot_q5_0_q8_0, NULL, lb_dequantize_row_q5_0);
    set(t, LB_TYPE_Q5_1, LB_TYPE_Q8_1, lb_vec_dot_q5_1_q8_1, NULL, lb_dequantize_row_q5_1);
    set(t, LB_TYPE_Q8_0, LB_TYPE_Q8_0, lb_vec_dot_q8_0_q8_0, lb_quantize_row_q8_0, lb_dequantize_row_q8_0);
    set(t, LB_TYPE_Q8_1, LB_TYPE_Q8_1, NULL, lb_quantize_row_q8_1, lb_dequantize_row_q8_1);
    set(t, LB_TYPE_Q4_K, LB_TYPE_Q8_K, lb_vec_dot_q4_K_q8_K, NULL, lb_dequantize_row_q4_K);
    set(t, LB_TYPE_Q5_K, LB_TYPE_Q8_K, lb_vec_dot_q5_K_q8_K, NULL, lb_dequantize_row_q5_K);
    set(t, LB_TYPE_Q6_K, LB_TYPE_Q8_K, lb_vec_dot_q6_K_q8_K, NULL, lb_dequantize_row_q6_K);
    set(t, LB_TYPE_Q8_K, LB_TYPE_Q8_K, NULL, lb_quantize_row_q8_K, lb_dequantize_row_q8_K);
}

static void init_once(void)
{
    fill_scalar(g_scalar);
    fill_scalar(g_active);
    /* SIMD variants (kern_avx2.c, kern_avxvnni.c, kern_avx512.c) override entries for the
     * level lb_cpu_isa() allows (cpuid, capped by LLMBOX_ISA). */
    g_isa = lb_kernels_install_simd(g_active);
}

const char *lb_kernels_init(void)
{
    pthread_once(&g_once, init_once);
    return g_isa;
}

const lb_type_traits *lb_kernels(uint32_t type)
{
    lb_kernels_init();
    return type < LB_TYPE_COUNT ? &g_active[type] : &g_active[LB_TYPE_COUNT - 1];
}

const lb_type_traits *lb_kernels_scalar(uint32_t type)
{
    lb_kernels_init();
    return type < LB_TYPE_COUNT ? &g_scalar[type] : &g_scalar[LB_TYPE_COUNT - 1];
}
