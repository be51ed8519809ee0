#include "init_dhcp.h"

#include <string.h>

#include "init_config.h"
#include "log.h"

#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 16000
#define REQUEST_TRIES 4
#define RENEW_MIN_MS 10000

static uint32_t next_xid(lb_dhcp_client *c)
{
    /* xorshift: unpredictable enough to tell our exchanges apart, no entropy needed */
    uint32_t x = c->xid_seed ? c->xid_seed : 0x9E3779B9u;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    c->xid_seed = x;
    return x;
}

static int64_t backoff_ms(int tries)
{
    int64_t ms = RETRY_MIN_MS;
    for (int i = 0; i < tries && ms < RETRY_MAX_MS; i++)
        ms *= 2;
    return ms > RETRY_MAX_MS ? RETRY_MAX_MS : ms;
}

static void send_msg(lb_dhcp_client *c, int type, uint32_t ciaddr, uint32_t req_ip, uint32_t server,
                     uint32_t unicast_to, int64_t now)
{
    uint8_t buf[LB_DHCP_MAX_PKT];
    int64_t secs = (now - c->start_ms) / 1000;
    int n = lb_dhcp_build(buf, sizeof buf, type, c->xid, c->mac, ciaddr, req_ip, server,
                          (uint16_t)(secs > 65535 ? 65535 : secs < 0 ? 0 : secs));
    if (n > 0 && c->ops.send(c->ops.ud, buf, (size_t)n, ciaddr, unicast_to))
        LOG_DEBUG("dhcp: send failed (will retry)");
}

void lb_dhcp_init(lb_dhcp_client *c, const uint8_t mac[6], uint32_t seed, const lb_dhcp_ops *ops)
{
    memset(c, 0, sizeof *c);
    memcpy(c->mac, mac, 6);
    c->xid_seed = seed ^ ((uint32_t)mac[2] << 24 | (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5]);
    c->ops = *ops;
    c->next_ms = INT64_MAX;
}

static void discover(lb_dhcp_client *c, int64_t now)
{
    c->state = LB_DHCP_SELECTING;
    c->xid = next_xid(c);
    c->start_ms = now;
    c->tries = 0;
    send_msg(c, LB_DHCP_DISCOVER, 0, 0, 0, 0, now);
    c->next_ms = now + backoff_ms(c->tries);
}

void lb_dhcp_start(lb_dhcp_client *c, int64_t now_ms) { discover(c, now_ms); }

int64_t lb_dhcp_next_ms(const lb_dhcp_client *c) { return c->next_ms; }

static void lose_lease(lb_dhcp_client *c, int64_t now, const char *why)
{
    if (c->have_lease) {
        char a[16];
        lb_format_ipv4(c->lease.addr, a, sizeof a);
        LOG_WARN("dhcp: lease on %s lost (%s); discovering again", a, why);
        c->have_lease = 0;
        c->ops.expired(c->ops.ud, &c->lease);
    }
    discover(c, now);
}

/* Time (ms) of a lease timer relative to when it was bound. */
static int64_t at(const lb_dhcp_client *c, uint32_t secs) { return c->bound_ms + (int64_t)secs * 1000; }

/* Next retransmission while renewing/rebinding: half the time left to the next deadline. */
static int64_t half_way(int64_t now, int64_t deadline)
{
    int64_t wait = (deadline - now) / 2;
    if (wait < RENEW_MIN_MS)
        wait = RENEW_MIN_MS;
    return now + wait < deadline ? now + wait : deadline;
}

