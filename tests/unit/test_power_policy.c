/* The power policy state machine (pure, clock passed in) and the controller around it,
 * against a fake intel_pstate + intel_idle tree with an injected clock. */
#include "../lib/harness.h"
#include "../lib/fake_tree.h"
#include "../lib/strict_sysfs.h"
#include "power_policy.h"

#include <time.h>
#include <unistd.h>

#define NC LB_POWER_NO_CHANGE
#define BUSY ((int)LB_PROFILE_BUSY)
#define IDLE ((int)LB_PROFILE_IDLE)

TEST(balanced_busy_on_request_idle_after_delay)
{
    lb_power_sm sm;
    CHECK_EQ(lb_power_sm_init(&sm, LB_POWER_BALANCED, 1000), IDLE);
    CHECK_EQ(lb_power_sm_wait_ms(&sm, 0), UINT64_MAX);
    CHECK_EQ(lb_power_sm_begin(&sm, 100), BUSY);
    CHECK_EQ(lb_power_sm_begin(&sm, 150), NC);  /* second request: already busy */
    CHECK_EQ(lb_power_sm_end(&sm, 200), NC);    /* one still running */
    CHECK_EQ(lb_power_sm_wait_ms(&sm, 200), UINT64_MAX);
    CHECK_EQ(lb_power_sm_end(&sm, 300), NC);    /* none running: the delay starts */
    CHECK_EQ(lb_power_sm_wait_ms(&sm, 300), 1000);
    CHECK_EQ(lb_power_sm_tick(&sm, 1299), NC);
    CHECK_EQ(lb_power_sm_wait_ms(&sm, 1299), 1);
    CHECK_EQ(lb_power_sm_tick(&sm, 1300), IDLE);
    CHECK_EQ(lb_power_sm_tick(&sm, 5000), NC);
    CHECK_EQ(lb_power_sm_wait_ms(&sm, 5000), UINT64_MAX);
}

TEST(balanced_request_within_delay_stays_busy)
{
    lb_power_sm sm;
    lb_power_sm_init(&sm, LB_POWER_BALANCED, 1000);
    CHECK_EQ(lb_power_sm_begin(&sm, 0), BUSY);
    CHECK_EQ(lb_power_sm_end(&sm, 10), NC);
    CHECK_EQ(lb_power_sm_begin(&sm, 500), NC);  /* cancels the pending drop */
    CHECK_EQ(lb_power_sm_tick(&sm, 1100), NC);  /* the old deadline has no effect */
    CHECK_EQ(lb_power_sm_end(&sm, 1200), NC);
    CHECK_EQ(lb_power_sm_tick(&sm, 2199), NC);
    CHECK_EQ(lb_power_sm_tick(&sm, 2200), IDLE);
}

TEST(balanced_zero_delay_drops_at_once)
{
    lb_power_sm sm;
    lb_power_sm_init(&sm, LB_POWER_BALANCED, 0);
    CHECK_EQ(lb_power_sm_begin(&sm, 5), BUSY);
    CHECK_EQ(lb_power_sm_end(&sm, 6), IDLE);
}

TEST(performance_and_powersave_ignore_requests)
{
    lb_power_sm sm;
    CHECK_EQ(lb_power_sm_init(&sm, LB_POWER_PERFORMANCE, 1000), BUSY);
    CHECK_EQ(lb_power_sm_begin(&sm, 0), NC);
    CHECK_EQ(lb_power_sm_end(&sm, 1), NC);
    CHECK_EQ(lb_power_sm_tick(&sm, 99999), NC);
    CHECK_EQ(lb_power_sm_init(&sm, LB_POWER_POWERSAVE, 1000), IDLE);
    CHECK_EQ(lb_power_sm_begin(&sm, 0), NC);
    CHECK_EQ(lb_power_sm_end(&sm, 1), NC);
    CHECK_EQ(lb_power_sm_tick(&sm, 99999), NC);
}

