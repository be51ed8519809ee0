/* `llmbox power` against fake trees: status is read-only, apply changes the files and
 * keeps them, bad arguments are refused. */
#include "../lib/harness.h"
#include "../lib/fake_tree.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int lb_cli_power(int argc, char **argv);

/* Runs the command with stdout captured into out. */
static int run(char *out, size_t cap, int argc, const char **argv)
{
    char path[512];
    snprintf(path, sizeof path, "%s/stdout.txt", lb_test_tmpdir());
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    close(fd);
    int rc = lb_cli_power(argc, (char **)argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = 0;
    if (f)
        fclose(f);
    return rc;
}

#define POL0 "devices/system/cpu/cpufreq/policy0/"

static const char *build(const char *name)
{
    const char *root = ft_root(lb_test_tmpdir(), name);
    ft_put(root, POL0 "scaling_driver", "acpi-cpufreq");
    ft_put(root, POL0 "scaling_available_governors", "ondemand performance powersave");
    ft_put(root, POL0 "scaling_governor", "ondemand");
    ft_put(root, POL0 "cpuinfo_min_freq", "1000000");
    ft_put(root, POL0 "cpuinfo_max_freq", "2000000");
    ft_put(root, POL0 "scaling_min_freq", "1000000");
    ft_put(root, POL0 "scaling_max_freq", "2000000");
    ft_put(root, "devices/system/cpu/cpufreq/boost", "0");
    ft_put(root, "devices/system/cpu/cpu0/cpuidle/state3/latency", "150");
    ft_put(root, "devices/system/cpu/cpu0/cpuidle/state3/disable", "0");
    ft_put(root, "class/powercap/intel-rapl:0/name", "package-0");
    ft_put(root, "class/powercap/intel-rapl:0/energy_uj", "123");
    ft_put(root, "kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "7");
    ft_put(root, "kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "5");
    return root;
}

TEST(status_reports_without_writing)
{
    const char *root = build("st");
    char out[8192];
    const char *argv[] = { "power", "status", "--sysfs-root", root };
    CHECK_EQ(run(out, sizeof out, 4, argv), 0);
    CHECK(strstr(out, "acpi-cpufreq") != NULL);
    CHECK(strstr(out, "cpufreq/boost = 0") != NULL);
    CHECK(strstr(out, "1 deep C-state knobs") != NULL);
    CHECK(strstr(out, "package-0") != NULL);
    CHECK(strstr(out, "7 reserved, 5 free") != NULL);
    CHECK(strstr(out, "busy: performance") != NULL);
    CHECK_STR(ft_get(root, POL0 "scaling_governor"), "ondemand");
    CHECK_STR(ft_get(root, "devices/system/cpu/cpu0/cpuidle/state3/disable"), "0");
}

TEST(apply_busy_then_idle_keeps_settings)
{
    const char *root = build("ap");
    char out[4096];
    const char *busy[] = { "apply", "busy", "--sysfs-root", root };
    CHECK_EQ(run(out, sizeof out, 4, busy), 0);
    CHECK(strstr(out, "busy profile applied") != NULL);
    CHECK_STR(ft_get(root, POL0 "scaling_governor"), "performance");
    CHECK_STR(ft_get(root, POL0 "scaling_min_freq"), "2000000");
    CHECK_STR(ft_get(root, "devices/system/cpu/cpufreq/boost"), "1");
    CHECK_STR(ft_get(root, "devices/system/cpu/cpu0/cpuidle/state3/disable"), "1");
    const char *idle[] = { "power", "apply", "idle", "--sysfs-root", root };
    CHECK_EQ(run(out, sizeof out, 5, idle), 0);
    CHECK_STR(ft_get(root, POL0 "scaling_governor"), "ondemand");
    CHECK_STR(ft_get(root, POL0 "scaling_min_freq"), "1000000");
    CHECK_STR(ft_get(root, "devices/system/cpu/cpufreq/boost"), "0");
    CHECK_STR(ft_get(root, "devices/system/cpu/cpu0/cpuidle/state3/disable"), "0");
}

TEST(nothing_to_control_is_not_an_error)
{
    const char *root = ft_root(lb_test_tmpdir(), "empty");
    char out[4096];
    const char *argv[] = { "apply", "busy", "--sysfs-root", root };
    CHECK_EQ(run(out, sizeof out, 4, argv), 0);
    CHECK(strstr(out, "unavailable") != NULL);
    const char *st[] = { "status", "--sysfs-root", root };
    CHECK_EQ(run(out, sizeof out, 3, st), 0);
    CHECK(strstr(out, "cpufreq driver:  none") != NULL);
    CHECK(strstr(out, "energy (RAPL):   unavailable") != NULL);
}

TEST(bad_arguments_are_refused)
{
    char out[1024];
    const char *a1[] = { "apply", "fast" };
    CHECK_EQ(run(out, sizeof out, 2, a1), 2);
    const char *a2[] = { "status", "--bogus" };
    CHECK_EQ(run(out, sizeof out, 2, a2), 2);
    const char *a3[] = { "power" };
    CHECK_EQ(run(out, sizeof out, 1, a3), 2);
    const char *a4[] = { "status", "--sysfs-root" };  /* missing value */
    CHECK_EQ(run(out, sizeof out, 2, a4), 2);
}
