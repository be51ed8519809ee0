#include "ggml_type.h"

struct type_desc {
    const char *name;
    int block_elems;
    int block_bytes;
};

/* Layouts from ggml's block structs (ggml-common.h); see quant.h for the ones we compute with. */
static const struct type_desc g_types[LB_TYPE_COUNT] = {
    [LB_TYPE_F32] = { "f32", 1, 4 },
    [LB_TYPE_F16] = { "f16", 1, 2 },
    [LB_TYPE_Q4_0] = { "q4_0", 32, 18 },
    [LB_TYPE_Q4_1] = { "q4_1", 32, 20 },
    [LB_TYPE_Q5_0] = { "q5_0", 32, 22 },
    [LB_TYPE_Q5_1] = { "q5_1", 32, 24 },
    [LB_TYPE_Q8_0] = { "q8_0", 32, 34 },
    [LB_TYPE_Q8_1] = { "q8_1", 32, 36 },
    [LB_TYPE_Q2_K] = { "q2_K", 256, 84 },
    [LB_TYPE_Q3_K] = { "q3_K", 256, 110 },
    [LB_TYPE_Q4_K] = { "q4_K", 256, 144 },
    [LB_TYPE_Q5_K] = { "q5_K", 256, 176 },
    [LB_TYPE_Q6_K] = { "q6_K", 256, 210 },
    [LB_TYPE_Q8_K] = { "q8_K", 256, 292 },
    [LB_TYPE_IQ2_XXS] = { "iq2_xxs", 256, 66 },
    [LB_TYPE_IQ2_XS] = { "iq2_xs", 256, 74 },
    [LB_TYPE_IQ3_XXS] = { "iq3_xxs", 256, 98 },
    [LB_TYPE_IQ1_S] = { "iq1_s", 256, 50 },
    [LB_TYPE_IQ4_NL] = { "iq4_nl", 32, 18 },
    [LB_TYPE_IQ3_S] = { "iq3_s", 256, 110 },
    [LB_TYPE_IQ2_S] = { "iq2_s", 256, 82 },
    [LB_TYPE_IQ4_XS] = { "iq4_xs", 256, 136 },
    [LB_TYPE_I8] = { "i8", 1, 1 },
    [LB_TYPE_I16] = { "i16", 1, 2 },
    [LB_TYPE_I32] = { "i32", 1, 4 },
    [LB_TYPE_I64] = { "i64", 1, 8 },
    [LB_TYPE_F64] = { "f64", 1, 8 },
    [LB_TYPE_IQ1_M] = { "iq1_m", 256, 56 },
    [LB_TYPE_BF16] = { "bf16", 1, 2 },
    [LB_TYPE_TQ1_0] = { "tq1_0", 256, 54 },
    [LB_TYPE_TQ2_0] = { "tq2_0", 256, 66 },
};

bool lb_type_known(uint32_t type)
{
    return type < LB_TYPE_COUNT && g_types[type].name != NULL;
}

int lb_type_block_elems(uint32_t type)
{
    return lb_type_known(type) ? g_types[type].block_elems : 0;
}

size_t lb_type_block_bytes(uint32_t type)
{
    return lb_type_known(type) ? (size_t)g_types[type].block_bytes : 0;
}

const char *lb_type_name(uint32_t type)
{
    return lb_type_known(type) ? g_types[type].name : "?";
}

size_t lb_type_row_bytes(uint32_t type, int64_t n)
{
    int be = lb_type_block_elems(type);
    return be ? (size_t)(n / be) * lb_type_block_bytes(type) : 0;
}
