/* /init: PID 1 of the llmbox appliance. Mounts, loads modules, finds the data partition,
 * configures the network, reserves hugepages, then runs and watches llmboxd forever.
 * It never exits: a fatal condition is shown on the console and the service stays down. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "init_blockdev.h"
#include "init_boot.h"
#include "init_config.h"
#include "init_dhcp.h"
#include "init_dhcp_sock.h"
#include "hugepages.h"
#include "init_model.h"
#include "init_modules.h"
#include "init_mounts.h"
#include "init_netif.h"
#include "init_service.h"
#include "init_shutdown.h"
#include "init_sys.h"
#include "log.h"

#define SERVICE_BIN "/bin/llmboxd"
#define DATA_DIR "/data"
#define TEST_HOOK_TTY "/dev/ttyS1"

static const lb_sys_ops *sys = &lb_sys_kernel;

static struct {
    lb_init_config cfg;
    lb_service svc, shell;
    int data_mounted;
    char nic[32];
    int dhcp_fd;
    lb_dhcp_client dhcp;
    int hook_fd;
    char hook_buf[128];
    size_t hook_len;
    char fatal[320];
} g = {.dhcp_fd = -1, .hook_fd = -1};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void report_setting(void *ud, const char *source, const char *key, const char *why)
{
    (void)ud;
    LOG_WARN("%s: %s: %s", source, key, why);
}

/* Shown in a box so it stands out among boot messages on a serial console or screen. */
static void fatal_banner(const char *what, const char *why)
{
    snprintf(g.fatal, sizeof g.fatal, "%s: %s", what, why);
    LOG_ERR("==============================================================");
    LOG_ERR("llmbox cannot serve: %s", what);
    LOG_ERR("reason: %s", why);
    LOG_ERR("the service stays down; /init keeps running (fix it and reboot)");
    LOG_ERR("==============================================================");
}

static void read_cmdline(void)
{
    char buf[4096];
    lb_init_config_defaults(&g.cfg);
    if (lb_read_text("/proc/cmdline", buf, sizeof buf, NULL) == 0)
        lb_init_config_parse_cmdline(&g.cfg, buf, report_setting, NULL);
    if (g.cfg.debug)
        lb_log_set_level(LB_LOG_DEBUG);
}

