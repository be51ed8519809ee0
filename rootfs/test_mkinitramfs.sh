#!/usr/bin/env bash
# Checks the newc writer of rootfs/mkinitramfs.py with GNU cpio: modes, owners, device nodes,
# module closure from a fake module tree, and concatenation of the models archive.
set -u
cd "$(dirname "$0")/.."
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
mkdir -p "$t/mods/9.9-test/kernel/a" "$t/mods/9.9-test/kernel/b"
echo init > "$t/init"; echo svc > "$t/svc"; printf 'GGUFmodel' > "$t/m.gguf"
echo A > "$t/mods/9.9-test/kernel/a/drv-a.ko"; echo B > "$t/mods/9.9-test/kernel/b/dep_b.ko"
echo X > "$t/mods/9.9-test/kernel/b/unused.ko"
printf 'kernel/a/drv-a.ko: kernel/b/dep_b.ko\nkernel/b/dep_b.ko:\nkernel/b/unused.ko:\n' > "$t/mods/9.9-test/modules.dep"
printf 'alias pci:v1234* drv_a\nalias pci:v9999* unused\n' > "$t/mods/9.9-test/modules.alias"
printf 'kernel/x/builtin_fs.ko\n' > "$t/mods/9.9-test/modules.builtin"
check() { if eval "$2"; then echo "PASS rootfs/$1"; else echo "FAIL rootfs/$1: $3"; fi; }

python3 rootfs/mkinitramfs.py --out "$t/base.zst" --init "$t/init" --service "$t/svc" --kver 9.9-test \
  --modules-from "$t/mods" --module drv_a --preload builtin_fs --compress zstd > "$t/log" 2>&1
python3 rootfs/mkinitramfs.py --models-only --out "$t/models.zst" --model "$t/m.gguf" >> "$t/log" 2>&1
zstd -dc "$t/base.zst" > "$t/base.cpio" && zstd -dc "$t/models.zst" > "$t/models.cpio"
list=$(cpio -itv --quiet < "$t/base.cpio" 2>/dev/null)
check cpio_readable '[ -n "$list" ]' "GNU cpio cannot read the archive: $(cat "$t/log")"
check console_node 'echo "$list" | grep -qE "^crw------- +1 root +root +5, +1 .* dev/console$"' "dev/console is not c 5,1 0600 root"
check init_executable 'echo "$list" | grep -qE "^-rwxr-xr-x .* root +root .* init$"' "init is not 0755 root"
check dirs_root_owned '! echo "$list" | grep -E "^d" | grep -vqE "^drwxr-xr-x +2 root +root"' "a directory is not 0755 root"
check module_with_dependency 'echo "$list" | grep -q "kernel/a/drv-a.ko" && echo "$list" | grep -q "kernel/b/dep_b.ko" && ! echo "$list" | grep -q unused.ko' "module closure wrong"
mkdir "$t/x" && (cd "$t/x" && cpio -id --quiet --no-absolute-filenames < ../base.cpio 2>/dev/null; cpio -id --quiet < ../models.cpio 2>/dev/null)
check filtered_alias '[ "$(cat "$t/x/lib/modules/9.9-test/modules.alias")" = "alias pci:v1234* drv_a" ]' "alias file not filtered to the copied modules"
check builtin_not_missing '! grep -q builtin_fs "$t/log"' "a built-in module was reported missing"
check preload_list 'grep -qx builtin_fs "$t/x/lib/modules/9.9-test/llmbox.preload"' "preload list missing"
check models_archive '[ "$(cat "$t/x/models/m.gguf")" = GGUFmodel ]' "models archive content"
cat "$t/base.zst" "$t/models.zst" > "$t/both.zst"
check concatenated_is_valid_zstd 'zstd -t -q "$t/both.zst"' "concatenated image is not valid zstd"
