#include "api_power.h"

#include <stdio.h>
#include <string.h>

#include "hugepages.h"
#include "log.h"
#include "power_report.h"

int lb_api_power_open(lb_api_power *ap, const lb_power_cli_config *cli, lb_err *err)
{
    memset(ap, 0, sizeof *ap);
    pthread_mutex_init(&ap->mu, NULL);
    ap->started_s = lb_api_now_s();
    snprintf(ap->sys_root, sizeof ap->sys_root, "%s", cli && cli->sys_root ? cli->sys_root : "/sys");
    snprintf(ap->proc_root, sizeof ap->proc_root, "%s", cli && cli->proc_root ? cli->proc_root : "/proc");
    lb_power_config cfg = LB_POWER_CONFIG_DEFAULT;
    cfg.sys_root = ap->sys_root;
    cfg.proc_root = ap->proc_root;
    if (cli && cli->idle_delay_ms)
        cfg.idle_delay_ms = cli->idle_delay_ms;
    if (cli)
        cfg.cpuidle.idle_online_cpus = cli->idle_online_cpus;
    int rc;
    if (cli && cli->policy && (rc = lb_power_policy_parse(cli->policy, &cfg.policy, err)) != LB_OK)
        return rc;
    if ((rc = lb_power_open(&cfg, &ap->power, err)) != LB_OK)
        return rc;
    if ((rc = lb_power_start_timer(ap->power, err)) != LB_OK) {
        lb_power_close(ap->power);
        ap->power = NULL;
        return rc;
    }
    lb_err e = { 0 };
    if (lb_energy_open(ap->sys_root, &ap->energy, &e) != LB_OK)
        LOG_INFO("energy: %s", e.msg);
    LOG_INFO("power: policy %s, control %s, energy accounting %s", lb_power_policy_name(cfg.policy),
             lb_power_available(ap->power) ? "active" : "unavailable (no cpufreq/cpuidle)",
             ap->energy ? "RAPL" : "unavailable");
    return LB_OK;
}

void lb_api_power_close(lb_api_power *ap)
{
    lb_power_close(ap->power);
    lb_energy_close(ap->energy);
    ap->power = NULL;
    ap->energy = NULL;
    pthread_mutex_destroy(&ap->mu);
}

void lb_api_power_begin(lb_api *api, lb_api_power_span *s)
{
    memset(s, 0, sizeof *s);
    lb_api_power *ap = api->power;
    if (!ap)
        return;
    lb_power_request_begin(ap->power);
    s->began = true;
    lb_energy_sample_now(ap->energy, &s->start);
}

void lb_api_power_end(lb_api *api, lb_api_power_span *s, int tokens)
{
    lb_api_power *ap = api->power;
    if (!ap || !s->began)
        return;
    s->began = false;
    lb_power_request_end(ap->power);
    lb_energy_sample end;
    if (s->start.valid && lb_energy_sample_now(ap->energy, &end)) {
        s->joules = lb_energy_between(ap->energy, &s->start, &end).joules;
        s->valid = true;
        pthread_mutex_lock(&ap->mu);
        ap->gen_joules += s->joules;
        ap->gen_tokens += (uint64_t)(tokens > 0 ? tokens : 0);
        pthread_mutex_unlock(&ap->mu);
    }
}

void lb_api_power_usage(const lb_api_power_span *s, lb_jw *w)
{
    if (!s->valid)
        return;
    lb_jw_key(w, "energy_joules");
    lb_jw_double(w, s->joules);
}

static void gather(lb_api *api, lb_power_figures *f)
{
    memset(f, 0, sizeof *f);
    lb_api_power *ap = api->power;
    if (ap && ap->power) {
        f->have_power = true;
        lb_power_get_status(ap->power, &f->power);
    }
    if (ap && ap->energy) {
        f->have_energy = true;
        f->energy_joules_total = lb_energy_total_joules(ap->energy);
        f->uptime_s = lb_api_now_s() - ap->started_s;
        pthread_mutex_lock(&ap->mu);
        f->gen_joules = ap->gen_joules;
        f->gen_tokens = ap->gen_tokens;
        pthread_mutex_unlock(&ap->mu);
    }
    if (atomic_load(&api->ready) && api->model) {
        lb_model_info info;
        lb_model_get_info(api->model, &info);
        f->weights_hugepage_bytes = info.hugepage_bytes;
        snprintf(f->weights_memory, sizeof f->weights_memory, "%s", info.weights_memory);
    }
    f->have_pool = lb_hugepages_stats(ap ? ap->sys_root : NULL, ap ? ap->proc_root : NULL, LB_HUGEPAGE_2M,
                                      &f->pool_total, &f->pool_free, NULL) == LB_OK;
}

static void respond_status(lb_api_call *call)
{
    lb_power_figures f;
    gather(call->api, &f);
    lb_jw w;
    lb_jw_init(&w);
    lb_power_report_json(&f, &w);
    lb_api_json(call, 200, &w);
    lb_jw_free(&w);
}

void lb_api_power_get(lb_api_call *call) { respond_status(call); }

/* PUT {"policy": "performance"|"balanced"|"powersave"} */
void lb_api_power_put(lb_api_call *call)
{
    lb_api_power *ap = call->api->power;
    if (!ap || !ap->power) {
        lb_api_error(call, 503, "server_error", NULL, NULL, "power control is not enabled in this service");
        return;
    }
    lb_json_doc *doc = lb_api_parse_body(call);
    if (!doc)
        return;
    const lb_json *v = lb_json_get(lb_json_root(doc), "policy");
    const char *s = v ? lb_json_str(v, NULL) : NULL;
    lb_power_policy pol;
    lb_err err = { 0 };
    if (!s) {
        lb_api_error(call, 400, "invalid_request_error", "policy", NULL,
                     "expected {\"policy\": \"performance\"|\"balanced\"|\"powersave\"}");
    } else if (lb_power_policy_parse(s, &pol, &err) != LB_OK) {
        lb_api_error(call, 400, "invalid_request_error", "policy", NULL, "%s", err.msg);
    } else {
        lb_power_set_policy(ap->power, pol);
        respond_status(call);
    }
    lb_json_free(doc);
}

void lb_api_power_metrics(void *ud, lb_sbuf *out)
{
    lb_power_figures f;
    gather(ud, &f);
    lb_power_report_metrics(&f, out);
}
