/* CPU frequency control against fake sysfs trees, one per driver family. The strict ops
 * layer refuses what the kernel refuses, so wrong write orders fail the tests. */
#include "../lib/harness.h"
#include "../lib/fake_tree.h"
#include "../lib/strict_sysfs.h"
#include "cpufreq.h"
#include "log.h"

typedef struct drv_spec {
    const char *driver;      /* scaling_driver */
    const char *governors;   /* scaling_available_governors */
    const char *governor;    /* original governor */
    const char *epp;         /* original EPP, NULL: no EPP file */
    const char *turbo;       /* "no_turbo", "boost" or NULL */
    const char *turbo_orig;
} drv_spec;

#define POL "devices/system/cpu/cpufreq/policy"
#define NO_TURBO "devices/system/cpu/intel_pstate/no_turbo"
#define BOOST "devices/system/cpu/cpufreq/boost"

static const char *pol_file(int i, const char *f)
{
    static char b[8][128];
    static int k;
    char *s = b[k++ % 8];
    snprintf(s, 128, POL "%d/%s", i, f);
    return s;
}

static void build(const char *root, const drv_spec *d, int npol)
{
    for (int i = 0; i < npol; i++) {
        ft_put(root, pol_file(i, "scaling_driver"), "%s", d->driver);
        ft_put(root, pol_file(i, "scaling_available_governors"), "%s", d->governors);
        ft_put(root, pol_file(i, "scaling_governor"), "%s", d->governor);
        ft_put(root, pol_file(i, "cpuinfo_min_freq"), "800000");
        ft_put(root, pol_file(i, "cpuinfo_max_freq"), "4000000");
        ft_put(root, pol_file(i, "scaling_min_freq"), "1200000");
        ft_put(root, pol_file(i, "scaling_max_freq"), "3500000");
        if (d->epp) {
            ft_put(root, pol_file(i, "energy_performance_preference"), "%s", d->epp);
            ft_put(root, pol_file(i, "energy_performance_available_preferences"),
                   "default performance balance_performance balance_power power");
        }
    }
    if (d->turbo)
        ft_put(root, strcmp(d->turbo, "no_turbo") == 0 ? NO_TURBO : BOOST, "%s", d->turbo_orig);
}

/* Checks every file of every policy against the expected profile values. */
static void expect(const char *root, const drv_spec *d, int npol, const char *gov, const char *epp,
                   const char *min, const char *max, const char *turbo)
{
    for (int i = 0; i < npol; i++) {
        CHECK_STR(ft_get(root, pol_file(i, "scaling_governor")), gov);
        if (d->epp)
            CHECK_STR(ft_get(root, pol_file(i, "energy_performance_preference")), epp);
        else
            CHECK_STR(ft_get(root, pol_file(i, "energy_performance_preference")), "<missing>");
        CHECK_STR(ft_get(root, pol_file(i, "scaling_min_freq")), min);
        CHECK_STR(ft_get(root, pol_file(i, "scaling_max_freq")), max);
    }
    if (d->turbo)
        CHECK_STR(ft_get(root, strcmp(d->turbo, "no_turbo") == 0 ? NO_TURBO : BOOST), turbo);
}

/* Busy, idle, busy again, restore: every file holds the right value at each step, the
 * strict kernel refused nothing and no warning was printed. */
static void run_family(const char *name, const drv_spec *d, lb_cpufreq_driver want, const char *idle_gov,
                       const char *turbo_busy, const char *turbo_idle)
{
    const char *root = ft_root(lb_test_tmpdir(), name);
    build(root, d, 2);
    g_strict = (strict_fs){ 0 };
    lb_sysfs fs;
    lb_err err = { 0 };
    CHECK_EQ(lb_sysfs_init(&fs, root, NULL, &err), LB_OK);
    fs.ops = &g_strict_ops;
    lb_cpufreq cf;
    CHECK_EQ(lb_cpufreq_open(&cf, &fs, &err), LB_OK);
    CHECK_EQ(cf.driver, want);
    CHECK_EQ(cf.npolicies, 2);

    CHECK_EQ(lb_cpufreq_apply(&cf, LB_PROFILE_BUSY), 0);
    expect(root, d, 2, "performance", "performance", "4000000", "4000000", turbo_busy);
    CHECK_EQ(lb_cpufreq_apply(&cf, LB_PROFILE_IDLE), 0);
    expect(root, d, 2, idle_gov, "power", "800000", "4000000", turbo_idle);
    CHECK_EQ(lb_cpufreq_apply(&cf, LB_PROFILE_BUSY), 0);
    expect(root, d, 2, "performance", "performance", "4000000", "4000000", turbo_busy);
    CHECK_EQ(lb_cpufreq_restore(&cf), 0);
    expect(root, d, 2, d->governor, d->epp ? d->epp : "", "1200000", "3500000", d->turbo_orig);

    CHECK_EQ(g_strict.refused, 0);
    CHECK_EQ(fs.warnings, 0);
    CHECK(g_strict.writes > 0);
    lb_cpufreq_close(&cf);
    lb_sysfs_free(&fs);
}

