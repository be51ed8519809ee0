#!/usr/bin/env bash
# `make run`: boots the appliance in QEMU (TCG) with a fresh LLMBOX data disk and user-mode
# networking that forwards host PORT to guest 443; the serial console stays in the foreground.
# Usage: run-qemu.sh --kernel FILE --initrd FILE --state DIR [--model FILE] [--port N] [--append ARGS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernel="" initrd="" state="" model="" port=8443 append=""
while [ $# -gt 0 ]; do
  case $1 in
    --kernel) kernel=$2; shift 2 ;;
    --initrd) initrd=$2; shift 2 ;;
    --state) state=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --append) append=$2; shift 2 ;;
    *) echo "run-qemu: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -r "$kernel" ] || { echo "run-qemu: kernel $kernel not readable (install linux-image-amd64)" >&2; exit 1; }
[ -z "$model" ] || [ -r "$model" ] || { echo "run-qemu: model $model not readable" >&2; exit 1; }
mkdir -p "$state"
"$here/mkkeys.sh" "$state/keys"
"$here/mkdatadisk.sh" "$state/data.img" "$state/keys" ${model:+--model "$model"}
fp=$(openssl x509 -noout -fingerprint -sha256 -in "$state/keys/tls/cert.pem" | cut -d= -f2)
cat <<MSG
================================================================================
 llmbox in QEMU (TCG: expect a slow boot and slow tokens)
   URL:          https://localhost:$port/v1   (health: https://localhost:$port/health)
   API key:      $(cat "$state/keys/api_key")
   fingerprint:  SHA256 $fp
   model:        ${model:-built-in default (initramfs /models)}
   try:          curl -k https://localhost:$port/health
   data disk:    $state/data.img (ext4, label LLMBOX; recreated each run, keys kept in $state/keys)
   Ctrl-A X ends QEMU.
================================================================================
MSG
exec qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2G -nographic \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=ttyS0 quiet panic=-1 $append" \
  -drive file="$state/data.img",format=raw,if=virtio \
  -netdev user,id=n0,hostfwd=tcp::"$port"-:443 -device virtio-net-pci,netdev=n0,romfile= \
  -device virtio-rng-pci
