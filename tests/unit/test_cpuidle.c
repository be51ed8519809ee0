/* Core sleep control against fake cpuidle/hotplug trees. */
#include "../lib/harness.h"
#include "../lib/fake_tree.h"
#include "../lib/strict_sysfs.h"
#include "cpuidle.h"
#include "log.h"

static const char *st_file(int cpu, int st, const char *f)
{
    static char b[8][128];
    static int k;
    char *s = b[k++ % 8];
    snprintf(s, 128, "devices/system/cpu/cpu%d/cpuidle/state%d/%s", cpu, st, f);
    return s;
}

static const char *online_file(int cpu)
{
    static char b[4][64];
    static int k;
    char *s = b[k++ % 4];
    snprintf(s, 64, "devices/system/cpu/cpu%d/online", cpu);
    return s;
}

/* 4 CPUs, intel_idle-like states: POLL 0us, C1 2us, C1E 10us, C6 170us, C10 890us.
 * C10 on cpu1 was disabled by the user before we started. */
static const char *build(const char *name, int with_latency)
{
    static const char *names[] = { "POLL", "C1", "C1E", "C6", "C10" };
    static const int lat[] = { 0, 2, 10, 170, 890 };
    const char *root = ft_root(lb_test_tmpdir(), name);
    ft_put(root, "devices/system/cpu/cpuidle/current_driver", "intel_idle");
    for (int c = 0; c < 4; c++) {
        ft_put(root, online_file(c), "1");
        for (int s = 0; s < 5; s++) {
            ft_put(root, st_file(c, s, "name"), "%s", names[s]);
            if (with_latency)
                ft_put(root, st_file(c, s, "latency"), "%d", lat[s]);
            ft_put(root, st_file(c, s, "disable"), "%d", c == 1 && s == 4);
        }
    }
    return root;
}

/* mode: 1 busy, 0 idle (every deep state enabled), 2 as found */
static void expect_states(const char *root, int mode)
{
    for (int c = 0; c < 4; c++)
        for (int s = 0; s < 5; s++) {
            const char *want = "0";
            if (s >= 3 && (mode == 1 || (mode == 2 && c == 1 && s == 4)))
                want = "1";
            CHECK_MSG(strcmp(ft_get(root, st_file(c, s, "disable")), want) == 0, "cpu%d state%d: %s, want %s", c,
                      s, ft_get(root, st_file(c, s, "disable")), want);
        }
}

TEST(deep_states_off_while_busy_and_restored)
{
    const char *root = build("lat", 1);
    g_strict = (strict_fs){ 0 };
    lb_sysfs fs;
    lb_err err = { 0 };
    lb_sysfs_init(&fs, root, NULL, &err);
    fs.ops = &g_strict_ops;
    lb_cpuidle ci;
    lb_cpuidle_config cfg = LB_CPUIDLE_CONFIG_DEFAULT;
    CHECK_EQ(lb_cpuidle_open(&ci, &fs, &cfg, &err), LB_OK);
    CHECK_STR(ci.driver, "intel_idle");
    CHECK_EQ(ci.ndeep, 8);  /* C6 + C10 on 4 CPUs; C1E (10us) is shallow at the 20us default */
    CHECK_EQ(lb_cpuidle_apply(&ci, LB_PROFILE_BUSY), 0);
    expect_states(root, 1);
    CHECK_EQ(lb_cpuidle_apply(&ci, LB_PROFILE_IDLE), 0);
    expect_states(root, 0);
    CHECK_EQ(lb_cpuidle_apply(&ci, LB_PROFILE_BUSY), 0);
    CHECK_EQ(lb_cpuidle_restore(&ci), 0);
    expect_states(root, 2);
    for (int c = 0; c < 4; c++)
        CHECK_STR(ft_get(root, online_file(c)), "1");  /* hotplug not configured: untouched */
    CHECK_EQ(fs.warnings, 0);
    lb_cpuidle_close(&ci);
    lb_sysfs_free(&fs);
}

TEST(latency_threshold_is_configurable)
{
    const char *root = build("thr", 1);
    lb_sysfs fs;
    lb_err err = { 0 };
    lb_sysfs_init(&fs, root, NULL, &err);
    lb_cpuidle ci;
    lb_cpuidle_config cfg = { .busy_max_latency_us = 5 };
    CHECK_EQ(lb_cpuidle_open(&ci, &fs, &cfg, &err), LB_OK);
    CHECK_EQ(ci.ndeep, 12);  /* now C1E counts as deep too */
    lb_cpuidle_apply(&ci, LB_PROFILE_BUSY);
    CHECK_STR(ft_get(root, st_file(2, 2, "disable")), "1");
    CHECK_STR(ft_get(root, st_file(2, 1, "disable")), "0");
    lb_cpuidle_restore(&ci);
    CHECK_STR(ft_get(root, st_file(2, 2, "disable")), "0");
    lb_cpuidle_close(&ci);
    lb_sysfs_free(&fs);
}

TEST(without_latency_files_state2_and_up_are_deep)
{
    const char *root = build("nolat", 0);
    lb_sysfs fs;
    lb_err err = { 0 };
    lb_sysfs_init(&fs, root, NULL, &err);
    lb_cpuidle ci;
    CHECK_EQ(lb_cpuidle_open(&ci, &fs, NULL, &err), LB_OK);
    CHECK_EQ(ci.ndeep, 12);
    lb_cpuidle_apply(&ci, LB_PROFILE_BUSY);
    CHECK_STR(ft_get(root, st_file(0, 2, "disable")), "1");
    CHECK_STR(ft_get(root, st_file(0, 1, "disable")), "0");
    lb_cpuidle_close(&ci);
    lb_sysfs_free(&fs);
}

