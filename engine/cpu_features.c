/* cpuid/xgetbv feature detection and the process-wide kernel level (see cpu_features.h). */
#include "cpu_features.h"

#include <cpuid.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

#define ARCH_GET_XCOMP_PERM 0x1022
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static const char *const isa_names[LB_ISA_COUNT] = { "scalar", "avx2", "avxvnni", "avx512", "amx" };

static lb_cpu_caps g_feat;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static _Atomic int g_level = -1;

static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    /* Raw opcode of xgetbv so this file needs no -mxsave. */
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* Linux keeps AMX tile data disabled (XFD) until the process asks for it. */
static bool request_amx_permission(void)
{
#ifdef SYS_arch_prctl
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0)
        return false;
    unsigned long bits = 0;
    if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &bits) != 0)
        return false;
    return (bits & (1ul << XFEATURE_XTILEDATA)) != 0;
#else
    return false;
#endif
}

static void detect(void)
{
    lb_cpu_caps *f = &g_feat;
    unsigned a, b, c, d, max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf >= 1 && __get_cpuid(1, &a, &b, &c, &d)) {
        f->fma = c & (1u << 12);
        f->f16c = c & (1u << 29);
        f->avx = c & (1u << 28);
        bool osxsave = c & (1u << 27);
        if (osxsave) {
            uint64_t xcr0 = read_xcr0();
            f->os_avx = (xcr0 & 0x6) == 0x6;                 /* SSE + AVX state */
            f->os_avx512 = f->os_avx && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM_Hi256, Hi16_ZMM */
            f->os_amx = (xcr0 & (3ull << 17)) == (3ull << 17); /* XTILECFG + XTILEDATA */
        }
    }
    if (max_leaf >= 7 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        f->avx2 = b & (1u << 5);
        f->avx512f = b & (1u << 16);
        f->avx512dq = b & (1u << 17);
        f->avx512bw = b & (1u << 30);
        f->avx512vl = b & (1u << 31);
        f->avx512vnni = c & (1u << 11);
        f->amx_bf16 = d & (1u << 22);
        f->amx_tile = d & (1u << 24);
        f->amx_int8 = d & (1u << 25);
        unsigned max_sub = a;
        if (max_sub >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) {
            f->avxvnni = a & (1u << 4);
            f->avx512bf16 = a & (1u << 5);
        }
    }
    lb_isa best = LB_ISA_SCALAR;
    if (f->os_avx && f->avx && f->avx2 && f->fma && f->f16c) {
        best = LB_ISA_AVX2;
        /* AVX-512 kernels also use 256-bit VNNI forms, so avx512 implies avxvnni's needs. */
        if (f->avxvnni)
            best = LB_ISA_AVXVNNI;
        if (f->os_avx512 && f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq && f->avx512vnni) {
            best = LB_ISA_AVX512;
            if (f->os_amx && f->amx_tile && f->amx_int8) {
                f->amx_permitted = request_amx_permission();
                if (f->amx_permitted)
                    best = LB_ISA_AMX;
                else
                    LOG_WARN("cpu: AMX present but the kernel refused tile permission; using avx512");
            }
        }
    }
    f->best = best;
    /* AMD's AVX-512 runs 512-bit operations without a clock penalty, so the Q4_0/Q8_0 x4
     * kernels take whole zmm registers there (measured on Zen 5: prompts +25 %); on Intel the
     * 256-bit forms measured faster. LLMBOX_ZMM=0|1 overrides. */
    char vendor[13] = { 0 };
    if (__get_cpuid(0, &a, &b, &c, &d)) {
        memcpy(vendor, &b, 4);
        memcpy(vendor + 4, &d, 4);
        memcpy(vendor + 8, &c, 4);
    }
    const char *zmm = getenv("LLMBOX_ZMM");
    f->zmm_x4 = best >= LB_ISA_AVX512 && (zmm && *zmm ? strcmp(zmm, "0") != 0 : strcmp(vendor, "AuthenticAMD") == 0);

    int level = best;
    const char *env = getenv("LLMBOX_ISA");
    if (env && *env) {
        int want = lb_isa_parse(env);
        if (want < 0)
            LOG_WARN("cpu: LLMBOX_ISA=%s unknown (scalar|avx2|avxvnni|avx512|amx); using %s", env,
                     isa_names[best]);
        else if (want > (int)best)
            LOG_WARN("cpu: LLMBOX_ISA=%s not supported here; using %s", env, isa_names[best]);
        else
            level = want;
    }
    atomic_store(&g_level, level);
}

