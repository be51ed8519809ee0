/* GGUF parser: one pass over the header that validates every length against the bytes that
 * remain before anything is allocated or read, then builds small index tables. */
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define GGUF_MAGIC 0x46554747u  /* "GGUF" little-endian */
#define MAX_ARRAY_DEPTH 8        /* nested arrays; real files use none */
#define MAX_KEY_LEN 65535

struct lb_gguf_val {
    uint32_t type;
    uint32_t elem_type;      /* arrays */
    uint64_t n;              /* string bytes or array elements */
    const uint8_t *p;        /* string bytes or first array element */
    union {
        uint64_t u;
        int64_t i;
        double f;
    } s;
    char *str;               /* NUL-terminated copy of a scalar string */
    uint64_t *offs;          /* string arrays: offset of element i's length prefix from p */
    struct lb_gguf_val *elems;  /* arrays of arrays */
};

struct kv {
    char *key;
    struct lb_gguf_val val;
};

struct lb_gguf {
    const uint8_t *buf;
    size_t size;
    bool mapped;
    uint32_t version;
    int64_t n_kv, n_tensors;
    struct kv *kvs;
    lb_gguf_tensor *tensors;
    uint64_t alignment, data_offset;
};

struct cur {
    const uint8_t *b;
    size_t size, pos;
    lb_err *err;
};

static size_t remain(const struct cur *c) { return c->size - c->pos; }

static uint64_t ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static int rd(struct cur *c, void *dst, size_t n, const char *what)
{
    if (remain(c) < n)
        return lb_err_set(c->err, LB_EFORMAT, "gguf: truncated reading %s at offset %zu", what, c->pos);
    memcpy(dst, c->b + c->pos, n);
    c->pos += n;
    return LB_OK;
}

/* A gguf_string: u64 length + bytes, length checked against the remaining bytes. */
static int rd_str(struct cur *c, const uint8_t **s, uint64_t *len, const char *what)
{
    int rc = rd(c, len, 8, what);
    if (rc)
        return rc;
    if (*len > remain(c))
        return lb_err_set(c->err, LB_EFORMAT, "gguf: %s: string length %llu exceeds the %zu bytes left",
                          what, (unsigned long long)*len, remain(c));
    *s = c->b + c->pos;
    c->pos += *len;
    return LB_OK;
}

static size_t scalar_size(uint32_t t)
{
    switch (t) {
    case LB_GGUF_U8: case LB_GGUF_I8: case LB_GGUF_BOOL: return 1;
    case LB_GGUF_U16: case LB_GGUF_I16: return 2;
    case LB_GGUF_U32: case LB_GGUF_I32: case LB_GGUF_F32: return 4;
    case LB_GGUF_U64: case LB_GGUF_I64: case LB_GGUF_F64: return 8;
    default: return 0;
    }
}

/* Decodes one scalar at p into v->s. */
static int decode_scalar(const uint8_t *p, uint32_t t, struct lb_gguf_val *v, lb_err *err, const char *key)
{
    uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32; float f32;
    switch (t) {
    case LB_GGUF_U8: memcpy(&u8, p, 1); v->s.u = u8; break;
    case LB_GGUF_I8: memcpy(&i8, p, 1); v->s.i = i8; break;
    case LB_GGUF_U16: memcpy(&u16, p, 2); v->s.u = u16; break;
    case LB_GGUF_I16: memcpy(&i16, p, 2); v->s.i = i16; break;
    case LB_GGUF_U32: memcpy(&u32, p, 4); v->s.u = u32; break;
    case LB_GGUF_I32: memcpy(&i32, p, 4); v->s.i = i32; break;
    case LB_GGUF_F32: memcpy(&f32, p, 4); v->s.f = f32; break;
    case LB_GGUF_U64: memcpy(&v->s.u, p, 8); break;
    case LB_GGUF_I64: memcpy(&v->s.i, p, 8); break;
    case LB_GGUF_F64: memcpy(&v->s.f, p, 8); break;
    case LB_GGUF_BOOL:
        if (p[0] > 1)
            return lb_err_set(err, LB_EFORMAT, "gguf: key '%s': bool value %u is not 0 or 1", key, p[0]);
        v->s.u = p[0];
        break;
    default:
        return lb_err_set(err, LB_EFORMAT, "gguf: key '%s': bad scalar type %u", key, t);
    }
    return LB_OK;
}

