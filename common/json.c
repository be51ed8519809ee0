/* Strict RFC 8259 JSON parser and a streaming writer (see json.h).
 * The parser builds nodes in an arena owned by the document. Children of the container being
 * parsed are collected on one shared scratch stack and copied into the arena when the
 * container closes, so no allocation is ever sized by anything but bytes already seen. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lb_json {
    unsigned char type;
    bool b;
    size_t len;          /* string bytes, or number of elements/members */
    union {
        double num;
        char *str;
        lb_json *items;  /* array elements or member values */
    } u;
    char **keys;         /* object member keys (NUL-terminated) */
    size_t *klens;       /* their lengths: a key may contain \u0000 */
};

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
} arena_chunk;

struct lb_json_doc {
    arena_chunk *chunks;
    lb_json root;
};

typedef struct scratch_item {
    lb_json val;
    char *key;
    size_t klen;
} scratch_item;

typedef struct parser {
    const char *s;
    size_t len, pos;
    lb_json_limits lim;
    size_t nodes;
    int depth;
    lb_json_doc *doc;
    scratch_item *stack;
    size_t sp, scap;
    lb_err *err;
    int code;
} parser;

#define ARENA_CHUNK (64 * 1024)

static void *arena_alloc(lb_json_doc *d, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    arena_chunk *c = d->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = d->chunks;
        d->chunks = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static int fail(parser *p, int code, const char *what)
{
    if (p->code == 0) {
        p->code = code;
        lb_err_set(p->err, code, "json: offset %zu: %s", p->pos, what);
    }
    return code;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static bool match_lit(parser *p, const char *lit)
{
    size_t n = strlen(lit);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n) != 0)
        return false;
    p->pos += n;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_hex4(parser *p, unsigned *out)
{
    if (p->len - p->pos < 4)
        return fail(p, LB_EFORMAT, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[p->pos + i]);
        if (h < 0)
            return fail(p, LB_EFORMAT, "expected 4 hex digits after \\u");
        v = v << 4 | (unsigned)h;
    }
    p->pos += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < need)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need;
}

