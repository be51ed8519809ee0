#include "cpuidle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CPU_DIR "devices/system/cpu"
#define MAX_CPUS 4096
#define MAX_STATES 16

static int add_state(lb_cpuidle *ci, int cpu, int idx, size_t *cap)
{
    char rel[128], buf[32];
    lb_err e = { 0 };
    lb_cpuidle_state s = { .cpu = cpu, .idx = idx, .latency_us = -1 };
    snprintf(rel, sizeof rel, CPU_DIR "/cpu%d/cpuidle/state%d/latency", cpu, idx);
    long lat;
    if (lb_sysfs_read_long(ci->fs, rel, &lat, NULL) == LB_OK)
        s.latency_us = lat;
    snprintf(rel, sizeof rel, CPU_DIR "/cpu%d/cpuidle/state%d/name", cpu, idx);
    if (lb_sysfs_read(ci->fs, rel, buf, sizeof buf, NULL) == LB_OK)
        snprintf(s.name, sizeof s.name, "%.15s", buf);
    /* Without a latency, state0 (poll) and state1 (C1) are the shallow ones by convention. */
    s.deep = s.latency_us >= 0 ? s.latency_us > ci->cfg.busy_max_latency_us : idx >= 2;
    if (!s.deep)
        return LB_OK;
    snprintf(rel, sizeof rel, CPU_DIR "/cpu%d/cpuidle/state%d/disable", cpu, idx);
    if (lb_sysfs_read(ci->fs, rel, s.orig, sizeof s.orig, &e) != LB_OK) {
        lb_sysfs_warn_once(ci->fs, rel, "power: C-state control: %s", e.msg);
        return LB_OK;
    }
    s.usable = true;
    if ((size_t)ci->nstates == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        lb_cpuidle_state *n = realloc(ci->st, ncap * sizeof *n);
        if (!n)
            return LB_ENOMEM;
        ci->st = n;
        *cap = ncap;
    }
    ci->st[ci->nstates++] = s;
    ci->ndeep++;
    return LB_OK;
}

int lb_cpuidle_open(lb_cpuidle *ci, lb_sysfs *fs, const lb_cpuidle_config *cfg, lb_err *err)
{
    memset(ci, 0, sizeof *ci);
    ci->fs = fs;
    ci->cfg = cfg ? *cfg : LB_CPUIDLE_CONFIG_DEFAULT;
    int rc = LB_OK;
    int *cpus = malloc(MAX_CPUS * sizeof *cpus);
    if (!cpus)
        return lb_err_set(err, LB_ENOMEM, "cpuidle: out of memory");
    if (lb_sysfs_read(fs, CPU_DIR "/cpuidle/current_driver", ci->driver, sizeof ci->driver, NULL) != LB_OK ||
        strcmp(ci->driver, "none") == 0)
        ci->driver[0] = 0;
    int ncpu = lb_sysfs_list_indices(fs, CPU_DIR, "cpu", cpus, MAX_CPUS);
    if (ncpu > MAX_CPUS)
        ncpu = MAX_CPUS;
    size_t cap = 0;
    for (int i = 0; i < ncpu; i++) {
        char dir[128];
        int idx[MAX_STATES];
        snprintf(dir, sizeof dir, CPU_DIR "/cpu%d/cpuidle", cpus[i]);
        int ns = lb_sysfs_list_indices(fs, dir, "state", idx, MAX_STATES);
        for (int k = 0; k < ns && k < MAX_STATES; k++)
            if (add_state(ci, cpus[i], idx[k], &cap) != LB_OK) {
                rc = lb_err_set(err, LB_ENOMEM, "cpuidle: out of memory");
                goto out;
            }
    }
    if (ci->cfg.idle_online_cpus > 0) {
        if (!(ci->on = calloc((size_t)ncpu + 1, sizeof *ci->on))) {
            rc = lb_err_set(err, LB_ENOMEM, "cpuidle: out of memory");
            goto out;
        }
        for (int i = 0; i < ncpu; i++) {
            int c = cpus[i];
            if (c == 0 || c < ci->cfg.idle_online_cpus)
                continue;
            char rel[128];
            lb_err e = { 0 };
            lb_cpu_online *o = &ci->on[ci->nonline];
            o->cpu = c;
            snprintf(rel, sizeof rel, CPU_DIR "/cpu%d/online", c);
            if (lb_sysfs_read(fs, rel, o->orig, sizeof o->orig, &e) != LB_OK) {
                lb_sysfs_warn_once(fs, rel, "power: core hotplug: %s", e.msg);
                continue;
            }
            if (strcmp(o->orig, "1") != 0)
                continue;  /* offline by someone else's choice: leave it alone */
            o->usable = true;
            ci->nonline++;
        }
    }
    if (ci->ndeep == 0)
        LOG_INFO("power: no deep C-states to control (cpuidle driver: %s)", ci->driver[0] ? ci->driver : "none");
    else
        LOG_INFO("power: cpuidle driver %s, %d deep C-state knobs", ci->driver[0] ? ci->driver : "?", ci->ndeep);
out:
    free(cpus);
    return rc;
}

static void write_state(lb_cpuidle *ci, lb_cpuidle_state *s, const char *v, int *failures)
{
    if (!s->usable)
        return;
    char rel[128];
    snprintf(rel, sizeof rel, CPU_DIR "/cpu%d/cpuidle/state%d/disable", s->cpu, s->idx);
    ci->changed = true;
    if (lb_sysfs_try_write(ci->fs, rel, v, "C-state disable") != LB_OK) {
        s->usable = false;
        (*failures)++;
    }
}

static void write_online(lb_cpuidle *ci, lb_cpu_online *o, const char *v, int *failures)
{
    if (!o->usable)
        return;
    char rel[128];
    snprintf(rel, sizeof rel, CPU_DIR "/cpu%d/online", o->cpu);
    ci->changed = true;
    if (lb_sysfs_try_write(ci->fs, rel, v, "core online") != LB_OK) {
        o->usable = false;
        (*failures)++;
    }
}

int lb_cpuidle_apply(lb_cpuidle *ci, lb_power_profile prof)
{
    int failures = 0;
    if (prof == LB_PROFILE_BUSY) {
        /* Cores first: an offline core has no cpuidle directory to write. */
        for (int i = 0; i < ci->nonline; i++)
            write_online(ci, &ci->on[i], "1", &failures);
        for (int i = 0; i < ci->nstates; i++)
            write_state(ci, &ci->st[i], "1", &failures);
    } else {
        for (int i = 0; i < ci->nstates; i++)
            write_state(ci, &ci->st[i], "0", &failures);
        for (int i = 0; i < ci->nonline; i++)
            write_online(ci, &ci->on[i], "0", &failures);
    }
    return failures;
}

int lb_cpuidle_restore(lb_cpuidle *ci)
{
    int failures = 0;
    if (!ci->changed)
        return 0;
    for (int i = 0; i < ci->nonline; i++)
        write_online(ci, &ci->on[i], ci->on[i].orig, &failures);
    for (int i = 0; i < ci->nstates; i++)
        write_state(ci, &ci->st[i], ci->st[i].orig, &failures);
    ci->changed = false;
    return failures;
}

void lb_cpuidle_close(lb_cpuidle *ci)
{
    free(ci->st);
    free(ci->on);
    ci->st = NULL;
    ci->on = NULL;
    ci->nstates = ci->nonline = 0;
}
