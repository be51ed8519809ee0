/* Power control and energy accounting in the service: the busy/idle hooks around each
 * generation, the "energy_joules" usage extension, GET/PUT /v1/system/power and the
 * power/energy/hugepage lines of /metrics (through the metrics extra hook). */
#ifndef LB_API_POWER_H
#define LB_API_POWER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "power_policy.h"
#include "rapl.h"

typedef struct lb_api_power {
    lb_power *power;           /* NULL: no controller (then GET says so, PUT answers 503) */
    lb_energy *energy;         /* NULL: no RAPL on this machine */
    char sys_root[256], proc_root[256];
    double started_s;
    pthread_mutex_t mu;
    double gen_joules;
    uint64_t gen_tokens;
} lb_api_power;

typedef struct lb_power_cli_config {
    const char *policy;        /* NULL: balanced */
    unsigned idle_delay_ms;    /* 0: 2000 */
    const char *sys_root;      /* NULL: /sys */
    const char *proc_root;     /* NULL: /proc */
    int idle_online_cpus;      /* see lb_cpuidle_config */
} lb_power_cli_config;

/* Opens the controller (starting its idle timer) and RAPL; missing hardware only logs. */
int lb_api_power_open(lb_api_power *ap, const lb_power_cli_config *cfg, lb_err *err);
/* Restores every power setting. */
void lb_api_power_close(lb_api_power *ap);

/* One generation request's span: busy profile on begin, energy sampled at both ends. */
typedef struct lb_api_power_span {
    bool began, valid;
    lb_energy_sample start;
    double joules;
} lb_api_power_span;

void lb_api_power_begin(lb_api *api, lb_api_power_span *s);
void lb_api_power_end(lb_api *api, lb_api_power_span *s, int tokens_generated);
/* Adds "energy_joules" to an open usage object when the span was measured. */
void lb_api_power_usage(const lb_api_power_span *s, lb_jw *w);

void lb_api_power_get(lb_api_call *call);
void lb_api_power_put(lb_api_call *call);
/* lb_metrics_extra_fn; ud = lb_api *. */
void lb_api_power_metrics(void *ud, lb_sbuf *out);

#endif
