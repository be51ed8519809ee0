#include "power_policy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static const char *const g_policy_names[] = { "performance", "balanced", "powersave" };

const char *lb_power_policy_name(lb_power_policy p)
{
    return (unsigned)p < 3 ? g_policy_names[p] : "?";
}

int lb_power_policy_parse(const char *s, lb_power_policy *out, lb_err *err)
{
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, g_policy_names[i]) == 0) {
            *out = (lb_power_policy)i;
            return LB_OK;
        }
    return lb_err_set(err, LB_EINVAL, "power policy \"%s\": expected performance, balanced or powersave",
                      s ? s : "");
}

/* ---- state machine ---- */

static int want(lb_power_sm *sm, lb_power_profile prof)
{
    if (sm->applied && sm->profile == prof)
        return LB_POWER_NO_CHANGE;
    sm->applied = true;
    sm->profile = prof;
    return (int)prof;
}

/* The profile a policy calls for right now (balanced with nothing running: idle now unless
 * the idle deadline is still ahead). */
static int settle(lb_power_sm *sm)
{
    switch (sm->policy) {
    case LB_POWER_PERFORMANCE: return want(sm, LB_PROFILE_BUSY);
    case LB_POWER_POWERSAVE: return want(sm, LB_PROFILE_IDLE);
    default: break;
    }
    if (sm->active > 0)
        return want(sm, LB_PROFILE_BUSY);
    if (sm->deadline_set)
        return LB_POWER_NO_CHANGE;
    return want(sm, LB_PROFILE_IDLE);
}

int lb_power_sm_init(lb_power_sm *sm, lb_power_policy policy, uint64_t idle_delay_ms)
{
    memset(sm, 0, sizeof *sm);
    sm->policy = policy;
    sm->idle_delay_ms = idle_delay_ms;
    return settle(sm);
}

int lb_power_sm_begin(lb_power_sm *sm, uint64_t now_ms)
{
    (void)now_ms;
    sm->active++;
    sm->deadline_set = false;
    return settle(sm);
}

int lb_power_sm_end(lb_power_sm *sm, uint64_t now_ms)
{
    if (sm->active > 0)
        sm->active--;
    if (sm->active == 0 && sm->policy == LB_POWER_BALANCED) {
        sm->deadline_set = true;
        sm->idle_at_ms = now_ms + sm->idle_delay_ms;
        return lb_power_sm_tick(sm, now_ms);  /* a zero delay drops at once */
    }
    return LB_POWER_NO_CHANGE;
}

int lb_power_sm_tick(lb_power_sm *sm, uint64_t now_ms)
{
    if (sm->deadline_set && now_ms >= sm->idle_at_ms) {
        sm->deadline_set = false;
        return settle(sm);
    }
    return LB_POWER_NO_CHANGE;
}

int lb_power_sm_set_policy(lb_power_sm *sm, lb_power_policy policy, uint64_t now_ms)
{
    sm->policy = policy;
    if (policy == LB_POWER_BALANCED && sm->active == 0 && sm->applied && sm->profile == LB_PROFILE_BUSY) {
        /* Leaving performance while idle: honour the usual delay rather than dropping now. */
        sm->deadline_set = true;
        sm->idle_at_ms = now_ms + sm->idle_delay_ms;
        return lb_power_sm_tick(sm, now_ms);
    }
    if (policy != LB_POWER_BALANCED)
        sm->deadline_set = false;
    return settle(sm);
}

uint64_t lb_power_sm_wait_ms(const lb_power_sm *sm, uint64_t now_ms)
{
    if (!sm->deadline_set)
        return UINT64_MAX;
    return sm->idle_at_ms > now_ms ? sm->idle_at_ms - now_ms : 0;
}

/* ---- controller ---- */

struct lb_power {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t timer;
    bool timer_running, stopping, keep;
    lb_power_config cfg;
    lb_sysfs fs;
    lb_cpufreq cf;
    lb_cpuidle ci;
    lb_power_sm sm;
};

