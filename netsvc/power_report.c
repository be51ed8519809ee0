#include "power_report.h"

#include <stdio.h>

static const char *turbo_name(lb_turbo_kind t)
{
    return t == LB_TURBO_NO_TURBO ? "intel_pstate/no_turbo" : t == LB_TURBO_BOOST ? "cpufreq/boost" : "none";
}

void lb_power_report_json(const lb_power_figures *f, lb_jw *w)
{
    const lb_power_status *s = &f->power;
    lb_jw_obj_begin(w);
    lb_jw_key(w, "policy");
    if (f->have_power)
        lb_jw_str(w, lb_power_policy_name(s->policy));
    else
        lb_jw_null(w);
    lb_jw_key(w, "available");
    lb_jw_bool(w, f->have_power && s->available);
    if (f->have_power) {
        lb_jw_key(w, "profile");
        lb_jw_str(w, lb_power_profile_name(s->profile));
        lb_jw_key(w, "active_requests");
        lb_jw_int(w, s->active_requests);
        lb_jw_key(w, "idle_delay_ms");
        lb_jw_int(w, (long long)s->idle_delay_ms);
        lb_jw_key(w, "cpufreq_driver");
        lb_jw_str(w, s->cpufreq_policies ? lb_cpufreq_driver_name(s->driver) : "none");
        lb_jw_key(w, "cpufreq_policies");
        lb_jw_int(w, s->cpufreq_policies);
        lb_jw_key(w, "governor");
        if (s->governor[0])
            lb_jw_str(w, s->governor);
        else
            lb_jw_null(w);
        lb_jw_key(w, "turbo_control");
        lb_jw_str(w, turbo_name(s->turbo));
        lb_jw_key(w, "cpuidle_driver");
        lb_jw_str(w, s->cpuidle_driver[0] ? s->cpuidle_driver : "none");
        lb_jw_key(w, "deep_cstates");
        lb_jw_int(w, s->deep_cstates);
        lb_jw_key(w, "hotplug_cpus");
        lb_jw_int(w, s->hotplug_cpus);
        lb_jw_key(w, "warnings");
        lb_jw_int(w, s->warnings);
    }
    lb_jw_key(w, "energy");
    lb_jw_obj_begin(w);
    lb_jw_key(w, "available");
    lb_jw_bool(w, f->have_energy);
    if (f->have_energy) {
        lb_jw_key(w, "joules_total");
        lb_jw_double(w, f->energy_joules_total);
        lb_jw_key(w, "average_watts");
        lb_jw_double(w, f->uptime_s > 0 ? f->energy_joules_total / f->uptime_s : 0);
        lb_jw_key(w, "joules_per_token");
        if (f->gen_tokens)
            lb_jw_double(w, f->gen_joules / (double)f->gen_tokens);
        else
            lb_jw_null(w);
    }
    lb_jw_obj_end(w);
    lb_jw_key(w, "memory");
    lb_jw_obj_begin(w);
    lb_jw_key(w, "weights_memory");
    if (f->weights_memory[0])
        lb_jw_str(w, f->weights_memory);
    else
        lb_jw_null(w);
    lb_jw_key(w, "weights_hugepage_bytes");
    lb_jw_int(w, (long long)f->weights_hugepage_bytes);
    if (f->have_pool) {
        lb_jw_key(w, "hugepages_2m_total");
        lb_jw_int(w, f->pool_total);
        lb_jw_key(w, "hugepages_2m_free");
        lb_jw_int(w, f->pool_free);
    }
    lb_jw_obj_end(w);
    lb_jw_obj_end(w);
}

static void gauge(lb_sbuf *o, const char *name, const char *help, const char *type, double v)
{
    lb_sbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

void lb_power_report_metrics(const lb_power_figures *f, lb_sbuf *o)
{
    gauge(o, "llmbox_power_control_available", "1 when CPU frequency or C-state control is in effect.", "gauge",
          f->have_power && f->power.available);
    if (f->have_power) {
        lb_sbuf_printf(o, "# HELP llmbox_power_policy The power policy in effect (1 for the current one).\n"
                          "# TYPE llmbox_power_policy gauge\n");
        for (int p = LB_POWER_PERFORMANCE; p <= LB_POWER_POWERSAVE; p++)
            lb_sbuf_printf(o, "llmbox_power_policy{policy=\"%s\"} %d\n", lb_power_policy_name((lb_power_policy)p),
                           f->power.policy == (lb_power_policy)p);
        gauge(o, "llmbox_power_profile_busy", "1 while the busy (full speed) profile is applied.", "gauge",
              f->power.profile == LB_PROFILE_BUSY);
    }
    if (f->have_energy) {
        gauge(o, "llmbox_energy_joules_total", "Energy used by the CPU packages since start (RAPL).", "counter",
              f->energy_joules_total);
        gauge(o, "llmbox_power_watts_average", "Average CPU package power since start.", "gauge",
              f->uptime_s > 0 ? f->energy_joules_total / f->uptime_s : 0);
        gauge(o, "llmbox_energy_generation_joules_total",
              "Package energy over the lifetime of generation requests (shared among concurrent ones).", "counter",
              f->gen_joules);
        gauge(o, "llmbox_energy_joules_per_token", "Generation energy per generated token.", "gauge",
              f->gen_tokens ? f->gen_joules / (double)f->gen_tokens : 0);
    }
    gauge(o, "llmbox_weights_hugepage_bytes", "Bytes of model weights on explicit huge pages.", "gauge",
          (double)f->weights_hugepage_bytes);
    if (f->have_pool) {
        gauge(o, "llmbox_hugepages_2m_total", "Pages in the kernel's 2 MiB hugetlb pool.", "gauge",
              (double)f->pool_total);
        gauge(o, "llmbox_hugepages_2m_free", "Free pages in the kernel's 2 MiB hugetlb pool.", "gauge",
              (double)f->pool_free);
    }
}