static void val_free(struct lb_gguf_val *v)
{
    free(v->str);
    free(v->offs);
    if (v->elems) {
        for (uint64_t i = 0; i < v->n; i++)
            val_free(&v->elems[i]);
        free(v->elems);
    }
}

static int parse_val(struct cur *c, uint32_t type, struct lb_gguf_val *v, int depth, const char *key);

static int parse_array(struct cur *c, struct lb_gguf_val *v, int depth, const char *key)
{
    uint32_t et = 0;
    uint64_t n = 0;
    int rc;
    if ((rc = rd(c, &et, 4, "array element type")) || (rc = rd(c, &n, 8, "array length")))
        return lb_err_wrap(c->err, rc, "gguf: key '%s'", key);
    if (et >= LB_GGUF_TYPE_COUNT)
        return lb_err_set(c->err, LB_EFORMAT, "gguf: key '%s': unknown array element type %u", key, et);
    if (et == LB_GGUF_ARRAY && depth + 1 >= MAX_ARRAY_DEPTH)
        return lb_err_set(c->err, LB_EFORMAT, "gguf: key '%s': arrays nested deeper than %d", key, MAX_ARRAY_DEPTH);
    v->elem_type = et;
    v->p = c->b + c->pos;
    /* Smallest possible encoding of one element bounds the count before any allocation. */
    size_t min_elem = et == LB_GGUF_STRING ? 8 : et == LB_GGUF_ARRAY ? 12 : scalar_size(et);
    if (n > remain(c) / min_elem)
        return lb_err_set(c->err, LB_EFORMAT, "gguf: key '%s': array length %llu exceeds the %zu bytes left",
                          key, (unsigned long long)n, remain(c));
    v->n = n;
    if (et == LB_GGUF_STRING) {
        v->offs = malloc(n ? n * sizeof *v->offs : 1);
        if (!v->offs)
            return lb_err_set(c->err, LB_ENOMEM, "gguf: key '%s': no memory for %llu strings", key, (unsigned long long)n);
        for (uint64_t i = 0; i < n; i++) {
            const uint8_t *s = NULL;
            uint64_t len = 0;
            v->offs[i] = (uint64_t)(c->b + c->pos - v->p);
            if ((rc = rd_str(c, &s, &len, "array string")))
                return lb_err_wrap(c->err, rc, "gguf: key '%s' element %llu", key, (unsigned long long)i);
        }
    } else if (et == LB_GGUF_ARRAY) {
        v->elems = calloc(n ? n : 1, sizeof *v->elems);
        if (!v->elems)
            return lb_err_set(c->err, LB_ENOMEM, "gguf: key '%s': no memory for %llu arrays", key, (unsigned long long)n);
        for (uint64_t i = 0; i < n; i++) {
            v->elems[i].type = LB_GGUF_ARRAY;
            if ((rc = parse_array(c, &v->elems[i], depth + 1, key)))
                return rc;
        }
    } else {
        if (et == LB_GGUF_BOOL) {
            for (uint64_t i = 0; i < n; i++)
                if (v->p[i] > 1)
                    return lb_err_set(c->err, LB_EFORMAT, "gguf: key '%s': bool element %llu is %u",
                                      key, (unsigned long long)i, v->p[i]);
        }
        c->pos += n * min_elem;
    }
    return LB_OK;
}

