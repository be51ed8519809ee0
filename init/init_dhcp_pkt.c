#include "init_dhcp_pkt.h"

#include <string.h>

#define BOOTP_FIXED 236
#define MAGIC 0x63825363u

static void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

int lb_dhcp_build(uint8_t *buf, size_t cap, int type, uint32_t xid, const uint8_t mac[6],
                  uint32_t ciaddr, uint32_t req_ip, uint32_t server_id, uint16_t secs)
{
    /* fixed part + cookie + options; 300 bytes is the BOOTP minimum some servers expect */
    if (cap < 300)
        return LB_ELIMIT;
    memset(buf, 0, 300);
    buf[0] = 1;  /* BOOTREQUEST */
    buf[1] = 1;  /* ethernet */
    buf[2] = 6;  /* hardware address length */
    put32(buf + 4, xid);
    put16(buf + 8, secs);
    /* Ask for broadcast replies: we cannot receive unicast before the address is set. */
    put16(buf + 10, ciaddr ? 0 : 0x8000);
    put32(buf + 12, ciaddr);
    memcpy(buf + 28, mac, 6);
    put32(buf + BOOTP_FIXED, MAGIC);
    uint8_t *o = buf + BOOTP_FIXED + 4;
    *o++ = 53; *o++ = 1; *o++ = (uint8_t)type;
    *o++ = 61; *o++ = 7; *o++ = 1; memcpy(o, mac, 6); o += 6; /* client id */
    if (req_ip) { *o++ = 50; *o++ = 4; put32(o, req_ip); o += 4; }
    if (server_id) { *o++ = 54; *o++ = 4; put32(o, server_id); o += 4; }
    if (type != LB_DHCP_RELEASE) {
        static const uint8_t params[] = {1, 3, 6, 12, 15, 28, 51, 54, 58, 59};
        *o++ = 55; *o++ = sizeof params; memcpy(o, params, sizeof params); o += sizeof params;
        *o++ = 57; *o++ = 2; put16(o, 1500); o += 2; /* max message size */
        static const char host[] = "llmbox";
        *o++ = 12; *o++ = sizeof host - 1; memcpy(o, host, sizeof host - 1); o += sizeof host - 1;
    }
    *o++ = 255;
    size_t len = (size_t)(o - buf);
    return (int)(len < 300 ? 300 : len);
}

int lb_dhcp_parse(const uint8_t *buf, size_t len, lb_dhcp_msg *out, lb_err *err)
{
    memset(out, 0, sizeof *out);
    if (len < BOOTP_FIXED + 4)
        return lb_err_set(err, LB_EFORMAT, "dhcp: %zu bytes is shorter than a BOOTP header", len);
    if (buf[1] != 1 || buf[2] != 6)
        return lb_err_set(err, LB_EFORMAT, "dhcp: not an ethernet message");
    if (get32(buf + BOOTP_FIXED) != MAGIC)
        return lb_err_set(err, LB_EFORMAT, "dhcp: bad magic cookie");
    out->op = buf[0];
    out->xid = get32(buf + 4);
    out->ciaddr = get32(buf + 12);
    out->yiaddr = get32(buf + 16);
    memcpy(out->chaddr, buf + 28, 6);
    size_t i = BOOTP_FIXED + 4;
    while (i < len) {
        uint8_t code = buf[i++];
        if (code == 0)
            continue;
        if (code == 255)
            break;
        if (i >= len)
            return lb_err_set(err, LB_EFORMAT, "dhcp: option %u has no length", code);
        size_t olen = buf[i++];
        if (olen > len - i)
            return lb_err_set(err, LB_EFORMAT, "dhcp: option %u length %zu overruns the packet", code, olen);
        const uint8_t *v = buf + i;
        switch (code) {
        case 53: if (olen == 1) out->type = v[0]; break;
        case 54: if (olen == 4) out->server_id = get32(v); break;
        case 1: if (olen == 4) out->subnet = get32(v); break;
        case 3: if (olen >= 4 && olen % 4 == 0) out->router = get32(v); break;
        case 6:
            for (size_t k = 0; k + 4 <= olen && out->n_dns < 2; k += 4)
                out->dns[out->n_dns++] = get32(v + k);
            break;
        case 51: if (olen == 4) out->lease_s = get32(v); break;
        case 58: if (olen == 4) out->t1_s = get32(v); break;
        case 59: if (olen == 4) out->t2_s = get32(v); break;
        default: break;
        }
        i += olen;
    }
    if (out->type < LB_DHCP_DISCOVER || out->type > LB_DHCP_RELEASE)
        return lb_err_set(err, LB_EFORMAT, "dhcp: missing or bad message type");
    return 0;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

int lb_ipv4_udp_wrap(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint16_t sport,
                     uint16_t dport, const uint8_t *payload, size_t len)
{
    size_t total = 20 + 8 + len;
    if (total > cap || total > 65535)
        return LB_ELIMIT;
    memset(buf, 0, 28);
    buf[0] = 0x45;
    put16(buf + 2, (uint16_t)total);
    buf[8] = 64;  /* TTL */
    buf[9] = 17;  /* UDP */
    put32(buf + 12, src);
    put32(buf + 16, dst);
    put16(buf + 10, ip_checksum(buf, 20));
    put16(buf + 20, sport);
    put16(buf + 22, dport);
    put16(buf + 24, (uint16_t)(8 + len));
    /* UDP checksum 0 = none, allowed over IPv4 */
    memmove(buf + 28, payload, len);
    return (int)total;
}

int lb_ipv4_udp_unwrap(const uint8_t *pkt, size_t len, uint16_t dport, const uint8_t **payload,
                       size_t *payload_len)
{
    if (len < 20 || (pkt[0] >> 4) != 4)
        return LB_EFORMAT;
    size_t ihl = (size_t)(pkt[0] & 15) * 4;
    size_t total = get16(pkt + 2);
    if (ihl < 20 || total < ihl + 8 || total > len)
        return LB_EFORMAT;
    if (pkt[9] != 17 || (get16(pkt + 6) & 0x3FFF) != 0) /* UDP, not a fragment */
        return LB_EFORMAT;
    if (ip_checksum(pkt, ihl) != 0)
        return LB_EFORMAT;
    const uint8_t *udp = pkt + ihl;
    size_t ulen = get16(udp + 4);
    if (get16(udp + 2) != dport || ulen < 8 || ulen > total - ihl)
        return LB_EFORMAT;
    *payload = udp + 8;
    *payload_len = ulen - 8;
    return 0;
}

int lb_netmask_to_prefix(uint32_t mask)
{
    int p = 0;
    while (p < 32 && (mask & (0x80000000u >> p)))
        p++;
    if (p < 32 && (mask << p) != 0)
        return -1;
    return p;
}
