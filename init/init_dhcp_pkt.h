/* DHCPv4 messages (RFC 2131/2132): building requests and parsing replies, plus the IPv4/UDP
 * framing we need on a packet socket before the interface has an address. The parsers treat
 * every byte as hostile: each length is checked against what is actually there. */
#ifndef LB_INIT_DHCP_PKT_H
#define LB_INIT_DHCP_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum {
    LB_DHCP_DISCOVER = 1, LB_DHCP_OFFER = 2, LB_DHCP_REQUEST = 3, LB_DHCP_DECLINE = 4,
    LB_DHCP_ACK = 5, LB_DHCP_NAK = 6, LB_DHCP_RELEASE = 7,
};
#define LB_DHCP_SERVER_PORT 67
#define LB_DHCP_CLIENT_PORT 68
#define LB_DHCP_MAX_PKT 1500

/* The fields of a message we use (addresses in host byte order; 0 = absent). */
typedef struct lb_dhcp_msg {
    uint8_t op;
    uint32_t xid;
    uint32_t ciaddr, yiaddr;
    uint8_t chaddr[6];
    int type;            /* option 53, 0 if absent */
    uint32_t server_id;  /* option 54 */
    uint32_t subnet;     /* option 1 */
    uint32_t router;     /* option 3 (first) */
    uint32_t dns[2];     /* option 6 (first two) */
    int n_dns;
    uint32_t lease_s, t1_s, t2_s; /* options 51, 58, 59 */
} lb_dhcp_msg;

/* Builds a client message (DISCOVER, REQUEST, RELEASE) into buf; returns its length or a
 * negative error. req_ip and server_id go into options 50/54 when non-zero. */
int lb_dhcp_build(uint8_t *buf, size_t cap, int type, uint32_t xid, const uint8_t mac[6],
                  uint32_t ciaddr, uint32_t req_ip, uint32_t server_id, uint16_t secs);

/* Parses a BOOTP/DHCP message. LB_EFORMAT on anything malformed. */
int lb_dhcp_parse(const uint8_t *buf, size_t len, lb_dhcp_msg *out, lb_err *err);

/* Wraps a UDP payload in IPv4 + UDP headers (src/dst in host order); returns total length. */
int lb_ipv4_udp_wrap(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint16_t sport,
                     uint16_t dport, const uint8_t *payload, size_t len);

/* Checks an IPv4 packet carries UDP to dport and returns the payload inside it. */
int lb_ipv4_udp_unwrap(const uint8_t *pkt, size_t len, uint16_t dport, const uint8_t **payload,
                       size_t *payload_len);

/* Netmask -> prefix length; -1 if not contiguous. */
int lb_netmask_to_prefix(uint32_t mask);

#endif
