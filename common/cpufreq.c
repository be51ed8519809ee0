#include "cpufreq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CPUFREQ_DIR "devices/system/cpu/cpufreq"
#define MAX_POLICIES 1024

const char *lb_cpufreq_driver_name(lb_cpufreq_driver d)
{
    switch (d) {
    case LB_CPUFREQ_NONE: return "none";
    case LB_CPUFREQ_INTEL_PSTATE_ACTIVE: return "intel_pstate (active)";
    case LB_CPUFREQ_INTEL_PSTATE_PASSIVE: return "intel_pstate (passive)";
    case LB_CPUFREQ_AMD_PSTATE: return "amd-pstate";
    case LB_CPUFREQ_AMD_PSTATE_EPP: return "amd-pstate-epp";
    case LB_CPUFREQ_ACPI: return "acpi-cpufreq";
    case LB_CPUFREQ_CPPC: return "cppc_cpufreq";
    default: return "other";
    }
}

static lb_cpufreq_driver classify(const char *name)
{
    static const struct { const char *name; lb_cpufreq_driver d; } map[] = {
        { "intel_pstate", LB_CPUFREQ_INTEL_PSTATE_ACTIVE },
        { "intel_cpufreq", LB_CPUFREQ_INTEL_PSTATE_PASSIVE },  /* intel_pstate in passive mode */
        { "amd-pstate", LB_CPUFREQ_AMD_PSTATE },
        { "amd-pstate-epp", LB_CPUFREQ_AMD_PSTATE_EPP },
        { "acpi-cpufreq", LB_CPUFREQ_ACPI },
        { "cppc_cpufreq", LB_CPUFREQ_CPPC },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(name, map[i].name) == 0)
            return map[i].d;
    return LB_CPUFREQ_OTHER;
}

/* Drivers whose own algorithm does the scaling ("powersave" there is dynamic, not a pin). */
static bool active_mode(lb_cpufreq_driver d)
{
    return d == LB_CPUFREQ_INTEL_PSTATE_ACTIVE || d == LB_CPUFREQ_AMD_PSTATE_EPP;
}

static bool in_list(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *s = list; (s = strstr(s, word)); s += n) {
        bool start = s == list || s[-1] == ' ';
        bool end = s[n] == 0 || s[n] == ' ';
        if (start && end)
            return true;
    }
    return false;
}

const char *lb_cpufreq_governor_for(const lb_cpufreq *cf, const lb_cpufreq_policy *p, lb_power_profile prof)
{
    bool known = p->governors[0] != 0;
    if (prof == LB_PROFILE_BUSY)
        return !known || in_list(p->governors, "performance") ? "performance" : "";
    if (active_mode(cf->driver))
        return !known || in_list(p->governors, "powersave") ? "powersave" : "";
    if (!known)
        return "schedutil";
    /* Generic drivers: a dynamic governor keeps the box responsive; "powersave" pins the
     * lowest frequency and is only the last resort. */
    static const char *pref[] = { "schedutil", "ondemand", "conservative", "powersave" };
    for (size_t i = 0; i < sizeof pref / sizeof pref[0]; i++)
        if (in_list(p->governors, pref[i]))
            return pref[i];
    return "";
}

const char *lb_cpufreq_epp_for(const lb_cpufreq_policy *p, lb_power_profile prof)
{
    static const char *busy[] = { "performance" };
    static const char *idle[] = { "power", "balance_power" };
    const char **cand = prof == LB_PROFILE_BUSY ? busy : idle;
    size_t n = prof == LB_PROFILE_BUSY ? 1 : 2;
    for (size_t i = 0; i < n; i++)
        if (!p->epps[0] || in_list(p->epps, cand[i]))
            return cand[i];
    return "";
}

static void pol_path(char *buf, size_t cap, int id, const char *file)
{
    snprintf(buf, cap, CPUFREQ_DIR "/policy%d/%s", id, file);
}

/* Reads a knob; a missing expected one is warned about once. */
static bool read_knob(lb_cpufreq *cf, int id, const char *file, char *buf, size_t cap, bool expected)
{
    char rel[128];
    lb_err e = { 0 };
    pol_path(rel, sizeof rel, id, file);
    if (lb_sysfs_read(cf->fs, rel, buf, cap, &e) == LB_OK)
        return true;
    if (expected)
        lb_sysfs_warn_once(cf->fs, rel, "power: %s not readable: %s", file, e.msg);
    return false;
}

