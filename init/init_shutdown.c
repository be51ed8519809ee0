#include "init_shutdown.h"

#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"

int lb_finish_shutdown(const char *root, const lb_sys_ops *ops, const char *const *mounts, int n_mounts,
                       int poweroff)
{
    sync();
    for (int i = 0; i < n_mounts; i++) {
        char p[4096];
        if (lb_path_join(p, sizeof p, root, mounts[i]))
            continue;
        int rc = ops->umount(ops->ud, p);
        if (rc)
            LOG_WARN("unmount %s: %s (synced; continuing)", mounts[i], strerror(-rc));
        else
            LOG_INFO("unmounted %s", mounts[i]);
    }
    sync();
    LOG_INFO("%s now", poweroff ? "powering off" : "rebooting");
    int rc = ops->reboot(ops->ud, poweroff);
    LOG_ERR("reboot(2) failed: %s", strerror(-rc));
    return rc;
}
