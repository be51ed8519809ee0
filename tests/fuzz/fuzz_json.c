/* Fuzzes the JSON parser; every accepted document must survive parse -> write -> parse
 * unchanged (same tree, numbers bit-exact apart from the sign of zero). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static void write_value(lb_jw *w, const lb_json *v)
{
    size_t len;
    const char *s;
    double d;
    bool b;
    switch (lb_json_type_of(v)) {
    case LB_JSON_NULL: lb_jw_null(w); break;
    case LB_JSON_BOOL: lb_json_bool(v, &b); lb_jw_bool(w, b); break;
    case LB_JSON_NUMBER: lb_json_num(v, &d); lb_jw_double(w, d); break;
    case LB_JSON_STRING: s = lb_json_str(v, &len); lb_jw_strn(w, s, len); break;
    case LB_JSON_ARRAY:
        lb_jw_arr_begin(w);
        for (size_t i = 0; i < lb_json_len(v); i++)
            write_value(w, lb_json_at(v, i));
        lb_jw_arr_end(w);
        break;
    case LB_JSON_OBJECT:
        lb_jw_obj_begin(w);
        for (size_t i = 0; i < lb_json_len(v); i++) {
            lb_jw_key(w, lb_json_key_at(v, i));
            write_value(w, lb_json_at(v, i));
        }
        lb_jw_obj_end(w);
        break;
    }
}

static int same(const lb_json *a, const lb_json *b)
{
    if (lb_json_type_of(a) != lb_json_type_of(b))
        return 0;
    size_t la, lb;
    const char *sa, *sb;
    double da, db;
    bool ba, bb;
    switch (lb_json_type_of(a)) {
    case LB_JSON_NULL: return 1;
    case LB_JSON_BOOL: lb_json_bool(a, &ba); lb_json_bool(b, &bb); return ba == bb;
    case LB_JSON_NUMBER: lb_json_num(a, &da); lb_json_num(b, &db); return da == db;
    case LB_JSON_STRING:
        sa = lb_json_str(a, &la);
        sb = lb_json_str(b, &lb);
        return la == lb && memcmp(sa, sb, la) == 0;
    case LB_JSON_ARRAY:
    case LB_JSON_OBJECT:
        if (lb_json_len(a) != lb_json_len(b))
            return 0;
        for (size_t i = 0; i < lb_json_len(a); i++) {
            /* keys are compared as C strings: that is what the writer's key API takes */
            if (lb_json_type_of(a) == LB_JSON_OBJECT && strcmp(lb_json_key_at(a, i), lb_json_key_at(b, i)) != 0)
                return 0;
            if (!same(lb_json_at(a, i), lb_json_at(b, i)))
                return 0;
        }
        return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the writer nests at most 63 levels */
    lb_json_limits lim = { .max_bytes = 1 << 20, .max_depth = 60, .max_nodes = 100000 };
    lb_json_doc *d = NULL, *d2 = NULL;
    lb_err err = { 0 };
    if (lb_json_parse((const char *)data, size, &lim, &d, &err) != LB_OK)
        return 0;
    lb_jw w;
    lb_jw_init(&w);
    write_value(&w, lb_json_root(d));
    if (w.failed)
        abort();
    lim.max_bytes = w.len + 1;
    if (lb_json_parse(w.buf, w.len, &lim, &d2, &err) != LB_OK)
        abort();
    if (!same(lb_json_root(d), lb_json_root(d2)))
        abort();
    lb_json_free(d2);
    lb_json_free(d);
    lb_jw_free(&w);
    return 0;
}