static bool read_khz(lb_cpufreq *cf, int id, const char *file, long *out)
{
    char buf[32], *end;
    if (!read_knob(cf, id, file, buf, sizeof buf, true))
        return false;
    long v = strtol(buf, &end, 10);
    if (end == buf || *end || v <= 0) {
        char rel[128];
        pol_path(rel, sizeof rel, id, file);
        lb_sysfs_warn_once(cf->fs, rel, "power: %s: unexpected value \"%s\"", file, buf);
        return false;
    }
    *out = v;
    return true;
}

static void open_policy(lb_cpufreq *cf, lb_cpufreq_policy *p, int id)
{
    memset(p, 0, sizeof *p);
    p->id = id;
    p->has_governor = read_knob(cf, id, "scaling_governor", p->orig_governor, sizeof p->orig_governor, true);
    read_knob(cf, id, "scaling_available_governors", p->governors, sizeof p->governors, false);
    p->has_epp = read_knob(cf, id, "energy_performance_preference", p->orig_epp, sizeof p->orig_epp,
                           active_mode(cf->driver));
    if (p->has_epp)
        read_knob(cf, id, "energy_performance_available_preferences", p->epps, sizeof p->epps, false);
    bool hw = read_khz(cf, id, "cpuinfo_min_freq", &p->hw_min) && read_khz(cf, id, "cpuinfo_max_freq", &p->hw_max);
    p->has_min = hw && read_khz(cf, id, "scaling_min_freq", &p->orig_min);
    p->has_max = hw && read_khz(cf, id, "scaling_max_freq", &p->orig_max);
    p->cur_min = p->orig_min;
    p->cur_max = p->orig_max;
}

int lb_cpufreq_open(lb_cpufreq *cf, lb_sysfs *fs, lb_err *err)
{
    memset(cf, 0, sizeof *cf);
    cf->fs = fs;
    int ids[MAX_POLICIES];
    int n = lb_sysfs_list_indices(fs, CPUFREQ_DIR, "policy", ids, MAX_POLICIES);
    if (n > MAX_POLICIES)
        n = MAX_POLICIES;
    if (n == 0) {
        LOG_INFO("power: no cpufreq in %s: frequency control unavailable", fs->sys_root);
        return LB_OK;
    }
    char rel[128];
    pol_path(rel, sizeof rel, ids[0], "scaling_driver");
    lb_err e = { 0 };
    if (lb_sysfs_read(fs, rel, cf->driver_name, sizeof cf->driver_name, &e) != LB_OK) {
        lb_sysfs_warn_once(fs, rel, "power: cannot read the cpufreq driver: %s", e.msg);
        snprintf(cf->driver_name, sizeof cf->driver_name, "unknown");
    }
    cf->driver = classify(cf->driver_name);
    if (!(cf->pol = calloc((size_t)n, sizeof *cf->pol)))
        return lb_err_set(err, LB_ENOMEM, "cpufreq: out of memory");
    cf->npolicies = n;
    for (int i = 0; i < n; i++)
        open_policy(cf, &cf->pol[i], ids[i]);

    bool pstate = cf->driver == LB_CPUFREQ_INTEL_PSTATE_ACTIVE || cf->driver == LB_CPUFREQ_INTEL_PSTATE_PASSIVE;
    if (lb_sysfs_read(fs, "devices/system/cpu/intel_pstate/no_turbo", cf->orig_turbo, sizeof cf->orig_turbo, NULL) == LB_OK)
        cf->turbo = LB_TURBO_NO_TURBO;
    else if (lb_sysfs_read(fs, CPUFREQ_DIR "/boost", cf->orig_turbo, sizeof cf->orig_turbo, NULL) == LB_OK)
        cf->turbo = LB_TURBO_BOOST;
    else if (pstate)
        lb_sysfs_warn_once(fs, "devices/system/cpu/intel_pstate/no_turbo",
                           "power: intel_pstate/no_turbo not readable: turbo control unavailable");
    LOG_INFO("power: cpufreq driver %s, %d policies, turbo control %s", lb_cpufreq_driver_name(cf->driver),
             n, cf->turbo == LB_TURBO_NO_TURBO ? "no_turbo" : cf->turbo == LB_TURBO_BOOST ? "boost" : "none");
    return LB_OK;
}