void lb_dhcp_tick(lb_dhcp_client *c, int64_t now)
{
    if (now < c->next_ms)
        return;
    switch (c->state) {
    case LB_DHCP_INIT:
        discover(c, now);
        break;
    case LB_DHCP_SELECTING:
        c->tries++;
        send_msg(c, LB_DHCP_DISCOVER, 0, 0, 0, 0, now);
        c->next_ms = now + backoff_ms(c->tries);
        break;
    case LB_DHCP_REQUESTING:
        if (++c->tries >= REQUEST_TRIES) {
            LOG_WARN("dhcp: no answer to REQUEST; discovering again");
            discover(c, now);
            break;
        }
        send_msg(c, LB_DHCP_REQUEST, 0, c->offer_addr, c->offer_server, 0, now);
        c->next_ms = now + backoff_ms(c->tries);
        break;
    case LB_DHCP_BOUND:
    case LB_DHCP_RENEWING:
    case LB_DHCP_REBINDING: {
        int64_t t2 = at(c, c->lease.t2_s), end = at(c, c->lease.lease_s);
        if (now >= end) {
            lose_lease(c, now, "expired");
            break;
        }
        if (now >= t2) {
            if (c->state != LB_DHCP_REBINDING) {
                c->state = LB_DHCP_REBINDING;
                c->xid = next_xid(c);
                c->start_ms = now;
            }
            send_msg(c, LB_DHCP_REQUEST, c->lease.addr, 0, 0, 0, now);
            c->next_ms = half_way(now, end);
        } else {
            if (c->state != LB_DHCP_RENEWING) {
                c->state = LB_DHCP_RENEWING;
                c->xid = next_xid(c);
                c->start_ms = now;
            }
            send_msg(c, LB_DHCP_REQUEST, c->lease.addr, 0, 0, c->lease.server, now);
            c->next_ms = half_way(now, t2);
        }
        break;
    }
    }
}

static void accept_ack(lb_dhcp_client *c, const lb_dhcp_msg *m, int64_t now)
{
    lb_dhcp_lease l = {0};
    l.addr = m->yiaddr;
    l.server = m->server_id ? m->server_id : c->offer_server;
    l.router = m->router;
    l.dns[0] = m->dns[0];
    l.dns[1] = m->dns[1];
    int p = m->subnet ? lb_netmask_to_prefix(m->subnet) : -1;
    l.prefix = p > 0 ? p : 24;
    /* 0 would mean renewing in a busy loop; infinite (0xffffffff) stays bound forever. */
    l.lease_s = m->lease_s ? m->lease_s : 3600;
    if (l.lease_s < 20)
        l.lease_s = 20;
    l.t1_s = m->t1_s && m->t1_s < l.lease_s ? m->t1_s : l.lease_s / 2;
    l.t2_s = m->t2_s && m->t2_s < l.lease_s && m->t2_s > l.t1_s ? m->t2_s : l.lease_s / 8 * 7;
    if (l.t2_s <= l.t1_s)
        l.t2_s = l.t1_s + 1;
    int had = c->have_lease;
    lb_dhcp_lease old = c->lease;
    c->lease = l;
    c->have_lease = 1;
    c->bound_ms = now;
    c->state = LB_DHCP_BOUND;
    c->tries = 0;
    c->next_ms = l.lease_s == 0xffffffffu ? INT64_MAX : at(c, l.t1_s);
    c->ops.bound(c->ops.ud, &c->lease, had ? &old : NULL);
}

void lb_dhcp_input(lb_dhcp_client *c, const uint8_t *buf, size_t len, int64_t now)
{
    lb_dhcp_msg m;
    lb_err err = {0};
    if (lb_dhcp_parse(buf, len, &m, &err)) {
        LOG_DEBUG("%s", err.msg);
        return;
    }
    if (m.op != 2 || m.xid != c->xid || memcmp(m.chaddr, c->mac, 6) != 0)
        return; /* not an answer to us */
    switch (c->state) {
    case LB_DHCP_SELECTING:
        if (m.type != LB_DHCP_OFFER || !m.yiaddr || !m.server_id)
            return;
        c->offer_addr = m.yiaddr;
        c->offer_server = m.server_id;
        c->state = LB_DHCP_REQUESTING;
        c->tries = 0;
        send_msg(c, LB_DHCP_REQUEST, 0, c->offer_addr, c->offer_server, 0, now);
        c->next_ms = now + backoff_ms(0);
        break;
    case LB_DHCP_REQUESTING:
        if (m.server_id && m.server_id != c->offer_server)
            return;
        if (m.type == LB_DHCP_ACK && m.yiaddr)
            accept_ack(c, &m, now);
        else if (m.type == LB_DHCP_NAK) {
            LOG_WARN("dhcp: server refused our request (NAK)");
            discover(c, now);
        }
        break;
    case LB_DHCP_RENEWING:
    case LB_DHCP_REBINDING:
        if (m.type == LB_DHCP_ACK && m.yiaddr)
            accept_ack(c, &m, now);
        else if (m.type == LB_DHCP_NAK)
            lose_lease(c, now, "server sent NAK");
        break;
    default:
        break;
    }
}
