#include "../lib/harness.h"
#include "json.h"

#include <math.h>
#include <stdlib.h>

static lb_json_doc *parse_ok(const char *s)
{
    lb_json_doc *d = NULL;
    lb_err err = { 0 };
    int rc = lb_json_parse(s, strlen(s), NULL, &d, &err);
    CHECK_MSG(rc == LB_OK, "parse of %s failed: %s", s, err.msg);
    return d;
}

/* Documents every strict parser must accept. */
static const char *valid_docs[] = {
    "0", "-0", "1", "-1", "12345", "1.5", "-1.5e10", "1E+2", "1e-2", "0.0", "0e0",
    "true", "false", "null", "\"\"", "\"a\"", " \t\r\n1\n ", "[]", "{}", "[1,2,3]",
    "{\"a\":1,\"b\":[true,false,null]}", "[[[[]]]]", "\"\\u0041\\n\\t\\\\\\\"\\/\\b\\f\\r\"",
    "\"\\ud83d\\ude00\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "{\"\":\"\"}",
    "[ 1 , 2 ]", "{ \"a\" : 1 }", "\"\\u0000\"", "1.7976931348623157e308",
    "123456789012345678901234567890",
};

/* Documents a strict parser must refuse. */
static const char *invalid_docs[] = {
    "", " ", "[", "]", "{", "}", "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{a:1}", "{'a':1}",
    "01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "NaN", "Infinity", "-Infinity", "1e400",
    "tru", "True", "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\ud800\"",
    "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\tb\"", "\"\x01\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
    "\"\xf4\x90\x80\x80\"", "\"\xff\"", "\"\xe2\x82\"", "1 2", "[] []", "{}x", "\xef\xbb\xbf{}",
    "[1,,2]", "[,1]", "{,}", "{\"a\"}", "{\"a\":}", "/* c */ 1", "\"\\", "[\"\\\"]",
};

TEST(valid_documents_parse)
{
    for (size_t i = 0; i < sizeof valid_docs / sizeof *valid_docs; i++) {
        lb_json_doc *d = parse_ok(valid_docs[i]);
        lb_json_free(d);
    }
}

TEST(invalid_documents_are_refused)
{
    for (size_t i = 0; i < sizeof invalid_docs / sizeof *invalid_docs; i++) {
        lb_json_doc *d = NULL;
        lb_err err = { 0 };
        int rc = lb_json_parse(invalid_docs[i], strlen(invalid_docs[i]), NULL, &d, &err);
        CHECK_MSG(rc != LB_OK && d == NULL, "accepted invalid document #%zu: %s", i, invalid_docs[i]);
        CHECK_MSG(rc == LB_OK || strstr(err.msg, "offset") != NULL, "no offset in error: %s", err.msg);
    }
}

TEST(accessors)
{
    lb_json_doc *d = parse_ok("{\"model\":\"m\",\"n\":2.5,\"stream\":true,\"stop\":[\"a\",\"b\"],\"x\":null,\"model\":\"dup\"}");
    const lb_json *r = lb_json_root(d);
    CHECK_EQ(lb_json_type_of(r), LB_JSON_OBJECT);
    CHECK_EQ(lb_json_len(r), 6);
    CHECK_STR(lb_json_str(lb_json_get(r, "model"), NULL), "m");  /* first match */
    double n = 0;
    CHECK(lb_json_num(lb_json_get(r, "n"), &n));
    CHECK_NEAR(n, 2.5, 0);
    bool b = false;
    CHECK(lb_json_bool(lb_json_get(r, "stream"), &b) && b);
    CHECK(!lb_json_num(lb_json_get(r, "stream"), &n));
    const lb_json *stop = lb_json_get(r, "stop");
    CHECK_EQ(lb_json_len(stop), 2);
    CHECK_STR(lb_json_str(lb_json_at(stop, 1), NULL), "b");
    CHECK(lb_json_at(stop, 2) == NULL);
    CHECK_EQ(lb_json_type_of(lb_json_get(r, "x")), LB_JSON_NULL);
    CHECK(lb_json_get(r, "absent") == NULL);
    CHECK(lb_json_get(stop, "a") == NULL);
    CHECK_STR(lb_json_key_at(r, 3), "stop");
    CHECK(lb_json_key_at(r, 6) == NULL);
    CHECK(lb_json_key_at(stop, 0) == NULL);
    CHECK(lb_json_get(NULL, "a") == NULL);
    CHECK_EQ(lb_json_len(lb_json_get(r, "model")), 0);
    lb_json_free(d);
}

TEST(string_decoding)
{
    lb_json_doc *d = parse_ok("[\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\", \"a\\u0000b\"]");
    size_t len = 0;
    const char *s = lb_json_str(lb_json_at(lb_json_root(d), 0), &len);
    CHECK_STR(s, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    CHECK_EQ(len, 10);
    s = lb_json_str(lb_json_at(lb_json_root(d), 1), &len);
    CHECK_EQ(len, 3);
    CHECK(s && memcmp(s, "a\0b", 4) == 0);
    lb_json_free(d);
}

TEST(keys_with_nul_do_not_match_prefixes)
{
    lb_json_doc *d = parse_ok("{\"model\\u0000x\":1,\"model\":2}");
    double v = 0;
    CHECK(lb_json_num(lb_json_get(lb_json_root(d), "model"), &v) && v == 2);
    lb_json_free(d);
}

TEST(numbers)
{
    lb_json_doc *d = parse_ok("[0, -0, 1e2, -2.5E-3, 9007199254740993, 1e-400]");
    const lb_json *r = lb_json_root(d);
    double v[6];
    for (int i = 0; i < 6; i++)
        CHECK(lb_json_num(lb_json_at(r, (size_t)i), &v[i]));
    CHECK(v[0] == 0 && v[1] == 0 && signbit(v[1]));
    CHECK(v[2] == 100);
    CHECK(v[3] == -2.5e-3);
    CHECK(v[4] == 9007199254740992.0);
    CHECK(v[5] == 0);  /* underflow to zero is fine, overflow is refused */
    lb_json_free(d);
}

TEST(limits)
{
    lb_json_limits lim = { .max_depth = 3 };
    lb_json_doc *d = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_json_parse("[[[1]]]", 7, &lim, &d, &err), LB_OK);
    lb_json_free(d);
    CHECK_EQ(lb_json_parse("[[[[1]]]]", 9, &lim, &d, &err), LB_ELIMIT);
    CHECK(d == NULL);
    lim = (lb_json_limits){ .max_bytes = 4 };
    CHECK_EQ(lb_json_parse("[1,2]", 5, &lim, &d, &err), LB_ELIMIT);
    lim = (lb_json_limits){ .max_nodes = 3 };
    CHECK_EQ(lb_json_parse("[1,2]", 5, &lim, &d, &err), LB_OK);
    lb_json_free(d);
    CHECK_EQ(lb_json_parse("[1,2,3]", 7, &lim, &d, &err), LB_ELIMIT);
    /* default depth 64: a deep bomb is refused, not a stack overflow */
    size_t n = 100000;
    char *deep = malloc(n);
    memset(deep, '[', n);
    CHECK_EQ(lb_json_parse(deep, n, NULL, &d, &err), LB_ELIMIT);
    free(deep);
    CHECK(strstr(err.msg, "nesting") != NULL);
    /* an absurd depth limit is clamped, not trusted with the stack */
    lim = (lb_json_limits){ .max_depth = 1 << 30 };
    deep = malloc(n);
    memset(deep, '[', n);
    CHECK_EQ(lb_json_parse(deep, n, &lim, &d, &err), LB_ELIMIT);
    free(deep);
}

TEST(large_document)
{
    /* many members: exercises scratch stack growth and arena chunks */
    lb_jw w;
    lb_jw_init(&w);
    lb_jw_arr_begin(&w);
    for (int i = 0; i < 50000; i++) {
        lb_jw_obj_begin(&w);
        lb_jw_key(&w, "i");
        lb_jw_int(&w, i);
        lb_jw_key(&w, "s");
        lb_jw_str(&w, "some text that takes space");
        lb_jw_obj_end(&w);
    }
    lb_jw_arr_end(&w);
    CHECK(!w.failed);
    lb_json_doc *d = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_json_parse(w.buf, w.len, NULL, &d, &err), LB_OK);
    const lb_json *r = lb_json_root(d);
    CHECK_EQ(lb_json_len(r), 50000);
    double v = 0;
    CHECK(lb_json_num(lb_json_get(lb_json_at(r, 49999), "i"), &v) && v == 49999);
    lb_json_free(d);
    lb_jw_free(&w);
}