/* A failed write disables the knob for good (the warning was printed once). */
static bool write_knob(lb_cpufreq *cf, int id, const char *file, const char *value, bool *has, int *failures)
{
    if (!*has || !value[0])
        return false;
    char rel[128];
    pol_path(rel, sizeof rel, id, file);
    cf->changed = true;
    if (lb_sysfs_try_write(cf->fs, rel, value, file) != LB_OK) {
        *has = false;
        (*failures)++;
        return false;
    }
    return true;
}

static void write_khz(lb_cpufreq *cf, lb_cpufreq_policy *p, bool is_min, long v, int *failures)
{
    char val[32];
    snprintf(val, sizeof val, "%ld", v);
    if (write_knob(cf, p->id, is_min ? "scaling_min_freq" : "scaling_max_freq", val,
                   is_min ? &p->has_min : &p->has_max, failures)) {
        if (is_min)
            p->cur_min = v;
        else
            p->cur_max = v;
    }
}

/* The kernel refuses min > max, so the order depends on the direction of the move. */
static void set_limits(lb_cpufreq *cf, lb_cpufreq_policy *p, long lo, long hi, int *failures)
{
    if (lo > p->cur_max) {
        write_khz(cf, p, false, hi, failures);
        write_khz(cf, p, true, lo, failures);
    } else {
        write_khz(cf, p, true, lo, failures);
        write_khz(cf, p, false, hi, failures);
    }
}

/* intel_pstate refuses an EPP other than "performance" under the performance governor:
 * switching to performance, set EPP first; switching away, set the governor first. */
static void set_gov_epp(lb_cpufreq *cf, lb_cpufreq_policy *p, const char *gov, const char *epp, int *failures)
{
    bool to_perf = strcmp(gov, "performance") == 0;
    if (to_perf)
        write_knob(cf, p->id, "energy_performance_preference", epp, &p->has_epp, failures);
    write_knob(cf, p->id, "scaling_governor", gov, &p->has_governor, failures);
    if (!to_perf)
        write_knob(cf, p->id, "energy_performance_preference", epp, &p->has_epp, failures);
}

static void set_turbo(lb_cpufreq *cf, const char *value, int *failures)
{
    if (cf->turbo == LB_TURBO_NONE)
        return;
    const char *rel = cf->turbo == LB_TURBO_NO_TURBO ? "devices/system/cpu/intel_pstate/no_turbo" : CPUFREQ_DIR "/boost";
    cf->changed = true;
    if (lb_sysfs_try_write(cf->fs, rel, value, cf->turbo == LB_TURBO_NO_TURBO ? "no_turbo" : "boost") != LB_OK) {
        cf->turbo = LB_TURBO_NONE;
        (*failures)++;
    }
}

int lb_cpufreq_apply(lb_cpufreq *cf, lb_power_profile prof)
{
    int failures = 0;
    bool busy = prof == LB_PROFILE_BUSY;
    const char *turbo_on = cf->turbo == LB_TURBO_NO_TURBO ? "0" : "1";
    const char *turbo_off = cf->turbo == LB_TURBO_NO_TURBO ? "1" : "0";
    if (busy)  /* turbo first: the drivers clamp max to the non-turbo range otherwise */
        set_turbo(cf, turbo_on, &failures);
    for (int i = 0; i < cf->npolicies; i++) {
        lb_cpufreq_policy *p = &cf->pol[i];
        set_gov_epp(cf, p, lb_cpufreq_governor_for(cf, p, prof), lb_cpufreq_epp_for(p, prof), &failures);
        if (p->has_min && p->has_max) {
            /* Busy pins the floor at the top so no ramp-up latency hits the first tokens. */
            set_limits(cf, p, busy ? p->hw_max : p->hw_min, p->hw_max, &failures);
        }
    }
    if (!busy)
        set_turbo(cf, turbo_off, &failures);
    return failures;
}

int lb_cpufreq_restore(lb_cpufreq *cf)
{
    int failures = 0;
    if (!cf->changed)
        return 0;
    set_turbo(cf, cf->orig_turbo, &failures);
    for (int i = 0; i < cf->npolicies; i++) {
        lb_cpufreq_policy *p = &cf->pol[i];
        set_gov_epp(cf, p, p->orig_governor, p->orig_epp, &failures);
        if (p->has_min && p->has_max)
            set_limits(cf, p, p->orig_min, p->orig_max, &failures);
    }
    cf->changed = false;
    return failures;
}

void lb_cpufreq_close(lb_cpufreq *cf)
{
    free(cf->pol);
    cf->pol = NULL;
    cf->npolicies = 0;
}
