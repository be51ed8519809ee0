#include "init_mounts.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"

int lb_mkdirs(const char *root, const char *rel, lb_err *err)
{
    char path[4096];
    if (lb_path_join(path, sizeof path, root, rel))
        return lb_err_set(err, LB_ELIMIT, "path too long: %s", rel);
    size_t skip = strlen(root);
    for (char *p = path + skip + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(path, 0755) && errno != EEXIST)
                return lb_err_set(err, LB_EIO, "mkdir %s: %s", path, strerror(errno));
            *p = c;
            if (!c)
                break;
        }
    }
    return 0;
}

struct early_mount {
    const char *src, *target, *fstype;
    unsigned long flags;
    const char *data;
    int essential;
};

static const struct early_mount early[] = {
    {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", 1},
    {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 1},
    {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 1},
    {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64m", 1},
    {"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m", 0},
    {"hugetlbfs", "/dev/hugepages", "hugetlbfs", MS_NOSUID | MS_NODEV, "mode=1770", 0},
};

int lb_init_early_mounts(const char *root, const lb_sys_ops *ops, lb_err *err)
{
    for (size_t i = 0; i < sizeof early / sizeof early[0]; i++) {
        const struct early_mount *m = &early[i];
        char target[4096];
        if (lb_mkdirs(root, m->target, err))
            return err ? err->code : LB_EIO;
        lb_path_join(target, sizeof target, root, m->target);
        int rc = ops->mount(ops->ud, m->src, target, m->fstype, m->flags, m->data);
        if (rc == -EBUSY)
            continue; /* already mounted (e.g. a kernel with DEVTMPFS_MOUNT) */
        if (rc) {
            if (m->essential)
                return lb_err_set(err, LB_EIO, "mount %s on %s: %s", m->fstype, m->target, strerror(-rc));
            LOG_WARN("mount %s on %s: %s (continuing without it)", m->fstype, m->target, strerror(-rc));
        }
    }
    return 0;
}