TEST(intel_pstate_active)
{
    drv_spec d = { "intel_pstate", "performance powersave", "powersave", "balance_performance", "no_turbo", "0" };
    run_family("ipa", &d, LB_CPUFREQ_INTEL_PSTATE_ACTIVE, "powersave", "0", "1");
}

TEST(intel_pstate_active_from_performance_governor)
{
    /* Original governor performance: restoring must set the governor before the EPP. */
    drv_spec d = { "intel_pstate", "performance powersave", "performance", "performance", "no_turbo", "1" };
    run_family("ipa2", &d, LB_CPUFREQ_INTEL_PSTATE_ACTIVE, "powersave", "0", "1");
}

TEST(intel_pstate_passive)
{
    drv_spec d = { "intel_cpufreq", "conservative ondemand userspace powersave performance schedutil", "schedutil",
                   NULL, "no_turbo", "0" };
    run_family("ipp", &d, LB_CPUFREQ_INTEL_PSTATE_PASSIVE, "schedutil", "0", "1");
}

TEST(amd_pstate_epp)
{
    drv_spec d = { "amd-pstate-epp", "performance powersave", "powersave", "balance_power", "boost", "1" };
    run_family("ape", &d, LB_CPUFREQ_AMD_PSTATE_EPP, "powersave", "1", "0");
}

TEST(amd_pstate_passive)
{
    drv_spec d = { "amd-pstate", "conservative ondemand userspace powersave performance schedutil", "schedutil",
                   NULL, "boost", "1" };
    run_family("ap", &d, LB_CPUFREQ_AMD_PSTATE, "schedutil", "1", "0");
}

TEST(acpi_cpufreq)
{
    /* No schedutil offered: ondemand is the idle governor. */
    drv_spec d = { "acpi-cpufreq", "conservative ondemand userspace powersave performance", "userspace", NULL,
                   "boost", "0" };
    run_family("acpi", &d, LB_CPUFREQ_ACPI, "ondemand", "1", "0");
}

TEST(cppc_cpufreq)
{
    drv_spec d = { "cppc_cpufreq", "ondemand performance schedutil", "ondemand", NULL, NULL, NULL };
    run_family("cppc", &d, LB_CPUFREQ_CPPC, "schedutil", NULL, NULL);
}

TEST(no_cpufreq_at_all)
{
    const char *root = ft_root(lb_test_tmpdir(), "none");
    ft_dir(root, "devices/system/cpu/cpu0");
    lb_sysfs fs;
    lb_err err = { 0 };
    CHECK_EQ(lb_sysfs_init(&fs, root, NULL, &err), LB_OK);
    lb_cpufreq cf;
    CHECK_EQ(lb_cpufreq_open(&cf, &fs, &err), LB_OK);
    CHECK_EQ(cf.driver, LB_CPUFREQ_NONE);
    CHECK_EQ(cf.npolicies, 0);
    CHECK_EQ(lb_cpufreq_apply(&cf, LB_PROFILE_BUSY), 0);
    CHECK_EQ(lb_cpufreq_restore(&cf), 0);
    CHECK_EQ(fs.warnings, 0);
    CHECK_STR(ft_get(root, "devices/system/cpu/cpufreq/boost"), "<missing>");
    lb_cpufreq_close(&cf);
    lb_sysfs_free(&fs);
}

static int count_lines(FILE *f, const char *needle)
{
    char line[600];
    int n = 0;
    rewind(f);
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    return n;
}

