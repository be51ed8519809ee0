/* Kernel dispatch: per ggml type, the activation type its dot product takes, and the
 * functions to quantize/dequantize rows and take dot products. Filled once by
 * lb_kernels_init() from the CPU features: the scalar reference first, then any SIMD
 * variants (kernels_avx2.c etc.) override entries. The forward pass only uses this table. */
#ifndef LB_KERNELS_H
#define LB_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

#include "ggml_type.h"

typedef void (*lb_vec_dot_fn)(int n, float *s, const void *x, const void *y);
typedef void (*lb_from_float_fn)(const float *x, void *y, int64_t n);
typedef void (*lb_to_float_fn)(const void *x, float *y, int64_t n);

typedef struct lb_type_traits {
    bool supported;          /* usable as a weight type in a matmul */
    uint32_t vec_dot_type;   /* type activations are converted to for vec_dot */
    lb_vec_dot_fn vec_dot;   /* weight row (this type) . activation row (vec_dot_type) */
    lb_from_float_fn from_float;  /* quantize a float row to this type (activation types) */
    lb_to_float_fn to_float;      /* dequantize a row of this type */
} lb_type_traits;

/* Idempotent; called by lb_model_load. Returns the name of the selected ISA level. */
const char *lb_kernels_init(void);
const lb_type_traits *lb_kernels(uint32_t type);
/* Scalar-only table (reference for tests of the SIMD variants). */
const lb_type_traits *lb_kernels_scalar(uint32_t type);

#endif
