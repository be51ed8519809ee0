/* Boot-time pieces of PID 1 that main_init.c strings together. */
#ifndef LB_INIT_BOOT_H
#define LB_INIT_BOOT_H

#include <stdint.h>

#include "init_config.h"
#include "init_service.h"

/* Where the service keeps its TLS key/certificate and API key. */
typedef struct lb_key_paths {
    char dir[256];
    char tls_dir[256];
    char api_key_file[256];
    int persistent;  /* 1 on the data partition, 0 in tmpfs */
} lb_key_paths;

/* data_dir NULL = no data partition: keys live in root/run/llmbox and change every boot. */
int lb_prepare_key_dirs(const char *root, const char *data_dir, lb_key_paths *out, lb_err *err);

/* Fills the service command line from the resolved settings. hugetlb_dir NULL = none. */
int lb_build_service_argv(lb_service *s, const char *binary, const lb_init_config *cfg, const char *model,
                          const lb_key_paths *keys, const char *hugetlb_dir);

#endif