static int parse_val(struct cur *c, uint32_t type, struct lb_gguf_val *v, int depth, const char *key)
{
    v->type = type;
    if (type == LB_GGUF_STRING) {
        const uint8_t *s = NULL;
        uint64_t len = 0;
        int rc = rd_str(c, &s, &len, "string value");
        if (rc)
            return lb_err_wrap(c->err, rc, "gguf: key '%s'", key);
        v->p = s;
        v->n = len;
        v->str = malloc(len + 1);
        if (!v->str)
            return lb_err_set(c->err, LB_ENOMEM, "gguf: key '%s': no memory", key);
        memcpy(v->str, s, len);
        v->str[len] = 0;
        return LB_OK;
    }
    if (type == LB_GGUF_ARRAY)
        return parse_array(c, v, depth, key);
    size_t sz = scalar_size(type);
    if (!sz)
        return lb_err_set(c->err, LB_EFORMAT, "gguf: key '%s': unknown value type %u", key, type);
    if (remain(c) < sz)
        return lb_err_set(c->err, LB_EFORMAT, "gguf: key '%s': truncated value", key);
    v->p = c->b + c->pos;
    c->pos += sz;
    return decode_scalar(v->p, type, v, c->err, key);
}

static int parse_kvs(struct lb_gguf *g, struct cur *c)
{
    for (int64_t i = 0; i < g->n_kv; i++) {
        const uint8_t *k = NULL;
        uint64_t klen = 0;
        uint32_t type = 0;
        char what[48];
        snprintf(what, sizeof what, "key of metadata entry %lld", (long long)i);
        int rc = rd_str(c, &k, &klen, what);
        if (rc)
            return rc;
        if (klen == 0 || klen > MAX_KEY_LEN || memchr(k, 0, klen))
            return lb_err_set(c->err, LB_EFORMAT, "gguf: %s: empty, over-long or contains NUL", what);
        struct kv *kv = &g->kvs[i];
        kv->key = malloc(klen + 1);
        if (!kv->key)
            return lb_err_set(c->err, LB_ENOMEM, "gguf: no memory for key");
        memcpy(kv->key, k, klen);
        kv->key[klen] = 0;
        for (int64_t j = 0; j < i; j++)
            if (!strcmp(g->kvs[j].key, kv->key))
                return lb_err_set(c->err, LB_EFORMAT, "gguf: duplicate key '%s'", kv->key);
        if ((rc = rd(c, &type, 4, "value type")))
            return lb_err_wrap(c->err, rc, "gguf: key '%s'", kv->key);
        if (type >= LB_GGUF_TYPE_COUNT)
            return lb_err_set(c->err, LB_EFORMAT, "gguf: key '%s': unknown value type %u", kv->key, type);
        if ((rc = parse_val(c, type, &kv->val, 0, kv->key)))
            return rc;
    }
    return LB_OK;
}

