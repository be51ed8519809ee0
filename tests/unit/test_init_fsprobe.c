#include "../lib/harness.h"
#include "init_fsprobe.h"
#include "init_blockdev.h"
#include "init_mounts.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned char img[64 * 1024];

static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, unsigned v) { put16(p, v & 0xFFFF); put16(p + 2, v >> 16); }

static void make_ext4(const char *label)
{
    memset(img, 0, sizeof img);
    put16(img + 1024 + 0x38, 0xEF53);
    memcpy(img + 1024 + 0x78, label, strlen(label));
}

/* exFAT: 512-byte sectors, 8 sectors per cluster, heap at sector 32, root at cluster 4. */
static void make_exfat(const char *label)
{
    memset(img, 0, sizeof img);
    memcpy(img + 3, "EXFAT   ", 8);
    put32(img + 88, 32);
    put32(img + 96, 4);
    img[108] = 9;
    img[109] = 3;
    unsigned char *root = img + 32 * 512 + (4 - 2) * 4096;
    root[0] = 0x81; /* allocation bitmap entry first, as mkfs writes it */
    root[32] = 0x83;
    root[33] = (unsigned char)strlen(label);
    for (size_t i = 0; i < strlen(label); i++)
        put16(root + 34 + 2 * i, (unsigned char)label[i]);
}

static void make_fat32(const char *label11)
{
    memset(img, 0, sizeof img);
    put16(img + 11, 512);
    memcpy(img + 71, label11, 11);
    memcpy(img + 82, "FAT32   ", 8);
    img[510] = 0x55;
    img[511] = 0xAA;
}

TEST(ext4_label)
{
    lb_fs_info fs;
    make_ext4("LLMBOX");
    CHECK_EQ(lb_fs_probe_mem(img, sizeof img, &fs), 0);
    CHECK_STR(fs.type, "ext4");
    CHECK_STR(fs.label, "LLMBOX");
}

TEST(exfat_label_from_root_directory)
{
    lb_fs_info fs;
    make_exfat("LLMBOX");
    CHECK_EQ(lb_fs_probe_mem(img, sizeof img, &fs), 0);
    CHECK_STR(fs.type, "exfat");
    CHECK_STR(fs.label, "LLMBOX");
}

TEST(exfat_with_hostile_geometry_has_no_label_and_no_overread)
{
    lb_fs_info fs;
    make_exfat("LLMBOX");
    put32(img + 96, 0xFFFFFFFF); /* root cluster far outside the image */
    CHECK_EQ(lb_fs_probe_mem(img, sizeof img, &fs), 0);
    CHECK_STR(fs.label, "");
    img[108] = 40; /* absurd sector shift */
    CHECK_EQ(lb_fs_probe_mem(img, sizeof img, &fs), 0);
    CHECK_STR(fs.label, "");
}

TEST(fat32_label_trimmed)
{
    lb_fs_info fs;
    make_fat32("LLMBOX     ");
    CHECK_EQ(lb_fs_probe_mem(img, sizeof img, &fs), 0);
    CHECK_STR(fs.type, "vfat");
    CHECK_STR(fs.label, "LLMBOX");
    make_fat32("NO NAME    ");
    CHECK_EQ(lb_fs_probe_mem(img, sizeof img, &fs), 0);
    CHECK_STR(fs.label, "");
}

TEST(unknown_and_short_inputs)
{
    lb_fs_info fs;
    memset(img, 0, sizeof img);
    CHECK_EQ(lb_fs_probe_mem(img, sizeof img, &fs), LB_ENOENT);
    make_ext4("X");
    CHECK_EQ(lb_fs_probe_mem(img, 1100, &fs), LB_ENOENT); /* superblock cut off */
    CHECK_EQ(lb_fs_probe_mem(img, 0, &fs), LB_ENOENT);
}

static void write_dev(const char *root, const char *name, int with_sysfs)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/dev/%s", root, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, img, sizeof img) == (ssize_t)sizeof img);
    close(fd);
    if (with_sysfs) {
        char rel[256];
        snprintf(rel, sizeof rel, "/sys/class/block/%s", name);
        lb_mkdirs(root, rel, NULL);
    }
}

static char mounted_src[512], mounted_type[32], mounted_data[64];
static int fake_mount(void *ud, const char *src, const char *target, const char *fstype, unsigned long flags,
                      const char *data)
{
    (void)ud; (void)target; (void)flags;
    snprintf(mounted_src, sizeof mounted_src, "%s", src);
    snprintf(mounted_type, sizeof mounted_type, "%s", fstype);
    snprintf(mounted_data, sizeof mounted_data, "%s", data ? data : "");
    return 0;
}

TEST(finds_labelled_partition_among_fake_block_devices)
{
    const char *root = lb_test_tmpdir();
    lb_mkdirs(root, "/dev", NULL);
    make_ext4("OTHER");
    write_dev(root, "vda", 1);
    make_exfat("llmbox"); /* label match is case-insensitive */
    write_dev(root, "sdb1", 1);
    make_fat32("LLMBOX     ");
    write_dev(root, "loop0", 1); /* loop devices are skipped */
    make_ext4("LLMBOX");
    write_dev(root, "nvme0n1p2", 0); /* no sysfs entry: not a block device */
    char dev[64];
    lb_fs_info fs;
    CHECK_EQ(lb_find_labelled(root, LB_DATA_LABEL, dev, sizeof dev, &fs), 0);
    CHECK_STR(dev, "/dev/sdb1");
    CHECK_STR(fs.type, "exfat");
    lb_sys_ops ops = {.mount = fake_mount};
    lb_err err = {0};
    CHECK_EQ(lb_mount_data(root, &ops, dev, &fs, "/data", &err), 0);
    CHECK(strstr(mounted_src, "/dev/sdb1") != NULL);
    CHECK_STR(mounted_type, "exfat");
    CHECK_STR(mounted_data, "umask=0077");
    CHECK_EQ(lb_find_labelled(root, "NOPE", dev, sizeof dev, &fs), LB_ENOENT);
}

/* Real images made by the real tools, when they are installed (they are deps of the project). */
TEST(real_mkfs_images)
{
    const char *root = lb_test_tmpdir();
    struct { const char *cmd, *type; } cases[] = {
        {"mkfs.ext4 -q -F -L LLMBOX %s/img 4M", "ext4"},
        {"mkfs.exfat -L LLMBOX %s/img >/dev/null", "exfat"},
        {"mkfs.vfat -n LLMBOX %s/img >/dev/null", "vfat"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cmd[1024], p[512];
        snprintf(p, sizeof p, "%s/img", root);
        FILE *f = fopen(p, "w");
        fclose(f);
        truncate(p, 8 << 20);
        snprintf(cmd, sizeof cmd, cases[i].cmd, root);
        if (system(cmd) != 0)
            SKIP("mkfs tools not installed (scripts/deps.sh installs them)");
        int fd = open(p, O_RDONLY);
        lb_fs_info fs;
        CHECK_EQ(lb_fs_probe_fd(fd, &fs), 0);
        close(fd);
        CHECK_STR(fs.type, cases[i].type);
        CHECK_STR(fs.label, "LLMBOX");
    }
}
