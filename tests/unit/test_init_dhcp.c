#include "../lib/harness.h"
#include "init_dhcp.h"

#include <string.h>

/* A fake DHCP server and network, driven by a fake clock. */
static uint8_t sent[16][LB_DHCP_MAX_PKT];
static size_t sent_len[16];
static uint32_t sent_unicast[16];
static int n_sent;
static int n_bound, n_expired;
static lb_dhcp_lease last_lease;

static int fake_send(void *ud, const uint8_t *msg, size_t len, uint32_t src, uint32_t unicast_to)
{
    (void)ud; (void)src;
    if (n_sent < 16) {
        memcpy(sent[n_sent], msg, len);
        sent_len[n_sent] = len;
        sent_unicast[n_sent] = unicast_to;
    }
    n_sent++;
    return 0;
}
static void fake_bound(void *ud, const lb_dhcp_lease *l, const lb_dhcp_lease *old)
{
    (void)ud; (void)old;
    n_bound++;
    last_lease = *l;
}
static void fake_expired(void *ud, const lb_dhcp_lease *old)
{
    (void)ud; (void)old;
    n_expired++;
}

static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* Builds a server reply to the last client message. */
static size_t reply(uint8_t *buf, int type, uint32_t yiaddr, uint32_t lease_s, int xid_delta)
{
    lb_dhcp_msg req;
    memset(buf, 0, 300);
    lb_dhcp_parse(sent[(n_sent - 1) % 16], sent_len[(n_sent - 1) % 16], &req, NULL);
    buf[0] = 2; buf[1] = 1; buf[2] = 6;
    uint32_t xid = req.xid + (uint32_t)xid_delta;
    buf[4] = (uint8_t)(xid >> 24); buf[5] = (uint8_t)(xid >> 16); buf[6] = (uint8_t)(xid >> 8); buf[7] = (uint8_t)xid;
    buf[16] = (uint8_t)(yiaddr >> 24); buf[17] = (uint8_t)(yiaddr >> 16); buf[18] = (uint8_t)(yiaddr >> 8); buf[19] = (uint8_t)yiaddr;
    memcpy(buf + 28, mac, 6);
    uint8_t *o = buf + 236;
    *o++ = 99; *o++ = 130; *o++ = 83; *o++ = 99;
    *o++ = 53; *o++ = 1; *o++ = (uint8_t)type;
    *o++ = 54; *o++ = 4; *o++ = 10; *o++ = 0; *o++ = 2; *o++ = 2;
    *o++ = 1; *o++ = 4; *o++ = 255; *o++ = 255; *o++ = 255; *o++ = 0;
    *o++ = 3; *o++ = 4; *o++ = 10; *o++ = 0; *o++ = 2; *o++ = 2;
    *o++ = 51; *o++ = 4; *o++ = (uint8_t)(lease_s >> 24); *o++ = (uint8_t)(lease_s >> 16); *o++ = (uint8_t)(lease_s >> 8); *o++ = (uint8_t)lease_s;
    *o++ = 255;
    return 300;
}

static int last_type(void)
{
    lb_dhcp_msg m;
    if (lb_dhcp_parse(sent[(n_sent - 1) % 16], sent_len[(n_sent - 1) % 16], &m, NULL))
        return -1;
    return m.type;
}

static void setup(lb_dhcp_client *c)
{
    n_sent = n_bound = n_expired = 0;
    lb_dhcp_ops ops = {.send = fake_send, .bound = fake_bound, .expired = fake_expired};
    lb_dhcp_init(c, mac, 1234, &ops);
}

