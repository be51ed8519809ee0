/* The service's power/energy/hugepage report: JSON of /v1/system/power and /metrics lines. */
#include "../lib/harness.h"
#include "json.h"
#include "power_report.h"

#include <stdlib.h>

static lb_power_figures sample(void)
{
    lb_power_figures f = { 0 };
    f.have_power = true;
    f.power.available = true;
    f.power.policy = LB_POWER_BALANCED;
    f.power.profile = LB_PROFILE_BUSY;
    f.power.active_requests = 2;
    f.power.idle_delay_ms = 2000;
    f.power.driver = LB_CPUFREQ_AMD_PSTATE_EPP;
    f.power.cpufreq_policies = 8;
    snprintf(f.power.governor, sizeof f.power.governor, "performance");
    f.power.turbo = LB_TURBO_BOOST;
    f.power.deep_cstates = 16;
    f.have_energy = true;
    f.energy_joules_total = 300;
    f.uptime_s = 60;
    f.gen_joules = 40;
    f.gen_tokens = 100;
    f.weights_hugepage_bytes = 4u << 20;
    snprintf(f.weights_memory, sizeof f.weights_memory, "hugetlbfs");
    f.have_pool = true;
    f.pool_total = 600;
    f.pool_free = 3;
    return f;
}

TEST(status_json_has_every_figure)
{
    lb_power_figures f = sample();
    lb_jw w;
    lb_jw_init(&w);
    lb_power_report_json(&f, &w);
    CHECK(!w.failed);
    lb_json_doc *d = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_json_parse(w.buf, w.len, NULL, &d, &err), LB_OK);
    const lb_json *r = lb_json_root(d);
    double x;
    bool b;
    CHECK_STR(lb_json_str(lb_json_get(r, "policy"), NULL), "balanced");
    CHECK_STR(lb_json_str(lb_json_get(r, "profile"), NULL), "busy");
    CHECK(lb_json_bool(lb_json_get(r, "available"), &b) && b);
    CHECK_STR(lb_json_str(lb_json_get(r, "cpufreq_driver"), NULL), "amd-pstate-epp");
    CHECK_STR(lb_json_str(lb_json_get(r, "turbo_control"), NULL), "cpufreq/boost");
    CHECK(lb_json_num(lb_json_get(r, "deep_cstates"), &x) && x == 16);
    const lb_json *e = lb_json_get(r, "energy");
    CHECK(lb_json_num(lb_json_get(e, "joules_per_token"), &x));
    CHECK_NEAR(x, 0.4, 1e-12);
    CHECK(lb_json_num(lb_json_get(e, "average_watts"), &x));
    CHECK_NEAR(x, 5.0, 1e-12);
    const lb_json *m = lb_json_get(r, "memory");
    CHECK_STR(lb_json_str(lb_json_get(m, "weights_memory"), NULL), "hugetlbfs");
    CHECK(lb_json_num(lb_json_get(m, "weights_hugepage_bytes"), &x) && x == 4194304);
    CHECK(lb_json_num(lb_json_get(m, "hugepages_2m_free"), &x) && x == 3);
    lb_json_free(d);
    lb_jw_free(&w);
}

TEST(status_json_without_hardware)
{
    /* QEMU: a controller with nothing to control, no RAPL, no pool, model not loaded yet */
    lb_power_figures f = { .have_power = true };
    f.power.policy = LB_POWER_POWERSAVE;
    lb_jw w;
    lb_jw_init(&w);
    lb_power_report_json(&f, &w);
    lb_json_doc *d = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_json_parse(w.buf, w.len, NULL, &d, &err), LB_OK);
    const lb_json *r = lb_json_root(d);
    bool b = true;
    CHECK(lb_json_bool(lb_json_get(r, "available"), &b) && !b);
    CHECK_STR(lb_json_str(lb_json_get(r, "policy"), NULL), "powersave");
    CHECK_STR(lb_json_str(lb_json_get(r, "cpufreq_driver"), NULL), "none");
    CHECK(lb_json_type_of(lb_json_get(r, "governor")) == LB_JSON_NULL);
    b = true;
    CHECK(lb_json_bool(lb_json_get(lb_json_get(r, "energy"), "available"), &b) && !b);
    CHECK(lb_json_get(lb_json_get(r, "energy"), "joules_total") == NULL);
    CHECK(lb_json_type_of(lb_json_get(lb_json_get(r, "memory"), "weights_memory")) == LB_JSON_NULL);
    lb_json_free(d);
    lb_jw_free(&w);
}

static double metric(const char *text, const char *line_start)
{
    const char *p = text;
    size_t n = strlen(line_start);
    while ((p = strstr(p, line_start))) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return atof(p + n + 1);
        p += n;
    }
    return -1;
}

TEST(metrics_lines)
{
    lb_power_figures f = sample();
    lb_sbuf out = { 0 };
    lb_power_report_metrics(&f, &out);
    CHECK(!out.failed);
    CHECK_NEAR(metric(out.buf, "llmbox_power_control_available"), 1, 0);
    CHECK_NEAR(metric(out.buf, "llmbox_power_policy{policy=\"balanced\"}"), 1, 0);
    CHECK_NEAR(metric(out.buf, "llmbox_power_policy{policy=\"performance\"}"), 0, 0);
    CHECK_NEAR(metric(out.buf, "llmbox_power_profile_busy"), 1, 0);
    CHECK_NEAR(metric(out.buf, "llmbox_energy_joules_total"), 300, 1e-9);
    CHECK_NEAR(metric(out.buf, "llmbox_power_watts_average"), 5, 1e-9);
    CHECK_NEAR(metric(out.buf, "llmbox_energy_joules_per_token"), 0.4, 1e-12);
    CHECK_NEAR(metric(out.buf, "llmbox_weights_hugepage_bytes"), 4194304, 0);
    CHECK_NEAR(metric(out.buf, "llmbox_hugepages_2m_total"), 600, 0);
    CHECK(strstr(out.buf, "# TYPE llmbox_energy_joules_total counter\n") != NULL);
    lb_sbuf_free(&out);

    lb_power_figures none = { 0 };
    lb_power_report_metrics(&none, &out);
    CHECK_NEAR(metric(out.buf, "llmbox_power_control_available"), 0, 0);
    CHECK(strstr(out.buf, "llmbox_energy") == NULL);  /* no RAPL: no energy lines at all */
    CHECK(strstr(out.buf, "llmbox_power_policy") == NULL);
    lb_sbuf_free(&out);
}
