/* Growable text buffer for building responses (metrics, SSE frames). On allocation failure
 * `failed` is set and later appends do nothing. */
#ifndef LB_SBUF_H
#define LB_SBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct lb_sbuf {
    char *buf;  /* NUL-terminated when non-NULL */
    size_t len, cap;
    bool failed;
} lb_sbuf;

void lb_sbuf_free(lb_sbuf *b);
void lb_sbuf_add(lb_sbuf *b, const char *s, size_t n);
void lb_sbuf_puts(lb_sbuf *b, const char *s);
void lb_sbuf_printf(lb_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
