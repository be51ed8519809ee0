#include "../lib/harness.h"
#include "init_boot.h"
#include "init_model.h"
#include "init_mounts.h"
#include "init_netif.h"
#include "init_shutdown.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void put(const char *root, const char *rel, const char *text)
{
    char p[1024], dir[1024];
    snprintf(dir, sizeof dir, "%s", rel);
    *strrchr(dir, '/') = 0;
    if (dir[0])
        lb_mkdirs(root, dir, NULL);
    snprintf(p, sizeof p, "%s%s", root, rel);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

TEST(model_setting_and_fallbacks)
{
    const char *root = lb_test_tmpdir();
    char out[512];
    lb_err err = {0};
    put(root, "/models/stories260K.gguf", "GGUF....");
    put(root, "/data/models/zeta.gguf", "GGUF....");
    put(root, "/data/models/alpha.gguf", "GGUF....");
    put(root, "/data/models/notes.txt", "x");
    CHECK_EQ(lb_resolve_model(root, "", "/data", out, sizeof out, &err), 0);
    CHECK_STR(out, "/data/models/alpha.gguf");                 /* first on the data partition */
    CHECK_EQ(lb_resolve_model(root, "", NULL, out, sizeof out, &err), 0);
    CHECK_STR(out, "/models/stories260K.gguf");                /* no data partition */
    CHECK_EQ(lb_resolve_model(root, "zeta.gguf", "/data", out, sizeof out, &err), 0);
    CHECK_STR(out, "/data/models/zeta.gguf");
    CHECK_EQ(lb_resolve_model(root, "stories260K.gguf", "/data", out, sizeof out, &err), 0);
    CHECK_STR(out, "/models/stories260K.gguf");                /* falls back to the initramfs */
    CHECK_EQ(lb_resolve_model(root, "/models/stories260K.gguf", NULL, out, sizeof out, &err), 0);
    CHECK_EQ(lb_resolve_model(root, "missing.gguf", "/data", out, sizeof out, &err), LB_ENOENT);
    CHECK(strstr(err.msg, "missing.gguf") != NULL);
    CHECK_EQ(lb_resolve_model(root, "../etc/passwd", "/data", out, sizeof out, &err), LB_EINVAL);
}

TEST(no_model_anywhere_says_where_it_looked)
{
    const char *root = lb_test_tmpdir();
    char out[512];
    lb_err err = {0};
    lb_mkdirs(root, "/data/models", NULL);
    CHECK_EQ(lb_resolve_model(root, "", "/data", out, sizeof out, &err), LB_ENOENT);
    CHECK(strstr(err.msg, "/data/models") != NULL && strstr(err.msg, "/models") != NULL);
}

TEST(model_check_rejects_non_gguf)
{
    const char *root = lb_test_tmpdir();
    uint64_t size = 0;
    lb_err err = {0};
    put(root, "/models/good.gguf", "GGUF\3xyz");
    put(root, "/models/bad.gguf", "this is not a model");
    put(root, "/models/empty.gguf", "");
    CHECK_EQ(lb_check_model(root, "/models/good.gguf", &size, &err), 0);
    CHECK_EQ(size, 8);
    CHECK_EQ(lb_check_model(root, "/models/bad.gguf", &size, &err), LB_EFORMAT);
    CHECK(strstr(err.msg, "not a GGUF") != NULL);
    CHECK_EQ(lb_check_model(root, "/models/empty.gguf", &size, &err), LB_EFORMAT);
    CHECK_EQ(lb_check_model(root, "/models/none.gguf", &size, &err), LB_ENOENT);
}

TEST(key_dirs_on_data_partition_or_tmpfs)
{
    const char *root = lb_test_tmpdir();
    lb_key_paths k;
    CHECK_EQ(lb_prepare_key_dirs(root, "/data", &k, NULL), 0);
    CHECK(k.persistent);
    CHECK_STR(k.tls_dir, "/data/llmbox/tls");
    CHECK_STR(k.api_key_file, "/data/llmbox/api_key");
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/data/llmbox/tls", root);
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
    CHECK_EQ(lb_prepare_key_dirs(root, NULL, &k, NULL), 0);
    CHECK(!k.persistent);
    CHECK_STR(k.tls_dir, "/run/llmbox/tls");
}

TEST(service_argv_has_resolved_settings_only)
{
    lb_init_config c;
    lb_init_config_defaults(&c);
    lb_key_paths k;
    CHECK_EQ(lb_prepare_key_dirs(lb_test_tmpdir(), "/data", &k, NULL), 0);
    lb_service s;
    lb_service_init(&s, "llmboxd");
    CHECK_EQ(lb_build_service_argv(&s, "/bin/llmboxd", &c, "/models/m.gguf", &k, NULL), 0);
    CHECK_EQ(s.argc, 9);
    CHECK_STR(s.argv[0], "/bin/llmboxd");
    CHECK_STR(s.argv[2], "/models/m.gguf");
    CHECK_STR(s.argv[4], "0.0.0.0:443");
    CHECK_STR(s.argv[6], "/data/llmbox/tls");
    CHECK_STR(s.argv[8], "/data/llmbox/api_key");
    c.parallel = 2; c.ctx = 1024; c.threads = 4; c.port = 8443;
    snprintf(c.power, sizeof c.power, "powersave");
    CHECK_EQ(lb_build_service_argv(&s, "/bin/llmboxd", &c, "/models/m.gguf", &k, "/dev/hugepages"), 0);
    CHECK_EQ(s.argc, 19);
    CHECK_STR(s.argv[4], "0.0.0.0:8443");
    CHECK_STR(s.argv[9], "--parallel");
    CHECK_STR(s.argv[10], "2");
    CHECK_STR(s.argv[13], "-t");
    CHECK_STR(s.argv[15], "--hugetlb-dir");
    CHECK_STR(s.argv[18], "powersave");
    CHECK(s.argv[19] == NULL);
}

static char calls[16][160];
static int n_calls;
static int fail_fstype_proc;
static int rec_mount(void *ud, const char *src, const char *target, const char *fstype, unsigned long f, const char *d)
{
    (void)ud; (void)src; (void)f; (void)d;
    if (fail_fstype_proc && strcmp(fstype, "proc") == 0)
        return -EPERM;
    if (strcmp(fstype, "hugetlbfs") == 0)
        return -ENODEV;
    snprintf(calls[n_calls++ % 16], 160, "%s %s", fstype, target);
    return 0;
}
static int rec_umount(void *ud, const char *target)
{
    (void)ud;
    snprintf(calls[n_calls++ % 16], 160, "umount %s", target);
    return 0;
}
static int rec_reboot(void *ud, int poweroff)
{
    (void)ud;
    snprintf(calls[n_calls++ % 16], 160, "reboot %d", poweroff);
    return -EPERM;
}

TEST(early_mounts_create_points_and_tolerate_optional_failures)
{
    const char *root = lb_test_tmpdir();
    lb_sys_ops ops = {.mount = rec_mount};
    n_calls = 0;
    fail_fstype_proc = 0;
    lb_err err = {0};
    CHECK_EQ(lb_init_early_mounts(root, &ops, &err), 0);
    CHECK_EQ(n_calls, 5); /* hugetlbfs failed: optional */
    char expect[600];
    snprintf(expect, sizeof expect, "devtmpfs %s/dev", root);
    CHECK_STR(calls[0], expect);
    struct stat st;
    snprintf(expect, sizeof expect, "%s/dev/hugepages", root);
    CHECK(stat(expect, &st) == 0);
    fail_fstype_proc = 1;
    CHECK(lb_init_early_mounts(root, &ops, &err) != 0);
    CHECK(strstr(err.msg, "proc") != NULL);
}

TEST(shutdown_unmounts_then_reboots_and_reports_failure)
{
    const char *mounts[] = {"/data"};
    lb_sys_ops ops = {.umount = rec_umount, .reboot = rec_reboot};
    n_calls = 0;
    CHECK_EQ(lb_finish_shutdown("/r", &ops, mounts, 1, 1), -EPERM);
    CHECK_EQ(n_calls, 2);
    CHECK_STR(calls[0], "umount /r/data");
    CHECK_STR(calls[1], "reboot 1");
}

TEST(wired_nic_choice_skips_virtual_and_wireless)
{
    const char *root = lb_test_tmpdir();
    put(root, "/sys/class/net/lo/type", "772\n");
    put(root, "/sys/class/net/lo/ifindex", "1\n");
    put(root, "/sys/class/net/lo/address", "00:00:00:00:00:00\n");
    put(root, "/sys/class/net/wlan0/type", "1\n");
    put(root, "/sys/class/net/wlan0/ifindex", "2\n");
    put(root, "/sys/class/net/wlan0/address", "02:00:00:00:00:02\n");
    put(root, "/sys/class/net/wlan0/device/x", "");
    put(root, "/sys/class/net/wlan0/wireless/x", "");
    put(root, "/sys/class/net/br0/type", "1\n");
    put(root, "/sys/class/net/br0/ifindex", "3\n");
    put(root, "/sys/class/net/br0/address", "02:00:00:00:00:03\n");
    put(root, "/sys/class/net/enp2s0/type", "1\n");
    put(root, "/sys/class/net/enp2s0/ifindex", "5\n");
    put(root, "/sys/class/net/enp2s0/address", "52:54:00:12:34:56\n");
    put(root, "/sys/class/net/enp2s0/device/x", "");
    put(root, "/sys/class/net/enp1s0/type", "1\n");
    put(root, "/sys/class/net/enp1s0/ifindex", "4\n");
    put(root, "/sys/class/net/enp1s0/address", "52:54:00:ab:cd:ef\n");
    put(root, "/sys/class/net/enp1s0/device/x", "");
    char name[32];
    uint8_t mac[6];
    CHECK_EQ(lb_pick_wired_nic(root, name, sizeof name, mac), 0);
    CHECK_STR(name, "enp1s0");
    CHECK_EQ(mac[0], 0x52);
    CHECK_EQ(mac[5], 0xef);
    char empty[600];
    snprintf(empty, sizeof empty, "%s/nothing", root);
    CHECK_EQ(lb_pick_wired_nic(empty, name, sizeof name, mac), LB_ENOENT);
}