static uint64_t mono_ms(void *user)
{
    (void)user;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now_of(lb_power *p) { return p->cfg.clock_ms(p->cfg.clock_user); }

bool lb_power_available(const lb_power *p)
{
    return p && (p->cf.npolicies > 0 || p->ci.nstates > 0 || p->ci.nonline > 0);
}

/* Called with the lock held. */
static int apply_locked(lb_power *p, int prof)
{
    if (prof == LB_POWER_NO_CHANGE || !lb_power_available(p))
        return 0;
    lb_power_profile pr = (lb_power_profile)prof;
    int failed;
    if (pr == LB_PROFILE_BUSY)  /* cores online before their frequency is set */
        failed = lb_cpuidle_apply(&p->ci, pr) + lb_cpufreq_apply(&p->cf, pr);
    else
        failed = lb_cpufreq_apply(&p->cf, pr) + lb_cpuidle_apply(&p->ci, pr);
    LOG_DEBUG("power: %s profile applied (%d writes failed)", lb_power_profile_name(pr), failed);
    return failed;
}

int lb_power_open(const lb_power_config *cfg, lb_power **out, lb_err *err)
{
    int rc;
    *out = NULL;
    lb_power *p = calloc(1, sizeof *p);
    if (!p)
        return lb_err_set(err, LB_ENOMEM, "power: out of memory");
    p->cfg = cfg ? *cfg : LB_POWER_CONFIG_DEFAULT;
    if (!p->cfg.clock_ms)
        p->cfg.clock_ms = mono_ms;
    if (p->cfg.cpuidle.busy_max_latency_us <= 0)
        p->cfg.cpuidle.busy_max_latency_us = LB_CPUIDLE_CONFIG_DEFAULT.busy_max_latency_us;
    pthread_mutex_init(&p->lock, NULL);
    /* The timer's deadline comes from the monotonic clock: the condvar must use it too. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &ca);
    pthread_condattr_destroy(&ca);
    if ((rc = lb_sysfs_init(&p->fs, p->cfg.sys_root, p->cfg.proc_root, err)) != LB_OK)
        goto fail;
    p->fs.ops = p->cfg.ops;
    if ((rc = lb_cpufreq_open(&p->cf, &p->fs, err)) != LB_OK ||
        (rc = lb_cpuidle_open(&p->ci, &p->fs, &p->cfg.cpuidle, err)) != LB_OK)
        goto fail;
    if (!lb_power_available(p))
        LOG_INFO("power: no frequency or C-state control on this machine: power policy inactive");
    pthread_mutex_lock(&p->lock);
    int first = lb_power_sm_init(&p->sm, p->cfg.policy, p->cfg.idle_delay_ms);
    if (!p->cfg.passive)
        apply_locked(p, first);
    pthread_mutex_unlock(&p->lock);
    *out = p;
    return LB_OK;
fail:
    lb_cpufreq_close(&p->cf);
    lb_cpuidle_close(&p->ci);
    lb_sysfs_free(&p->fs);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p);
    return lb_err_wrap(err, rc, "power");
}

void lb_power_keep_on_close(lb_power *p)
{
    pthread_mutex_lock(&p->lock);
    p->keep = true;
    pthread_mutex_unlock(&p->lock);
}

void lb_power_close(lb_power *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    if (p->timer_running)
        pthread_join(p->timer, NULL);
    if (!p->keep) {
        /* Reverse order of the busy profile: frequencies back, then C-states and cores. */
        int failed = lb_cpufreq_restore(&p->cf) + lb_cpuidle_restore(&p->ci);
        if (failed)
            LOG_WARN("power: %d settings could not be restored", failed);
    }
    lb_cpufreq_close(&p->cf);
    lb_cpuidle_close(&p->ci);
    lb_sysfs_free(&p->fs);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p);
}