/* At the opening quote. Decodes into the arena; *out is NUL-terminated. */
static int parse_string(parser *p, char **out, size_t *out_len)
{
    size_t start = ++p->pos;
    /* Find the closing quote first: the decoded text is never longer than the raw text. */
    size_t end = start;
    while (end < p->len && p->s[end] != '"')
        end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->len) {
        p->pos = p->len;
        return fail(p, LB_EFORMAT, "unterminated string");
    }
    char *o = arena_alloc(p->doc, end - start + 1);
    if (!o)
        return fail(p, LB_ENOMEM, "out of memory");
    size_t n = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '\\') {
            p->pos++;
            char e = p->s[p->pos++];
            switch (e) {
            case '"': o[n++] = '"'; break;
            case '\\': o[n++] = '\\'; break;
            case '/': o[n++] = '/'; break;
            case 'b': o[n++] = '\b'; break;
            case 'f': o[n++] = '\f'; break;
            case 'n': o[n++] = '\n'; break;
            case 'r': o[n++] = '\r'; break;
            case 't': o[n++] = '\t'; break;
            case 'u': {
                unsigned cp, lo;
                if (read_hex4(p, &cp))
                    return p->code;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return fail(p, LB_EFORMAT, "lone low surrogate in \\u escape");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
                        return fail(p, LB_EFORMAT, "high surrogate not followed by \\u low surrogate");
                    p->pos += 2;
                    if (read_hex4(p, &lo))
                        return p->code;
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return fail(p, LB_EFORMAT, "high surrogate not followed by low surrogate");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                n += put_utf8(o + n, cp);
                break;
            }
            default:
                p->pos--;
                return fail(p, LB_EFORMAT, "invalid escape in string");
            }
            if (p->pos > end)  /* an escape cannot run past the quote found above */
                return fail(p, LB_EFORMAT, "truncated escape");
        } else if (c < 0x20) {
            return fail(p, LB_EFORMAT, "control character in string");
        } else {
            size_t k = utf8_seq((const unsigned char *)p->s + p->pos, end - p->pos);
            if (k == 0)
                return fail(p, LB_EFORMAT, "invalid UTF-8 in string");
            memcpy(o + n, p->s + p->pos, k);
            n += k;
            p->pos += k;
        }
    }
    o[n] = 0;
    p->pos = end + 1;
    *out = o;
    *out_len = n;
    return 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int parse_number(parser *p, lb_json *v)
{
    size_t start = p->pos;
    const char *s = p->s;
    if (p->pos < p->len && s[p->pos] == '-')
        p->pos++;
    if (p->pos >= p->len || !is_digit(s[p->pos]))
        return fail(p, LB_EFORMAT, "expected digit");
    if (s[p->pos] == '0')
        p->pos++;
    else
        while (p->pos < p->len && is_digit(s[p->pos]))
            p->pos++;
    if (p->pos < p->len && s[p->pos] == '.') {
        p->pos++;
        if (p->pos >= p->len || !is_digit(s[p->pos]))
            return fail(p, LB_EFORMAT, "expected digit after decimal point");
        while (p->pos < p->len && is_digit(s[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-'))
            p->pos++;
        if (p->pos >= p->len || !is_digit(s[p->pos]))
            return fail(p, LB_EFORMAT, "expected digit in exponent");
        while (p->pos < p->len && is_digit(s[p->pos]))
            p->pos++;
    }
    size_t n = p->pos - start;
    char small[64], *buf = small;
    if (n >= sizeof small) {
        buf = malloc(n + 1);  /* n is bounded by the input already in memory */
        if (!buf)
            return fail(p, LB_ENOMEM, "out of memory");
    }
    memcpy(buf, s + start, n);
    buf[n] = 0;
    double d = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    if (isinf(d)) {
        p->pos = start;
        return fail(p, LB_EFORMAT, "number out of range");
    }
    v->type = LB_JSON_NUMBER;
    v->u.num = d;
    return 0;
}

static int push(parser *p, const lb_json *v, char *key, size_t klen)
{
    if (p->sp == p->scap) {
        size_t ncap = p->scap ? p->scap * 2 : 64;
        scratch_item *ns = realloc(p->stack, ncap * sizeof *ns);
        if (!ns)
            return fail(p, LB_ENOMEM, "out of memory");
        p->stack = ns;
        p->scap = ncap;
    }
    p->stack[p->sp].val = *v;
    p->stack[p->sp].key = key;
    p->stack[p->sp].klen = klen;
    p->sp++;
    return 0;
}

/* Moves the scratch items from base up into the arena as the children of v. */
static int collect(parser *p, lb_json *v, size_t base, bool with_keys)
{
    size_t n = p->sp - base;
    v->len = n;
    v->u.items = NULL;
    v->keys = NULL;
    v->klens = NULL;
    if (n) {
        v->u.items = arena_alloc(p->doc, n * sizeof(lb_json));
        if (with_keys) {
            v->keys = arena_alloc(p->doc, n * sizeof(char *));
            v->klens = arena_alloc(p->doc, n * sizeof(size_t));
        }
        if (!v->u.items || (with_keys && (!v->keys || !v->klens)))
            return fail(p, LB_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            v->u.items[i] = p->stack[base + i].val;
            if (with_keys) {
                v->keys[i] = p->stack[base + i].key;
                v->klens[i] = p->stack[base + i].klen;
            }
        }
    }
    p->sp = base;
    return 0;
}

static int parse_value(parser *p, lb_json *v);

static int parse_container(parser *p, lb_json *v, bool is_obj)
{
    char close = is_obj ? '}' : ']';
    if (++p->depth > p->lim.max_depth)
        return fail(p, LB_ELIMIT, "nesting deeper than the limit");
    p->pos++;
    size_t base = p->sp;
    v->type = is_obj ? LB_JSON_OBJECT : LB_JSON_ARRAY;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            char *key = NULL;
            size_t klen = 0;
            if (is_obj) {
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != '"')
                    return fail(p, LB_EFORMAT, "expected string key");
                if (parse_string(p, &key, &klen))
                    return p->code;
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':')
                    return fail(p, LB_EFORMAT, "expected ':'");
                p->pos++;
            }
            lb_json child;
            if (parse_value(p, &child) || push(p, &child, key, klen))
                return p->code;
            skip_ws(p);
            if (p->pos >= p->len)
                return fail(p, LB_EFORMAT, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
            char c = p->s[p->pos];
            if (c == close) {
                p->pos++;
                break;
            }
            if (c != ',')
                return fail(p, LB_EFORMAT, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
            p->pos++;
        }
    }
    p->depth--;
    return collect(p, v, base, is_obj);
}

static int parse_value(parser *p, lb_json *v)
{
    memset(v, 0, sizeof *v);
    if (++p->nodes > p->lim.max_nodes)
        return fail(p, LB_ELIMIT, "more values than the limit");
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, LB_EFORMAT, "expected a value");
    char c = p->s[p->pos];
    switch (c) {
    case '{': return parse_container(p, v, true);
    case '[': return parse_container(p, v, false);
    case '"':
        v->type = LB_JSON_STRING;
        return parse_string(p, &v->u.str, &v->len);
    case 't':
    case 'f':
    case 'n':
        if (match_lit(p, "true") || match_lit(p, "false")) {
            v->type = LB_JSON_BOOL;
            v->b = c == 't';
            return 0;
        }
        if (match_lit(p, "null")) {
            v->type = LB_JSON_NULL;
            return 0;
        }
        return fail(p, LB_EFORMAT, "invalid literal");
    default:
        if (c == '-' || is_digit(c))
            return parse_number(p, v);
        return fail(p, LB_EFORMAT, "expected a value");
    }
}

