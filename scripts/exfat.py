#!/usr/bin/env python3
"""exFAT volumes without root: build one from a directory tree, list or extract one.

The appliance's data partition is exFAT so that multi-GB GGUF files fit and any laptop can
write it. Debian has mkfs.exfat but no tool that copies files into an exFAT image without
mounting it, so this script writes the format itself (the exFAT specification, sections 3-7):
boot region + backup, one FAT, allocation bitmap, up-case table, and directory entry sets.
Every file and directory gets a FAT chain; when reading, contiguous (NoFatChain) files written
by other implementations (the Linux driver, Windows, macOS) are understood too.

  exfat.py mkfs IMAGE SIZE_BYTES LABEL SRC_DIR   build IMAGE (SIZE_BYTES) holding SRC_DIR
  exfat.py ls IMAGE                              list every path with its size
  exfat.py extract IMAGE DEST_DIR                copy every file out of IMAGE
"""
import io
import os
import struct
import sys
import time

SECTOR = 512
ENTRY = 32
FAT_EOC = 0xFFFFFFFF


def boot_checksum(region):
    """Checksum of sectors 0-10, skipping VolumeFlags (106, 107) and PercentInUse (112)."""
    c = 0
    for i, b in enumerate(region):
        if i in (106, 107, 112):
            continue
        c = (((c >> 1) | ((c & 1) << 31)) + b) & 0xFFFFFFFF
    return c


def table_checksum(data):
    c = 0
    for b in data:
        c = (((c >> 1) | ((c & 1) << 31)) + b) & 0xFFFFFFFF
    return c


def set_checksum(entries):
    c = 0
    for i, b in enumerate(entries):
        if i in (2, 3):
            continue
        c = (((c >> 1) | ((c & 1) << 15)) + b) & 0xFFFF
    return c


def upcase_char(ch):
    u = chr(ch).upper()
    return ord(u) if len(u) == 1 and ord(u) < 0x10000 else ch


def name_hash(name):
    h = 0
    for ch in name.encode("utf-16-le").decode("utf-16-le"):
        for b in struct.pack("<H", upcase_char(ord(ch)) if ord(ch) < 0x10000 else 0):
            h = (((h >> 1) | ((h & 1) << 15)) + b) & 0xFFFF
    return h


def upcase_table():
    """Compressed up-case table (spec 7.2.5.1: 0xFFFF then N = the next N characters map to
    themselves) from Python's simple case mapping. Compressed also keeps it under 64 KiB, which
    fsck.exfat of exfatprogs needs (it truncates a larger table's size to 16 bits)."""
    out, run = [], 0
    for ch in range(0x10000):
        m = ch if 0xD800 <= ch < 0xE000 else upcase_char(ch)
        if m == ch:
            run += 1
            continue
        if run:
            out += [0xFFFF, run] if run > 2 else list(range(ch - run, ch))
            run = 0
        out.append(m)
    if run:
        out += [0xFFFF, run]
    return struct.pack("<%dH" % len(out), *out)