static int dir_has_entries(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;
    while (d && !n && (e = readdir(d)))
        n = e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* Disks behind USB/SATA/NVMe/MMC are probed asynchronously; give them a moment to show the
 * data label. m may be NULL (built-in drivers only): then nothing is loaded while waiting. */
static void wait_for_data_label(lb_modules *m, int slow)
{
    int64_t deadline = now_ms() + (slow ? 3000 : 300);
    lb_fs_info fs;
    char dev[64];
    while (now_ms() < deadline) {
        if (lb_find_labelled("", LB_DATA_LABEL, dev, sizeof dev, &fs) == 0)
            break;
        sleep_ms(100);
        if (m)
            lb_modules_load_for_devices(m, sys, "");
    }
}

static void load_modules(void)
{
    struct utsname u;
    lb_modules *m = NULL;
    lb_err err = {0};
    if (uname(&u) || lb_modules_open("", u.release, &m, &err)) {
        /* The appliance kernel (make kernel) has every driver built in and no modules. */
        LOG_INFO("no module index for kernel %s (%s); relying on built-in drivers", u.release, err.msg);
        wait_for_data_label(NULL, dir_has_entries("/sys/class/nvme") || dir_has_entries("/sys/bus/usb/devices") ||
                                      dir_has_entries("/sys/class/ata_port") || dir_has_entries("/sys/class/mmc_host"));
        return;
    }
    lb_modules_load_list(m, sys, "llmbox.preload");
    /* Loading a bus driver (virtio_pci, xhci) makes new devices appear: scan until quiet. */
    for (int round = 0; round < 6; round++)
        if (lb_modules_load_for_devices(m, sys, "") == 0)
            break;
    int slow = lb_modules_was_loaded(m, "usb_storage") || lb_modules_was_loaded(m, "nvme") ||
               lb_modules_was_loaded(m, "ahci") || lb_modules_was_loaded(m, "xhci_pci");
    wait_for_data_label(m, slow);
    lb_modules_free(m);
}

static void mount_data(void)
{
    lb_fs_info fs;
    char dev[64];
    lb_err err = {0};
    if (lb_find_labelled("", LB_DATA_LABEL, dev, sizeof dev, &fs)) {
        LOG_WARN("no data partition labelled %s: using the model in the initramfs; keys live in tmpfs "
                 "(/run/llmbox) and change at every boot", LB_DATA_LABEL);
        return;
    }
    if (lb_mount_data("", sys, dev, &fs, DATA_DIR, &err)) {
        LOG_ERR("%s; continuing without the data partition", err.msg);
        return;
    }
    g.data_mounted = 1;
    LOG_INFO("data partition %s (%s, label %s) mounted on %s", dev, fs.type, fs.label, DATA_DIR);
    char *conf = NULL;
    size_t len;
    if (lb_read_file(DATA_DIR "/llmbox.conf", 64 * 1024, &conf, &len, NULL) == 0) {
        int problems = lb_init_config_parse_conf(&g.cfg, conf, report_setting, NULL);
        LOG_INFO("read %s/llmbox.conf (%d problem%s)", DATA_DIR, problems, problems == 1 ? "" : "s");
        free(conf);
        if (g.cfg.debug)
            lb_log_set_level(LB_LOG_DEBUG);
    }
}

static int dhcp_send(void *ud, const uint8_t *msg, size_t len, uint32_t src, uint32_t unicast_to)
{
    (void)ud;
    (void)unicast_to; /* link-layer broadcast either way: we may not know the server's MAC */
    if (g.dhcp_fd >= 0 && lb_dhcp_sock_send(g.dhcp_fd, g.nic, msg, len, src, 0))
        LOG_DEBUG("dhcp: send on %s failed (link not ready?)", g.nic);
    return 0;
}

static void dhcp_bound(void *ud, const lb_dhcp_lease *l, const lb_dhcp_lease *old)
{
    (void)ud;
    lb_err err = {0};
    char a[16], r[16], s[16];
    if (old && old->addr == l->addr && old->prefix == l->prefix && old->router == l->router) {
        LOG_DEBUG("dhcp: lease renewed for %u s", l->lease_s);
        return;
    }
    if (old) {
        lb_rtnl_addr(g.nic, old->addr, old->prefix, 0, NULL);
    }
    if (lb_rtnl_addr(g.nic, l->addr, l->prefix, 1, &err))
        LOG_ERR("%s", err.msg);
    if (l->router && lb_rtnl_default_route(l->router, 1, &err))
        LOG_ERR("%s", err.msg);
    lb_format_ipv4(l->addr, a, sizeof a);
    lb_format_ipv4(l->router, r, sizeof r);
    lb_format_ipv4(l->server, s, sizeof s);
    LOG_INFO("dhcp: %s got %s/%d from server %s, router %s, lease %u s", g.nic, a, l->prefix, s, r, l->lease_s);
    LOG_INFO("API: https://%s:%d/v1  (health: https://%s:%d/health)", a, g.cfg.port, a, g.cfg.port);
}

static void dhcp_expired(void *ud, const lb_dhcp_lease *old)
{
    (void)ud;
    lb_rtnl_addr(g.nic, old->addr, old->prefix, 0, NULL);
}

static void setup_network(void)
{
    lb_err err = {0};
    if (lb_rtnl_link_up("lo", &err))
        LOG_WARN("%s", err.msg);
    uint8_t mac[6];
    if (lb_pick_wired_nic("", g.nic, sizeof g.nic, mac)) {
        LOG_WARN("no wired network interface found; the API is not reachable from the LAN");
        g.nic[0] = 0;
        return;
    }
    if (lb_rtnl_link_up(g.nic, &err)) {
        LOG_ERR("%s", err.msg);
        return;
    }
    if (!g.cfg.ip_dhcp) {
        char a[16], gw[16];
        lb_format_ipv4(g.cfg.ip_addr, a, sizeof a);
        lb_format_ipv4(g.cfg.ip_gw, gw, sizeof gw);
        if (lb_rtnl_addr(g.nic, g.cfg.ip_addr, g.cfg.ip_prefix, 1, &err))
            LOG_ERR("%s", err.msg);
        else if (g.cfg.ip_gw && lb_rtnl_default_route(g.cfg.ip_gw, 1, &err))
            LOG_ERR("%s", err.msg);
        LOG_INFO("%s: static address %s/%d, gateway %s", g.nic, a, g.cfg.ip_prefix, g.cfg.ip_gw ? gw : "none");
        LOG_INFO("API: https://%s:%d/v1", a, g.cfg.port);
        return;
    }
    g.dhcp_fd = lb_dhcp_sock_open(g.nic, &err);
    if (g.dhcp_fd < 0) {
        LOG_ERR("%s; no DHCP", err.msg);
        return;
    }
    uint32_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed)
        seed = (uint32_t)now_ms();
    lb_dhcp_ops ops = {.send = dhcp_send, .bound = dhcp_bound, .expired = dhcp_expired};
    lb_dhcp_init(&g.dhcp, mac, seed, &ops);
    lb_dhcp_start(&g.dhcp, now_ms());
    LOG_INFO("dhcp: discovering on %s", g.nic);
}