static int parse_tensor_info(struct lb_gguf *g, struct cur *c, int64_t i)
{
    lb_gguf_tensor *t = &g->tensors[i];
    const uint8_t *name = NULL;
    uint64_t nlen = 0;
    uint32_t nd = 0;
    char what[48];
    snprintf(what, sizeof what, "name of tensor %lld", (long long)i);
    int rc = rd_str(c, &name, &nlen, what);
    if (rc)
        return rc;
    if (nlen == 0 || nlen >= LB_GGUF_MAX_NAME || memchr(name, 0, nlen))
        return lb_err_set(c->err, LB_EFORMAT, "gguf: %s: length %llu (must be 1..%d, no NUL)", what,
                          (unsigned long long)nlen, LB_GGUF_MAX_NAME - 1);
    memcpy(t->name, name, nlen);
    t->name[nlen] = 0;
    if ((rc = rd(c, &nd, 4, "tensor n_dims")))
        return lb_err_wrap(c->err, rc, "gguf: tensor '%s'", t->name);
    if (nd < 1 || nd > LB_GGUF_MAX_DIMS)
        return lb_err_set(c->err, LB_EFORMAT, "gguf: tensor '%s': n_dims %u not in 1..%d", t->name, nd, LB_GGUF_MAX_DIMS);
    t->n_dims = (int)nd;
    int64_t n_elems = 1;
    for (int d = 0; d < LB_GGUF_MAX_DIMS; d++) {
        uint64_t ne = 1;
        if (d < (int)nd && (rc = rd(c, &ne, 8, "tensor dim")))
            return lb_err_wrap(c->err, rc, "gguf: tensor '%s'", t->name);
        if (ne == 0 || ne > (uint64_t)INT64_MAX / (uint64_t)n_elems)
            return lb_err_set(c->err, LB_EFORMAT, "gguf: tensor '%s': dim %d = %llu is zero or overflows",
                              t->name, d, (unsigned long long)ne);
        t->ne[d] = (int64_t)ne;
        n_elems *= (int64_t)ne;
    }
    t->n_elems = n_elems;
    if ((rc = rd(c, &t->type, 4, "tensor type")) || (rc = rd(c, &t->offset, 8, "tensor offset")))
        return lb_err_wrap(c->err, rc, "gguf: tensor '%s'", t->name);
    if (!lb_type_known(t->type))
        return lb_err_set(c->err, LB_EFORMAT, "gguf: tensor '%s': unknown type id %u", t->name, t->type);
    int be = lb_type_block_elems(t->type);
    if (t->ne[0] % be)
        return lb_err_set(c->err, LB_EFORMAT, "gguf: tensor '%s': dim 0 = %lld is not a multiple of the %s block size %d",
                          t->name, (long long)t->ne[0], lb_type_name(t->type), be);
    if ((uint64_t)(n_elems / be) > UINT64_MAX / lb_type_block_bytes(t->type))
        return lb_err_set(c->err, LB_EFORMAT, "gguf: tensor '%s': byte size overflows", t->name);
    t->nbytes = (uint64_t)(n_elems / be) * lb_type_block_bytes(t->type);
    for (int64_t j = 0; j < i; j++)
        if (!strcmp(g->tensors[j].name, t->name))
            return lb_err_set(c->err, LB_EFORMAT, "gguf: duplicate tensor name '%s'", t->name);
    return LB_OK;
}

