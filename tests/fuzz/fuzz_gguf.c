/* libFuzzer target for the GGUF reader: any input must be rejected cleanly or parse into
 * values whose every accessor stays inside the buffer. */
#include "gguf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static volatile uint64_t g_sink;

static void walk(const lb_gguf_val *v, int depth)
{
    int64_t i64;
    double f;
    bool b;
    const char *s;
    size_t len;
    if (!lb_gguf_val_i64(v, &i64))
        g_sink += (uint64_t)i64;
    if (!lb_gguf_val_f64(v, &f))
        g_sink += (uint64_t)(f == f);
    if (!lb_gguf_val_bool(v, &b))
        g_sink += b;
    if (!lb_gguf_val_str(v, &s, &len))
        g_sink += len ? (uint8_t)s[len - 1] + (uint8_t)s[len] : 0;
    uint64_t n = lb_gguf_arr_len(v);
    for (uint64_t i = 0; i < n && i < 4096; i++) {
        if (!lb_gguf_arr_i64(v, i, &i64))
            g_sink += (uint64_t)i64;
        if (!lb_gguf_arr_f64(v, i, &f))
            g_sink += (uint64_t)(f == f);
        if (!lb_gguf_arr_str(v, i, &s, &len) && len)
            g_sink += (uint8_t)s[len - 1];
        const lb_gguf_val *e = lb_gguf_arr_at(v, i);
        if (e && depth < 16)
            walk(e, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Copy so ASan sees reads past the end of exactly `size` bytes. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    lb_gguf *g = NULL;
    lb_err err;
    if (lb_gguf_open_mem(buf, size, &g, &err) == LB_OK) {
        for (int64_t i = 0; i < lb_gguf_n_kv(g); i++) {
            g_sink += strlen(lb_gguf_kv_key(g, i));
            walk(lb_gguf_kv_val(g, i), 0);
        }
        for (int64_t i = 0; i < lb_gguf_n_tensors(g); i++) {
            const lb_gguf_tensor *t = lb_gguf_tensor_at(g, i);
            if (t->nbytes)
                g_sink += ((const uint8_t *)t->data)[0] + ((const uint8_t *)t->data)[t->nbytes - 1];
            g_sink += lb_gguf_find_tensor(g, t->name) == t;
        }
        uint32_t u;
        g_sink += lb_gguf_get_u32(g, "general.alignment", &u, &err);
        lb_gguf_close(g);
    }
    free(buf);
    return 0;
}