TEST(policy_changes_at_run_time)
{
    lb_power_sm sm;
    lb_power_sm_init(&sm, LB_POWER_POWERSAVE, 1000);
    CHECK_EQ(lb_power_sm_begin(&sm, 0), NC);
    CHECK_EQ(lb_power_sm_set_policy(&sm, LB_POWER_BALANCED, 10), BUSY);    /* a request is running */
    CHECK_EQ(lb_power_sm_set_policy(&sm, LB_POWER_POWERSAVE, 20), IDLE);
    CHECK_EQ(lb_power_sm_set_policy(&sm, LB_POWER_PERFORMANCE, 30), BUSY);
    CHECK_EQ(lb_power_sm_end(&sm, 40), NC);
    /* performance -> balanced with nothing running: the idle delay applies */
    CHECK_EQ(lb_power_sm_set_policy(&sm, LB_POWER_BALANCED, 50), NC);
    CHECK_EQ(lb_power_sm_tick(&sm, 1049), NC);
    CHECK_EQ(lb_power_sm_tick(&sm, 1050), IDLE);
    /* balanced idle -> performance -> powersave */
    CHECK_EQ(lb_power_sm_set_policy(&sm, LB_POWER_PERFORMANCE, 2000), BUSY);
    CHECK_EQ(lb_power_sm_set_policy(&sm, LB_POWER_PERFORMANCE, 2001), NC);
    CHECK_EQ(lb_power_sm_set_policy(&sm, LB_POWER_POWERSAVE, 2002), IDLE);
}

TEST(unbalanced_end_is_harmless)
{
    lb_power_sm sm;
    lb_power_sm_init(&sm, LB_POWER_BALANCED, 100);
    CHECK_EQ(lb_power_sm_end(&sm, 0), NC);  /* end without begin: no underflow */
    CHECK_EQ(sm.active, 0);
    CHECK_EQ(lb_power_sm_tick(&sm, 100), NC);
    CHECK_EQ(lb_power_sm_begin(&sm, 200), BUSY);
}

TEST(policy_names_parse)
{
    lb_power_policy p;
    lb_err err = { 0 };
    CHECK_EQ(lb_power_policy_parse("performance", &p, &err), LB_OK);
    CHECK_EQ(p, LB_POWER_PERFORMANCE);
    CHECK_EQ(lb_power_policy_parse("balanced", &p, &err), LB_OK);
    CHECK_EQ(p, LB_POWER_BALANCED);
    CHECK_EQ(lb_power_policy_parse("powersave", &p, &err), LB_OK);
    CHECK_EQ(p, LB_POWER_POWERSAVE);
    CHECK_EQ(lb_power_policy_parse("turbo", &p, &err), LB_EINVAL);
    CHECK(strstr(err.msg, "turbo") != NULL);
    CHECK_EQ(lb_power_policy_parse(NULL, &p, &err), LB_EINVAL);
    CHECK_STR(lb_power_policy_name(LB_POWER_BALANCED), "balanced");
}

/* ---- controller ---- */

static uint64_t g_now;
static uint64_t fake_clock(void *user)
{
    (void)user;
    return g_now;
}

#define GOV0 "devices/system/cpu/cpufreq/policy0/scaling_governor"
#define EPP0 "devices/system/cpu/cpufreq/policy0/energy_performance_preference"
#define MIN0 "devices/system/cpu/cpufreq/policy0/scaling_min_freq"
#define NOTURBO "devices/system/cpu/intel_pstate/no_turbo"
#define C6_1 "devices/system/cpu/cpu1/cpuidle/state2/disable"
#define ONLINE1 "devices/system/cpu/cpu1/online"