TEST(read_only_file_warns_once_and_is_skipped)
{
    drv_spec d = { "intel_pstate", "performance powersave", "powersave", "balance_performance", "no_turbo", "0" };
    const char *root = ft_root(lb_test_tmpdir(), "ro");
    build(root, &d, 2);
    g_strict = (strict_fs){ .readonly = { "policy1/scaling_governor" } };
    FILE *log = tmpfile();
    lb_log_set_stream(log);
    lb_sysfs fs;
    lb_err err = { 0 };
    lb_sysfs_init(&fs, root, NULL, &err);
    fs.ops = &g_strict_ops;
    lb_cpufreq cf;
    CHECK_EQ(lb_cpufreq_open(&cf, &fs, &err), LB_OK);
    CHECK_EQ(lb_cpufreq_apply(&cf, LB_PROFILE_BUSY), 1);
    CHECK_EQ(lb_cpufreq_apply(&cf, LB_PROFILE_IDLE), 0);
    CHECK_EQ(lb_cpufreq_apply(&cf, LB_PROFILE_BUSY), 0);
    /* The refused file kept its value; everything else followed the profile. */
    CHECK_STR(ft_get(root, pol_file(1, "scaling_governor")), "powersave");
    CHECK_STR(ft_get(root, pol_file(0, "scaling_governor")), "performance");
    CHECK_STR(ft_get(root, pol_file(1, "scaling_min_freq")), "4000000");
    CHECK_STR(ft_get(root, pol_file(1, "energy_performance_preference")), "performance");
    CHECK_EQ(lb_cpufreq_restore(&cf), 0);
    CHECK_STR(ft_get(root, pol_file(0, "scaling_governor")), "powersave");
    CHECK_STR(ft_get(root, pol_file(1, "scaling_min_freq")), "1200000");
    lb_log_set_stream(NULL);
    CHECK_EQ(fs.warnings, 1);
    CHECK_EQ(count_lines(log, "policy1/scaling_governor"), 1);
    CHECK_EQ(count_lines(log, ": warn: "), 1);
    fclose(log);
    lb_cpufreq_close(&cf);
    lb_sysfs_free(&fs);
}

TEST(missing_and_directory_files_warn_once)
{
    /* intel_pstate without EPP on policy0 (expected there: one warning) and a directory
     * where policy1's scaling_max_freq should be (unreadable: min/max skipped there). */
    drv_spec d = { "intel_pstate", "performance powersave", "powersave", "balance_performance", "no_turbo", "0" };
    const char *root = ft_root(lb_test_tmpdir(), "missing");
    build(root, &d, 2);
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, pol_file(0, "energy_performance_preference"));
    CHECK_EQ(unlink(p), 0);
    snprintf(p, sizeof p, "%s/%s", root, pol_file(1, "scaling_max_freq"));
    CHECK_EQ(unlink(p), 0);
    CHECK_EQ(mkdir(p, 0755), 0);
    FILE *log = tmpfile();
    lb_log_set_stream(log);
    lb_sysfs fs;
    lb_err err = { 0 };
    lb_sysfs_init(&fs, root, NULL, &err);  /* plain file I/O: the directory fails for real */
    lb_cpufreq cf;
    CHECK_EQ(lb_cpufreq_open(&cf, &fs, &err), LB_OK);
    CHECK_EQ(lb_cpufreq_apply(&cf, LB_PROFILE_BUSY), 0);
    CHECK_EQ(lb_cpufreq_apply(&cf, LB_PROFILE_IDLE), 0);
    CHECK_EQ(lb_cpufreq_apply(&cf, LB_PROFILE_BUSY), 0);
    CHECK_STR(ft_get(root, pol_file(0, "scaling_governor")), "performance");
    CHECK_STR(ft_get(root, pol_file(0, "scaling_min_freq")), "4000000");
    CHECK_STR(ft_get(root, pol_file(1, "energy_performance_preference")), "performance");
    CHECK_STR(ft_get(root, pol_file(1, "scaling_min_freq")), "1200000");  /* skipped */
    CHECK_STR(ft_get(root, pol_file(0, "energy_performance_preference")), "<missing>");  /* not created */
    CHECK_EQ(lb_cpufreq_restore(&cf), 0);
    lb_log_set_stream(NULL);
    CHECK_EQ(fs.warnings, 2);
    CHECK_EQ(count_lines(log, ": warn: "), 2);
    fclose(log);
    lb_cpufreq_close(&cf);
    lb_sysfs_free(&fs);
}

TEST(governor_choice_follows_availability)
{
    lb_cpufreq cf = { .driver = LB_CPUFREQ_ACPI };
    lb_cpufreq_policy p = { 0 };
    snprintf(p.governors, sizeof p.governors, "userspace powersave");
    CHECK_STR(lb_cpufreq_governor_for(&cf, &p, LB_PROFILE_BUSY), "");       /* none offered: leave */
    CHECK_STR(lb_cpufreq_governor_for(&cf, &p, LB_PROFILE_IDLE), "powersave");
    snprintf(p.governors, sizeof p.governors, "conservative performance");
    CHECK_STR(lb_cpufreq_governor_for(&cf, &p, LB_PROFILE_IDLE), "conservative");
    /* "performance" must match a whole word, not a prefix of another name. */
    snprintf(p.governors, sizeof p.governors, "performancex schedutil");
    CHECK_STR(lb_cpufreq_governor_for(&cf, &p, LB_PROFILE_BUSY), "");
    snprintf(p.epps, sizeof p.epps, "default balance_power");
    CHECK_STR(lb_cpufreq_epp_for(&p, LB_PROFILE_IDLE), "balance_power");
    CHECK_STR(lb_cpufreq_epp_for(&p, LB_PROFILE_BUSY), "");
}