TEST(discover_offer_request_ack_then_renew)
{
    lb_dhcp_client c;
    uint8_t buf[LB_DHCP_MAX_PKT];
    setup(&c);
    lb_dhcp_start(&c, 0);
    CHECK_EQ(n_sent, 1);
    CHECK_EQ(last_type(), LB_DHCP_DISCOVER);
    lb_dhcp_msg d;
    CHECK_EQ(lb_dhcp_parse(sent[0], sent_len[0], &d, NULL), 0);
    CHECK(memcmp(d.chaddr, mac, 6) == 0);
    /* an offer for someone else's transaction is ignored */
    lb_dhcp_input(&c, buf, reply(buf, LB_DHCP_OFFER, 0x0A00020F, 86400, 1), 100);
    CHECK_EQ(n_sent, 1);
    lb_dhcp_input(&c, buf, reply(buf, LB_DHCP_OFFER, 0x0A00020F, 86400, 0), 100);
    CHECK_EQ(n_sent, 2);
    CHECK_EQ(last_type(), LB_DHCP_REQUEST);
    lb_dhcp_input(&c, buf, reply(buf, LB_DHCP_ACK, 0x0A00020F, 86400, 0), 200);
    CHECK_EQ(n_bound, 1);
    CHECK_EQ(last_lease.addr, 0x0A00020Fu);
    CHECK_EQ(last_lease.prefix, 24);
    CHECK_EQ(last_lease.router, 0x0A000202u);
    CHECK_EQ(last_lease.server, 0x0A000202u);
    CHECK_EQ(c.state, LB_DHCP_BOUND);
    /* T1 = half the lease: renew, unicast to the server, with ciaddr set */
    CHECK_EQ(lb_dhcp_next_ms(&c), 200 + 43200 * 1000LL);
    lb_dhcp_tick(&c, lb_dhcp_next_ms(&c));
    CHECK_EQ(c.state, LB_DHCP_RENEWING);
    CHECK_EQ(last_type(), LB_DHCP_REQUEST);
    CHECK_EQ(sent_unicast[(n_sent - 1) % 16], 0x0A000202u);
    lb_dhcp_msg r;
    lb_dhcp_parse(sent[(n_sent - 1) % 16], sent_len[(n_sent - 1) % 16], &r, NULL);
    CHECK_EQ(r.ciaddr, 0x0A00020Fu);
    lb_dhcp_input(&c, buf, reply(buf, LB_DHCP_ACK, 0x0A00020F, 86400, 0), 43300 * 1000LL);
    CHECK_EQ(n_bound, 2);
    CHECK_EQ(c.state, LB_DHCP_BOUND);
    CHECK_EQ(n_expired, 0);
}

TEST(discover_retransmits_with_backoff)
{
    lb_dhcp_client c;
    setup(&c);
    lb_dhcp_start(&c, 0);
    int64_t prev = 0, prev_gap = 0;
    for (int i = 0; i < 8; i++) {
        int64_t next = lb_dhcp_next_ms(&c);
        int64_t gap = next - prev;
        CHECK(gap >= prev_gap);   /* never faster than before */
        CHECK(gap <= 16000);      /* capped */
        prev_gap = gap;
        prev = next;
        lb_dhcp_tick(&c, next);
    }
    CHECK_EQ(n_sent, 9);
    CHECK_EQ(last_type(), LB_DHCP_DISCOVER);
    CHECK_EQ(prev_gap, 16000);
}

TEST(unanswered_request_falls_back_to_discover)
{
    lb_dhcp_client c;
    uint8_t buf[LB_DHCP_MAX_PKT];
    setup(&c);
    lb_dhcp_start(&c, 0);
    lb_dhcp_input(&c, buf, reply(buf, LB_DHCP_OFFER, 0x0A00020F, 3600, 0), 10);
    for (int i = 0; i < 4; i++)
        lb_dhcp_tick(&c, lb_dhcp_next_ms(&c));
    CHECK_EQ(c.state, LB_DHCP_SELECTING);
    CHECK_EQ(last_type(), LB_DHCP_DISCOVER);
}