static void wait_for_rng(void)
{
    char b;
    if (getrandom(&b, 1, GRND_NONBLOCK) == 1)
        return;
    LOG_INFO("waiting for the kernel random number generator before keys are made");
    int64_t t0 = now_ms();
    while (getrandom(&b, 1, 0) != 1 && errno == EINTR)
        ;
    LOG_INFO("random number generator ready after %lld ms", (long long)(now_ms() - t0));
}

/* 1 GiB pages need their own hugetlbfs mount (the early one uses the default 2 MiB). */
static const char *mount_hugetlbfs_1g(void)
{
    const char *dir = "/dev/hugepages1G";
    if (lb_mkdirs("", dir, NULL) ||
        sys->mount(sys->ud, "hugetlbfs", dir, "hugetlbfs", MS_NOSUID | MS_NODEV, "mode=1770,pagesize=1G")) {
        LOG_WARN("cannot mount hugetlbfs with 1 GiB pages on %s", dir);
        return NULL;
    }
    return dir;
}

/* Returns 0 when the service can start (argv filled). */
static int prepare_service(void)
{
    lb_err err = {0};
    char model[512];
    uint64_t size = 0;
    lb_key_paths keys;
    const char *data = g.data_mounted ? DATA_DIR : NULL;
    if (access(SERVICE_BIN, X_OK)) {
        fatal_banner("the service binary is missing", SERVICE_BIN " is not in the image");
        return -1;
    }
    if (lb_resolve_model("", g.cfg.model, data, model, sizeof model, &err)) {
        fatal_banner("no model", err.msg);
        return -1;
    }
    if (lb_check_model("", model, &size, &err)) {
        fatal_banner("the model file is unusable", err.msg);
        return -1;
    }
    LOG_INFO("model %s (%llu bytes)", model, (unsigned long long)size);
    if (lb_prepare_key_dirs("", data, &keys, &err)) {
        fatal_banner("cannot create the key directory", err.msg);
        return -1;
    }
    LOG_INFO("keys in %s (%s)", keys.dir, keys.persistent ? "data partition" : "tmpfs: new key every boot");
    const char *huge = NULL;
    const lb_hugepages_setting *hp = &g.cfg.hugepages;
    if (hp->mode != LB_HUGEPAGES_OFF) {
        long got = 0;
        int rc = hp->mode == LB_HUGEPAGES_COUNT
                     ? lb_hugepages_reserve_pages(NULL, NULL, hp->count, hp->page_size, &got, &err)
                     : lb_hugepages_reserve(NULL, NULL, size, hp->page_size, &got, &err);
        if (rc)
            LOG_WARN("%s; running without hugepages", err.msg);
        else {
            LOG_DEBUG("hugepages: %ld pages of %zu MiB reserved", got, hp->page_size >> 20);
            if (got > 0)
                huge = hp->page_size == LB_HUGEPAGE_1G ? mount_hugetlbfs_1g() : "/dev/hugepages";
        }
    }
    wait_for_rng();
    if (lb_build_service_argv(&g.svc, SERVICE_BIN, &g.cfg, model, &keys, huge)) {
        fatal_banner("settings too long", "the service command line does not fit");
        return -1;
    }
    return 0;
}

