#include "../lib/harness.h"
#include "init_modules.h"
#include "init_mounts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Records finit_module calls in order. */
static char loaded[32][64];
static int n_loaded;
static const char *fail_name;

static int fake_load(void *ud, const char *path)
{
    (void)ud;
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    if (fail_name && strstr(b, fail_name))
        return -ENOEXEC;
    if (n_loaded < 32)
        snprintf(loaded[n_loaded++], 64, "%s", b);
    return 0;
}

static int index_of(const char *name)
{
    for (int i = 0; i < n_loaded; i++)
        if (strcmp(loaded[i], name) == 0)
            return i;
    return -1;
}

static void write_file(const char *root, const char *rel, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s%s", root, rel);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", rel);
    *strrchr(dir, '/') = 0;
    lb_mkdirs(root, dir, NULL);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

/* A fake kernel module tree plus a fake sysfs with a virtio NIC behind virtio_pci. */
static const char *make_tree(void)
{
    const char *root = lb_test_tmpdir();
    write_file(root, "/lib/modules/6.1.0-test/modules.dep",
               "kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
               "kernel/drivers/virtio/virtio_ring.ko:\n"
               "kernel/drivers/virtio/virtio.ko:\n"
               "kernel/drivers/net/virtio_net.ko: kernel/net/core/failover.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
               "kernel/net/core/failover.ko:\n"
               "kernel/drivers/usb/storage/usb-storage.ko:\n"
               "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko\n"
               "kernel/lib/crc16.ko:\n");
    write_file(root, "/lib/modules/6.1.0-test/modules.alias",
               "# Aliases extracted from modules themselves.\n"
               "alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci\n"
               "alias virtio:d00000001v* virtio_net\n"
               "alias usb:v*p*d*dc*dsc*dp*ic08isc06ip50in* usb_storage\n");
    write_file(root, "/lib/modules/6.1.0-test/llmbox.preload", "ext4\n# comment\nnot_there\n");
    write_file(root, "/sys/bus/pci/devices/0000:00:03.0/modalias", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00\n");
    write_file(root, "/sys/bus/pci/devices/0000:00:01.0/modalias", "pci:v00008086d00007000sv00000000sd00000000bc06sc01i00\n");
    write_file(root, "/sys/bus/platform/devices/serial8250/uevent", "DRIVER=serial8250\n");
    return root;
}

TEST(device_modalias_loads_driver_after_its_dependencies)
{
    const char *root = make_tree();
    lb_modules *m = NULL;
    lb_err err = {0};
    CHECK_EQ(lb_modules_open(root, "6.1.0-test", &m, &err), 0);
    if (!m)
        return;
    CHECK_EQ(lb_modules_count(m), 8);
    lb_sys_ops ops = {.load_module = fake_load};
    n_loaded = 0;
    fail_name = NULL;
    CHECK_EQ(lb_modules_load_for_devices(m, &ops, root), 1);
    CHECK_EQ(n_loaded, 3);
    CHECK(index_of("virtio_ring.ko") >= 0 && index_of("virtio_ring.ko") < index_of("virtio_pci.ko"));
    CHECK(index_of("virtio.ko") >= 0 && index_of("virtio.ko") < index_of("virtio_pci.ko"));
    /* the bus driver made a virtio device appear: the next round loads its driver, sharing deps */
    write_file(root, "/sys/bus/virtio/devices/virtio0/modalias", "virtio:d00000001v00001AF4\n");
    CHECK_EQ(lb_modules_load_for_devices(m, &ops, root), 1);
    CHECK_EQ(n_loaded, 5);
    CHECK(index_of("failover.ko") >= 0 && index_of("failover.ko") < index_of("virtio_net.ko"));
    /* nothing new: quiet */
    CHECK_EQ(lb_modules_load_for_devices(m, &ops, root), 0);
    CHECK(lb_modules_was_loaded(m, "virtio-net"));
    CHECK(!lb_modules_was_loaded(m, "usb_storage"));
    lb_modules_free(m);
}

TEST(preload_list_loads_names_with_dashes_or_underscores_and_skips_unknown)
{
    const char *root = make_tree();
    lb_modules *m = NULL;
    CHECK_EQ(lb_modules_open(root, "6.1.0-test", &m, NULL), 0);
    if (!m)
        return;
    lb_sys_ops ops = {.load_module = fake_load};
    n_loaded = 0;
    fail_name = NULL;
    CHECK_EQ(lb_modules_load_list(m, &ops, "llmbox.preload"), 1);
    CHECK_EQ(index_of("crc16.ko"), 0);
    CHECK_EQ(index_of("ext4.ko"), 1);
    lb_err err = {0};
    CHECK_EQ(lb_modules_load(m, &ops, "usb-storage", &err), 0);
    CHECK_EQ(index_of("usb-storage.ko"), 2);
    CHECK_EQ(lb_modules_load(m, &ops, "nope", &err), LB_ENOENT);
    lb_modules_free(m);
}

TEST(failed_dependency_is_reported_and_not_retried)
{
    const char *root = make_tree();
    lb_modules *m = NULL;
    CHECK_EQ(lb_modules_open(root, "6.1.0-test", &m, NULL), 0);
    if (!m)
        return;
    lb_sys_ops ops = {.load_module = fake_load};
    n_loaded = 0;
    fail_name = "virtio_ring";
    lb_err err = {0};
    CHECK(lb_modules_load(m, &ops, "virtio_pci", &err) != 0);
    CHECK(strstr(err.msg, "virtio_ring") != NULL);
    CHECK_EQ(index_of("virtio_pci.ko"), -1);
    fail_name = NULL;
    CHECK(lb_modules_load(m, &ops, "virtio_pci", &err) != 0); /* remembered as failed */
    lb_modules_free(m);
}

TEST(missing_index_is_an_error)
{
    lb_modules *m = NULL;
    lb_err err = {0};
    CHECK(lb_modules_open(lb_test_tmpdir(), "none", &m, &err) != 0);
    CHECK(m == NULL);
}
