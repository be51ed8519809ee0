/* `llmbox power status | apply busy | apply idle [--sysfs-root DIR] [--proc-root DIR]`:
 * shows what power control this machine offers (driver, knobs, C-states, RAPL, hugepage
 * pools) and applies a profile by hand for testing and diagnosis. `apply` leaves the profile
 * in place (nothing is restored when the command exits). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cpufreq.h"
#include "cpuidle.h"
#include "hugepages.h"
#include "log.h"
#include "power_policy.h"
#include "rapl.h"
#include "sysfs.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: llmbox power status|apply busy|apply idle [--sysfs-root DIR] [--proc-root DIR]\n"
               "       [--idle-online-cpus N]   (apply idle: also take cores N.. offline)\n");
}

static const char *turbo_name(lb_turbo_kind t)
{
    return t == LB_TURBO_NO_TURBO ? "intel_pstate/no_turbo" : t == LB_TURBO_BOOST ? "cpufreq/boost" : "none";
}

static int status(const char *sys_root, const char *proc_root)
{
    lb_sysfs fs;
    lb_err err = { 0 };
    lb_cpufreq cf = { 0 };
    lb_cpuidle ci = { 0 };
    int rc = lb_sysfs_init(&fs, sys_root, proc_root, &err);
    if (rc == LB_OK && (rc = lb_cpufreq_open(&cf, &fs, &err)) == LB_OK)
        rc = lb_cpuidle_open(&ci, &fs, NULL, &err);
    if (rc != LB_OK) {
        fprintf(stderr, "llmbox power: %s\n", err.msg);
        goto out;
    }
    printf("sysfs root:      %s\n", fs.sys_root);
    printf("power control:   %s\n", cf.npolicies || ci.nstates ? "available" : "unavailable (no cpufreq, no cpuidle)");
    if (cf.npolicies) {
        printf("cpufreq driver:  %s (scaling_driver %s), %d policies, turbo control %s%s%s\n",
               lb_cpufreq_driver_name(cf.driver), cf.driver_name, cf.npolicies, turbo_name(cf.turbo),
               cf.turbo ? " = " : "", cf.turbo ? cf.orig_turbo : "");
        for (int i = 0; i < cf.npolicies; i++) {
            const lb_cpufreq_policy *p = &cf.pol[i];
            printf("  policy%-3d governor %-12s epp %-20s min %ld max %ld kHz (hw %ld-%ld)\n", p->id,
                   p->has_governor ? p->orig_governor : "-", p->has_epp ? p->orig_epp : "-", p->orig_min,
                   p->orig_max, p->hw_min, p->hw_max);
            printf("             busy: %s/%s  idle: %s/%s\n", lb_cpufreq_governor_for(&cf, p, LB_PROFILE_BUSY),
                   p->has_epp ? lb_cpufreq_epp_for(p, LB_PROFILE_BUSY) : "-",
                   lb_cpufreq_governor_for(&cf, p, LB_PROFILE_IDLE),
                   p->has_epp ? lb_cpufreq_epp_for(p, LB_PROFILE_IDLE) : "-");
        }
    } else {
        printf("cpufreq driver:  none\n");
    }
    int disabled = 0;
    for (int i = 0; i < ci.nstates; i++)
        disabled += strcmp(ci.st[i].orig, "0") != 0;
    printf("cpuidle driver:  %s, %d deep C-state knobs (%d disabled now)\n", ci.driver[0] ? ci.driver : "none",
           ci.nstates, disabled);

    lb_energy *e = NULL;
    lb_err ee = { 0 };
    if (lb_energy_open(fs.sys_root, &e, &ee) == LB_OK) {
        printf("energy (RAPL):  ");
        for (int i = 0; i < lb_energy_zones(e); i++)
            printf(" %s", lb_energy_zone_name(e, i));
        printf("\n");
        lb_energy_close(e);
    } else {
        printf("energy (RAPL):   unavailable\n");
    }
    static const size_t sizes[] = { LB_HUGEPAGE_2M, LB_HUGEPAGE_1G };
    for (int i = 0; i < 2; i++) {
        long total, freep;
        if (lb_hugepages_stats(fs.sys_root, fs.proc_root, sizes[i], &total, &freep, NULL) == LB_OK)
            printf("hugepages %-5s  %ld reserved, %ld free\n", i ? "1 GiB" : "2 MiB", total, freep);
        else
            printf("hugepages %-5s  not supported\n", i ? "1 GiB" : "2 MiB");
    }
    if (fs.warnings)
        printf("warnings:        %u (above)\n", fs.warnings);
out:
    lb_cpufreq_close(&cf);
    lb_cpuidle_close(&ci);
    lb_sysfs_free(&fs);
    return rc == LB_OK ? 0 : 1;
}

static int apply(lb_power_profile prof, const char *sys_root, const char *proc_root, int idle_online)
{
    lb_power_config cfg = LB_POWER_CONFIG_DEFAULT;
    cfg.sys_root = sys_root;
    cfg.proc_root = proc_root;
    cfg.passive = true;
    cfg.cpuidle.idle_online_cpus = idle_online;
    lb_power *p = NULL;
    lb_err err = { 0 };
    if (lb_power_open(&cfg, &p, &err) != LB_OK) {
        fprintf(stderr, "llmbox power: %s\n", err.msg);
        return 1;
    }
    if (!lb_power_available(p)) {
        printf("power control unavailable here (no cpufreq, no cpuidle): nothing to apply\n");
        lb_power_close(p);
        return 0;
    }
    int failed = lb_power_apply(p, prof);
    lb_power_keep_on_close(p);
    lb_power_close(p);
    if (failed) {
        printf("%s profile applied; %d settings refused (warnings above)\n", lb_power_profile_name(prof), failed);
        return 1;
    }
    printf("%s profile applied\n", lb_power_profile_name(prof));
    return 0;
}

int lb_cli_power(int argc, char **argv)
{
    const char *sys_root = NULL, *proc_root = NULL, *words[2] = { NULL, NULL };
    int nwords = 0, idle_online = 0;
    int i = (argc > 0 && strcmp(argv[0], "power") == 0) ? 1 : 0;  /* called with or without the verb */
    for (; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "--sysfs-root") || !strcmp(a, "--proc-root") || !strcmp(a, "--idle-online-cpus")) &&
            i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(a, "--sysfs-root"))
                sys_root = v;
            else if (!strcmp(a, "--proc-root"))
                proc_root = v;
            else if (sscanf(v, "%d", &idle_online) != 1 || idle_online < 0) {
                fprintf(stderr, "llmbox power: --idle-online-cpus needs a number\n");
                return 2;
            }
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (a[0] != '-' && nwords < 2) {
            words[nwords++] = a;
        } else {
            usage(stderr);
            return 2;
        }
    }
    lb_log_init("llmbox", LB_LOG_WARN);  /* the command prints its own report */
    if (nwords == 1 && !strcmp(words[0], "status"))
        return status(sys_root, proc_root);
    if (nwords == 2 && !strcmp(words[0], "apply") && !strcmp(words[1], "busy"))
        return apply(LB_PROFILE_BUSY, sys_root, proc_root, idle_online);
    if (nwords == 2 && !strcmp(words[0], "apply") && !strcmp(words[1], "idle"))
        return apply(LB_PROFILE_IDLE, sys_root, proc_root, idle_online);
    usage(stderr);
    return 2;
}