static int parse(struct lb_gguf *g, lb_err *err)
{
    struct cur c = { g->buf, g->size, 0, err };
    uint32_t magic = 0;
    int rc;
    if ((rc = rd(&c, &magic, 4, "magic")))
        return rc;
    if (magic != GGUF_MAGIC)
        return lb_err_set(err, LB_EFORMAT, "gguf: bad magic 0x%08x (not a GGUF file)", magic);
    if ((rc = rd(&c, &g->version, 4, "version")))
        return rc;
    if (g->version != 2 && g->version != 3)
        return lb_err_set(err, g->version == 1 ? LB_ENOTSUP : LB_EFORMAT,
                          "gguf: version %u not supported (need 2 or 3; big-endian files are not supported)", g->version);
    uint64_t nt = 0, nkv = 0;
    if ((rc = rd(&c, &nt, 8, "tensor count")) || (rc = rd(&c, &nkv, 8, "metadata count")))
        return rc;
    /* Each key-value needs >= 13 bytes and each tensor info >= 29: bound counts by what is left. */
    if (nkv > remain(&c) / 13)
        return lb_err_set(err, LB_EFORMAT, "gguf: metadata count %llu exceeds what %zu bytes can hold",
                          (unsigned long long)nkv, remain(&c));
    g->n_kv = (int64_t)nkv;
    g->kvs = calloc(nkv ? nkv : 1, sizeof *g->kvs);
    if (!g->kvs)
        return lb_err_set(err, LB_ENOMEM, "gguf: no memory for %llu keys", (unsigned long long)nkv);
    if ((rc = parse_kvs(g, &c)))
        return rc;
    if (nt > remain(&c) / 29)
        return lb_err_set(err, LB_EFORMAT, "gguf: tensor count %llu exceeds what %zu bytes can hold",
                          (unsigned long long)nt, remain(&c));
    g->n_tensors = (int64_t)nt;
    g->tensors = calloc(nt ? nt : 1, sizeof *g->tensors);
    if (!g->tensors)
        return lb_err_set(err, LB_ENOMEM, "gguf: no memory for %llu tensors", (unsigned long long)nt);
    for (int64_t i = 0; i < g->n_tensors; i++)
        if ((rc = parse_tensor_info(g, &c, i)))
            return rc;

    g->alignment = LB_GGUF_DEFAULT_ALIGNMENT;
    const lb_gguf_val *av = lb_gguf_find(g, "general.alignment");
    if (av) {
        if (av->type != LB_GGUF_U32)
            return lb_err_set(err, LB_EFORMAT, "gguf: general.alignment has type %s (want u32)", lb_gguf_type_name(av->type));
        if (av->s.u == 0 || (av->s.u & (av->s.u - 1)) || av->s.u > (1u << 30))
            return lb_err_set(err, LB_EFORMAT, "gguf: general.alignment %llu is not a power of two", (unsigned long long)av->s.u);
        g->alignment = av->s.u;
    }
    uint64_t off = c.pos;
    off = (off + g->alignment - 1) / g->alignment * g->alignment;
    g->data_offset = off;
    /* Vocab-only files may end before the padding; files with tensors must hold their data. */
    uint64_t data_size = off <= g->size ? g->size - off : 0;
    if (off > g->size && g->n_tensors > 0)
        return lb_err_set(err, LB_EFORMAT, "gguf: data section offset %llu is past the end of the file (%zu bytes)",
                          (unsigned long long)off, g->size);
    for (int64_t i = 0; i < g->n_tensors; i++) {
        lb_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment)
            return lb_err_set(err, LB_EFORMAT, "gguf: tensor '%s': offset %llu is not a multiple of the alignment %llu",
                              t->name, (unsigned long long)t->offset, (unsigned long long)g->alignment);
        if (t->offset > data_size || t->nbytes > data_size - t->offset)
            return lb_err_set(err, LB_EFORMAT, "gguf: tensor '%s': data [%llu, +%llu) is past the end of the data section (%llu bytes)",
                              t->name, (unsigned long long)t->offset, (unsigned long long)t->nbytes, (unsigned long long)data_size);
        t->data = g->buf + off + t->offset;
    }
    return LB_OK;
}

static int finish_open(struct lb_gguf *g, lb_gguf **out, lb_err *err)
{
    int rc = parse(g, err);
    if (rc) {
        lb_gguf_close(g);
        return rc;
    }
    *out = g;
    return LB_OK;
}

int lb_gguf_open_mem(const void *buf, size_t len, lb_gguf **out, lb_err *err)
{
    *out = NULL;
    struct lb_gguf *g = calloc(1, sizeof *g);
    if (!g)
        return lb_err_set(err, LB_ENOMEM, "gguf: no memory");
    g->buf = buf;
    g->size = len;
    return finish_open(g, out, err);
}

