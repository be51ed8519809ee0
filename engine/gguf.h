/* GGUF v2/v3 reader. Everything is validated when the file is opened (sizes, offsets,
 * overflow, dims, type ids, string and array lengths against the remaining bytes), so the
 * accessors below never read outside the buffer. A bad file is rejected with a message that
 * names the field. Files without tensors (vocab-only) open fine.
 *
 * Strings inside the file are not NUL-terminated: accessors return a pointer and a length.
 * Exception: lb_gguf_get_str / lb_gguf_val_str also guarantee NUL termination (scalar string
 * values are copied once at open; they may contain embedded NULs, len tells). */
#ifndef LB_GGUF_H
#define LB_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ggml_type.h"

typedef enum lb_gguf_type {
    LB_GGUF_U8 = 0,
    LB_GGUF_I8 = 1,
    LB_GGUF_U16 = 2,
    LB_GGUF_I16 = 3,
    LB_GGUF_U32 = 4,
    LB_GGUF_I32 = 5,
    LB_GGUF_F32 = 6,
    LB_GGUF_BOOL = 7,
    LB_GGUF_STRING = 8,
    LB_GGUF_ARRAY = 9,
    LB_GGUF_U64 = 10,
    LB_GGUF_I64 = 11,
    LB_GGUF_F64 = 12,
    LB_GGUF_TYPE_COUNT = 13
} lb_gguf_type;

#define LB_GGUF_MAX_DIMS 4
#define LB_GGUF_MAX_NAME 64        /* tensor name bytes, as ggml (incl. its NUL) */
#define LB_GGUF_DEFAULT_ALIGNMENT 32

typedef struct lb_gguf lb_gguf;
typedef struct lb_gguf_val lb_gguf_val;  /* a metadata value (scalar, string or array) */

typedef struct lb_gguf_tensor {
    char name[LB_GGUF_MAX_NAME];
    uint32_t type;                  /* enum lb_ggml_type */
    int n_dims;
    int64_t ne[LB_GGUF_MAX_DIMS];   /* ne[0] is the row length; unused dims are 1 */
    uint64_t offset;                /* relative to the data section */
    uint64_t nbytes;
    int64_t n_elems;
    const void *data;               /* into the file buffer */
} lb_gguf_tensor;

/* Opens a file (read-only mmap). */
int lb_gguf_open(const char *path, lb_gguf **out, lb_err *err);
/* Parses a buffer in memory; it is not copied and must outlive the lb_gguf. */
int lb_gguf_open_mem(const void *buf, size_t len, lb_gguf **out, lb_err *err);
void lb_gguf_close(lb_gguf *g);

uint32_t lb_gguf_version(const lb_gguf *g);
size_t lb_gguf_file_size(const lb_gguf *g);
const void *lb_gguf_base(const lb_gguf *g);
uint64_t lb_gguf_alignment(const lb_gguf *g);
uint64_t lb_gguf_data_offset(const lb_gguf *g);  /* start of tensor data in the file */
uint64_t lb_gguf_data_size(const lb_gguf *g);    /* file bytes from data offset to the end */

/* Metadata: by index or key. */
int64_t lb_gguf_n_kv(const lb_gguf *g);
const char *lb_gguf_kv_key(const lb_gguf *g, int64_t i);
const lb_gguf_val *lb_gguf_kv_val(const lb_gguf *g, int64_t i);
const lb_gguf_val *lb_gguf_find(const lb_gguf *g, const char *key);  /* NULL if absent */

lb_gguf_type lb_gguf_val_type(const lb_gguf_val *v);
const char *lb_gguf_type_name(lb_gguf_type t);
/* Scalar conversions: integers convert between widths and signedness when the value fits;
 * f32/f64 accept any float or integer value. Return LB_OK or LB_EINVAL (wrong type / does
 * not fit). */
int lb_gguf_val_i64(const lb_gguf_val *v, int64_t *out);
int lb_gguf_val_u64(const lb_gguf_val *v, uint64_t *out);
int lb_gguf_val_f64(const lb_gguf_val *v, double *out);
int lb_gguf_val_bool(const lb_gguf_val *v, bool *out);
int lb_gguf_val_str(const lb_gguf_val *v, const char **s, size_t *len);  /* NUL-terminated */
/* Arrays: element type and count (0 / LB_GGUF_TYPE_COUNT when v is not an array). */
lb_gguf_type lb_gguf_arr_type(const lb_gguf_val *v);
uint64_t lb_gguf_arr_len(const lb_gguf_val *v);
int lb_gguf_arr_i64(const lb_gguf_val *v, uint64_t i, int64_t *out);
int lb_gguf_arr_f64(const lb_gguf_val *v, uint64_t i, double *out);
int lb_gguf_arr_f32(const lb_gguf_val *v, uint64_t i, float *out);
int lb_gguf_arr_bool(const lb_gguf_val *v, uint64_t i, bool *out);
/* String element: pointer into the file, NOT NUL-terminated. */
int lb_gguf_arr_str(const lb_gguf_val *v, uint64_t i, const char **s, size_t *len);
/* Element of an array of arrays (NULL otherwise or out of range). */
const lb_gguf_val *lb_gguf_arr_at(const lb_gguf_val *v, uint64_t i);
/* Raw element bytes of a numeric array (little-endian, possibly unaligned); NULL otherwise. */
const void *lb_gguf_arr_data(const lb_gguf_val *v);

/* Typed getters by key. LB_ENOENT if absent, LB_EFORMAT if the type does not convert;
 * err (may be NULL) names the key either way. */
int lb_gguf_get_i32(const lb_gguf *g, const char *key, int32_t *out, lb_err *err);
int lb_gguf_get_u32(const lb_gguf *g, const char *key, uint32_t *out, lb_err *err);
int lb_gguf_get_i64(const lb_gguf *g, const char *key, int64_t *out, lb_err *err);
int lb_gguf_get_u64(const lb_gguf *g, const char *key, uint64_t *out, lb_err *err);
int lb_gguf_get_f32(const lb_gguf *g, const char *key, float *out, lb_err *err);
int lb_gguf_get_bool(const lb_gguf *g, const char *key, bool *out, lb_err *err);
int lb_gguf_get_str(const lb_gguf *g, const char *key, const char **s, size_t *len, lb_err *err);
/* Array by key with its element type checked (LB_GGUF_TYPE_COUNT: any element type). */
int lb_gguf_get_arr(const lb_gguf *g, const char *key, lb_gguf_type elem_type,
                    const lb_gguf_val **out, uint64_t *n, lb_err *err);

/* Tensors. */
int64_t lb_gguf_n_tensors(const lb_gguf *g);
const lb_gguf_tensor *lb_gguf_tensor_at(const lb_gguf *g, int64_t i);
const lb_gguf_tensor *lb_gguf_find_tensor(const lb_gguf *g, const char *name);

#endif
