/* The two operating points every power control switches between. */
#ifndef LB_POWER_PROFILE_H
#define LB_POWER_PROFILE_H

typedef enum lb_power_profile {
    LB_PROFILE_IDLE = 0,  /* quiet: dynamic governor, power EPP, no turbo, deep C-states */
    LB_PROFILE_BUSY = 1,  /* generating: performance, turbo, shallow C-states only */
} lb_power_profile;

static inline const char *lb_power_profile_name(lb_power_profile p)
{
    return p == LB_PROFILE_BUSY ? "busy" : "idle";
}

#endif
