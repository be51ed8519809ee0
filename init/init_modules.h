/* Kernel module loading without modprobe: the initramfs carries a subset of the kernel's
 * module tree (lib/modules/VERSION/) with its modules.dep and modules.alias; we match every
 * device's modalias under sys/bus/BUS/devices/DEV/modalias against the aliases, and load each match after
 * its dependencies with finit_module. */
#ifndef LB_INIT_MODULES_H
#define LB_INIT_MODULES_H

#include "err.h"
#include "init_sys.h"

typedef struct lb_modules lb_modules;

/* Reads MODDIR/modules.dep and MODDIR/modules.alias (MODDIR = root + "/lib/modules/" + kver). */
int lb_modules_open(const char *root, const char *kver, lb_modules **out, lb_err *err);
void lb_modules_free(lb_modules *m);
int lb_modules_count(const lb_modules *m);

/* Loads module NAME ('-' and '_' are the same) and its dependencies. Already loaded is fine.
 * Returns 0 or an error (unknown module, load failure). */
int lb_modules_load(lb_modules *m, const lb_sys_ops *ops, const char *name, lb_err *err);

/* True if some module has already been loaded (or tried) by this loader. */
int lb_modules_was_loaded(const lb_modules *m, const char *name);

/* Scans root/sys/bus/ * /devices/ * /modalias once and loads the modules matching any device
 * not handled yet. Returns the number of modules newly loaded (>= 0); load failures are
 * logged, never fatal. */
int lb_modules_load_for_devices(lb_modules *m, const lb_sys_ops *ops, const char *root);

/* Loads each name listed in MODDIR/FILE (one per line; used for filesystems and crc32c,
 * which the kernel would otherwise request through a modprobe we do not have). */
int lb_modules_load_list(lb_modules *m, const lb_sys_ops *ops, const char *file);

#endif
