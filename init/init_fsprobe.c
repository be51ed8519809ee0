#include "init_fsprobe.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

typedef int (*read_fn)(void *ud, uint64_t off, void *buf, size_t len);

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* Copies a fixed-size space/NUL-padded label, trimming the padding. */
static void copy_label(char *dst, size_t cap, const unsigned char *src, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n && src[i]; i++)
        len = i + 1;
    while (len && src[len - 1] == ' ')
        len--;
    if (len >= cap)
        len = cap - 1;
    for (size_t i = 0; i < len; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
    dst[len] = 0;
}

static int probe_ext(read_fn rd, void *ud, lb_fs_info *out)
{
    unsigned char sb[256];
    if (rd(ud, 1024, sb, sizeof sb))
        return LB_ENOENT;
    if (le16(sb + 0x38) != 0xEF53)
        return LB_ENOENT;
    /* Same label field for ext2/3/4; the ext4 driver mounts all of them. */
    strcpy(out->type, "ext4");
    copy_label(out->label, sizeof out->label, sb + 0x78, 16);
    return 0;
}

static void utf16_to_utf8(char *dst, size_t cap, const unsigned char *src, unsigned n_chars)
{
    size_t o = 0;
    for (unsigned i = 0; i < n_chars; i++) {
        unsigned c = le16(src + 2 * i);
        if (c < 0x80 && o + 1 < cap)
            dst[o++] = c >= 0x20 ? (char)c : '?';
        else if (c < 0x800 && o + 2 < cap) {
            dst[o++] = (char)(0xC0 | c >> 6);
            dst[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c >= 0x800 && o + 3 < cap) {
            dst[o++] = (char)(0xE0 | c >> 12);
            dst[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            dst[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    dst[o] = 0;
}

static int probe_exfat(read_fn rd, void *ud, const unsigned char *bs, lb_fs_info *out)
{
    if (memcmp(bs + 3, "EXFAT   ", 8) != 0)
        return LB_ENOENT;
    strcpy(out->type, "exfat");
    out->label[0] = 0;
    unsigned bps_shift = bs[108], spc_shift = bs[109];
    if (bps_shift < 9 || bps_shift > 12 || spc_shift > 25 - bps_shift)
        return 0; /* exFAT, but geometry we do not trust: no label */
    uint64_t heap = le32(bs + 88), root = le32(bs + 96);
    if (root < 2)
        return 0;
    uint64_t cluster_bytes = 1ull << (bps_shift + spc_shift);
    uint64_t off = (heap << bps_shift) + (root - 2) * cluster_bytes;
    /* The label entry is conventionally among the first root entries; look at up to 4 KiB. */
    unsigned char dir[4096];
    size_t n = cluster_bytes < sizeof dir ? (size_t)cluster_bytes : sizeof dir;
    if (rd(ud, off, dir, n))
        return 0;
    for (size_t i = 0; i + 32 <= n; i += 32) {
        unsigned char type = dir[i];
        if (type == 0x00)
            break;
        if (type == 0x83) {
            unsigned count = dir[i + 1];
            if (count > 11)
                count = 11;
            utf16_to_utf8(out->label, sizeof out->label, dir + i + 2, count);
            break;
        }
    }
    return 0;
}

static int probe_fat(const unsigned char *bs, lb_fs_info *out)
{
    if (bs[510] != 0x55 || bs[511] != 0xAA)
        return LB_ENOENT;
    const unsigned char *label;
    if (memcmp(bs + 82, "FAT32   ", 8) == 0)
        label = bs + 71;
    else if (memcmp(bs + 54, "FAT12   ", 8) == 0 || memcmp(bs + 54, "FAT16   ", 8) == 0 ||
             memcmp(bs + 54, "FAT     ", 8) == 0)
        label = bs + 43;
    else
        return LB_ENOENT;
    unsigned bps = le16(bs + 11);
    if (bps < 512 || bps > 4096 || (bps & (bps - 1)))
        return LB_ENOENT;
    strcpy(out->type, "vfat");
    copy_label(out->label, sizeof out->label, label, 11);
    if (strcmp(out->label, "NO NAME") == 0)
        out->label[0] = 0;
    return 0;
}

static int probe(read_fn rd, void *ud, lb_fs_info *out)
{
    memset(out, 0, sizeof *out);
    if (probe_ext(rd, ud, out) == 0)
        return 0;
    unsigned char bs[512];
    if (rd(ud, 0, bs, sizeof bs))
        return LB_ENOENT;
    if (probe_exfat(rd, ud, bs, out) == 0)
        return 0;
    if (probe_fat(bs, out) == 0)
        return 0;
    memset(out, 0, sizeof *out);
    return LB_ENOENT;
}

static int read_fd(void *ud, uint64_t off, void *buf, size_t len)
{
    int fd = *(int *)ud;
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

struct mem { const unsigned char *p; size_t len; };

static int read_mem(void *ud, uint64_t off, void *buf, size_t len)
{
    const struct mem *m = ud;
    if (off > m->len || len > m->len - off)
        return -1;
    memcpy(buf, m->p + off, len);
    return 0;
}

int lb_fs_probe_fd(int fd, lb_fs_info *out) { return probe(read_fd, &fd, out); }

int lb_fs_probe_mem(const unsigned char *buf, size_t len, lb_fs_info *out)
{
    struct mem m = {buf, len};
    return probe(read_mem, &m, out);
}
