/* CPU features from cpuid (+ xgetbv for OS-enabled register state). */
#ifndef LB_CPU_H
#define LB_CPU_H

#include <stdbool.h>

typedef struct lb_cpu_features {
    bool avx2, fma, f16c;
    bool avx512f, avx512bw, avx512vl, avx512dq, avx512vnni;
    bool avxvnni;
    bool amx_tile, amx_int8;
} lb_cpu_features;

/* Detected once (thread-safe after the first call from a single thread). */
const lb_cpu_features *lb_cpu(void);

#endif
