#include "rapl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sysfs.h"

#define POWERCAP "class/powercap"

typedef struct zone {
    char name[32];      /* "package-0", "dram", ... */
    char rel[160];      /* energy_uj below the sysfs root */
    uint64_t max_uj;    /* counter wraps after this; 0 unknown */
} zone;

struct lb_energy {
    pthread_mutex_t lock;
    lb_sysfs fs;
    int n;
    zone z[LB_ENERGY_MAX_ZONES];
    lb_energy_sample last;
    double total_j;
};

/* Top-level zones only ("intel-rapl:0", not "intel-rapl:0:0" which is inside it), and not
 * psys (the whole platform, overlapping the packages) or the MMIO duplicate interface. */
static bool top_level_zone(const char *d)
{
    const char *colon = strchr(d, ':');
    if (!colon || strchr(colon + 1, ':') || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return false;
    return strncmp(d, "intel-rapl-mmio", 15) != 0;
}

static int add_zone(void *user, const char *d)
{
    lb_energy *e = user;
    if (!top_level_zone(d) || e->n == LB_ENERGY_MAX_ZONES)
        return 0;
    zone z = { 0 };
    char rel[160];
    uint64_t v;
    snprintf(rel, sizeof rel, POWERCAP "/%s/name", d);
    if (lb_sysfs_read(&e->fs, rel, z.name, sizeof z.name, NULL) != LB_OK)
        snprintf(z.name, sizeof z.name, "%s", d);
    if (strcmp(z.name, "psys") == 0)
        return 0;
    snprintf(z.rel, sizeof z.rel, POWERCAP "/%s/energy_uj", d);
    if (lb_sysfs_read_u64(&e->fs, z.rel, &v, NULL) != LB_OK)
        return 0;  /* not readable (permissions on newer kernels): not usable */
    snprintf(rel, sizeof rel, POWERCAP "/%s/max_energy_range_uj", d);
    if (lb_sysfs_read_u64(&e->fs, rel, &z.max_uj, NULL) != LB_OK)
        z.max_uj = 0;
    e->z[e->n++] = z;
    return 0;
}

int lb_energy_open(const char *sys_root, lb_energy **out, lb_err *err)
{
    *out = NULL;
    lb_energy *e = calloc(1, sizeof *e);
    if (!e)
        return lb_err_set(err, LB_ENOMEM, "energy: out of memory");
    int rc = lb_sysfs_init(&e->fs, sys_root, NULL, err);
    if (rc != LB_OK) {
        free(e);
        return rc;
    }
    pthread_mutex_init(&e->lock, NULL);
    lb_sysfs_list_names(&e->fs, POWERCAP, add_zone, e);
    if (e->n == 0) {
        rc = lb_err_set(err, LB_ENOTSUP, "no readable RAPL zone in %s/" POWERCAP ": energy not measured",
                        e->fs.sys_root);
        lb_energy_close(e);
        return rc;
    }
    lb_energy_sample s;
    lb_energy_sample_now(e, &s);
    *out = e;
    return LB_OK;
}

void lb_energy_close(lb_energy *e)
{
    if (!e)
        return;
    lb_sysfs_free(&e->fs);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

int lb_energy_zones(const lb_energy *e) { return e ? e->n : 0; }

const char *lb_energy_zone_name(const lb_energy *e, int i)
{
    return e && i >= 0 && i < e->n ? e->z[i].name : NULL;
}

static uint64_t zone_delta(const zone *z, uint64_t a, uint64_t b)
{
    if (b >= a)
        return b - a;
    /* Wrapped: the counter ran from a up to its range and restarted at 0. */
    return z->max_uj >= a ? (z->max_uj - a) + b : b;
}

lb_energy_delta lb_energy_between(const lb_energy *e, const lb_energy_sample *a, const lb_energy_sample *b)
{
    lb_energy_delta d = { 0 };
    if (!e || !a->valid || !b->valid)
        return d;
    uint64_t uj = 0;
    for (int i = 0; i < e->n; i++)
        uj += zone_delta(&e->z[i], a->uj[i], b->uj[i]);
    d.joules = (double)uj / 1e6;
    d.seconds = b->t_ns > a->t_ns ? (double)(b->t_ns - a->t_ns) / 1e9 : 0;
    d.watts = d.seconds > 0 ? d.joules / d.seconds : 0;
    return d;
}

bool lb_energy_sample_now(lb_energy *e, lb_energy_sample *s)
{
    memset(s, 0, sizeof *s);
    if (!e)
        return false;
    pthread_mutex_lock(&e->lock);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s->t_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    s->valid = true;
    for (int i = 0; i < e->n && s->valid; i++)
        if (lb_sysfs_read_u64(&e->fs, e->z[i].rel, &s->uj[i], NULL) != LB_OK) {
            lb_sysfs_warn_once(&e->fs, e->z[i].rel, "energy: %s unreadable", e->z[i].rel);
            s->valid = false;
        }
    if (s->valid) {
        if (e->last.valid)
            e->total_j += lb_energy_between(e, &e->last, s).joules;
        e->last = *s;
    }
    pthread_mutex_unlock(&e->lock);
    return s->valid;
}

double lb_energy_total_joules(lb_energy *e)
{
    if (!e)
        return 0;
    lb_energy_sample s;
    lb_energy_sample_now(e, &s);
    pthread_mutex_lock(&e->lock);
    double t = e->total_j;
    pthread_mutex_unlock(&e->lock);
    return t;
}

double lb_energy_per_token(const lb_energy_delta *d, uint64_t tokens)
{
    return tokens ? d->joules / (double)tokens : 0;
}
