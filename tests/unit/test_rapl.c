/* Energy accounting against a fake powercap tree whose package counter wraps. */
#include "../lib/harness.h"
#include "../lib/fake_tree.h"
#include "rapl.h"

#include <unistd.h>

#define PKG0 "class/powercap/intel-rapl:0/energy_uj"
#define PKG1 "class/powercap/intel-rapl:1/energy_uj"
#define RANGE 262143328850ull

static const char *build(const char *name)
{
    const char *root = ft_root(lb_test_tmpdir(), name);
    ft_put(root, "class/powercap/intel-rapl/enabled", "1");  /* the control type: no counter */
    ft_put(root, "class/powercap/intel-rapl:0/name", "package-0");
    ft_put(root, PKG0, "%llu", RANGE - 500000);  /* 0.5 J before the wrap */
    ft_put(root, "class/powercap/intel-rapl:0/max_energy_range_uj", "%llu", RANGE);
    ft_put(root, "class/powercap/intel-rapl:0:0/name", "core");  /* inside package-0: not summed */
    ft_put(root, "class/powercap/intel-rapl:0:0/energy_uj", "1000");
    ft_put(root, "class/powercap/intel-rapl:0:0/max_energy_range_uj", "%llu", RANGE);
    ft_put(root, "class/powercap/intel-rapl:1/name", "package-1");
    ft_put(root, PKG1, "7000000");
    ft_put(root, "class/powercap/intel-rapl:1/max_energy_range_uj", "%llu", RANGE);
    ft_put(root, "class/powercap/intel-rapl:2/name", "psys");  /* whole platform: overlaps */
    ft_put(root, "class/powercap/intel-rapl:2/energy_uj", "5");
    ft_put(root, "class/powercap/intel-rapl-mmio:0/name", "package-0");  /* duplicate interface */
    ft_put(root, "class/powercap/intel-rapl-mmio:0/energy_uj", "5");
    return root;
}

TEST(sums_packages_and_handles_wraparound)
{
    const char *root = build("wrap");
    lb_energy *e = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_energy_open(root, &e, &err), LB_OK);
    CHECK_EQ(lb_energy_zones(e), 2);
    CHECK_STR(lb_energy_zone_name(e, 0), "package-0");
    CHECK_STR(lb_energy_zone_name(e, 1), "package-1");
    lb_energy_sample a, b;
    CHECK(lb_energy_sample_now(e, &a));
    /* package-0 wraps: 0.5 J up to the range, then 1.5 J after it; package-1 adds 3 J. */
    ft_put(root, PKG0, "1500000");
    ft_put(root, PKG1, "10000000");
    CHECK(lb_energy_sample_now(e, &b));
    a.t_ns = 0;
    b.t_ns = 2000000000ull;
    lb_energy_delta d = lb_energy_between(e, &a, &b);
    CHECK_NEAR(d.joules, 5.0, 1e-9);
    CHECK_NEAR(d.seconds, 2.0, 1e-12);
    CHECK_NEAR(d.watts, 2.5, 1e-9);
    CHECK_NEAR(lb_energy_per_token(&d, 10), 0.5, 1e-12);
    CHECK_NEAR(lb_energy_per_token(&d, 0), 0.0, 0);
    /* the running total saw the same wrap */
    CHECK_NEAR(lb_energy_total_joules(e), 5.0, 1e-9);
    ft_put(root, PKG1, "11000000");
    CHECK_NEAR(lb_energy_total_joules(e), 6.0, 1e-9);
    lb_energy_close(e);
}

TEST(no_powercap_is_not_supported)
{
    const char *root = ft_root(lb_test_tmpdir(), "none");
    ft_dir(root, "class");
    lb_energy *e = (lb_energy *)1;
    lb_err err = { 0 };
    CHECK_EQ(lb_energy_open(root, &e, &err), LB_ENOTSUP);
    CHECK(e == NULL);
    CHECK(strstr(err.msg, "RAPL") != NULL);
    lb_energy_sample s;
    CHECK(!lb_energy_sample_now(NULL, &s));
    CHECK_NEAR(lb_energy_total_joules(NULL), 0.0, 0);
}

TEST(unreadable_counter_gives_invalid_sample)
{
    const char *root = build("gone");
    lb_energy *e = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_energy_open(root, &e, &err), LB_OK);
    lb_energy_sample a, b;
    CHECK(lb_energy_sample_now(e, &a));
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, PKG1);
    CHECK_EQ(unlink(p), 0);
    CHECK(!lb_energy_sample_now(e, &b));
    lb_energy_delta d = lb_energy_between(e, &a, &b);
    CHECK_NEAR(d.joules, 0.0, 0);
    lb_energy_close(e);
}
