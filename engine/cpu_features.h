/* Runtime CPU feature detection (cpuid + xgetbv) and the SIMD level the kernels use.
 * One binary runs everywhere: kernels compiled with ISA flags (engine/NAME_avx2.c, ...) are only
 * called when lb_cpu_isa() says the CPU and the OS support them. LLMBOX_ISA=scalar|avx2|
 * avxvnni|avx512|amx caps the level (tests and benchmarks force lower paths with it). */
#ifndef LB_CPU_FEATURES_H
#define LB_CPU_FEATURES_H

#include <stdbool.h>

/* Ordered: each level implies the ones below it on the machines that have it. */
typedef enum lb_isa {
    LB_ISA_SCALAR = 0,
    LB_ISA_AVX2 = 1,     /* AVX2 + FMA + F16C (Haswell and later, Zen) */
    LB_ISA_AVXVNNI = 2,  /* + AVX-VNNI 256-bit int8 dot products (Alder Lake and later) */
    LB_ISA_AVX512 = 3,   /* AVX-512 F/BW/VL/DQ + VNNI (Ice Lake, Sapphire Rapids, Zen 4) */
    LB_ISA_AMX = 4,      /* + AMX-TILE/AMX-INT8 tiles, permission granted by the kernel */
    LB_ISA_COUNT
} lb_isa;

typedef struct lb_cpu_caps {
    bool fma, f16c, avx, avx2;
    bool avx512f, avx512bw, avx512vl, avx512dq, avx512vnni, avx512bf16;
    bool avxvnni;
    bool amx_tile, amx_int8, amx_bf16;
    bool os_avx, os_avx512, os_amx;  /* XCR0 says the OS saves that register state */
    bool amx_permitted;              /* arch_prctl(ARCH_REQ_XCOMP_PERM) succeeded */
    bool zmm_x4;                     /* 512-bit x4 kernels at the avx512/amx levels (below) */
    lb_isa best;                     /* highest level usable on this CPU + OS */
} lb_cpu_caps;

/* Detected once (thread-safe); also requests AMX tile permission when the CPU has AMX. */
const lb_cpu_caps *lb_cpu_caps_get(void);

/* The level kernels use: best, capped by LLMBOX_ISA (read at first call, then fixed).
 * An LLMBOX_ISA above what the CPU has is lowered to the best level, with a warning. */
lb_isa lb_cpu_isa(void);

/* Overrides the level for this process (tests/benches); lowered to best if too high.
 * Returns the level now in effect. Callers re-select their kernels after changing it. */
lb_isa lb_cpu_isa_set(lb_isa want);

const char *lb_isa_name(lb_isa isa);
/* "scalar", "avx2", "avxvnni", "avx512", "amx" -> level; -1 if unknown. */
int lb_isa_parse(const char *s);

/* Physical cores from a sysfs-shaped tree (root "" = the real /sys): distinct
 * (package, core) pairs of the online CPUs. Returns >= 1 (falls back to the online count). */
int lb_cpu_physical_cores(const char *sysroot);

/* One-line summary ("avx512 (avx2 fma f16c avx512f ... amx-int8)") for info/bench output. */
void lb_cpu_describe(char *buf, int len);

#endif
