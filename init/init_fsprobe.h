/* Filesystem type and label from the superblock, read by us (no blkid): ext2/3/4, exFAT, FAT. */
#ifndef LB_INIT_FSPROBE_H
#define LB_INIT_FSPROBE_H

#include <stddef.h>

typedef struct lb_fs_info {
    char type[16];   /* "ext4", "exfat", "vfat" */
    char label[64];  /* UTF-8; "" if the volume has none */
} lb_fs_info;

/* Probes an open block device or image file. Returns 0 if a known filesystem was found,
 * LB_ENOENT if none, LB_EIO on read errors. Every length and offset read from the disk is
 * bounds-checked before use. */
int lb_fs_probe_fd(int fd, lb_fs_info *out);

/* The same over an in-memory image of the first bytes of a device (tests, fuzzing).
 * Reads outside [0, len) count as failures. */
int lb_fs_probe_mem(const unsigned char *buf, size_t len, lb_fs_info *out);

#endif
