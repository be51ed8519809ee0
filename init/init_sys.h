/* The thin layer between PID-1 logic and the kernel: every privileged syscall goes through
 * this table so the logic runs on the host in tests against a recording fake. Paths given to
 * these calls are already joined with the caller's root. */
#ifndef LB_INIT_SYS_H
#define LB_INIT_SYS_H

typedef struct lb_sys_ops {
    int (*mount)(void *ud, const char *src, const char *target, const char *fstype,
                 unsigned long flags, const char *data);
    int (*umount)(void *ud, const char *target);
    /* finit_module on an open .ko file; returns 0, or -errno (-EEXIST = already loaded). */
    int (*load_module)(void *ud, const char *path);
    int (*reboot)(void *ud, int poweroff);
    void *ud;
} lb_sys_ops;

/* The real kernel calls (mount(2), umount2(2), finit_module(2), reboot(2)). */
extern const lb_sys_ops lb_sys_kernel;

#endif
