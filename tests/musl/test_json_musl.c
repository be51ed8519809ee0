/* JSON under static musl: its strtod/snprintf must give the same shortest round-trip doubles
 * and strict parsing as the host build (the CLI's --json output and the service use it). */
#include "../lib/harness.h"
#include "json.h"

#include <math.h>

TEST(musl_doubles_round_trip)
{
    lb_jw w;
    lb_jw_init(&w);
    unsigned long long x = 0x9E3779B97F4A7C15ull;
    int checked = 0;
    for (int i = 0; i < 5000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v))
            continue;
        lb_jw_reset(&w);
        lb_jw_double(&w, v);
        lb_json_doc *d = NULL;
        lb_err err = { 0 };
        double back = 0;
        CHECK_MSG(lb_json_parse(w.buf, w.len, NULL, &d, &err) == LB_OK && lb_json_num(lb_json_root(d), &back) &&
                  memcmp(&back, &v, sizeof v) == 0, "%s", w.buf);
        lb_json_free(d);
        checked++;
    }
    CHECK(checked > 4000);
    lb_jw_reset(&w);
    lb_jw_double(&w, 0.1);
    CHECK_STR(w.buf, "0.1");
    lb_jw_free(&w);
}

TEST(musl_strict_parse)
{
    const char *ok = "{\"a\":[1,2.5e-3,\"\\ud83d\\ude00\"],\"b\":null}";
    lb_json_doc *d = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_json_parse(ok, strlen(ok), NULL, &d, &err), LB_OK);
    size_t len = 0;
    CHECK_STR(lb_json_str(lb_json_at(lb_json_get(lb_json_root(d), "a"), 2), &len), "\xf0\x9f\x98\x80");
    lb_json_free(d);
    CHECK_EQ(lb_json_parse("[1,]", 4, NULL, &d, &err), LB_EFORMAT);
    CHECK_EQ(lb_json_parse("1e999", 5, NULL, &d, &err), LB_EFORMAT);
}