static const char *build_box(const char *name)
{
    const char *root = ft_root(lb_test_tmpdir(), name);
    ft_put(root, "devices/system/cpu/cpufreq/policy0/scaling_driver", "intel_pstate");
    ft_put(root, "devices/system/cpu/cpufreq/policy0/scaling_available_governors", "performance powersave");
    ft_put(root, GOV0, "powersave");
    ft_put(root, EPP0, "balance_performance");
    ft_put(root, "devices/system/cpu/cpufreq/policy0/cpuinfo_min_freq", "400000");
    ft_put(root, "devices/system/cpu/cpufreq/policy0/cpuinfo_max_freq", "3000000");
    ft_put(root, MIN0, "400000");
    ft_put(root, "devices/system/cpu/cpufreq/policy0/scaling_max_freq", "3000000");
    ft_put(root, NOTURBO, "0");
    for (int c = 0; c < 2; c++) {
        char rel[128];
        snprintf(rel, sizeof rel, "devices/system/cpu/cpu%d/online", c);
        ft_put(root, rel, "1");
        for (int s = 0; s < 3; s++) {
            snprintf(rel, sizeof rel, "devices/system/cpu/cpu%d/cpuidle/state%d/latency", c, s);
            ft_put(root, rel, "%d", s * 100);
            snprintf(rel, sizeof rel, "devices/system/cpu/cpu%d/cpuidle/state%d/disable", c, s);
            ft_put(root, rel, "0");
        }
    }
    return root;
}

static void expect_busy(const char *root)
{
    CHECK_STR(ft_get(root, GOV0), "performance");
    CHECK_STR(ft_get(root, EPP0), "performance");
    CHECK_STR(ft_get(root, MIN0), "3000000");
    CHECK_STR(ft_get(root, NOTURBO), "0");
    CHECK_STR(ft_get(root, C6_1), "1");
    CHECK_STR(ft_get(root, ONLINE1), "1");
}

static void expect_idle(const char *root)
{
    CHECK_STR(ft_get(root, GOV0), "powersave");
    CHECK_STR(ft_get(root, EPP0), "power");
    CHECK_STR(ft_get(root, MIN0), "400000");
    CHECK_STR(ft_get(root, NOTURBO), "1");
    CHECK_STR(ft_get(root, C6_1), "0");
    CHECK_STR(ft_get(root, ONLINE1), "0");
}

static void expect_original(const char *root)
{
    CHECK_STR(ft_get(root, GOV0), "powersave");
    CHECK_STR(ft_get(root, EPP0), "balance_performance");
    CHECK_STR(ft_get(root, MIN0), "400000");
    CHECK_STR(ft_get(root, NOTURBO), "0");
    CHECK_STR(ft_get(root, C6_1), "0");
    CHECK_STR(ft_get(root, ONLINE1), "1");
}

TEST(controller_balanced_transitions_and_restore)
{
    const char *root = build_box("box");
    g_strict = (strict_fs){ 0 };
    g_now = 1000;
    lb_power_config cfg = LB_POWER_CONFIG_DEFAULT;
    cfg.sys_root = root;
    cfg.idle_delay_ms = 500;
    cfg.cpuidle.idle_online_cpus = 1;
    cfg.clock_ms = fake_clock;
    cfg.ops = &g_strict_ops;
    lb_power *p = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_power_open(&cfg, &p, &err), LB_OK);
    CHECK(lb_power_available(p));
    expect_idle(root);
    lb_power_request_begin(p);
    expect_busy(root);
    CHECK_EQ(lb_power_get_profile(p), LB_PROFILE_BUSY);
    g_now += 100;
    lb_power_request_end(p);
    expect_busy(root);
    g_now += 499;
    lb_power_tick(p);
    expect_busy(root);
    g_now += 1;
    lb_power_tick(p);
    expect_idle(root);

    lb_power_status st;
    lb_power_get_status(p, &st);
    CHECK(st.available);
    CHECK_EQ(st.driver, LB_CPUFREQ_INTEL_PSTATE_ACTIVE);
    CHECK_STR(st.governor, "powersave");
    CHECK_EQ(st.deep_cstates, 4);  /* states 1 and 2 (100/200us) on two CPUs */
    CHECK_EQ(st.hotplug_cpus, 1);
    CHECK_EQ(st.warnings, 0);

    CHECK_EQ(lb_power_set_policy(p, LB_POWER_PERFORMANCE), LB_OK);
    expect_busy(root);
    CHECK_EQ(lb_power_get_policy(p), LB_POWER_PERFORMANCE);
    CHECK_EQ(g_strict.refused, 0);
    lb_power_close(p);
    expect_original(root);
}

