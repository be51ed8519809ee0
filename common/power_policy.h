/* Power policy: performance (always busy), powersave (always idle) or balanced (busy while
 * requests run, idle after a configurable delay without any). The decision logic is a pure
 * state machine with the time passed in; lb_power wraps it around cpufreq + cpuidle with a
 * lock and an optional timer thread that sleeps until the idle deadline. */
#ifndef LB_POWER_POLICY_H
#define LB_POWER_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "cpufreq.h"
#include "cpuidle.h"
#include "err.h"
#include "power_profile.h"
#include "sysfs.h"

typedef enum lb_power_policy {
    LB_POWER_PERFORMANCE = 0,
    LB_POWER_BALANCED = 1,
    LB_POWER_POWERSAVE = 2,
} lb_power_policy;

int lb_power_policy_parse(const char *s, lb_power_policy *out, lb_err *err);
const char *lb_power_policy_name(lb_power_policy p);

/* ---- state machine (no I/O) ---- */
typedef struct lb_power_sm {
    lb_power_policy policy;
    uint64_t idle_delay_ms;
    int active;                /* requests in flight */
    lb_power_profile profile;  /* the profile last asked for */
    bool applied;              /* a profile was asked for at all */
    bool deadline_set;
    uint64_t idle_at_ms;       /* when balanced drops to idle */
} lb_power_sm;

#define LB_POWER_NO_CHANGE (-1)
/* Each returns the profile to apply now (lb_power_profile) or LB_POWER_NO_CHANGE. */
int lb_power_sm_init(lb_power_sm *sm, lb_power_policy policy, uint64_t idle_delay_ms);
int lb_power_sm_begin(lb_power_sm *sm, uint64_t now_ms);
int lb_power_sm_end(lb_power_sm *sm, uint64_t now_ms);
int lb_power_sm_tick(lb_power_sm *sm, uint64_t now_ms);
int lb_power_sm_set_policy(lb_power_sm *sm, lb_power_policy policy, uint64_t now_ms);
/* Milliseconds until the next tick has something to do; UINT64_MAX when nothing is due. */
uint64_t lb_power_sm_wait_ms(const lb_power_sm *sm, uint64_t now_ms);

/* ---- controller ---- */
typedef struct lb_power_config {
    const char *sys_root;          /* NULL: /sys */
    const char *proc_root;         /* NULL: /proc */
    lb_power_policy policy;
    uint64_t idle_delay_ms;        /* balanced: busy -> idle after this long without requests */
    lb_cpuidle_config cpuidle;
    uint64_t (*clock_ms)(void *user);  /* NULL: CLOCK_MONOTONIC */
    void *clock_user;
    const lb_sysfs_ops *ops;       /* NULL: real file I/O (tests inject failures) */
    bool passive;                  /* open without applying the policy's profile (status) */
} lb_power_config;

#define LB_POWER_CONFIG_DEFAULT ((lb_power_config){ .policy = LB_POWER_BALANCED, .idle_delay_ms = 2000, \
                                                    .cpuidle = LB_CPUIDLE_CONFIG_DEFAULT })

typedef struct lb_power lb_power;

/* Detects and saves everything, then applies the policy's starting profile. Hardware
 * without any control is not an error: lb_power_available() is false and all calls are
 * cheap no-ops. */
int lb_power_open(const lb_power_config *cfg, lb_power **out, lb_err *err);
/* Stops the timer thread and writes every saved original back. NULL is fine. */
void lb_power_close(lb_power *p);
/* Leaves the current profile in place on close (the `llmbox power apply` command). */
void lb_power_keep_on_close(lb_power *p);

bool lb_power_available(const lb_power *p);
void lb_power_request_begin(lb_power *p);
void lb_power_request_end(lb_power *p);
void lb_power_tick(lb_power *p);
int lb_power_set_policy(lb_power *p, lb_power_policy policy);
lb_power_policy lb_power_get_policy(lb_power *p);
lb_power_profile lb_power_get_profile(lb_power *p);
/* Applies a profile directly, outside the policy (diagnosis). Returns failed writes. */
int lb_power_apply(lb_power *p, lb_power_profile prof);
/* Background thread calling lb_power_tick at the idle deadline (service use). */
int lb_power_start_timer(lb_power *p, lb_err *err);
typedef struct lb_power_status {
    bool available;             /* any knob at all */
    lb_power_policy policy;
    lb_power_profile profile;
    int active_requests;
    uint64_t idle_delay_ms;
    lb_cpufreq_driver driver;
    char driver_name[32];       /* scaling_driver as read, "" without cpufreq */
    int cpufreq_policies;
    char governor[32];          /* policy0 governor now in effect ("" unknown) */
    lb_turbo_kind turbo;
    char cpuidle_driver[32];
    int deep_cstates;           /* deep C-state knobs under control */
    int hotplug_cpus;           /* cores offlined while idle */
    unsigned warnings;
} lb_power_status;

void lb_power_get_status(lb_power *p, lb_power_status *st);
/* Warnings issued so far (each problem file counts once). */
unsigned lb_power_warnings(lb_power *p);

#endif
