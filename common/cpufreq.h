/* CPU frequency control through cpufreq sysfs: detects the scaling driver, saves every knob
 * it will touch, switches between the busy and idle profiles and restores the originals.
 * Knobs: per policy scaling_governor, energy_performance_preference, scaling_min_freq,
 * scaling_max_freq; globally intel_pstate/no_turbo or cpufreq/boost. */
#ifndef LB_CPUFREQ_H
#define LB_CPUFREQ_H

#include <stdbool.h>

#include "err.h"
#include "power_profile.h"
#include "sysfs.h"

typedef enum lb_cpufreq_driver {
    LB_CPUFREQ_NONE = 0,               /* no cpufreq at all (VMs, QEMU) */
    LB_CPUFREQ_INTEL_PSTATE_ACTIVE,    /* scaling_driver intel_pstate */
    LB_CPUFREQ_INTEL_PSTATE_PASSIVE,   /* scaling_driver intel_cpufreq */
    LB_CPUFREQ_AMD_PSTATE,             /* amd-pstate (passive/guided) */
    LB_CPUFREQ_AMD_PSTATE_EPP,         /* amd-pstate-epp (active) */
    LB_CPUFREQ_ACPI,                   /* acpi-cpufreq */
    LB_CPUFREQ_CPPC,                   /* cppc_cpufreq */
    LB_CPUFREQ_OTHER,                  /* anything else with generic governors */
} lb_cpufreq_driver;

const char *lb_cpufreq_driver_name(lb_cpufreq_driver d);

typedef enum lb_turbo_kind { LB_TURBO_NONE, LB_TURBO_NO_TURBO, LB_TURBO_BOOST } lb_turbo_kind;

typedef struct lb_cpufreq_policy {
    int id;                       /* N of cpufreq/policyN */
    bool has_governor, has_epp, has_min, has_max;  /* usable knobs (cleared on failure) */
    char orig_governor[32], orig_epp[48];
    long orig_min, orig_max;      /* kHz as found */
    long hw_min, hw_max;          /* cpuinfo_min_freq / cpuinfo_max_freq */
    long cur_min, cur_max;        /* last known limits (write order depends on them) */
    char governors[256];          /* scaling_available_governors ("" if unknown) */
    char epps[256];               /* energy_performance_available_preferences */
} lb_cpufreq_policy;

typedef struct lb_cpufreq {
    lb_sysfs *fs;
    lb_cpufreq_driver driver;
    char driver_name[32];         /* scaling_driver as read */
    int npolicies;
    lb_cpufreq_policy *pol;
    lb_turbo_kind turbo;
    char orig_turbo[8];
    bool changed;                 /* something was written since open/restore */
} lb_cpufreq;

/* Detects the driver and saves the original values. No cpufreq is not an error: driver is
 * LB_CPUFREQ_NONE and apply/restore do nothing. Expected files that are missing are warned
 * about once. */
int lb_cpufreq_open(lb_cpufreq *cf, lb_sysfs *fs, lb_err *err);
/* Applies a profile; returns the number of writes that failed (each warned once, then the
 * knob is skipped). */
int lb_cpufreq_apply(lb_cpufreq *cf, lb_power_profile p);
/* Writes the saved originals back. Returns failed writes. */
int lb_cpufreq_restore(lb_cpufreq *cf);
void lb_cpufreq_close(lb_cpufreq *cf);

/* The governor / EPP the profile uses for this policy ("" = leave alone). */
const char *lb_cpufreq_governor_for(const lb_cpufreq *cf, const lb_cpufreq_policy *p, lb_power_profile prof);
const char *lb_cpufreq_epp_for(const lb_cpufreq_policy *p, lb_power_profile prof);

#endif
