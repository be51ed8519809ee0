#!/usr/bin/env bash
# Creates the LLMBOX data partition image without root: ext4 populated with mkfs.ext4 -d.
# Usage: mkdatadisk.sh OUT.img KEYS_DIR [--model FILE] [--conf TEXT] [--no-keys]
#   KEYS_DIR holds api_key, tls/cert.pem, tls/key.pem (made by scripts/mkkeys.sh).
set -euo pipefail
out=$1 keys=$2; shift 2
model="" conf="" with_keys=1
while [ $# -gt 0 ]; do
  case $1 in
    --model) model=$2; shift 2 ;;
    --conf) conf=$2; shift 2 ;;
    --no-keys) with_keys=0; shift ;;
    *) echo "mkdatadisk: unknown option $1" >&2; exit 2 ;;
  esac
done
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/models" "$stage/llmbox"
chmod 700 "$stage/llmbox"
if [ "$with_keys" = 1 ]; then
  mkdir -p "$stage/llmbox/tls"; chmod 700 "$stage/llmbox/tls"
  cp "$keys/api_key" "$stage/llmbox/api_key"
  cp "$keys/tls/cert.pem" "$keys/tls/key.pem" "$stage/llmbox/tls/"
  chmod 600 "$stage/llmbox/api_key" "$stage/llmbox/tls/key.pem"
fi
[ -n "$model" ] && cp "$model" "$stage/models/"
printf '# llmbox settings (the kernel command line wins over these)\n%s\n' "$conf" > "$stage/llmbox.conf"
size_kb=$(( $(du -sk "$stage" | cut -f1) + 16384 ))
rm -f "$out"
mkfs.ext4 -q -F -L LLMBOX -E root_owner=0:0 -d "$stage" "$out" "${size_kb}k"