TEST(writer_structure)
{
    lb_jw w;
    lb_jw_init(&w);
    lb_jw_obj_begin(&w);
    lb_jw_key(&w, "a");
    lb_jw_int(&w, -5);
    lb_jw_key(&w, "b");
    lb_jw_arr_begin(&w);
    lb_jw_bool(&w, true);
    lb_jw_null(&w);
    lb_jw_obj_begin(&w);
    lb_jw_obj_end(&w);
    lb_jw_arr_begin(&w);
    lb_jw_arr_end(&w);
    lb_jw_arr_end(&w);
    lb_jw_key(&w, "c");
    lb_jw_str(&w, "x");
    lb_jw_obj_end(&w);
    CHECK(!w.failed);
    CHECK_STR(w.buf, "{\"a\":-5,\"b\":[true,null,{},[]],\"c\":\"x\"}");
    lb_jw_reset(&w);
    CHECK_EQ(w.len, 0);
    lb_jw_str(&w, "again");
    CHECK_STR(w.buf, "\"again\"");
    lb_jw_free(&w);
}

TEST(writer_escapes_and_repairs_utf8)
{
    lb_jw w;
    lb_jw_init(&w);
    lb_jw_arr_begin(&w);
    lb_jw_str(&w, "q\"b\\n\n\t\r\b\f\x01\x1f/\xc3\xa9");
    lb_jw_strn(&w, "a\0b", 3);
    lb_jw_strn(&w, "x\xffy\xc3", 4);         /* invalid byte and truncated sequence */
    lb_jw_strn(&w, "\xed\xa0\x80", 3);        /* encoded surrogate is invalid UTF-8 */
    lb_jw_arr_end(&w);
    CHECK_STR(w.buf, "[\"q\\\"b\\\\n\\n\\t\\r\\b\\f\\u0001\\u001f/\xc3\xa9\",\"a\\u0000b\","
                     "\"x\xef\xbf\xbdy\xef\xbf\xbd\",\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"]");
    lb_json_doc *d = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_json_parse(w.buf, w.len, NULL, &d, &err), LB_OK);
    lb_json_free(d);
    lb_jw_free(&w);
}

