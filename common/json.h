/* Strict JSON (RFC 8259) parser with hard limits, and a streaming writer. Shared by the
 * service (requests/responses) and the CLI (--json output). The parser is attack surface:
 * it never trusts a length, bounds depth, size and node count, and is fuzzed. */
#ifndef LB_JSON_H
#define LB_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef enum lb_json_type {
    LB_JSON_NULL, LB_JSON_BOOL, LB_JSON_NUMBER, LB_JSON_STRING, LB_JSON_ARRAY, LB_JSON_OBJECT
} lb_json_type;

typedef struct lb_json lb_json;          /* a value inside a parsed document */
typedef struct lb_json_doc lb_json_doc;  /* owns every value */

typedef struct lb_json_limits {
    size_t max_bytes;  /* input size; default 8 MiB */
    int max_depth;     /* nesting; default 64 */
    size_t max_nodes;  /* values in the document; default 1,000,000 */
} lb_json_limits;

/* Parses exactly one JSON text (whitespace around it allowed). On error, err->msg names the
 * byte offset and what was expected. lim may be NULL for the defaults. */
int lb_json_parse(const char *s, size_t len, const lb_json_limits *lim, lb_json_doc **out, lb_err *err);
void lb_json_free(lb_json_doc *d);
const lb_json *lb_json_root(const lb_json_doc *d);

lb_json_type lb_json_type_of(const lb_json *v);
/* Object member by key (first match); NULL when v is not an object or the key is absent. */
const lb_json *lb_json_get(const lb_json *obj, const char *key);
/* Elements of an array or members of an object; 0 for other types. */
size_t lb_json_len(const lb_json *v);
const lb_json *lb_json_at(const lb_json *v, size_t i);      /* array element or member value */
const char *lb_json_key_at(const lb_json *obj, size_t i);   /* member key, NULL if out of range */
/* Decoded UTF-8 string, NUL-terminated (len tells the real length: it may contain \u0000).
 * NULL when v is not a string. */
const char *lb_json_str(const lb_json *v, size_t *len);
bool lb_json_num(const lb_json *v, double *out);            /* false when not a number */
bool lb_json_bool(const lb_json *v, bool *out);             /* false when not a boolean */

/* Writer: appends to a growing buffer; any allocation failure sets failed and later calls
 * do nothing. Commas and nesting are handled by the writer. */
typedef struct lb_jw {
    char *buf;
    size_t len, cap;
    int depth;
    unsigned char first[64];  /* per depth: no element written yet */
    bool after_key;
    bool failed;
} lb_jw;

void lb_jw_init(lb_jw *w);
void lb_jw_free(lb_jw *w);
void lb_jw_reset(lb_jw *w);                 /* empty the buffer, keep its memory */
void lb_jw_obj_begin(lb_jw *w);
void lb_jw_obj_end(lb_jw *w);
void lb_jw_arr_begin(lb_jw *w);
void lb_jw_arr_end(lb_jw *w);
void lb_jw_key(lb_jw *w, const char *key);
void lb_jw_str(lb_jw *w, const char *s);
void lb_jw_strn(lb_jw *w, const char *s, size_t n);  /* invalid UTF-8 becomes U+FFFD */
void lb_jw_int(lb_jw *w, long long v);
void lb_jw_double(lb_jw *w, double v);      /* shortest round-trip form; NaN/Inf become null */
void lb_jw_bool(lb_jw *w, bool v);
void lb_jw_null(lb_jw *w);

#endif