static void open_test_hook(void)
{
    if (!g.cfg.test)
        return;
    g.hook_fd = open(TEST_HOOK_TTY, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (g.hook_fd < 0) {
        LOG_WARN("llmbox.test=1 but %s: %s", TEST_HOOK_TTY, strerror(errno));
        return;
    }
    struct termios t;
    if (tcgetattr(g.hook_fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(g.hook_fd, TCSANOW, &t);
    }
    LOG_WARN("TEST MODE: accepting test commands on %s (never enable in production)", TEST_HOOK_TTY);
}

/* Test-only commands, one per line: "kill-service" sends SIGKILL to the service; "status"
 * proves PID 1 is alive and says whether the service runs. */
static void test_hook_input(void)
{
    char buf[64];
    ssize_t n = read(g.hook_fd, buf, sizeof buf);
    for (ssize_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c != '\n' && c != '\r') {
            if (g.hook_len < sizeof g.hook_buf - 1)
                g.hook_buf[g.hook_len++] = c;
            continue;
        }
        g.hook_buf[g.hook_len] = 0;
        if (strcmp(g.hook_buf, "kill-service") == 0) {
            if (g.svc.pid) {
                LOG_WARN("test hook: killing %s (pid %d) with SIGKILL", g.svc.name, (int)g.svc.pid);
                kill(g.svc.pid, SIGKILL);
            } else
                LOG_WARN("test hook: %s is not running", g.svc.name);
        } else if (strcmp(g.hook_buf, "status") == 0) {
            LOG_WARN("test hook: init alive (pid %d); %s %s%s%s%s%s", (int)getpid(), g.svc.name,
                     g.svc.pid ? "running" : g.svc.given_up ? "down (gave up)" : "down",
                     g.svc.last_reason[0] ? ", last: " : "", g.svc.last_reason,
                     g.fatal[0] ? ", fatal: " : "", g.fatal);
        } else if (g.hook_len)
            LOG_WARN("test hook: unknown command \"%s\"", g.hook_buf);
        g.hook_len = 0;
    }
}

static void reap(int64_t now)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == g.svc.pid)
            lb_service_exited(&g.svc, status, now);
        else if (pid == g.shell.pid)
            lb_service_exited(&g.shell, status, now);
        else {
            char why[80];
            lb_describe_status(status, why, sizeof why);
            LOG_DEBUG("reaped pid %d (%s)", (int)pid, why);
        }
    }
}

static void shutdown_now(int poweroff)
{
    LOG_INFO("%s requested: stopping the service", poweroff ? "power-off" : "reboot");
    g.shell.restart_at_ms = g.svc.restart_at_ms = INT64_MAX;
    lb_service_stop(&g.shell, 500);
    lb_service_stop(&g.svc, 5000);
    kill(-1, SIGTERM);
    for (int i = 0; i < 20 && waitpid(-1, NULL, WNOHANG) >= 0; i++)
        sleep_ms(50);
    kill(-1, SIGKILL);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    static const char *const mounts[] = {DATA_DIR};
    lb_finish_shutdown("", sys, mounts, g.data_mounted ? 1 : 0, poweroff);
    for (;;) /* PID 1 must not exit, even if reboot(2) failed */
        pause();
}

