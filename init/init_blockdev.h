/* Finds the data partition by filesystem label on any block device and mounts it. */
#ifndef LB_INIT_BLOCKDEV_H
#define LB_INIT_BLOCKDEV_H

#include <stddef.h>

#include "err.h"
#include "init_fsprobe.h"
#include "init_sys.h"

#define LB_DATA_LABEL "LLMBOX"

/* Looks at every root/sys/class/block/NAME (skipping ram, loop, zram) and probes root/dev/NAME.
 * On a match (label compared case-insensitively, as FAT stores it upper-case) writes the
 * device path (root-relative, e.g. "/dev/vda1") and its filesystem. Returns 0, or LB_ENOENT. */
int lb_find_labelled(const char *root, const char *label, char *dev, size_t dev_cap, lb_fs_info *fs);

/* Mounts dev (root-relative) at root + mountpoint with the probed type. */
int lb_mount_data(const char *root, const lb_sys_ops *ops, const char *dev, const lb_fs_info *fs,
                  const char *mountpoint, lb_err *err);

#endif
