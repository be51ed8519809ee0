/* DHCP reply parsing and the IPv4/UDP unwrapping in front of it, plus the client state
 * machine fed with whatever the parser accepts. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "init_dhcp.h"
#include "init_dhcp_pkt.h"
#include "log.h"

static int nop_send(void *ud, const uint8_t *m, size_t l, uint32_t s, uint32_t u)
{
    (void)ud; (void)m; (void)l; (void)s; (void)u;
    return 0;
}
static void nop_bound(void *ud, const lb_dhcp_lease *l, const lb_dhcp_lease *o) { (void)ud; (void)l; (void)o; }
static void nop_expired(void *ud, const lb_dhcp_lease *o) { (void)ud; (void)o; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lb_log_set_level(LB_LOG_ERR);
    lb_dhcp_msg m;
    lb_dhcp_parse(data, size, &m, NULL);
    const uint8_t *p;
    size_t plen;
    if (lb_ipv4_udp_unwrap(data, size, LB_DHCP_CLIENT_PORT, &p, &plen) == 0)
        lb_dhcp_parse(p, plen, &m, NULL);
    /* The client, with the xid/mac check defeated by copying them in from the input. */
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    lb_dhcp_ops ops = {.send = nop_send, .bound = nop_bound, .expired = nop_expired};
    lb_dhcp_client c;
    lb_dhcp_init(&c, mac, 7, &ops);
    lb_dhcp_start(&c, 0);
    if (size >= 240) {
        uint8_t buf[LB_DHCP_MAX_PKT];
        size_t n = size < sizeof buf ? size : sizeof buf;
        memcpy(buf, data, n);
        buf[4] = (uint8_t)(c.xid >> 24); buf[5] = (uint8_t)(c.xid >> 16); buf[6] = (uint8_t)(c.xid >> 8); buf[7] = (uint8_t)c.xid;
        memcpy(buf + 28, mac, 6);
        for (int i = 0; i < 3; i++) {
            lb_dhcp_input(&c, buf, n, i * 1000);
            lb_dhcp_tick(&c, lb_dhcp_next_ms(&c) == INT64_MAX ? 0 : lb_dhcp_next_ms(&c));
            buf[4] = (uint8_t)(c.xid >> 24); buf[5] = (uint8_t)(c.xid >> 16); buf[6] = (uint8_t)(c.xid >> 8); buf[7] = (uint8_t)c.xid;
            buf[242] = (uint8_t)(i == 0 ? LB_DHCP_OFFER : LB_DHCP_ACK);
        }
    }
    return 0;
}