int main(void)
{
    lb_err err = {0};
    lb_log_init("init", LB_LOG_INFO);
    umask(022);
    if (lb_init_early_mounts("", sys, &err))
        LOG_ERR("%s", err.msg); /* keep going: the rest reports its own trouble */
    lb_log_open_kmsg("/dev/kmsg");
    LOG_INFO("llmbox init %s starting", LLMBOX_VERSION);

    sigset_t mask;
    sigemptyset(&mask);
    int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGPWR, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&mask, sigs[i]);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    reboot(RB_DISABLE_CAD); /* Ctrl-Alt-Del becomes SIGINT: an orderly reboot */

    read_cmdline();
    /* The service's environment: LLMBOX_INIT=1 lets it ask us to power off or reboot. */
    setenv("PATH", "/bin", 1);
    setenv("LLMBOX_INIT", "1", 1);
    if (sethostname("llmbox", 6))
        LOG_WARN("sethostname: %s", strerror(errno));
    load_modules();
    mount_data();
    setup_network();
    open_test_hook();

    lb_service_init(&g.svc, "llmboxd");
    lb_service_init(&g.shell, "debug shell");
    if (prepare_service() == 0)
        lb_service_start(&g.svc, now_ms());
    if (access("/bin/sh", X_OK) == 0) {
        /* Only debug images carry a shell. */
        snprintf(g.shell.tty, sizeof g.shell.tty, "/dev/ttyS0");
        lb_service_arg(&g.shell, "/bin/sh");
        LOG_WARN("DEBUG IMAGE: shell on %s", g.shell.tty);
        lb_service_start(&g.shell, now_ms());
    }

    for (;;) {
        int64_t now = now_ms();
        int64_t next = INT64_MAX;
        if (g.dhcp_fd >= 0 && lb_dhcp_next_ms(&g.dhcp) < next)
            next = lb_dhcp_next_ms(&g.dhcp);
        if (g.svc.restart_at_ms < next)
            next = g.svc.restart_at_ms;
        if (g.shell.restart_at_ms < next)
            next = g.shell.restart_at_ms;
        int timeout = next == INT64_MAX ? -1 : next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
        struct pollfd pf[3] = {{sfd, POLLIN, 0}, {g.dhcp_fd, POLLIN, 0}, {g.hook_fd, POLLIN, 0}};
        int n = poll(pf, 3, timeout);
        now = now_ms();
        if (n < 0 && errno != EINTR)
            sleep_ms(100);
        if (n > 0 && (pf[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == sizeof si) {
                switch (si.ssi_signo) {
                case SIGCHLD: reap(now); break;
                case SIGUSR1: case SIGUSR2: case SIGPWR: shutdown_now(1); break;
                case SIGTERM: case SIGINT: shutdown_now(0); break;
                default: break;
                }
            }
        }
        if (n > 0 && (pf[1].revents & POLLIN)) {
            uint8_t msg[LB_DHCP_MAX_PKT];
            for (int i = 0; i < 64; i++) {
                int len = lb_dhcp_sock_recv(g.dhcp_fd, msg, sizeof msg);
                if (len == -2)
                    break;
                if (len >= 0)
                    lb_dhcp_input(&g.dhcp, msg, (size_t)len, now);
            }
        }
        if (n > 0 && (pf[2].revents & POLLIN))
            test_hook_input();
        reap(now); /* in case a SIGCHLD was coalesced */
        if (g.dhcp_fd >= 0 && now >= lb_dhcp_next_ms(&g.dhcp))
            lb_dhcp_tick(&g.dhcp, now);
        if (!g.svc.pid && now >= g.svc.restart_at_ms)
            lb_service_start(&g.svc, now);
        if (!g.shell.pid && now >= g.shell.restart_at_ms)
            lb_service_start(&g.shell, now);
    }
}
