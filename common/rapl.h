/* Energy accounting from RAPL through powercap (/sys/class/powercap/<zone>/energy_uj).
 * Package zones are summed; each counter wraps at its max_energy_range_uj, which the delta
 * handles (once per interval: sample at least once per wrap period, minutes at full load). */
#ifndef LB_RAPL_H
#define LB_RAPL_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define LB_ENERGY_MAX_ZONES 8

typedef struct lb_energy lb_energy;

typedef struct lb_energy_sample {
    uint64_t uj[LB_ENERGY_MAX_ZONES];
    uint64_t t_ns;     /* CLOCK_MONOTONIC */
    bool valid;
} lb_energy_sample;

typedef struct lb_energy_delta {
    double joules, seconds, watts;  /* watts 0 when no time passed */
} lb_energy_delta;

/* sys_root NULL = /sys. LB_ENOTSUP (and *out NULL) when there is no RAPL zone; that is
 * logged once at info level by the caller's choice (message in err). */
int lb_energy_open(const char *sys_root, lb_energy **out, lb_err *err);
void lb_energy_close(lb_energy *e);
int lb_energy_zones(const lb_energy *e);
const char *lb_energy_zone_name(const lb_energy *e, int i);

/* Reads every zone now (thread-safe) and advances the running total. False (sample not
 * valid) when a counter could not be read. e may be NULL (then always false). */
bool lb_energy_sample_now(lb_energy *e, lb_energy_sample *s);
/* Energy between two samples, each zone's wraparound accounted for. */
lb_energy_delta lb_energy_between(const lb_energy *e, const lb_energy_sample *a, const lb_energy_sample *b);
/* Joules consumed since open (samples now). */
double lb_energy_total_joules(lb_energy *e);
/* Joules per token (0 when tokens is 0). */
double lb_energy_per_token(const lb_energy_delta *d, uint64_t tokens);

#endif
