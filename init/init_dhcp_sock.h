/* A packet socket for DHCP on one interface: works before the interface has an address. */
#ifndef LB_INIT_DHCP_SOCK_H
#define LB_INIT_DHCP_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Opens an AF_PACKET/SOCK_DGRAM socket bound to ifname for IPv4; returns the fd or < 0. */
int lb_dhcp_sock_open(const char *ifname, lb_err *err);
/* Sends a DHCP payload from src:68 to dst:67 (link-layer broadcast). */
int lb_dhcp_sock_send(int fd, const char *ifname, const uint8_t *msg, size_t len, uint32_t src, uint32_t dst);
/* Reads one packet; returns the DHCP payload length (payload copied to out), -1 if it was
 * not a DHCP reply to the client port, -2 when nothing is left to read. */
int lb_dhcp_sock_recv(int fd, uint8_t *out, size_t cap);

#endif
