/* ggml tensor type ids (as stored in GGUF tensor infos) and their block layout.
 * The ids and sizes must match ggml exactly: they define how a file's bytes are read. */
#ifndef LB_GGML_TYPE_H
#define LB_GGML_TYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lb_ggml_type {
    LB_TYPE_F32 = 0,
    LB_TYPE_F16 = 1,
    LB_TYPE_Q4_0 = 2,
    LB_TYPE_Q4_1 = 3,
    /* 4, 5: removed Q4_2/Q4_3 */
    LB_TYPE_Q5_0 = 6,
    LB_TYPE_Q5_1 = 7,
    LB_TYPE_Q8_0 = 8,
    LB_TYPE_Q8_1 = 9,
    LB_TYPE_Q2_K = 10,
    LB_TYPE_Q3_K = 11,
    LB_TYPE_Q4_K = 12,
    LB_TYPE_Q5_K = 13,
    LB_TYPE_Q6_K = 14,
    LB_TYPE_Q8_K = 15,
    LB_TYPE_IQ2_XXS = 16,
    LB_TYPE_IQ2_XS = 17,
    LB_TYPE_IQ3_XXS = 18,
    LB_TYPE_IQ1_S = 19,
    LB_TYPE_IQ4_NL = 20,
    LB_TYPE_IQ3_S = 21,
    LB_TYPE_IQ2_S = 22,
    LB_TYPE_IQ4_XS = 23,
    LB_TYPE_I8 = 24,
    LB_TYPE_I16 = 25,
    LB_TYPE_I32 = 26,
    LB_TYPE_I64 = 27,
    LB_TYPE_F64 = 28,
    LB_TYPE_IQ1_M = 29,
    LB_TYPE_BF16 = 30,
    /* 31..33: removed Q4_0_4_4 etc. */
    LB_TYPE_TQ1_0 = 34,
    LB_TYPE_TQ2_0 = 35,
    LB_TYPE_COUNT = 36
};

/* True for ids ggml defines (a file may hold them even if we cannot compute with them). */
bool lb_type_known(uint32_t type);
/* Elements per block and bytes per block; 0 for unknown ids. */
int lb_type_block_elems(uint32_t type);
size_t lb_type_block_bytes(uint32_t type);
/* "q4_K", "f16", ...; "?" for unknown ids. */
const char *lb_type_name(uint32_t type);
/* Bytes of a row of n elements (n a multiple of the block size). */
size_t lb_type_row_bytes(uint32_t type, int64_t n);

#endif