TEST(lease_expires_without_answers_and_nak_restarts)
{
    lb_dhcp_client c;
    uint8_t buf[LB_DHCP_MAX_PKT];
    setup(&c);
    lb_dhcp_start(&c, 0);
    lb_dhcp_input(&c, buf, reply(buf, LB_DHCP_OFFER, 0x0A00020F, 100, 0), 0);
    lb_dhcp_input(&c, buf, reply(buf, LB_DHCP_ACK, 0x0A00020F, 100, 0), 0);
    CHECK_EQ(n_bound, 1);
    int guard = 0;
    while (c.state != LB_DHCP_SELECTING && guard++ < 100)
        lb_dhcp_tick(&c, lb_dhcp_next_ms(&c));
    CHECK(guard < 100);
    CHECK_EQ(n_expired, 1);
    CHECK(lb_dhcp_next_ms(&c) > 0);
    /* bind again, then a NAK while renewing drops the lease at once */
    lb_dhcp_input(&c, buf, reply(buf, LB_DHCP_OFFER, 0x0A00020F, 100, 0), 200000);
    lb_dhcp_input(&c, buf, reply(buf, LB_DHCP_ACK, 0x0A00020F, 100, 0), 200000);
    lb_dhcp_tick(&c, lb_dhcp_next_ms(&c));
    CHECK_EQ(c.state, LB_DHCP_RENEWING);
    lb_dhcp_input(&c, buf, reply(buf, LB_DHCP_NAK, 0, 0, 0), 260000);
    CHECK_EQ(n_expired, 2);
    CHECK_EQ(c.state, LB_DHCP_SELECTING);
}

TEST(parser_rejects_overrunning_options_and_short_packets)
{
    uint8_t buf[LB_DHCP_MAX_PKT];
    lb_dhcp_client c;
    setup(&c);
    lb_dhcp_start(&c, 0);
    size_t n = reply(buf, LB_DHCP_OFFER, 1, 60, 0);
    lb_dhcp_msg m;
    lb_err err = {0};
    CHECK_EQ(lb_dhcp_parse(buf, n, &m, &err), 0);
    CHECK_EQ(m.lease_s, 60);
    CHECK_EQ(lb_dhcp_parse(buf, 239, &m, &err), LB_EFORMAT);
    /* option 51 claims 200 bytes at the end of a 300-byte packet */
    uint8_t *o = buf + 240;
    while (*o != 51)
        o += 2 + o[1];
    o[1] = 200;
    CHECK_EQ(lb_dhcp_parse(buf, n, &m, &err), LB_EFORMAT);
    CHECK(strstr(err.msg, "overruns") != NULL);
    /* length byte missing at the very end */
    uint8_t tiny[241];
    memcpy(tiny, buf, 240);
    tiny[240] = 53;
    CHECK_EQ(lb_dhcp_parse(tiny, sizeof tiny, &m, &err), LB_EFORMAT);
}

TEST(ip_udp_wrap_unwrap_round_trip_and_checks)
{
    uint8_t payload[300], pkt[400];
    for (int i = 0; i < 300; i++)
        payload[i] = (uint8_t)i;
    int n = lb_ipv4_udp_wrap(pkt, sizeof pkt, 0, 0xFFFFFFFF, 68, 67, payload, sizeof payload);
    CHECK_EQ(n, 328);
    const uint8_t *p;
    size_t plen;
    CHECK_EQ(lb_ipv4_udp_unwrap(pkt, (size_t)n, 67, &p, &plen), 0);
    CHECK_EQ(plen, 300);
    CHECK(memcmp(p, payload, 300) == 0);
    CHECK(lb_ipv4_udp_unwrap(pkt, (size_t)n, 68, &p, &plen) != 0);  /* wrong port */
    CHECK(lb_ipv4_udp_unwrap(pkt, 100, 67, &p, &plen) != 0);        /* truncated */
    pkt[8] ^= 1;                                                    /* checksum broken */
    CHECK(lb_ipv4_udp_unwrap(pkt, (size_t)n, 67, &p, &plen) != 0);
    CHECK_EQ(lb_netmask_to_prefix(0xFFFFFF00u), 24);
    CHECK_EQ(lb_netmask_to_prefix(0xFFFFFFFFu), 32);
    CHECK_EQ(lb_netmask_to_prefix(0), 0);
    CHECK_EQ(lb_netmask_to_prefix(0xFF00FF00u), -1);
}
