/* Maps an ISA level to its compiled kernel set (see kern_simd.h). */
#include "kern_simd.h"

#include <string.h>

#include "ggml_type.h"
#include "kernels.h"

#define FILL(t, isa)                                                  \
    do {                                                              \
        (t)->quantize_row_q8_0 = lb_kern_##isa##_quantize_row_q8_0;   \
        (t)->quantize_row_q8_K = lb_kern_##isa##_quantize_row_q8_K;   \
        (t)->vec_dot_q4_0_q8_0 = lb_kern_##isa##_vec_dot_q4_0_q8_0;   \
        (t)->vec_dot_q8_0_q8_0 = lb_kern_##isa##_vec_dot_q8_0_q8_0;   \
        (t)->vec_dot_q4_K_q8_K = lb_kern_##isa##_vec_dot_q4_K_q8_K;   \
        (t)->vec_dot_q6_K_q8_K = lb_kern_##isa##_vec_dot_q6_K_q8_K;   \
    } while (0)

void lb_simd_kernels_for(lb_isa isa, lb_simd_kernels *out)
{
    memset(out, 0, sizeof *out);
    out->isa = isa;
    switch (isa) {
    case LB_ISA_AVX2: FILL(out, avx2); break;
    case LB_ISA_AVXVNNI: FILL(out, avxvnni); break;
    case LB_ISA_AVX512:
    case LB_ISA_AMX: FILL(out, avx512); break;
    default: out->isa = LB_ISA_SCALAR; break;
    }
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
    return lb_isa_name(isa);
}