const lb_cpu_caps *lb_cpu_caps_get(void)
{
    pthread_once(&g_once, detect);
    return &g_feat;
}

lb_isa lb_cpu_isa(void)
{
    pthread_once(&g_once, detect);
    return (lb_isa)atomic_load(&g_level);
}

lb_isa lb_cpu_isa_set(lb_isa want)
{
    const lb_cpu_caps *f = lb_cpu_caps_get();
    lb_isa level = want > f->best ? f->best : want;
    if ((int)level < 0)
        level = LB_ISA_SCALAR;
    atomic_store(&g_level, (int)level);
    return level;
}

const char *lb_isa_name(lb_isa isa)
{
    return (unsigned)isa < LB_ISA_COUNT ? isa_names[isa] : "?";
}

int lb_isa_parse(const char *s)
{
    for (int i = 0; i < LB_ISA_COUNT; i++)
        if (s && strcmp(s, isa_names[i]) == 0)
            return i;
    return -1;
}

static int read_int_file(const char *path, long *out)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    int ok = fscanf(fp, "%ld", out) == 1 ? 0 : -1;
    fclose(fp);
    return ok;
}

int lb_cpu_physical_cores(const char *sysroot)
{
    enum { MAX_CPUS = 1024 };
    char path[512];
    const char *root = sysroot ? sysroot : "";
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int fallback = online > 0 ? (int)online : 1;

    snprintf(path, sizeof path, "%s/sys/devices/system/cpu/online", root);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return fallback;
    char list[4096];
    bool got = fgets(list, sizeof list, fp) != NULL;
    fclose(fp);
    if (!got)
        return fallback;

    static const int none = -1;
    long pairs[MAX_CPUS][2];
    int n_pairs = 0, n_cpus = 0;
    /* "0-3,5,7-8" */
    for (char *tok = strtok(list, ",\n"); tok; tok = strtok(NULL, ",\n")) {
        char *end;
        long lo = strtol(tok, &end, 10), hi = lo;
        if (end == tok || lo < 0)
            return fallback;
        if (*end == '-') {
            char *e2;
            hi = strtol(end + 1, &e2, 10);
            if (e2 == end + 1 || hi < lo)
                return fallback;
        }
        for (long cpu = lo; cpu <= hi && cpu < MAX_CPUS; cpu++) {
            long pkg = none, core = none;
            snprintf(path, sizeof path, "%s/sys/devices/system/cpu/cpu%ld/topology/physical_package_id", root, cpu);
            if (read_int_file(path, &pkg) != 0)
                pkg = none;
            snprintf(path, sizeof path, "%s/sys/devices/system/cpu/cpu%ld/topology/core_id", root, cpu);
            if (read_int_file(path, &core) != 0)
                core = -2 - cpu; /* unknown topology: count the CPU as its own core */
            n_cpus++;
            bool seen = false;
            for (int i = 0; i < n_pairs && !seen; i++)
                seen = pairs[i][0] == pkg && pairs[i][1] == core;
            if (!seen && n_pairs < MAX_CPUS) {
                pairs[n_pairs][0] = pkg;
                pairs[n_pairs][1] = core;
                n_pairs++;
            }
        }
    }
    return n_pairs > 0 ? n_pairs : (n_cpus > 0 ? n_cpus : fallback);
}

void lb_cpu_describe(char *buf, int len)
{
    const lb_cpu_caps *f = lb_cpu_caps_get();
    struct { bool on; const char *name; } flags[] = {
        { f->avx2, "avx2" }, { f->fma, "fma" }, { f->f16c, "f16c" }, { f->avxvnni, "avx-vnni" },
        { f->avx512f, "avx512f" }, { f->avx512bw, "avx512bw" }, { f->avx512vl, "avx512vl" },
        { f->avx512dq, "avx512dq" }, { f->avx512vnni, "avx512-vnni" }, { f->avx512bf16, "avx512-bf16" },
        { f->amx_tile, "amx-tile" }, { f->amx_int8, "amx-int8" }, { f->amx_bf16, "amx-bf16" },
    };
    int off = snprintf(buf, len, "%s (", lb_isa_name(lb_cpu_isa()));
    bool first = true;
    for (size_t i = 0; i < sizeof flags / sizeof flags[0] && off >= 0 && off < len; i++) {
        if (!flags[i].on)
            continue;
        off += snprintf(buf + off, len - off, "%s%s", first ? "" : " ", flags[i].name);
        first = false;
    }
    if (off >= 0 && off < len)
        snprintf(buf + off, len - off, "%s)", first ? "none" : "");
}