int lb_gguf_open(const char *path, lb_gguf **out, lb_err *err)
{
    *out = NULL;
    int rc = LB_OK;
    struct stat st;
    void *map = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lb_err_set(err, errno == ENOENT ? LB_ENOENT : LB_EIO, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        rc = lb_err_set(err, LB_EIO, "%s: stat: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 24) {
        rc = lb_err_set(err, LB_EFORMAT, "%s: gguf: not a regular file of at least 24 bytes", path);
        goto out;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        rc = lb_err_set(err, LB_EIO, "%s: mmap: %s", path, strerror(errno));
        goto out;
    }
    struct lb_gguf *g = calloc(1, sizeof *g);
    if (!g) {
        munmap(map, (size_t)st.st_size);
        rc = lb_err_set(err, LB_ENOMEM, "gguf: no memory");
        goto out;
    }
    g->buf = map;
    g->size = (size_t)st.st_size;
    g->mapped = true;
    if ((rc = finish_open(g, out, err)))
        lb_err_wrap(err, rc, "%s", path);
out:
    close(fd);
    return rc;
}

void lb_gguf_close(lb_gguf *g)
{
    if (!g)
        return;
    if (g->kvs) {
        for (int64_t i = 0; i < g->n_kv; i++) {
            free(g->kvs[i].key);
            val_free(&g->kvs[i].val);
        }
        free(g->kvs);
    }
    free(g->tensors);
    if (g->mapped)
        munmap((void *)g->buf, g->size);
    free(g);
}

uint32_t lb_gguf_version(const lb_gguf *g) { return g->version; }
size_t lb_gguf_file_size(const lb_gguf *g) { return g->size; }
const void *lb_gguf_base(const lb_gguf *g) { return g->buf; }
uint64_t lb_gguf_alignment(const lb_gguf *g) { return g->alignment; }
uint64_t lb_gguf_data_offset(const lb_gguf *g) { return g->data_offset; }
uint64_t lb_gguf_data_size(const lb_gguf *g) { return g->data_offset <= g->size ? g->size - g->data_offset : 0; }
int64_t lb_gguf_n_kv(const lb_gguf *g) { return g->n_kv; }

const char *lb_gguf_kv_key(const lb_gguf *g, int64_t i)
{
    return i >= 0 && i < g->n_kv ? g->kvs[i].key : NULL;
}

const lb_gguf_val *lb_gguf_kv_val(const lb_gguf *g, int64_t i)
{
    return i >= 0 && i < g->n_kv ? &g->kvs[i].val : NULL;
}

const lb_gguf_val *lb_gguf_find(const lb_gguf *g, const char *key)
{
    for (int64_t i = 0; i < g->n_kv; i++)
        if (g->kvs[i].key && !strcmp(g->kvs[i].key, key))
            return &g->kvs[i].val;
    return NULL;
}

lb_gguf_type lb_gguf_val_type(const lb_gguf_val *v) { return (lb_gguf_type)v->type; }

const char *lb_gguf_type_name(lb_gguf_type t)
{
    static const char *names[] = { "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
                                   "string", "array", "u64", "i64", "f64" };
    return (unsigned)t < LB_GGUF_TYPE_COUNT ? names[t] : "?";
}

static bool is_signed(uint32_t t) { return t == LB_GGUF_I8 || t == LB_GGUF_I16 || t == LB_GGUF_I32 || t == LB_GGUF_I64; }
static bool is_unsigned(uint32_t t) { return t == LB_GGUF_U8 || t == LB_GGUF_U16 || t == LB_GGUF_U32 || t == LB_GGUF_U64; }
static bool is_float(uint32_t t) { return t == LB_GGUF_F32 || t == LB_GGUF_F64; }

int lb_gguf_val_i64(const lb_gguf_val *v, int64_t *out)
{
    if (is_signed(v->type)) {
        *out = v->s.i;
        return LB_OK;
    }
    if (is_unsigned(v->type) && v->s.u <= (uint64_t)INT64_MAX) {
        *out = (int64_t)v->s.u;
        return LB_OK;
    }
    return LB_EINVAL;
}

int lb_gguf_val_u64(const lb_gguf_val *v, uint64_t *out)
{
    if (is_unsigned(v->type)) {
        *out = v->s.u;
        return LB_OK;
    }
    if (is_signed(v->type) && v->s.i >= 0) {
        *out = (uint64_t)v->s.i;
        return LB_OK;
    }
    return LB_EINVAL;
}

int lb_gguf_val_f64(const lb_gguf_val *v, double *out)
{
    if (is_float(v->type))
        *out = v->s.f;
    else if (is_signed(v->type))
        *out = (double)v->s.i;
    else if (is_unsigned(v->type))
        *out = (double)v->s.u;
    else
        return LB_EINVAL;
    return LB_OK;
}

int lb_gguf_val_bool(const lb_gguf_val *v, bool *out)
{
    if (v->type != LB_GGUF_BOOL)
        return LB_EINVAL;
    *out = v->s.u != 0;
    return LB_OK;
}

int lb_gguf_val_str(const lb_gguf_val *v, const char **s, size_t *len)
{
    if (v->type != LB_GGUF_STRING)
        return LB_EINVAL;
    *s = v->str;
    if (len)
        *len = (size_t)v->n;
    return LB_OK;
}

lb_gguf_type lb_gguf_arr_type(const lb_gguf_val *v)
{
    return v->type == LB_GGUF_ARRAY ? (lb_gguf_type)v->elem_type : LB_GGUF_TYPE_COUNT;
}

uint64_t lb_gguf_arr_len(const lb_gguf_val *v) { return v->type == LB_GGUF_ARRAY ? v->n : 0; }

/* Decodes numeric element i of an array into a temporary scalar value. */
static int arr_elem(const lb_gguf_val *v, uint64_t i, struct lb_gguf_val *e)
{
    if (v->type != LB_GGUF_ARRAY || i >= v->n)
        return LB_EINVAL;
    size_t sz = scalar_size(v->elem_type);
    if (!sz)
        return LB_EINVAL;
    memset(e, 0, sizeof *e);
    e->type = v->elem_type;
    return decode_scalar(v->p + i * sz, v->elem_type, e, NULL, "") ? LB_EINVAL : LB_OK;
}

int lb_gguf_arr_i64(const lb_gguf_val *v, uint64_t i, int64_t *out)
{
    struct lb_gguf_val e;
    return arr_elem(v, i, &e) ? LB_EINVAL : lb_gguf_val_i64(&e, out);
}

int lb_gguf_arr_f64(const lb_gguf_val *v, uint64_t i, double *out)
{
    struct lb_gguf_val e;
    return arr_elem(v, i, &e) ? LB_EINVAL : lb_gguf_val_f64(&e, out);
}

int lb_gguf_arr_f32(const lb_gguf_val *v, uint64_t i, float *out)
{
    double d;
    int rc = lb_gguf_arr_f64(v, i, &d);
    if (!rc)
        *out = (float)d;
    return rc;
}

int lb_gguf_arr_bool(const lb_gguf_val *v, uint64_t i, bool *out)
{
    struct lb_gguf_val e;
    return arr_elem(v, i, &e) ? LB_EINVAL : lb_gguf_val_bool(&e, out);
}

int lb_gguf_arr_str(const lb_gguf_val *v, uint64_t i, const char **s, size_t *len)
{
    if (v->type != LB_GGUF_ARRAY || v->elem_type != LB_GGUF_STRING || i >= v->n)
        return LB_EINVAL;
    const uint8_t *p = v->p + v->offs[i];
    *len = (size_t)ld64(p);
    *s = (const char *)p + 8;
    return LB_OK;
}

const lb_gguf_val *lb_gguf_arr_at(const lb_gguf_val *v, uint64_t i)
{
    if (v->type != LB_GGUF_ARRAY || v->elem_type != LB_GGUF_ARRAY || i >= v->n)
        return NULL;
    return &v->elems[i];
}

const void *lb_gguf_arr_data(const lb_gguf_val *v)
{
    if (v->type != LB_GGUF_ARRAY || !scalar_size(v->elem_type))
        return NULL;
    return v->p;
}

static int get_val(const lb_gguf *g, const char *key, const lb_gguf_val **v, lb_err *err)
{
    *v = lb_gguf_find(g, key);
    if (!*v)
        return lb_err_set(err, LB_ENOENT, "gguf: missing key '%s'", key);
    return LB_OK;
}

static int bad_type(const char *key, const lb_gguf_val *v, const char *want, lb_err *err)
{
    return lb_err_set(err, LB_EFORMAT, "gguf: key '%s' has type %s, want %s", key,
                      lb_gguf_type_name((lb_gguf_type)v->type), want);
}

int lb_gguf_get_i64(const lb_gguf *g, const char *key, int64_t *out, lb_err *err)
{
    const lb_gguf_val *v;
    int rc = get_val(g, key, &v, err);
    if (rc)
        return rc;
    return lb_gguf_val_i64(v, out) ? bad_type(key, v, "an integer in int64 range", err) : LB_OK;
}

int lb_gguf_get_u64(const lb_gguf *g, const char *key, uint64_t *out, lb_err *err)
{
    const lb_gguf_val *v;
    int rc = get_val(g, key, &v, err);
    if (rc)
        return rc;
    return lb_gguf_val_u64(v, out) ? bad_type(key, v, "a non-negative integer", err) : LB_OK;
}

int lb_gguf_get_i32(const lb_gguf *g, const char *key, int32_t *out, lb_err *err)
{
    int64_t x = 0;
    int rc = lb_gguf_get_i64(g, key, &x, err);
    if (rc)
        return rc;
    if (x < INT32_MIN || x > INT32_MAX)
        return lb_err_set(err, LB_EFORMAT, "gguf: key '%s' = %lld does not fit 32 bits", key, (long long)x);
    *out = (int32_t)x;
    return LB_OK;
}

int lb_gguf_get_u32(const lb_gguf *g, const char *key, uint32_t *out, lb_err *err)
{
    uint64_t x = 0;
    int rc = lb_gguf_get_u64(g, key, &x, err);
    if (rc)
        return rc;
    if (x > UINT32_MAX)
        return lb_err_set(err, LB_EFORMAT, "gguf: key '%s' = %llu does not fit 32 bits", key, (unsigned long long)x);
    *out = (uint32_t)x;
    return LB_OK;
}

int lb_gguf_get_f32(const lb_gguf *g, const char *key, float *out, lb_err *err)
{
    const lb_gguf_val *v;
    double d;
    int rc = get_val(g, key, &v, err);
    if (rc)
        return rc;
    if (lb_gguf_val_f64(v, &d))
        return bad_type(key, v, "a number", err);
    *out = (float)d;
    return LB_OK;
}

int lb_gguf_get_bool(const lb_gguf *g, const char *key, bool *out, lb_err *err)
{
    const lb_gguf_val *v;
    int rc = get_val(g, key, &v, err);
    if (rc)
        return rc;
    return lb_gguf_val_bool(v, out) ? bad_type(key, v, "bool", err) : LB_OK;
}

int lb_gguf_get_str(const lb_gguf *g, const char *key, const char **s, size_t *len, lb_err *err)
{
    const lb_gguf_val *v;
    int rc = get_val(g, key, &v, err);
    if (rc)
        return rc;
    return lb_gguf_val_str(v, s, len) ? bad_type(key, v, "string", err) : LB_OK;
}

int lb_gguf_get_arr(const lb_gguf *g, const char *key, lb_gguf_type elem_type,
                    const lb_gguf_val **out, uint64_t *n, lb_err *err)
{
    const lb_gguf_val *v;
    int rc = get_val(g, key, &v, err);
    if (rc)
        return rc;
    if (v->type != LB_GGUF_ARRAY)
        return bad_type(key, v, "array", err);
    if (elem_type != LB_GGUF_TYPE_COUNT && v->elem_type != (uint32_t)elem_type)
        return lb_err_set(err, LB_EFORMAT, "gguf: key '%s' is an array of %s, want %s", key,
                          lb_gguf_type_name((lb_gguf_type)v->elem_type), lb_gguf_type_name(elem_type));
    *out = v;
    if (n)
        *n = v->n;
    return LB_OK;
}

int64_t lb_gguf_n_tensors(const lb_gguf *g) { return g->n_tensors; }

const lb_gguf_tensor *lb_gguf_tensor_at(const lb_gguf *g, int64_t i)
{
    return i >= 0 && i < g->n_tensors ? &g->tensors[i] : NULL;
}

const lb_gguf_tensor *lb_gguf_find_tensor(const lb_gguf *g, const char *name)
{
    for (int64_t i = 0; i < g->n_tensors; i++)
        if (!strcmp(g->tensors[i].name, name))
            return &g->tensors[i];
    return NULL;
}
