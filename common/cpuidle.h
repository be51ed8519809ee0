/* Core sleep control: per-CPU cpuidle states (deep C-states off while generating, as found
 * when idle) and, when configured, surplus cores taken offline while idle (never cpu0). */
#ifndef LB_CPUIDLE_H
#define LB_CPUIDLE_H

#include <stdbool.h>

#include "err.h"
#include "power_profile.h"
#include "sysfs.h"

typedef struct lb_cpuidle_state {
    int cpu, idx;
    long latency_us;   /* exit latency; -1 unknown */
    bool deep;         /* disabled while busy */
    bool usable;       /* disable file readable and writes still succeed */
    char orig[8];      /* disable value as found ("0"/"1") */
    char name[16];
} lb_cpuidle_state;

typedef struct lb_cpu_online {
    int cpu;
    bool usable;
    char orig[4];
} lb_cpu_online;

typedef struct lb_cpuidle_config {
    long busy_max_latency_us;  /* states with a longer exit latency are "deep"; default 20 */
    int idle_online_cpus;      /* >0: while idle keep only cpu0..N-1 online; 0: never offline */
} lb_cpuidle_config;

#define LB_CPUIDLE_CONFIG_DEFAULT ((lb_cpuidle_config){ .busy_max_latency_us = 20, .idle_online_cpus = 0 })

typedef struct lb_cpuidle {
    lb_sysfs *fs;
    lb_cpuidle_config cfg;
    char driver[32];           /* cpuidle/current_driver, "" when none */
    int nstates, ndeep;
    lb_cpuidle_state *st;
    int nonline;
    lb_cpu_online *on;         /* CPUs that may be offlined (>= idle_online_cpus, never 0) */
    bool changed;
} lb_cpuidle;

/* Saves the current state of every deep C-state and hotplug knob. Nothing present is fine. */
int lb_cpuidle_open(lb_cpuidle *ci, lb_sysfs *fs, const lb_cpuidle_config *cfg, lb_err *err);
/* Busy: cores online, deep states disabled. Idle: deep states enabled, surplus cores
 * offline when configured. Returns failed writes (each warned once, then skipped). */
int lb_cpuidle_apply(lb_cpuidle *ci, lb_power_profile p);
int lb_cpuidle_restore(lb_cpuidle *ci);
void lb_cpuidle_close(lb_cpuidle *ci);

#endif
