/* Fuzzes the HTTP request parser. The input is split at a position taken from its first
 * byte, so incremental feeding is exercised too; the parser must never read or write out of
 * bounds, and every completed request must be self-consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] + 1;
    const char *s = (const char *)data + 1;
    size_t len = size - 1, off = 0;
    lb_http_parser p;
    lb_hp_init(&p, 2048, 8192);
    for (int requests = 0; requests < 8;) {
        size_t n = len - off < step ? len - off : step, used = 0;
        lb_hp_result r = lb_hp_feed(&p, s + off, n, &used);
        if (used > n)
            abort();
        off += used;
        if (r == LB_HP_ERROR) {
            if (p.status < 400 || p.status > 505 || !p.reason)
                abort();
            break;
        }
        if (r == LB_HP_DONE) {
            if (!p.req.method || !p.req.path || p.req.path[0] != '/' || !p.req.body ||
                p.req.body[p.req.body_len] != 0 || p.req.body_len > 8192 || p.req.n_headers > LB_HTTP_MAX_HEADERS)
                abort();
            for (int i = 0; i < p.req.n_headers; i++)
                if (strlen(p.req.headers[i].name) == 0 || strchr(p.req.headers[i].value, '\n'))
                    abort();
            lb_hp_reset(&p);
            requests++;
            continue;
        }
        if (r == LB_HP_MORE && off >= len)
            break;
    }
    lb_hp_free(&p);
    return 0;
}
