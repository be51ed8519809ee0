#include "../lib/harness.h"
#include "init_config.h"

static int reports;
static char last_key[64];
static void count_report(void *ud, const char *source, const char *key, const char *why)
{
    (void)ud; (void)source; (void)why;
    reports++;
    snprintf(last_key, sizeof last_key, "%s", key);
}

TEST(cmdline_sets_every_key)
{
    lb_init_config c;
    lb_init_config_defaults(&c);
    reports = 0;
    int p = lb_init_config_parse_cmdline(&c,
        "BOOT_IMAGE=/vmlinuz console=ttyS0 llmbox.model=tiny.gguf llmbox.ip=192.168.1.50/24,192.168.1.1 "
        "llmbox.port=8443 llmbox.parallel=4 llmbox.ctx=2048 llmbox.threads=3 llmbox.hugepages=16 "
        "llmbox.power=balanced llmbox.debug=1 quiet", count_report, NULL);
    CHECK_EQ(p, 0);
    CHECK_EQ(reports, 0);
    CHECK_STR(c.model, "tiny.gguf");
    CHECK(!c.ip_dhcp);
    CHECK_EQ(c.ip_addr, 0xC0A80132u);
    CHECK_EQ(c.ip_prefix, 24);
    CHECK_EQ(c.ip_gw, 0xC0A80101u);
    CHECK_EQ(c.port, 8443);
    CHECK_EQ(c.parallel, 4);
    CHECK_EQ(c.ctx, 2048);
    CHECK_EQ(c.threads, 3);
    CHECK_EQ(c.hugepages.mode, LB_HUGEPAGES_COUNT);
    CHECK_EQ(c.hugepages.count, 16);
    CHECK_STR(c.power, "balanced");
    CHECK_EQ(c.debug, 1);
    CHECK_EQ(c.test, 0);
}

TEST(defaults_are_dhcp_port_443_auto_hugepages_no_test_hooks)
{
    lb_init_config c;
    lb_init_config_defaults(&c);
    CHECK_EQ(lb_init_config_parse_cmdline(&c, "console=ttyS0 quiet", NULL, NULL), 0);
    CHECK(c.ip_dhcp);
    CHECK_EQ(c.port, 443);
    CHECK_EQ(c.hugepages.mode, LB_HUGEPAGES_AUTO);
    CHECK_EQ(c.test, 0);
    CHECK_STR(c.model, "");
}

TEST(bad_values_and_unknown_keys_are_reported_not_fatal)
{
    lb_init_config c;
    lb_init_config_defaults(&c);
    reports = 0;
    int p = lb_init_config_parse_cmdline(&c, "llmbox.port=99999 llmbox.ip=10.0.0.1 llmbox.ctx=-5 "
                                         "llmbox.hugepages=lots llmbox.colour=blue llmbox.threads=2", count_report, NULL);
    CHECK_EQ(p, 5);
    CHECK_EQ(reports, 5);
    CHECK_EQ(c.port, 443);
    CHECK(c.ip_dhcp);
    CHECK_EQ(c.ctx, 0);
    CHECK_EQ(c.hugepages.mode, LB_HUGEPAGES_AUTO);
    CHECK_EQ(c.threads, 2);
}

TEST(conf_file_fills_in_but_cmdline_wins)
{
    lb_init_config c;
    lb_init_config_defaults(&c);
    lb_init_config_parse_cmdline(&c, "llmbox.port=8443 llmbox.hugepages=off", NULL, NULL);
    reports = 0;
    int p = lb_init_config_parse_conf(&c,
        "# comment\n"
        "port = 9000\n"
        "  llmbox.ctx=512   # trailing comment\n"
        "model=big.gguf\r\n"
        "hugepages=auto\n"
        "\n"
        "nonsense line\n"
        "unknown=1", count_report, NULL);
    CHECK_EQ(p, 2);
    CHECK_EQ(reports, 2);
    CHECK_STR(last_key, "unknown");
    CHECK_EQ(c.port, 8443);                   /* command line wins */
    CHECK_EQ(c.hugepages.mode, LB_HUGEPAGES_OFF);  /* command line wins */
    CHECK_EQ(c.ctx, 512);
    CHECK_STR(c.model, "big.gguf");
}

TEST(ipv4_parsing_rejects_junk)
{
    uint32_t a, gw;
    int p;
    CHECK_EQ(lb_parse_ipv4("10.0.2.15", &a), 0);
    CHECK_EQ(a, 0x0A00020Fu);
    CHECK(lb_parse_ipv4("256.0.0.1", &a) != 0);
    CHECK(lb_parse_ipv4("1.2.3", &a) != 0);
    CHECK(lb_parse_ipv4("1.2.3.4.5", &a) != 0);
    CHECK(lb_parse_ipv4("1.2.3.0004", &a) != 0);
    CHECK(lb_parse_ipv4("", &a) != 0);
    CHECK_EQ(lb_parse_ipv4_cidr("10.1.2.3/8", &a, &p, &gw), 0);
    CHECK_EQ(p, 8);
    CHECK_EQ(gw, 0);
    CHECK(lb_parse_ipv4_cidr("10.1.2.3/33", &a, &p, &gw) != 0);
    CHECK(lb_parse_ipv4_cidr("10.1.2.3/24,1.2.3", &a, &p, &gw) != 0);
    char buf[16];
    lb_format_ipv4(0x0A00020Fu, buf, sizeof buf);
    CHECK_STR(buf, "10.0.2.15");
}

TEST(overlong_cmdline_word_is_reported)
{
    lb_init_config c;
    lb_init_config_defaults(&c);
    char line[1200] = "llmbox.model=";
    memset(line + 13, 'a', 1100);
    line[1113] = 0;
    reports = 0;
    CHECK_EQ(lb_init_config_parse_cmdline(&c, line, count_report, NULL), 1);
    CHECK_STR(c.model, "");
}