TEST(writer_doubles_shortest_round_trip)
{
    struct { double v; const char *s; } cases[] = {
        { 0.1, "0.1" }, { 1.0, "1" }, { -2.5, "-2.5" }, { 1e21, "1e+21" }, { 0.3, "0.3" },
        { 1.0 / 3.0, "0.3333333333333333" }, { 5e-324, "5e-324" }, { NAN, "null" }, { INFINITY, "null" },
        { 1.7976931348623157e308, "1.7976931348623157e+308" }, { 123456789, "123456789" },
    };
    lb_jw w;
    lb_jw_init(&w);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lb_jw_reset(&w);
        lb_jw_double(&w, cases[i].v);
        CHECK_STR(w.buf, cases[i].s);
    }
    /* random doubles read back bit-exact */
    unsigned long long x = 88172645463325252ull;
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v))
            continue;
        lb_jw_reset(&w);
        lb_jw_double(&w, v);
        lb_json_doc *d = NULL;
        lb_err err = { 0 };
        CHECK_MSG(lb_json_parse(w.buf, w.len, NULL, &d, &err) == LB_OK, "%s: %s", w.buf, err.msg);
        double back = 0;
        CHECK(lb_json_num(lb_json_root(d), &back) && memcmp(&back, &v, sizeof v) == 0);
        lb_json_free(d);
    }
    lb_jw_free(&w);
}

TEST(writer_depth_overflow_fails_cleanly)
{
    lb_jw w;
    lb_jw_init(&w);
    for (int i = 0; i < 100; i++)
        lb_jw_arr_begin(&w);
    CHECK(w.failed);
    lb_jw_free(&w);
    lb_jw_init(&w);
    lb_jw_arr_end(&w);  /* unbalanced end */
    CHECK(w.failed);
    lb_jw_free(&w);
}
