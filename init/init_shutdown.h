/* Orderly power-off / reboot: every process asked to stop, disks synced and unmounted. */
#ifndef LB_INIT_SHUTDOWN_H
#define LB_INIT_SHUTDOWN_H

#include "init_sys.h"

/* Unmounts the given root-relative mount points (in order; a busy one is detached lazily by
 * the kernel at reboot) after sync, then calls ops->reboot. Returns only if reboot failed. */
int lb_finish_shutdown(const char *root, const lb_sys_ops *ops, const char *const *mounts, int n_mounts,
                       int poweroff);

#endif