int lb_json_parse(const char *s, size_t len, const lb_json_limits *lim, lb_json_doc **out, lb_err *err)
{
    parser p = { .s = s, .len = len, .err = err };
    p.lim.max_bytes = lim && lim->max_bytes ? lim->max_bytes : 8u << 20;
    p.lim.max_depth = lim && lim->max_depth > 0 ? lim->max_depth : 64;
    if (p.lim.max_depth > 1000)  /* the parser recurses: keep well inside a thread's stack */
        p.lim.max_depth = 1000;
    p.lim.max_nodes = lim && lim->max_nodes ? lim->max_nodes : 1000000;
    *out = NULL;
    if (!s && len)
        return lb_err_set(err, LB_EINVAL, "json: no input");
    if (len > p.lim.max_bytes)
        return lb_err_set(err, LB_ELIMIT, "json: %zu bytes exceed the limit of %zu", len, p.lim.max_bytes);
    p.doc = calloc(1, sizeof *p.doc);
    if (!p.doc)
        return lb_err_set(err, LB_ENOMEM, "json: out of memory");
    if (parse_value(&p, &p.doc->root) == 0) {
        skip_ws(&p);
        if (p.pos != p.len)
            fail(&p, LB_EFORMAT, "unexpected data after the JSON value");
    }
    free(p.stack);
    if (p.code) {
        lb_json_free(p.doc);
        return p.code;
    }
    *out = p.doc;
    return LB_OK;
}

void lb_json_free(lb_json_doc *d)
{
    if (!d)
        return;
    for (arena_chunk *c = d->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(d);
}

const lb_json *lb_json_root(const lb_json_doc *d)
{
    return d ? &d->root : NULL;
}

lb_json_type lb_json_type_of(const lb_json *v)
{
    return v ? (lb_json_type)v->type : LB_JSON_NULL;
}

const lb_json *lb_json_get(const lb_json *obj, const char *key)
{
    if (!obj || obj->type != LB_JSON_OBJECT || !key)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->len; i++)
        if (obj->klens[i] == kl && memcmp(obj->keys[i], key, kl) == 0)
            return &obj->u.items[i];
    return NULL;
}

size_t lb_json_len(const lb_json *v)
{
    return v && (v->type == LB_JSON_ARRAY || v->type == LB_JSON_OBJECT) ? v->len : 0;
}

const lb_json *lb_json_at(const lb_json *v, size_t i)
{
    return i < lb_json_len(v) ? &v->u.items[i] : NULL;
}

const char *lb_json_key_at(const lb_json *obj, size_t i)
{
    if (!obj || obj->type != LB_JSON_OBJECT || i >= obj->len)
        return NULL;
    return obj->keys[i];
}

const char *lb_json_str(const lb_json *v, size_t *len)
{
    if (!v || v->type != LB_JSON_STRING)
        return NULL;
    if (len)
        *len = v->len;
    return v->u.str;
}

bool lb_json_num(const lb_json *v, double *out)
{
    if (!v || v->type != LB_JSON_NUMBER)
        return false;
    *out = v->u.num;
    return true;
}

