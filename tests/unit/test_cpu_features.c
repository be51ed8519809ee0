/* CPU detection agrees with the kernel's view (/proc/cpuinfo), LLMBOX_ISA-style capping
 * works, and the physical core count is read from a fake sysfs tree. */
#include "../lib/harness.h"
#include "cpu_features.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cpuinfo_has(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return -1;
    char line[8192];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        for (char *t = strtok(strchr(line, ':') + 1, " \n"); t; t = strtok(NULL, " \n"))
            if (strcmp(t, flag) == 0)
                found = 1;
        break;
    }
    fclose(f);
    return found;
}

TEST(cpu_features_match_proc_cpuinfo)
{
    const lb_cpu_caps *f = lb_cpu_caps_get();
    if (cpuinfo_has("avx2") < 0)
        SKIP("no /proc/cpuinfo");
    CHECK_EQ(f->avx2, cpuinfo_has("avx2"));
    CHECK_EQ(f->fma, cpuinfo_has("fma"));
    CHECK_EQ(f->avx512f, cpuinfo_has("avx512f"));
    CHECK_EQ(f->avx512bw, cpuinfo_has("avx512bw"));
    CHECK_EQ(f->avx512vnni, cpuinfo_has("avx512_vnni"));
    CHECK_EQ(f->avxvnni, cpuinfo_has("avx_vnni"));
    CHECK_EQ(f->amx_int8, cpuinfo_has("amx_int8"));
    CHECK_EQ(f->amx_tile, cpuinfo_has("amx_tile"));
    /* The kernel lists a flag only when it also enables its register state. */
    if (cpuinfo_has("avx512_vnni") == 1 && cpuinfo_has("avx512vl") == 1 && cpuinfo_has("avx512dq") == 1)
        CHECK(f->best >= LB_ISA_AVX512);
    if (cpuinfo_has("amx_int8") == 1 && cpuinfo_has("amx_tile") == 1 && f->best >= LB_ISA_AVX512) {
        CHECK(f->amx_permitted);
        CHECK_EQ(f->best, LB_ISA_AMX);
    }
    if (cpuinfo_has("avx2") == 1 && cpuinfo_has("fma") == 1 && cpuinfo_has("f16c") == 1)
        CHECK(f->best >= LB_ISA_AVX2);
}

TEST(cpu_isa_names_and_capping)
{
    for (int i = 0; i < LB_ISA_COUNT; i++)
        CHECK_EQ(lb_isa_parse(lb_isa_name((lb_isa)i)), i);
    CHECK_EQ(lb_isa_parse("sse9"), -1);
    CHECK_EQ(lb_isa_parse(NULL), -1);
    lb_isa best = lb_cpu_caps_get()->best;
    lb_isa before = lb_cpu_isa();
    CHECK_EQ(lb_cpu_isa_set(LB_ISA_SCALAR), LB_ISA_SCALAR);
    CHECK_EQ(lb_cpu_isa(), LB_ISA_SCALAR);
    CHECK_EQ(lb_cpu_isa_set(LB_ISA_AMX), best); /* never above what the CPU has */
    lb_cpu_isa_set(before);
    char buf[256];
    lb_cpu_describe(buf, sizeof buf);
    CHECK(strncmp(buf, lb_isa_name(lb_cpu_isa()), strlen(lb_isa_name(lb_cpu_isa()))) == 0);
}

static void put(const char *root, const char *rel, const char *text)
{
    char path[1024], dir[1200];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "mkdir -p \"$(dirname '%s')\"", path);
    CHECK_EQ(system(dir), 0);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

TEST(cpu_physical_cores_from_fake_sysfs)
{
    const char *root = lb_test_tmpdir();
    /* 2 packages x 2 cores x 2 threads, cpu 7 offline */
    put(root, "sys/devices/system/cpu/online", "0-6\n");
    for (int cpu = 0; cpu < 8; cpu++) {
        char rel[256], v[16];
        snprintf(rel, sizeof rel, "sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
        snprintf(v, sizeof v, "%d\n", cpu / 4);
        put(root, rel, v);
        snprintf(rel, sizeof rel, "sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
        snprintf(v, sizeof v, "%d\n", cpu % 2);
        put(root, rel, v);
    }
    CHECK_EQ(lb_cpu_physical_cores(root), 4);
    put(root, "sys/devices/system/cpu/online", "0,4\n");
    CHECK_EQ(lb_cpu_physical_cores(root), 2);
    put(root, "sys/devices/system/cpu/online", "0-1\n"); /* cpu0/cpu1: core 0 and 1 of package 0 */
    CHECK_EQ(lb_cpu_physical_cores(root), 2);
    put(root, "sys/devices/system/cpu/online", "garbage\n");
    CHECK(lb_cpu_physical_cores(root) >= 1);
    CHECK(lb_cpu_physical_cores("/nonexistent-root") >= 1);
    CHECK(lb_cpu_physical_cores(NULL) >= 1);
}
