/* Builds GGUF bytes in memory for tests (header-only). Values are appended in file order:
 * gb_header(), then n_kv metadata entries, then n_tensors tensor infos, then gb_data_start()
 * and the tensor bytes. Layout mistakes are the test's to make on purpose. */
#ifndef LB_GGUF_BUILDER_H
#define LB_GGUF_BUILDER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct gb {
    uint8_t *b;
    size_t len, cap;
} gb;

static inline void gb_put(gb *g, const void *p, size_t n)
{
    if (g->len + n > g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 256;
        while (cap < g->len + n)
            cap *= 2;
        g->b = realloc(g->b, cap);
        if (!g->b)
            abort();
        g->cap = cap;
    }
    if (n)
        memcpy(g->b + g->len, p, n);
    g->len += n;
}

static inline void gb_u8(gb *g, uint8_t v) { gb_put(g, &v, 1); }
static inline void gb_u32(gb *g, uint32_t v) { gb_put(g, &v, 4); }
static inline void gb_u64(gb *g, uint64_t v) { gb_put(g, &v, 8); }
static inline void gb_f32(gb *g, float v) { gb_put(g, &v, 4); }
static inline void gb_str(gb *g, const char *s)
{
    gb_u64(g, strlen(s));
    gb_put(g, s, strlen(s));
}

static inline void gb_header(gb *g, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    gb_put(g, "GGUF", 4);
    gb_u32(g, version);
    gb_u64(g, n_tensors);
    gb_u64(g, n_kv);
}

/* Metadata entries (type ids as in the GGUF spec). */
static inline void gb_kv_u32(gb *g, const char *k, uint32_t v) { gb_str(g, k); gb_u32(g, 4); gb_u32(g, v); }
static inline void gb_kv_i32(gb *g, const char *k, int32_t v) { gb_str(g, k); gb_u32(g, 5); gb_put(g, &v, 4); }
static inline void gb_kv_f32(gb *g, const char *k, float v) { gb_str(g, k); gb_u32(g, 6); gb_f32(g, v); }
static inline void gb_kv_bool(gb *g, const char *k, int v) { gb_str(g, k); gb_u32(g, 7); gb_u8(g, (uint8_t)v); }
static inline void gb_kv_str(gb *g, const char *k, const char *v) { gb_str(g, k); gb_u32(g, 8); gb_str(g, v); }
static inline void gb_kv_u64(gb *g, const char *k, uint64_t v) { gb_str(g, k); gb_u32(g, 10); gb_u64(g, v); }
/* Array header; the caller appends n elements of elem_type. */
static inline void gb_kv_arr(gb *g, const char *k, uint32_t elem_type, uint64_t n)
{
    gb_str(g, k);
    gb_u32(g, 9);
    gb_u32(g, elem_type);
    gb_u64(g, n);
}

static inline void gb_tensor(gb *g, const char *name, int n_dims, const uint64_t *ne, uint32_t type, uint64_t offset)
{
    gb_str(g, name);
    gb_u32(g, (uint32_t)n_dims);
    for (int i = 0; i < n_dims; i++)
        gb_u64(g, ne[i]);
    gb_u32(g, type);
    gb_u64(g, offset);
}

/* Pads to the alignment; returns the data section offset. */
static inline size_t gb_data_start(gb *g, size_t align)
{
    while (g->len % align)
        gb_u8(g, 0);
    return g->len;
}

static inline void gb_pad_to(gb *g, size_t off)
{
    while (g->len < off)
        gb_u8(g, 0);
}

static inline void gb_free(gb *g)
{
    free(g->b);
    memset(g, 0, sizeof *g);
}

#endif
