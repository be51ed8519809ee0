#include "init_dhcp_sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <netpacket/packet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init_dhcp_pkt.h"

int lb_dhcp_sock_open(const char *ifname, lb_err *err)
{
    unsigned idx = if_nametoindex(ifname);
    if (!idx)
        return lb_err_set(err, LB_ENOENT, "no interface %s", ifname);
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_IP));
    if (fd < 0)
        return lb_err_set(err, LB_EIO, "packet socket: %s", strerror(errno));
    struct sockaddr_ll sa = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = (int)idx};
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa)) {
        int e = errno;
        close(fd);
        return lb_err_set(err, LB_EIO, "bind packet socket to %s: %s", ifname, strerror(e));
    }
    return fd;
}

int lb_dhcp_sock_send(int fd, const char *ifname, const uint8_t *msg, size_t len, uint32_t src, uint32_t dst)
{
    uint8_t pkt[LB_DHCP_MAX_PKT + 64];
    int n = lb_ipv4_udp_wrap(pkt, sizeof pkt, src, dst ? dst : 0xFFFFFFFFu, LB_DHCP_CLIENT_PORT,
                             LB_DHCP_SERVER_PORT, msg, len);
    if (n < 0)
        return n;
    struct sockaddr_ll sa = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
                             .sll_ifindex = (int)if_nametoindex(ifname), .sll_halen = 6};
    memset(sa.sll_addr, 0xFF, 6);
    return sendto(fd, pkt, (size_t)n, 0, (struct sockaddr *)&sa, sizeof sa) == n ? 0 : LB_EIO;
}

int lb_dhcp_sock_recv(int fd, uint8_t *out, size_t cap)
{
    uint8_t pkt[2048];
    ssize_t n = recv(fd, pkt, sizeof pkt, 0);
    if (n < 0)
        return errno == EINTR ? -1 : -2;
    const uint8_t *payload;
    size_t plen;
    if (lb_ipv4_udp_unwrap(pkt, (size_t)n, LB_DHCP_CLIENT_PORT, &payload, &plen) || plen > cap)
        return -1;
    memcpy(out, payload, plen);
    return (int)plen;
}
