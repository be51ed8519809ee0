/* File helpers used wherever user data is stored: nothing is ever half-written. */
#ifndef LB_FILEIO_H
#define LB_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Writes data to path atomically: temp file in the same directory, fsync, rename, fsync dir. */
int lb_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, lb_err *err);

/* Reads a whole file of at most max_len bytes into a malloc'd, NUL-terminated buffer. */
int lb_read_file(const char *path, size_t max_len, char **out, size_t *out_len, lb_err *err);

/* Reads a small sysfs/proc-style text file into buf (NUL-terminated, trailing newline cut). */
int lb_read_text(const char *path, char *buf, size_t cap, lb_err *err);

/* Joins root and rel ("/sys" + "/devices/...") into buf; LB_ELIMIT if it does not fit. */
int lb_path_join(char *buf, size_t cap, const char *root, const char *rel);

#endif
