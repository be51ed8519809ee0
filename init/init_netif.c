#include "init_netif.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "fileio.h"

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return 0;
}

int lb_pick_wired_nic(const char *root, char *name, size_t cap, uint8_t mac[6])
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/sys/class/net", root);
    DIR *d = opendir(dir);
    if (!d)
        return LB_ENOENT;
    long best = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= IFNAMSIZ)
            continue;
        char p[4096 + 512], v[64];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s/type", dir, e->d_name);
        if (lb_read_text(p, v, sizeof v, NULL) || strcmp(v, "1") != 0)
            continue;
        snprintf(p, sizeof p, "%s/%s/device", dir, e->d_name);
        if (stat(p, &st) != 0)
            continue; /* virtual: lo, bridges, tunnels */
        snprintf(p, sizeof p, "%s/%s/wireless", dir, e->d_name);
        if (stat(p, &st) == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s/phy80211", dir, e->d_name);
        if (stat(p, &st) == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s/ifindex", dir, e->d_name);
        if (lb_read_text(p, v, sizeof v, NULL))
            continue;
        long idx = strtol(v, NULL, 10);
        uint8_t m[6];
        snprintf(p, sizeof p, "%s/%s/address", dir, e->d_name);
        if (lb_read_text(p, v, sizeof v, NULL) || parse_mac(v, m))
            continue;
        if (best < 0 || idx < best) {
            if (strlen(e->d_name) >= cap)
                continue;
            best = idx;
            strcpy(name, e->d_name);
            memcpy(mac, m, 6);
        }
    }
    closedir(d);
    return best < 0 ? LB_ENOENT : 0;
}

/* Sends one request and waits for its ACK (or error). */
static int rtnl_talk(struct nlmsghdr *req, lb_err *err)
{
    int rc = 0;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return lb_err_set(err, LB_EIO, "netlink socket: %s", strerror(errno));
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    req->nlmsg_seq = 1;
    if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0) {
        rc = lb_err_set(err, LB_EIO, "netlink send: %s", strerror(errno));
        goto out;
    }
    for (;;) {
        char buf[8192];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            rc = lb_err_set(err, LB_EIO, "netlink recv: %s", strerror(errno));
            goto out;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_ERROR) {
                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
                    rc = lb_err_set(err, LB_EIO, "netlink: short error message");
                    goto out;
                }
                const struct nlmsgerr *e = NLMSG_DATA(h);
                if (e->error)
                    rc = lb_err_set(err, LB_EIO, "netlink: %s", strerror(-e->error));
                goto out;
            }
        }
    }
out:
    close(fd);
    return rc;
}

static void add_attr(struct nlmsghdr *h, size_t cap, int type, const void *data, size_t len)
{
    struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
    if (NLMSG_ALIGN(h->nlmsg_len) + RTA_SPACE(len) > cap)
        return; /* callers size their buffers for the attributes they add */
    a->rta_type = (unsigned short)type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(a), data, len);
    h->nlmsg_len = (uint32_t)(NLMSG_ALIGN(h->nlmsg_len) + RTA_SPACE(len));
}

int lb_rtnl_link_up(const char *ifname, lb_err *err)
{
    unsigned idx = if_nametoindex(ifname);
    if (!idx)
        return lb_err_set(err, LB_ENOENT, "no interface %s", ifname);
    struct { struct nlmsghdr h; struct ifinfomsg i; char attrs[64]; } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof req.i);
    req.h.nlmsg_type = RTM_NEWLINK;
    req.i.ifi_family = AF_UNSPEC;
    req.i.ifi_index = (int)idx;
    req.i.ifi_flags = IFF_UP;
    req.i.ifi_change = IFF_UP;
    return rtnl_talk(&req.h, err) ? lb_err_wrap(err, LB_EIO, "link %s up", ifname) : 0;
}

int lb_rtnl_addr(const char *ifname, uint32_t addr, int prefix, int add, lb_err *err)
{
    unsigned idx = if_nametoindex(ifname);
    if (!idx)
        return lb_err_set(err, LB_ENOENT, "no interface %s", ifname);
    struct { struct nlmsghdr h; struct ifaddrmsg a; char attrs[64]; } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof req.a);
    req.h.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
    req.h.nlmsg_flags = add ? (NLM_F_CREATE | NLM_F_REPLACE) : 0;
    req.a.ifa_family = AF_INET;
    req.a.ifa_prefixlen = (unsigned char)prefix;
    req.a.ifa_index = idx;
    uint32_t be = htonl(addr);
    add_attr(&req.h, sizeof req, IFA_LOCAL, &be, 4);
    add_attr(&req.h, sizeof req, IFA_ADDRESS, &be, 4);
    if (add && prefix < 31) {
        uint32_t bcast = htonl(addr | (prefix ? 0xFFFFFFFFu >> prefix : 0xFFFFFFFFu));
        add_attr(&req.h, sizeof req, IFA_BROADCAST, &bcast, 4);
    }
    return rtnl_talk(&req.h, err) ? lb_err_wrap(err, LB_EIO, "%s address on %s", add ? "add" : "delete", ifname) : 0;
}

int lb_rtnl_default_route(uint32_t gw, int add, lb_err *err)
{
    struct { struct nlmsghdr h; struct rtmsg r; char attrs[64]; } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof req.r);
    req.h.nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
    req.h.nlmsg_flags = add ? (NLM_F_CREATE | NLM_F_REPLACE) : 0;
    req.r.rtm_family = AF_INET;
    req.r.rtm_table = RT_TABLE_MAIN;
    req.r.rtm_protocol = RTPROT_DHCP;
    req.r.rtm_scope = RT_SCOPE_UNIVERSE;
    req.r.rtm_type = RTN_UNICAST;
    uint32_t be = htonl(gw);
    add_attr(&req.h, sizeof req, RTA_GATEWAY, &be, 4);
    return rtnl_talk(&req.h, err) ? lb_err_wrap(err, LB_EIO, "%s default route", add ? "add" : "delete") : 0;
}
