/* Thin access layer for /sys and /proc files with configurable roots, so every power and
 * memory control is tested against fake trees. Problems with one file (missing, read-only,
 * value refused) are reported once per path and never stop the caller. */
#ifndef LB_SYSFS_H
#define LB_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Replaceable file I/O (tests inject failures). Both return 0 or a negative errno. */
typedef struct lb_sysfs_ops {
    int (*read)(void *user, const char *path, char *buf, size_t cap);
    int (*write)(void *user, const char *path, const char *value);
    void *user;
} lb_sysfs_ops;

typedef struct lb_sysfs {
    char sys_root[256];    /* "/sys" in production */
    char proc_root[256];   /* "/proc" in production */
    const lb_sysfs_ops *ops;  /* NULL: plain open/read/write */
    char **warned;         /* absolute paths already reported */
    size_t nwarned, capwarned;
    unsigned warnings;     /* warnings issued so far */
} lb_sysfs;

/* Roots may be NULL for the defaults. */
int lb_sysfs_init(lb_sysfs *fs, const char *sys_root, const char *proc_root, lb_err *err);
void lb_sysfs_free(lb_sysfs *fs);

/* Paths below the sysfs root ("devices/system/cpu/...") or proc root ("sys/vm/..."). */
int lb_sysfs_abs(const lb_sysfs *fs, char *buf, size_t cap, const char *rel);
int lb_procfs_abs(const lb_sysfs *fs, char *buf, size_t cap, const char *rel);

/* Reads a small text file by absolute path (newline trimmed). LB_ENOENT when missing. */
int lb_fs_read_abs(lb_sysfs *fs, const char *path, char *buf, size_t cap, lb_err *err);
int lb_fs_write_abs(lb_sysfs *fs, const char *path, const char *value, lb_err *err);
int lb_sysfs_read(lb_sysfs *fs, const char *rel, char *buf, size_t cap, lb_err *err);
int lb_sysfs_read_long(lb_sysfs *fs, const char *rel, long *out, lb_err *err);
int lb_sysfs_read_u64(lb_sysfs *fs, const char *rel, uint64_t *out, lb_err *err);
bool lb_sysfs_exists(const lb_sysfs *fs, const char *rel);

/* Writes value; on failure reports `what` and the reason once per path (LOG_WARN) and
 * returns the error code. The caller skips the knob; nothing is fatal. */
int lb_sysfs_try_write(lb_sysfs *fs, const char *rel, const char *value, const char *what);
/* One warning per path: the first call for a path logs, later calls are silent. */
void lb_sysfs_warn_once(lb_sysfs *fs, const char *rel, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sorted indices N of entries named PREFIXN (digits only after the prefix) in a directory
 * below the sysfs root ("devices/system/cpu", "cpu" -> 0,1,...). Returns the count (may be
 * larger than max; only max are stored), 0 when the directory is missing. */
int lb_sysfs_list_indices(const lb_sysfs *fs, const char *rel_dir, const char *prefix, int *out, int max);

/* Calls fn for each entry name of a directory below the sysfs root, sorted (skips dot
 * entries). Returns the number of entries visited; stops early when fn returns non-zero. */
int lb_sysfs_list_names(const lb_sysfs *fs, const char *rel_dir,
                        int (*fn)(void *user, const char *name), void *user);

#endif