TEST(surplus_cores_offline_when_idle_never_cpu0)
{
    const char *root = build("hotplug", 1);
    g_strict = (strict_fs){ 0 };
    lb_sysfs fs;
    lb_err err = { 0 };
    lb_sysfs_init(&fs, root, NULL, &err);
    fs.ops = &g_strict_ops;
    lb_cpuidle ci;
    lb_cpuidle_config cfg = { .busy_max_latency_us = 20, .idle_online_cpus = 2 };
    CHECK_EQ(lb_cpuidle_open(&ci, &fs, &cfg, &err), LB_OK);
    CHECK_EQ(ci.nonline, 2);
    CHECK_EQ(lb_cpuidle_apply(&ci, LB_PROFILE_IDLE), 0);
    CHECK_STR(ft_get(root, online_file(0)), "1");
    CHECK_STR(ft_get(root, online_file(1)), "1");
    CHECK_STR(ft_get(root, online_file(2)), "0");
    CHECK_STR(ft_get(root, online_file(3)), "0");
    CHECK_EQ(lb_cpuidle_apply(&ci, LB_PROFILE_BUSY), 0);
    CHECK_STR(ft_get(root, online_file(2)), "1");
    CHECK_STR(ft_get(root, online_file(3)), "1");
    lb_cpuidle_apply(&ci, LB_PROFILE_IDLE);
    CHECK_EQ(lb_cpuidle_restore(&ci), 0);
    for (int c = 0; c < 4; c++)
        CHECK_STR(ft_get(root, online_file(c)), "1");
    lb_cpuidle_close(&ci);
    lb_sysfs_free(&fs);

    /* idle_online_cpus = 1 would leave only cpu0; cpu0 itself is never written. */
    g_strict = (strict_fs){ .readonly = { "cpu0/online" } };
    lb_sysfs_init(&fs, root, NULL, &err);
    fs.ops = &g_strict_ops;
    cfg.idle_online_cpus = 1;
    CHECK_EQ(lb_cpuidle_open(&ci, &fs, &cfg, &err), LB_OK);
    CHECK_EQ(ci.nonline, 3);
    CHECK_EQ(lb_cpuidle_apply(&ci, LB_PROFILE_IDLE), 0);
    CHECK_EQ(g_strict.refused, 0);
    CHECK_STR(ft_get(root, online_file(1)), "0");
    lb_cpuidle_restore(&ci);
    CHECK_STR(ft_get(root, online_file(1)), "1");
    lb_cpuidle_close(&ci);
    lb_sysfs_free(&fs);
}

TEST(read_only_state_warns_once)
{
    const char *root = build("ro", 1);
    g_strict = (strict_fs){ .readonly = { "cpu3/cpuidle/state3/disable" } };
    FILE *log = tmpfile();
    lb_log_set_stream(log);
    lb_sysfs fs;
    lb_err err = { 0 };
    lb_sysfs_init(&fs, root, NULL, &err);
    fs.ops = &g_strict_ops;
    lb_cpuidle ci;
    CHECK_EQ(lb_cpuidle_open(&ci, &fs, NULL, &err), LB_OK);
    CHECK_EQ(lb_cpuidle_apply(&ci, LB_PROFILE_BUSY), 1);
    CHECK_EQ(lb_cpuidle_apply(&ci, LB_PROFILE_IDLE), 0);
    CHECK_EQ(lb_cpuidle_apply(&ci, LB_PROFILE_BUSY), 0);
    CHECK_STR(ft_get(root, st_file(3, 3, "disable")), "0");
    CHECK_STR(ft_get(root, st_file(3, 4, "disable")), "1");
    CHECK_EQ(lb_cpuidle_restore(&ci), 0);
    lb_log_set_stream(NULL);
    CHECK_EQ(fs.warnings, 1);
    char line[600];
    int warns = 0;
    rewind(log);
    while (fgets(line, sizeof line, log))
        warns += strstr(line, ": warn: ") != NULL;
    CHECK_EQ(warns, 1);
    fclose(log);
    lb_cpuidle_close(&ci);
    lb_sysfs_free(&fs);
}

TEST(no_cpuidle_at_all)
{
    const char *root = ft_root(lb_test_tmpdir(), "none");
    ft_put(root, "devices/system/cpu/cpu0/topology/core_id", "0");
    lb_sysfs fs;
    lb_err err = { 0 };
    lb_sysfs_init(&fs, root, NULL, &err);
    lb_cpuidle ci;
    lb_cpuidle_config cfg = { .busy_max_latency_us = 20, .idle_online_cpus = 1 };
    CHECK_EQ(lb_cpuidle_open(&ci, &fs, &cfg, &err), LB_OK);
    CHECK_EQ(ci.nstates, 0);
    CHECK_EQ(ci.nonline, 0);
    CHECK_STR(ci.driver, "");
    CHECK_EQ(lb_cpuidle_apply(&ci, LB_PROFILE_BUSY), 0);
    CHECK_EQ(lb_cpuidle_restore(&ci), 0);
    CHECK_EQ(fs.warnings, 0);
    lb_cpuidle_close(&ci);
    lb_sysfs_free(&fs);
}
