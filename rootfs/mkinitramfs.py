#!/usr/bin/env python3
"""Builds the llmbox initramfs without root: writes a newc cpio itself (so /dev/console and
every directory get the right mode and owner 0:0 whoever runs it), then compresses it.

Usage: mkinitramfs.py --out FILE --init BIN --service BIN --kver VER [--modules-from DIR]
                      [--module NAME ...] [--preload NAME ...] [--model FILE] [--busybox BIN]
                      [--compress zstd|gzip] [--list]
Prints the compressed size and, with --list, every entry.
"""
import argparse
import gzip
import os
import subprocess
import sys


class Cpio:
    def __init__(self):
        self.entries = []  # (name, mode, data, rdev_major, rdev_minor, target)
        self.names = set()
        self.ino = 1000

    def _add(self, name, mode, data=b"", rmaj=0, rmin=0):
        name = name.lstrip("/")
        if name in self.names:
            return
        # parents first, as the kernel unpacks in order
        parent = os.path.dirname(name)
        if parent and parent not in self.names:
            self.dir(parent)
        self.names.add(name)
        self.entries.append((name, mode, data, rmaj, rmin))

    def dir(self, name, perm=0o755):
        self._add(name, 0o040000 | perm)

    def file(self, name, data, perm=0o644):
        self._add(name, 0o100000 | perm, data)

    def symlink(self, name, target):
        self._add(name, 0o120000 | 0o777, target.encode())

    def chardev(self, name, major, minor, perm=0o600):
        self._add(name, 0o020000 | perm, b"", major, minor)

    def bytes(self):
        out = bytearray()

        def entry(name, mode, data, rmaj, rmin, nlink):
            self.ino += 1
            nb = name.encode() + b"\0"
            fields = [self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmaj, rmin, len(nb), 0]
            out.extend(b"070701" + b"".join(b"%08X" % f for f in fields))
            out.extend(nb)
            out.extend(b"\0" * (-len(out) % 4))
            out.extend(data)
            out.extend(b"\0" * (-len(out) % 4))

        for name, mode, data, rmaj, rmin in self.entries:
            entry(name, mode, data, rmaj, rmin, 2 if mode & 0o040000 else 1)
        entry("TRAILER!!!", 0, b"", 0, 0, 1)
        return bytes(out)


def norm(name):
    return name.replace("-", "_")


def module_closure(moddir, wanted):
    """Module paths (relative to moddir) for the wanted names plus their dependencies."""
    deps, by_name = {}, {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            if ":" not in line:
                continue
            path, rest = line.split(":", 1)
            deps[path] = rest.split()
            by_name[norm(os.path.basename(path).split(".")[0])] = path
    builtin = set()
    bpath = os.path.join(moddir, "modules.builtin")
    if os.path.exists(bpath):
        with open(bpath) as f:
            builtin = {norm(os.path.basename(l.strip()).split(".")[0]) for l in f}
    chosen, missing = [], []

    def visit(path):
        if path in chosen:
            return
        for d in deps.get(path, []):
            visit(d)
        chosen.append(path)

    for name in wanted:
        n = norm(name)
        if n in by_name:
            visit(by_name[n])
        elif n not in builtin:
            missing.append(name)
    return chosen, deps, missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--init")
    ap.add_argument("--service")
    ap.add_argument("--kver")
    ap.add_argument("--models-only", action="store_true",
                    help="an archive of /models alone, to concatenate after the base image")
    ap.add_argument("--modules-from", default="/lib/modules")
    ap.add_argument("--module", action="append", default=[])
    ap.add_argument("--preload", action="append", default=[])
    ap.add_argument("--model", action="append", default=[])
    ap.add_argument("--busybox")
    ap.add_argument("--compress", default="zstd", choices=["zstd", "gzip"])
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()

    c = Cpio()
    if a.models_only:
        c.dir("models")
        for m in a.model:
            c.file("models/" + os.path.basename(m), open(m, "rb").read(), 0o644)
        return finish(a, c)
    if not (a.init and a.service and a.kver):
        sys.exit("mkinitramfs: --init, --service and --kver are required")
    for d in ["bin", "dev", "proc", "sys", "run", "tmp", "data", "models", "lib/modules/" + a.kver]:
        c.dir(d)
    c.chardev("dev/console", 5, 1, 0o600)
    c.chardev("dev/null", 1, 3, 0o666)
    c.file("init", open(a.init, "rb").read(), 0o755)
    c.file("bin/llmboxd", open(a.service, "rb").read(), 0o755)

    moddir = os.path.join(a.modules_from, a.kver)
    if a.module or a.preload:
        chosen, deps, missing = module_closure(moddir, a.module + a.preload)
        for m in missing:
            print(f"mkinitramfs: module {m} is neither a module nor built in; skipped", file=sys.stderr)
        names = set()
        dep_lines = []
        for path in chosen:
            data = open(os.path.join(moddir, path), "rb").read()
            if path.endswith(".xz") or path.endswith(".zst"):
                sys.exit(f"mkinitramfs: compressed module {path}: decompress support not implemented")
            c.file(f"lib/modules/{a.kver}/{path}", data, 0o644)
            names.add(norm(os.path.basename(path).split(".")[0]))
            dep_lines.append(f"{path}: {' '.join(deps.get(path, []))}\n")
        aliases = []
        with open(os.path.join(moddir, "modules.alias")) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[0] == "alias" and norm(parts[2]) in names:
                    aliases.append(line)
        c.file(f"lib/modules/{a.kver}/modules.dep", "".join(dep_lines).encode())
        c.file(f"lib/modules/{a.kver}/modules.alias", "".join(aliases).encode())
        c.file(f"lib/modules/{a.kver}/llmbox.preload", "".join(p + "\n" for p in a.preload).encode())

    for m in a.model:
        c.file("models/" + os.path.basename(m), open(m, "rb").read(), 0o644)

    if a.busybox:
        c.file("bin/busybox", open(a.busybox, "rb").read(), 0o755)
        applets = subprocess.run([a.busybox, "--list"], capture_output=True, text=True).stdout.split()
        for ap_name in applets:
            if ap_name not in ("init", "linuxrc", "busybox"):
                c.symlink("bin/" + ap_name, "busybox")
    return finish(a, c)


def finish(a, c):
    raw = c.bytes()
    if a.compress == "zstd":
        data = subprocess.run(["zstd", "-19", "-q", "-c"], input=raw, capture_output=True, check=True).stdout
    else:
        data = gzip.compress(raw, 9, mtime=0)
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, a.out)
    if a.list:
        for name, mode, payload, rmaj, rmin in c.entries:
            kind = {0o04: "d", 0o10: "-", 0o12: "l", 0o02: "c"}.get(mode >> 12, "?")
            extra = f" -> {payload.decode()}" if kind == "l" else (f" {rmaj},{rmin}" if kind == "c" else "")
            print(f"  {kind}{oct(mode & 0o7777)[2:]:>4} {len(payload) if kind == '-' else 0:>9} /{name}{extra}")
    print(f"{a.out}: {len(data)} bytes compressed ({len(data) / 1048576:.2f} MiB, {a.compress}), "
          f"{len(raw)} bytes uncompressed, {len(c.entries)} entries")


if __name__ == "__main__":
    main()