void lb_power_request_begin(lb_power *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    apply_locked(p, lb_power_sm_begin(&p->sm, now_of(p)));
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

void lb_power_request_end(lb_power *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    apply_locked(p, lb_power_sm_end(&p->sm, now_of(p)));
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

void lb_power_tick(lb_power *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    apply_locked(p, lb_power_sm_tick(&p->sm, now_of(p)));
    pthread_mutex_unlock(&p->lock);
}

int lb_power_set_policy(lb_power *p, lb_power_policy policy)
{
    if (!p || (unsigned)policy > LB_POWER_POWERSAVE)
        return LB_EINVAL;
    pthread_mutex_lock(&p->lock);
    if (policy != p->sm.policy)
        LOG_INFO("power: policy %s -> %s", lb_power_policy_name(p->sm.policy), lb_power_policy_name(policy));
    apply_locked(p, lb_power_sm_set_policy(&p->sm, policy, now_of(p)));
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return LB_OK;
}

lb_power_policy lb_power_get_policy(lb_power *p)
{
    pthread_mutex_lock(&p->lock);
    lb_power_policy v = p->sm.policy;
    pthread_mutex_unlock(&p->lock);
    return v;
}

lb_power_profile lb_power_get_profile(lb_power *p)
{
    pthread_mutex_lock(&p->lock);
    lb_power_profile v = p->sm.profile;
    pthread_mutex_unlock(&p->lock);
    return v;
}

int lb_power_apply(lb_power *p, lb_power_profile prof)
{
    pthread_mutex_lock(&p->lock);
    p->sm.applied = true;
    p->sm.profile = prof;
    int failed = apply_locked(p, (int)prof);
    pthread_mutex_unlock(&p->lock);
    return failed;
}

unsigned lb_power_warnings(lb_power *p)
{
    pthread_mutex_lock(&p->lock);
    unsigned w = p->fs.warnings;
    pthread_mutex_unlock(&p->lock);
    return w;
}

/* Sleeps on the condition variable until the idle deadline (or forever when none is
 * set): no polling while the box is idle. */
static void *timer_main(void *arg)
{
    lb_power *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        uint64_t wait = lb_power_sm_wait_ms(&p->sm, now_of(p));
        if (wait == UINT64_MAX) {
            pthread_cond_wait(&p->wake, &p->lock);
        } else if (wait > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += (time_t)(wait / 1000);
            ts.tv_nsec += (long)(wait % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&p->wake, &p->lock, &ts);
        }
        if (!p->stopping)
            apply_locked(p, lb_power_sm_tick(&p->sm, now_of(p)));
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int lb_power_start_timer(lb_power *p, lb_err *err)
{
    if (p->timer_running)
        return LB_OK;
    if (pthread_create(&p->timer, NULL, timer_main, p) != 0)
        return lb_err_set(err, LB_EIO, "power: cannot start the idle timer thread");
    p->timer_running = true;
    return LB_OK;
}

void lb_power_get_status(lb_power *p, lb_power_status *st)
{
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&p->lock);
    st->available = lb_power_available(p);
    st->policy = p->sm.policy;
    st->profile = p->sm.profile;
    st->active_requests = p->sm.active;
    st->idle_delay_ms = p->sm.idle_delay_ms;
    st->driver = p->cf.driver;
    snprintf(st->driver_name, sizeof st->driver_name, "%s", p->cf.driver_name);
    st->cpufreq_policies = p->cf.npolicies;
    if (p->cf.npolicies > 0) {
        char rel[128];
        snprintf(rel, sizeof rel, "devices/system/cpu/cpufreq/policy%d/scaling_governor", p->cf.pol[0].id);
        if (lb_sysfs_read(&p->fs, rel, st->governor, sizeof st->governor, NULL) != LB_OK)
            st->governor[0] = 0;
    }
    st->turbo = p->cf.turbo;
    snprintf(st->cpuidle_driver, sizeof st->cpuidle_driver, "%s", p->ci.driver);
    st->deep_cstates = p->ci.nstates;
    st->hotplug_cpus = p->ci.nonline;
    st->warnings = p->fs.warnings;
    pthread_mutex_unlock(&p->lock);
}
