/* Appliance settings: kernel command line (llmbox.KEY=VALUE) and llmbox.conf (KEY=VALUE lines)
 * on the data partition. The command line wins; unknown keys are reported, never fatal. */
#ifndef LB_INIT_CONFIG_H
#define LB_INIT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "hugepages.h"

typedef struct lb_init_config {
    char model[256];       /* "" = first *.gguf on the data partition, then in /models */
    bool ip_dhcp;          /* default true */
    uint32_t ip_addr;      /* static: host byte order */
    int ip_prefix;
    uint32_t ip_gw;        /* 0 = no default route */
    int port;              /* default 443 */
    int parallel;          /* 0 = service default */
    int ctx;               /* 0 = service default */
    int threads;           /* 0 = service default */
    lb_hugepages_setting hugepages; /* common/hugepages.h: auto (default), off, N, 1G, N:1G */
    char power[32];        /* "" = service default */
    int debug;             /* 0/1: debug logging */
    int test;              /* llmbox.test=1: test-only hooks (never on by default) */
    unsigned from_cmdline; /* bit per key (enum lb_cfg_key) set by the command line */
} lb_init_config;

/* Reports an unknown key or bad value; ud is the caller's. */
typedef void (*lb_cfg_report_fn)(void *ud, const char *source, const char *key, const char *why);

void lb_init_config_defaults(lb_init_config *cfg);

/* Parses /proc/cmdline text: words "llmbox.KEY=VALUE" (other words are the kernel's and are
 * ignored). Bad values are reported and leave the default. Returns the number of problems. */
int lb_init_config_parse_cmdline(lb_init_config *cfg, const char *cmdline, lb_cfg_report_fn report, void *ud);

/* Parses llmbox.conf text: "key = value" lines, '#' comments, keys with or without the
 * "llmbox." prefix. Keys already set on the command line keep their value. */
int lb_init_config_parse_conf(lb_init_config *cfg, const char *text, lb_cfg_report_fn report, void *ud);

/* "ADDR/PREFIX,GW" or "ADDR/PREFIX" (host byte order results). */
int lb_parse_ipv4_cidr(const char *s, uint32_t *addr, int *prefix, uint32_t *gw);
int lb_parse_ipv4(const char *s, uint32_t *addr);
void lb_format_ipv4(uint32_t addr, char *buf, int cap);

#endif
