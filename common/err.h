/* Error values with context: library code fills an lb_err and returns a negative code;
 * only main()s decide to exit. */
#ifndef LB_ERR_H
#define LB_ERR_H

#include <stddef.h>

enum {
    LB_OK = 0,
    LB_EIO = -1,      /* read/write/syscall failure (errno in message) */
    LB_EFORMAT = -2,  /* malformed input (file, request, packet) */
    LB_ENOMEM = -3,   /* allocation failed or size limit exceeded */
    LB_EINVAL = -4,   /* bad argument or setting */
    LB_ENOTSUP = -5,  /* valid input we do not support */
    LB_ENOENT = -6,   /* missing file or key */
    LB_ELIMIT = -7,   /* a configured bound was exceeded */
};

typedef struct lb_err {
    int code;
    char msg[256];
} lb_err;

/* Records code and a formatted message (if err is non-NULL); returns code so callers can
 * write `return lb_err_set(err, LB_EFORMAT, "...")`. */
int lb_err_set(lb_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prepends context: "ctx: previous message". Returns err->code (or code if err is NULL). */
int lb_err_wrap(lb_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

const char *lb_err_name(int code);

#endif
