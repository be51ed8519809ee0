#include "init_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

static int k_mount(void *ud, const char *src, const char *target, const char *fstype,
                   unsigned long flags, const char *data)
{
    (void)ud;
    return mount(src, target, fstype, flags, data) == 0 ? 0 : -errno;
}

static int k_umount(void *ud, const char *target)
{
    (void)ud;
    return umount2(target, 0) == 0 ? 0 : -errno;
}

static int k_load_module(void *ud, const char *path)
{
    (void)ud;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = (int)syscall(SYS_finit_module, fd, "", 0);
    int e = errno;
    close(fd);
    return rc == 0 ? 0 : -e;
}

static int k_reboot(void *ud, int poweroff)
{
    (void)ud;
    return reboot(poweroff ? RB_POWER_OFF : RB_AUTOBOOT) == 0 ? 0 : -errno;
}

const lb_sys_ops lb_sys_kernel = {
    .mount = k_mount, .umount = k_umount, .load_module = k_load_module, .reboot = k_reboot, .ud = 0,
};
