/* DHCP client state machine (RFC 2131): INIT -> SELECTING -> REQUESTING -> BOUND ->
 * RENEWING -> REBINDING, with retransmission backoff. It does no I/O itself: the caller
 * feeds it time and received messages and gives it a send callback, so it is tested with a
 * fake server and a fake clock. */
#ifndef LB_INIT_DHCP_H
#define LB_INIT_DHCP_H

#include <stdint.h>

#include "init_dhcp_pkt.h"

typedef struct lb_dhcp_lease {
    uint32_t addr, server, router, dns[2];
    int prefix;
    uint32_t lease_s, t1_s, t2_s;
} lb_dhcp_lease;

typedef struct lb_dhcp_ops {
    /* Send a DHCP payload: broadcast (dst 255.255.255.255) unless unicast_to is set. */
    int (*send)(void *ud, const uint8_t *msg, size_t len, uint32_t src, uint32_t unicast_to);
    /* A lease was obtained or renewed (old is NULL the first time or after expiry). */
    void (*bound)(void *ud, const lb_dhcp_lease *lease, const lb_dhcp_lease *old);
    /* The lease ran out or was refused: remove the address. */
    void (*expired)(void *ud, const lb_dhcp_lease *old);
    void *ud;
} lb_dhcp_ops;

enum lb_dhcp_state { LB_DHCP_INIT, LB_DHCP_SELECTING, LB_DHCP_REQUESTING, LB_DHCP_BOUND,
                     LB_DHCP_RENEWING, LB_DHCP_REBINDING };

typedef struct lb_dhcp_client {
    enum lb_dhcp_state state;
    lb_dhcp_ops ops;
    uint8_t mac[6];
    uint32_t xid, xid_seed;
    int tries;
    int64_t next_ms;      /* when tick() wants to run next */
    int64_t start_ms;     /* start of this exchange (secs field) */
    int64_t bound_ms;     /* when the current lease was acknowledged */
    uint32_t offer_addr, offer_server;
    int have_lease;
    lb_dhcp_lease lease;
} lb_dhcp_client;

void lb_dhcp_init(lb_dhcp_client *c, const uint8_t mac[6], uint32_t seed, const lb_dhcp_ops *ops);
/* Begins (or restarts) discovery at time now. */
void lb_dhcp_start(lb_dhcp_client *c, int64_t now_ms);
/* Call when now >= lb_dhcp_next_ms(): retransmits and moves through the lease timers. */
void lb_dhcp_tick(lb_dhcp_client *c, int64_t now_ms);
/* A received DHCP payload (already unwrapped from IP/UDP). Ignored unless it answers us. */
void lb_dhcp_input(lb_dhcp_client *c, const uint8_t *msg, size_t len, int64_t now_ms);
int64_t lb_dhcp_next_ms(const lb_dhcp_client *c);

#endif