def dos_time(t):
    tm = time.gmtime(t)
    year = max(tm.tm_year, 1980) - 1980
    return (year << 25) | (tm.tm_mon << 21) | (tm.tm_mday << 16) | (tm.tm_hour << 11) | \
        (tm.tm_min << 5) | (tm.tm_sec // 2)


class Builder:
    def __init__(self, size, label):
        self.size = size - size % SECTOR
        sectors = self.size // SECTOR
        if sectors < 4096:
            raise SystemExit("exfat: volume too small (need at least 2 MiB)")
        # Cluster size by volume size, as mkfs.exfat does for removable media.
        if self.size <= 256 << 20:
            self.spc_shift = 3       # 4 KiB
        elif self.size <= 32 << 30:
            self.spc_shift = 6       # 32 KiB
        else:
            self.spc_shift = 8       # 128 KiB
        self.csize = SECTOR << self.spc_shift
        spc = 1 << self.spc_shift
        self.fat_offset = 128                        # aligned, after boot + backup regions
        count = (sectors - self.fat_offset) // spc   # upper bound, refined below
        fat_len = -(-((count + 2) * 4) // SECTOR)
        self.heap_offset = -(-(self.fat_offset + fat_len) // spc) * spc
        self.count = (sectors - self.heap_offset) // spc
        self.fat_len = fat_len
        self.fat = [0] * (self.count + 2)
        self.fat[0], self.fat[1] = 0xFFFFFFF8, FAT_EOC
        self.next_free = 2
        self.label = label[:11]
        self.writes = []  # (cluster, bytes or path)

    def alloc(self, nbytes):
        """Contiguous clusters with a FAT chain; returns the first cluster (0 for empty)."""
        n = -(-nbytes // self.csize)
        if n == 0:
            return 0
        first = self.next_free
        if first + n > self.count + 2:
            raise SystemExit("exfat: volume full (%d bytes more needed)" % nbytes)
        for c in range(first, first + n - 1):
            self.fat[c] = c + 1
        self.fat[first + n - 1] = FAT_EOC
        self.next_free += n
        return first

    def file_set(self, name, attrs, first, length, mtime):
        units = name.encode("utf-16-le")
        nchars = len(units) // 2
        if nchars == 0 or nchars > 255:
            raise SystemExit("exfat: bad file name length: %r" % name)
        n_names = -(-nchars // 15)
        ts = dos_time(mtime)
        e = bytearray(ENTRY * (2 + n_names))
        struct.pack_into("<BBHHHIII", e, 0, 0x85, 1 + n_names, 0, attrs, 0, ts, ts, ts)
        flags = 0x01 if length else 0x00  # AllocationPossible; chained (NoFatChain clear)
        struct.pack_into("<BBBBHHQIIQ", e, ENTRY, 0xC0, flags, 0, nchars, name_hash(name), 0,
                         length, 0, first, length)
        for i in range(n_names):
            off = ENTRY * (2 + i)
            e[off] = 0xC1
            chunk = units[i * 30:(i + 1) * 30]
            e[off + 2:off + 2 + len(chunk)] = chunk
        struct.pack_into("<H", e, 2, set_checksum(e))
        return bytes(e)

    def add_dir(self, src, entries_prefix=b""):
        """Lays out src recursively; returns (first cluster, bytes) of its directory entries."""
        body = bytearray(entries_prefix)
        for name in sorted(os.listdir(src)):
            path = os.path.join(src, name)
            st = os.lstat(path)
            if os.path.isdir(path):
                first, length = self.add_dir(path)
                body += self.file_set(name, 0x10, first, length, st.st_mtime)
            elif os.path.isfile(path):
                first = self.alloc(st.st_size)
                self.writes.append((first, path))
                body += self.file_set(name, 0x20, first, st.st_size, st.st_mtime)
        length = max(len(body), 1)
        length = -(-length // self.csize) * self.csize
        first = self.alloc(length)
        self.writes.append((first, bytes(body)))
        return first, length

    def build(self, out, src):
        bitmap_len = -(-self.count // 8)
        bitmap_first = self.alloc(bitmap_len)
        upcase = upcase_table()
        upcase_first = self.alloc(len(upcase))
        self.writes.append((upcase_first, upcase))
        label = self.label.encode("utf-16-le")
        prefix = bytearray(ENTRY * 3)
        struct.pack_into("<BB", prefix, 0, 0x83, len(label) // 2)
        prefix[2:2 + len(label)] = label
        struct.pack_into("<BB18xIQ", prefix, ENTRY, 0x81, 0, bitmap_first, bitmap_len)
        struct.pack_into("<B3xI12xIQ", prefix, 2 * ENTRY, 0x82, table_checksum(upcase),
                         upcase_first, len(upcase))
        root_first, _ = self.add_dir(src, bytes(prefix))
        used = self.next_free - 2
        bitmap = bytearray(bitmap_len)
        for i in range(used):
            bitmap[i // 8] |= 1 << (i % 8)
        self.writes.append((bitmap_first, bytes(bitmap)))

        bs = bytearray(SECTOR)
        bs[0:3] = b"\xEB\x76\x90"
        bs[3:11] = b"EXFAT   "
        struct.pack_into("<QQIIIIIIHHBBBBB", bs, 64, 0, self.size // SECTOR, self.fat_offset,
                         self.fat_len, self.heap_offset, self.count, root_first,
                         int.from_bytes(os.urandom(4), "little"), 0x0100, 0, 9, self.spc_shift,
                         1, 0x80, min(100, used * 100 // self.count))
        bs[510:512] = b"\x55\xAA"
        region = bytearray(bs)
        ext = bytearray(SECTOR)
        ext[508:512] = b"\x00\x00\x55\xAA"
        for _ in range(8):
            region += ext
        region += bytes(SECTOR) * 2  # OEM parameters, reserved
        chk = boot_checksum(region)
        region += struct.pack("<I", chk) * (SECTOR // 4)

        with open(out + ".tmp", "wb") as f:
            f.truncate(self.size)
            f.write(region)
            f.write(region)  # backup boot region, sectors 12-23
            f.seek(self.fat_offset * SECTOR)
            f.write(struct.pack("<%dI" % len(self.fat), *self.fat))
            for first, data in self.writes:
                f.seek(self.heap_offset * SECTOR + (first - 2) * self.csize)
                if isinstance(data, bytes):
                    f.write(data)
                else:
                    with open(data, "rb") as src_f:
                        while True:
                            chunk = src_f.read(8 << 20)
                            if not chunk:
                                break
                            f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(out + ".tmp", out)


class Reader:
    def __init__(self, path):
        self.f = open(path, "rb")
        bs = self.f.read(SECTOR)
        if bs[3:11] != b"EXFAT   " or bs[510:512] != b"\x55\xAA":
            raise SystemExit("exfat: %s is not an exFAT volume" % path)
        (self.fat_offset, self.fat_len, self.heap_offset, self.count,
         self.root) = struct.unpack_from("<IIIII", bs, 80)
        bps, spc = bs[108], bs[109]
        if not 9 <= bps <= 12 or bps + spc > 25:
            raise SystemExit("exfat: implausible geometry")
        self.sector = 1 << bps
        self.csize = self.sector << spc
        self.f.seek(self.fat_offset * self.sector)
        raw = self.f.read(min(self.fat_len * self.sector, (self.count + 2) * 4))
        self.fat = struct.unpack("<%dI" % (len(raw) // 4), raw)

    def clusters(self, first, length, contiguous):
        n = -(-length // self.csize)
        if contiguous:
            return list(range(first, first + n))
        out, c = [], first
        while 2 <= c < len(self.fat) and len(out) < n:
            out.append(c)
            c = self.fat[c]
        if len(out) < n:
            raise SystemExit("exfat: broken FAT chain at cluster %d" % first)
        return out

    def copy(self, first, length, contiguous, out):
        """Writes the data of a file or directory to out, cluster by cluster (models are GBs)."""
        left = length
        for c in self.clusters(first, length, contiguous):
            self.f.seek(self.heap_offset * self.sector + (c - 2) * self.csize)
            out.write(self.f.read(min(left, self.csize)))
            left -= self.csize

    def read(self, first, length, contiguous):
        buf = io.BytesIO()
        self.copy(first, length, contiguous, buf)
        return buf.getvalue()

    def walk(self, first=None, length=None, contiguous=False, prefix=""):
        """Yields (path, is_dir, first, size, contiguous) for every entry below a directory."""
        if first is None:
            first, length = self.root, self.root_length()
        data = self.read(first, length, contiguous)
        i = 0
        while i + ENTRY <= len(data):
            t = data[i]
            if t == 0:
                break
            if t != 0x85:
                i += ENTRY
                continue
            n_sec = data[i + 1]
            attrs = struct.unpack_from("<H", data, i + 4)[0]
            st = i + ENTRY
            flags, nlen = data[st + 1], data[st + 3]
            first_c, size = struct.unpack_from("<IQ", data, st + 20)
            name = b"".join(data[i + ENTRY * k + 2:i + ENTRY * k + 32] for k in range(2, n_sec + 1))
            name = name.decode("utf-16-le", "replace")[:nlen]
            path = prefix + name
            is_dir = bool(attrs & 0x10)
            yield path, is_dir, first_c, size, bool(flags & 0x02)
            if is_dir and size:
                yield from self.walk(first_c, size, bool(flags & 0x02), path + "/")
            i += ENTRY * (n_sec + 1)

    def root_length(self):
        n, c = 0, self.root
        while 2 <= c < len(self.fat) and n <= self.count:
            n += 1
            c = self.fat[c]
        return n * self.csize


def main(argv):
    if len(argv) >= 2 and argv[1] == "mkfs" and len(argv) == 6:
        Builder(int(argv[3]), argv[4]).build(argv[2], argv[5])
    elif len(argv) == 3 and argv[1] == "ls":
        r = Reader(argv[2])
        for path, is_dir, _, size, _ in r.walk():
            print("%s%s %d" % (path, "/" if is_dir else "", size))
    elif len(argv) == 4 and argv[1] == "extract":
        r = Reader(argv[2])
        for path, is_dir, first, size, contiguous in r.walk():
            dest = os.path.join(argv[3], path)
            if is_dir:
                os.makedirs(dest, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with open(dest, "wb") as f:
                    if size:
                        r.copy(first, size, contiguous, f)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
