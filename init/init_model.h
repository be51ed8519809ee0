/* Which model file the service gets: the setting (absolute path, or a name looked up in the
 * data partition's models/ and then the initramfs /models), else the first *.gguf found. */
#ifndef LB_INIT_MODEL_H
#define LB_INIT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Paths are root-relative ("/data/models/x.gguf"); data_dir NULL = no data partition.
 * On failure err says where we looked. */
int lb_resolve_model(const char *root, const char *setting, const char *data_dir, char *out, size_t cap,
                     lb_err *err);

/* Cheap sanity check before starting the service: a regular file, non-empty, "GGUF" magic.
 * Returns 0 and the file size, or LB_EFORMAT/LB_ENOENT with a reason. */
int lb_check_model(const char *root, const char *path, uint64_t *size, lb_err *err);

#endif
