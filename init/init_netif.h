/* Network interfaces: choosing the wired NIC from sysfs, and configuring links, addresses
 * and routes with rtnetlink (no ip(8), no ioctl soup). */
#ifndef LB_INIT_NETIF_H
#define LB_INIT_NETIF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The first wired ethernet NIC under root/sys/class/net: type 1 (ARPHRD_ETHER), backed by a
 * device (not virtual), not wireless; lowest ifindex wins. Returns 0 or LB_ENOENT. */
int lb_pick_wired_nic(const char *root, char *name, size_t cap, uint8_t mac[6]);

/* rtnetlink operations (need CAP_NET_ADMIN in the current network namespace). */
int lb_rtnl_link_up(const char *ifname, lb_err *err);
int lb_rtnl_addr(const char *ifname, uint32_t addr, int prefix, int add, lb_err *err);
int lb_rtnl_default_route(uint32_t gw, int add, lb_err *err);

#endif
