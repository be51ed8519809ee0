/* Stop strings across token boundaries: generated text is buffered while its tail could
 * still become a stop string; everything before that tail is safe to emit. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"

#define MAX_STOPS 16
#define MAX_STOP_LEN 512

struct lb_stop {
    char *stops[MAX_STOPS];
    size_t lens[MAX_STOPS];
    int n;
    char *buf;
    size_t len, cap;
};

int lb_stop_new(const char *const *stops, int n, lb_stop **out, lb_err *err)
{
    *out = NULL;
    if (n < 0 || n > MAX_STOPS || (n > 0 && !stops))
        return lb_err_set(err, LB_EINVAL, "stop: at most %d stop strings", MAX_STOPS);
    lb_stop *s = calloc(1, sizeof *s);
    if (!s)
        return lb_err_set(err, LB_ENOMEM, "stop: out of memory");
    for (int i = 0; i < n; i++) {
        size_t len = stops[i] ? strlen(stops[i]) : 0;
        if (len == 0)
            continue;  /* an empty stop string would stop before anything */
        if (len > MAX_STOP_LEN) {
            lb_stop_free(s);
            return lb_err_set(err, LB_EINVAL, "stop: stop string longer than %d bytes", MAX_STOP_LEN);
        }
        s->stops[s->n] = strdup(stops[i]);
        if (!s->stops[s->n]) {
            lb_stop_free(s);
            return lb_err_set(err, LB_ENOMEM, "stop: out of memory");
        }
        s->lens[s->n++] = len;
    }
    *out = s;
    return LB_OK;
}

void lb_stop_free(lb_stop *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        free(s->stops[i]);
    free(s->buf);
    free(s);
}

/* Copies up to cap-1 bytes of the buffer head to out and drops them from the buffer. */
static int emit(lb_stop *s, size_t n, char *out, int cap)
{
    size_t room = cap > 0 ? (size_t)cap - 1 : 0;
    if (n > room)
        n = room;
    if (out && cap > 0) {
        memcpy(out, s->buf, n);
        out[n] = 0;
    }
    memmove(s->buf, s->buf + n, s->len - n);
    s->len -= n;
    return (int)n;
}

int lb_stop_push(lb_stop *s, const char *text, int len, char *out, int cap, int *out_len)
{
    if (out_len)
        *out_len = 0;
    if (out && cap > 0)
        out[0] = 0;
    if (len < 0 || (len > 0 && !text))
        return 0;
    if (s->len + (size_t)len + 1 > s->cap) {
        size_t c = s->cap ? s->cap : 256;
        while (c < s->len + (size_t)len + 1)
            c *= 2;
        char *b = realloc(s->buf, c);
        if (!b)
            return 0;  /* keep the old buffer; the text is lost but nothing breaks */
        s->buf = b, s->cap = c;
    }
    memcpy(s->buf + s->len, text, (size_t)len);
    s->len += (size_t)len;

    /* Earliest complete stop string. */
    size_t first = SIZE_MAX;
    for (int i = 0; i < s->n; i++) {
        const char *m = memmem(s->buf, s->len, s->stops[i], s->lens[i]);
        if (m && (size_t)(m - s->buf) < first)
            first = (size_t)(m - s->buf);
    }
    if (first != SIZE_MAX) {
        int w = emit(s, first, out, cap);
        if (out_len)
            *out_len = w;
        s->len = 0;
        return 1;
    }
    /* Hold back the longest tail that is a proper prefix of some stop string. */
    size_t hold = 0;
    for (int i = 0; i < s->n; i++) {
        size_t maxk = s->lens[i] - 1 < s->len ? s->lens[i] - 1 : s->len;
        for (size_t k = maxk; k > hold; k--)
            if (memcmp(s->buf + s->len - k, s->stops[i], k) == 0) {
                hold = k;
                break;
            }
    }
    int w = emit(s, s->len - hold, out, cap);
    if (out_len)
        *out_len = w;
    return 0;
}

int lb_stop_flush(lb_stop *s, char *out, int cap)
{
    return emit(s, s->len, out, cap);
}
