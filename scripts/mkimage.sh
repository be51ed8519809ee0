#!/usr/bin/env bash
# Builds the bootable disk image for a real mini-PC, without root:
#   GPT  partition 1: EFI system partition (FAT32) with one EFI executable, EFI/BOOT/BOOTX64.EFI:
#                     a unified kernel image (systemd's EFI stub + kernel + initramfs + command line)
#        partition 2: exFAT labelled LLMBOX: llmbox.conf, llmbox/ (keys, written on first boot), models/
# Usage: mkimage.sh --kernel FILE --initrd FILE --out IMG [--model FILE]... [--data-mib N]
#                   [--cmdline TEXT] [--conf TEXT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernel="" initrd="" out="" data_mib=1024 conf="" models=()
cmdline="console=ttyS0,115200 console=tty0 quiet panic=10"
while [ $# -gt 0 ]; do
  case $1 in
    --kernel) kernel=$2; shift 2 ;;
    --initrd) initrd=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --model) models+=("$2"); shift 2 ;;
    --data-mib) data_mib=$2; shift 2 ;;
    --cmdline) cmdline=$2; shift 2 ;;
    --conf) conf=$2; shift 2 ;;
    *) echo "mkimage: unknown option $1" >&2; exit 2 ;;
  esac
done
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
for f in "$kernel" "$initrd" "$stub"; do
  [ -r "$f" ] || { echo "mkimage: $f not readable" >&2; exit 1; }
done
[ -n "$out" ] || { echo "mkimage: --out is required" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Unified kernel image. Section addresses follow the stub's convention: small sections after
#    the stub's own, the kernel and initramfs far enough apart not to overlap.
printf 'NAME="llmbox"\nID=llmbox\nPRETTY_NAME="llmbox appliance"\n' > "$work/os-release"
printf '%s' "$cmdline" > "$work/cmdline"
kernel_size=$(stat -c %s "$kernel")
initrd_vma=$(( 0x2000000 + (kernel_size + 0xFFFFF) / 0x100000 * 0x100000 ))
objcopy \
  --add-section .osrel="$work/os-release" --change-section-vma .osrel=0x20000 \
  --add-section .cmdline="$work/cmdline" --change-section-vma .cmdline=0x30000 \
  --add-section .linux="$kernel" --change-section-vma .linux=0x2000000 \
  --add-section .initrd="$initrd" --change-section-vma .initrd=$(printf '0x%x' $initrd_vma) \
  "$stub" "$work/BOOTX64.EFI"

# 2. EFI system partition: FAT32, large enough for the UKI with room to spare.
uki_mib=$(( $(stat -c %s "$work/BOOTX64.EFI") / 1048576 + 1 ))
esp_mib=$(( uki_mib * 2 > 64 ? uki_mib * 2 : 64 ))
mkfs.vfat -F 32 -n LLMBOX-EFI -C "$work/esp.img" $(( esp_mib * 1024 )) >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

# 3. GPT layout: 1 MiB head, ESP, data partition to the end (34 sectors for the backup GPT).
models_mib=0
for m in "${models[@]+"${models[@]}"}"; do models_mib=$(( models_mib + $(stat -c %s "$m") / 1048576 + 1 )); done
[ "$data_mib" -ge $(( models_mib + 16 )) ] || data_mib=$(( models_mib + 64 ))
total_mib=$(( 1 + esp_mib + data_mib + 1 ))
rm -f "$out.tmp"
truncate -s "${total_mib}M" "$out.tmp"
sgdisk -n 1:2048:+"${esp_mib}M" -t 1:ef00 -c 1:"EFI system" \
          -n 2:0:0 -t 2:0700 -c 2:LLMBOX "$out.tmp" >/dev/null
part() {  # prints "START_SECTOR END_SECTOR" of partition $1
  sgdisk -i "$1" "$out.tmp" | awk '/^First sector/{s=$3} /^Last sector/{e=$3} END{print s, e}'
}
read -r esp_start _ < <(part 1)
read -r data_start data_end < <(part 2)

# 4. Data partition: exFAT written by our own tool (no mount, no root).
stage="$work/data"
mkdir -p "$stage/models" "$stage/llmbox"
for m in "${models[@]+"${models[@]}"}"; do cp "$m" "$stage/models/"; done
cat > "$stage/llmbox.conf" <<EOF
# llmbox settings: KEY=VALUE lines; the kernel command line wins over these.
# model=NAME.gguf    which file of models/ to serve (default: the first *.gguf, else the built-in one)
# ip=dhcp            or ADDR/PREFIX,GATEWAY
# port=443  parallel=4  ctx=4096  threads=0  hugepages=auto  power=balanced
$conf
EOF
python3 "$here/exfat.py" mkfs "$work/data.img" $(( (data_end - data_start + 1) * 512 )) LLMBOX "$stage"

dd if="$work/esp.img" of="$out.tmp" bs=512 seek="$esp_start" conv=notrunc,sparse status=none
dd if="$work/data.img" of="$out.tmp" bs=512 seek="$data_start" conv=notrunc,sparse status=none
sync "$out.tmp"
mv "$out.tmp" "$out"
echo "mkimage: $out: $(( total_mib )) MiB (ESP ${esp_mib} MiB, UKI $(stat -c %s "$work/BOOTX64.EFI") bytes, data ${data_mib} MiB exFAT LLMBOX)"
