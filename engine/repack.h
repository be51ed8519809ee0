/* The x4 weight layout (described in simd_blocks.h): Q4_0, Q8_0, Q4_K and Q6_K matmul weights are
 * repacked at load so that generation streams one contiguous run per 4 rows and a decode
 * batch of up to 4 tokens shares each weight read. Same size as the plain rows, so a tensor
 * is repacked into its own place in the weights memory. */
#ifndef LB_REPACK_H
#define LB_REPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lb_layout { LB_LAYOUT_PLAIN = 0, LB_LAYOUT_X4 = 1 };

/* Revision of the x4 bytes (2: 8-byte interleave, K-quants): part of the weights-cache key, so
 * a hugetlbfs weights file written by a build with another layout is never mapped. */
#define LB_X4_REVISION 2
#define LB_WEIGHTS_VARIANT(repack) ((repack) ? (uint32_t)LB_LAYOUT_X4 | (LB_X4_REVISION << 8) : (uint32_t)LB_LAYOUT_PLAIN)

/* Whether the engine repacks at all: yes unless LLMBOX_REPACK=0 (for A/B benchmarks). */
bool lb_repack_enabled(void);

/* Whether a weight of this type and shape ([ne0 per row, ne1 rows]) can take the x4 layout. */
bool lb_x4_fits(uint32_t type, int64_t ne0, int64_t ne1);

/* Bytes of one block (all 4 rows' scales and quants) and of one group of 4 rows. */
size_t lb_x4_group_bytes(uint32_t type, int64_t ne0);

/* Writes ne1 plain rows from src as x4 groups into dst (no overlap). */
void lb_x4_pack(uint32_t type, const void *src, void *dst, int64_t ne0, int64_t ne1);

/* Block `b` (of 32 elements; Q4_K/Q6_K: of 256) of row `r` (0-3) of the group at `group`, as a
 * plain ggml block. */
void lb_x4_get_block(uint32_t type, const void *group, int64_t ne0, int r, int64_t b, void *block);

#endif