bool lb_json_bool(const lb_json *v, bool *out)
{
    if (!v || v->type != LB_JSON_BOOL)
        return false;
    *out = v->b;
    return true;
}

/* ---- writer ---- */

void lb_jw_init(lb_jw *w)
{
    memset(w, 0, sizeof *w);
}

void lb_jw_free(lb_jw *w)
{
    free(w->buf);
    lb_jw_init(w);
}

void lb_jw_reset(lb_jw *w)
{
    char *buf = w->buf;
    size_t cap = w->cap;
    lb_jw_init(w);
    w->buf = buf;
    w->cap = cap;
    if (buf)
        buf[0] = 0;
}

/* Keeps the buffer NUL-terminated so callers may use it as a C string. */
static void put(lb_jw *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->cap - w->len <= n) {
        if (n > SIZE_MAX / 2 - w->len) {
            w->failed = true;
            return;
        }
        size_t ncap = w->cap ? w->cap : 256;
        while (ncap - w->len <= n)
            ncap *= 2;
        char *nb = realloc(w->buf, ncap);
        if (!nb) {
            w->failed = true;
            return;
        }
        w->buf = nb;
        w->cap = ncap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

/* Comma before a value or key unless it is the first in its container or follows a key. */
static void sep(lb_jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (!w->first[w->depth])
            put(w, ",", 1);
        w->first[w->depth] = 0;
    }
}

static void open_c(lb_jw *w, char c)
{
    sep(w);
    if (w->depth + 1 >= (int)sizeof w->first) {
        w->failed = true;
        return;
    }
    put(w, &c, 1);
    w->first[++w->depth] = 1;
}

static void close_c(lb_jw *w, char c)
{
    if (w->depth <= 0) {
        w->failed = true;
        return;
    }
    w->depth--;
    put(w, &c, 1);
}

void lb_jw_obj_begin(lb_jw *w) { open_c(w, '{'); }
void lb_jw_obj_end(lb_jw *w) { close_c(w, '}'); }
void lb_jw_arr_begin(lb_jw *w) { open_c(w, '['); }
void lb_jw_arr_end(lb_jw *w) { close_c(w, ']'); }

static void put_escaped(lb_jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(w, "\"", 1);
    size_t run = 0;  /* start of the pending run of bytes copied verbatim */
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char ubuf[7];
        size_t k = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20) {
            memcpy(ubuf, "\\u00", 4);
            ubuf[4] = hex[c >> 4];
            ubuf[5] = hex[c & 15];
            ubuf[6] = 0;
            esc = ubuf;
        } else if (c >= 0x80) {
            k = utf8_seq((const unsigned char *)s + i, n - i);
            if (k == 0) {
                esc = "\xEF\xBF\xBD";  /* U+FFFD for each invalid byte */
                k = 1;
            }
        }
        if (esc) {
            put(w, s + run, i - run);
            put(w, esc, strlen(esc));
            run = i + k;
        }
        i += k;
    }
    put(w, s + run, n - run);
    put(w, "\"", 1);
}

void lb_jw_key(lb_jw *w, const char *key)
{
    sep(w);
    put_escaped(w, key ? key : "", key ? strlen(key) : 0);
    put(w, ":", 1);
    w->after_key = true;
}

void lb_jw_strn(lb_jw *w, const char *s, size_t n)
{
    sep(w);
    put_escaped(w, s ? s : "", s ? n : 0);
}

void lb_jw_str(lb_jw *w, const char *s)
{
    lb_jw_strn(w, s, s ? strlen(s) : 0);
}

void lb_jw_int(lb_jw *w, long long v)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%lld", v);
    sep(w);
    put(w, b, (size_t)n);
}

void lb_jw_double(lb_jw *w, double v)
{
    if (!isfinite(v)) {
        lb_jw_null(w);
        return;
    }
    char b[40];
    int n = 0;
    /* The fewest significant digits that read back as the same double. */
    for (int prec = 1; prec <= 17; prec++) {
        n = snprintf(b, sizeof b, "%.*g", prec, v);
        if (strtod(b, NULL) == v)
            break;
    }
    sep(w);
    put(w, b, (size_t)n);
}

void lb_jw_bool(lb_jw *w, bool v)
{
    sep(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void lb_jw_null(lb_jw *w)
{
    sep(w);
    put(w, "null", 4);
}
