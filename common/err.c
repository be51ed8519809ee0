#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int lb_err_set(lb_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int lb_err_wrap(lb_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    char prefix[128];
    char old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    if (err->code == 0)
        err->code = code;
    /* A message cut at sizeof msg is still useful; the return value is read to say so. */
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old) >= (int)sizeof err->msg)
        err->msg[sizeof err->msg - 2] = '~';
    return err->code;
}

const char *lb_err_name(int code)
{
    switch (code) {
    case LB_OK: return "ok";
    case LB_EIO: return "i/o error";
    case LB_EFORMAT: return "bad format";
    case LB_ENOMEM: return "out of memory";
    case LB_EINVAL: return "invalid argument";
    case LB_ENOTSUP: return "not supported";
    case LB_ENOENT: return "not found";
    case LB_ELIMIT: return "limit exceeded";
    default: return "unknown error";
    }
}
