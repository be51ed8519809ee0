#include "init_blockdev.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <unistd.h>

#include "fileio.h"
#include "init_mounts.h"
#include "log.h"

static int skip_device(const char *name)
{
    static const char *const prefixes[] = {"ram", "loop", "zram", "sr", "fd"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

int lb_find_labelled(const char *root, const char *label, char *dev, size_t dev_cap, lb_fs_info *fs)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/sys/class/block", root);
    DIR *d = opendir(dir);
    if (!d)
        return LB_ENOENT;
    int rc = LB_ENOENT;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || skip_device(e->d_name))
            continue;
        char node[4096 + 300];
        snprintf(node, sizeof node, "%s/dev/%s", root, e->d_name);
        int fd = open(node, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        lb_fs_info info;
        int found = lb_fs_probe_fd(fd, &info) == 0;
        close(fd);
        if (!found)
            continue;
        LOG_DEBUG("block device %s: %s label \"%s\"", e->d_name, info.type, info.label);
        if (strcasecmp(info.label, label) == 0 && (size_t)snprintf(dev, dev_cap, "/dev/%s", e->d_name) < dev_cap) {
            *fs = info;
            rc = 0;
            break;
        }
    }
    closedir(d);
    return rc;
}

int lb_mount_data(const char *root, const lb_sys_ops *ops, const char *dev, const lb_fs_info *fs,
                  const char *mountpoint, lb_err *err)
{
    char src[4096], target[4096];
    if (lb_mkdirs(root, mountpoint, err))
        return err ? err->code : LB_EIO;
    lb_path_join(src, sizeof src, root, dev);
    lb_path_join(target, sizeof target, root, mountpoint);
    /* FAT/exFAT have no owners: keep files private to root. */
    const char *data = strcmp(fs->type, "ext4") == 0 ? NULL : "umask=0077";
    int rc = ops->mount(ops->ud, src, target, fs->type, MS_NOATIME | MS_NODEV | MS_NOSUID, data);
    if (rc)
        return lb_err_set(err, LB_EIO, "mount %s (%s) on %s: %s", dev, fs->type, mountpoint, strerror(-rc));
    return 0;
}