TEST(controller_apply_kept_on_close)
{
    const char *root = build_box("keep");
    lb_power_config cfg = LB_POWER_CONFIG_DEFAULT;
    cfg.sys_root = root;
    cfg.policy = LB_POWER_POWERSAVE;
    lb_power *p = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_power_open(&cfg, &p, &err), LB_OK);
    CHECK_EQ(lb_power_apply(p, LB_PROFILE_BUSY), 0);
    lb_power_keep_on_close(p);
    lb_power_close(p);
    CHECK_STR(ft_get(root, GOV0), "performance");
    CHECK_STR(ft_get(root, C6_1), "1");
}

TEST(controller_without_any_control_is_inert)
{
    const char *root = ft_root(lb_test_tmpdir(), "qemu");
    ft_put(root, "devices/system/cpu/cpu0/uevent", "x");
    lb_power_config cfg = LB_POWER_CONFIG_DEFAULT;
    cfg.sys_root = root;
    lb_power *p = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_power_open(&cfg, &p, &err), LB_OK);
    CHECK(!lb_power_available(p));
    lb_power_request_begin(p);
    lb_power_request_end(p);
    lb_power_tick(p);
    CHECK_EQ(lb_power_apply(p, LB_PROFILE_BUSY), 0);
    CHECK_EQ(lb_power_warnings(p), 0);
    lb_power_status st;
    lb_power_get_status(p, &st);
    CHECK(!st.available);
    CHECK_STR(st.driver_name, "");
    lb_power_close(p);
    lb_power_close(NULL);
}

TEST(timer_thread_drops_to_idle_after_delay)
{
    const char *root = build_box("timer");
    lb_power_config cfg = LB_POWER_CONFIG_DEFAULT;
    cfg.sys_root = root;
    cfg.idle_delay_ms = 30;
    lb_power *p = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_power_open(&cfg, &p, &err), LB_OK);
    CHECK_EQ(lb_power_start_timer(p, &err), LB_OK);
    lb_power_request_begin(p);
    CHECK_STR(ft_get(root, GOV0), "performance");
    lb_power_request_end(p);
    /* Bounded wait for the thread (not a timing assertion: up to 5 s on a loaded host). */
    for (int i = 0; i < 500 && lb_power_get_profile(p) != LB_PROFILE_IDLE; i++)
        usleep(10000);
    CHECK_EQ(lb_power_get_profile(p), LB_PROFILE_IDLE);
    CHECK_STR(ft_get(root, GOV0), "powersave");
    lb_power_close(p);
    CHECK_STR(ft_get(root, EPP0), "balance_performance");
}

TEST(passive_open_writes_nothing)
{
    const char *root = build_box("passive");
    g_strict = (strict_fs){ 0 };
    lb_power_config cfg = LB_POWER_CONFIG_DEFAULT;
    cfg.sys_root = root;
    cfg.policy = LB_POWER_PERFORMANCE;
    cfg.ops = &g_strict_ops;
    cfg.passive = true;
    lb_power *p = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_power_open(&cfg, &p, &err), LB_OK);
    lb_power_status st;
    lb_power_get_status(p, &st);
    CHECK(st.available);
    CHECK_STR(st.governor, "powersave");
    lb_power_close(p);
    CHECK_EQ(g_strict.writes, 0);
    expect_original(root);
}
