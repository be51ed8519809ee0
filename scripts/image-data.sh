#!/usr/bin/env bash
# The data partition (exFAT, LLMBOX) of a disk image made by mkimage.sh, from the host and
# without root: list it, copy files out, or add files (a model, a changed llmbox.conf).
#   image-data.sh ls IMG
#   image-data.sh get IMG PATH DEST        e.g. get out/llmbox.img llmbox/api_key key.txt
#   image-data.sh add IMG DIR FILE...      e.g. add out/llmbox.img models my-model.gguf
# `add` rewrites the partition with everything it held plus the new files (our exFAT writer
# lays files out contiguously), so keys written by the appliance on first boot are kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}; img=${2:-}
[ -n "$cmd" ] && [ -r "$img" ] || { sed -n '2,8p' "$0" >&2; exit 2; }
read -r start end < <(sgdisk -i 2 "$img" | awk '/^First sector/{s=$3} /^Last sector/{e=$3} END{print s, e}')
[ -n "$start" ] && [ -n "$end" ] || { echo "image-data: $img has no partition 2" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dd if="$img" of="$work/data.img" bs=1M skip=$(( start * 512 )) count=$(( (end - start + 1) * 512 )) iflag=skip_bytes,count_bytes conv=sparse status=none
case $cmd in
  ls) python3 "$here/exfat.py" ls "$work/data.img" ;;
  get)
    [ $# -eq 4 ] || { echo "image-data: get IMG PATH DEST" >&2; exit 2; }
    python3 "$here/exfat.py" extract "$work/data.img" "$work/tree"
    [ -f "$work/tree/$3" ] || { echo "image-data: $3 not on the data partition" >&2; exit 1; }
    cp "$work/tree/$3" "$4" ;;
  add)
    [ $# -ge 4 ] || { echo "image-data: add IMG DIR FILE..." >&2; exit 2; }
    dir=$3; shift 3
    python3 "$here/exfat.py" extract "$work/data.img" "$work/tree"
    mkdir -p "$work/tree/$dir"
    cp "$@" "$work/tree/$dir/"
    label=LLMBOX
    python3 "$here/exfat.py" mkfs "$work/new.img" $(( (end - start + 1) * 512 )) "$label" "$work/tree"
    dd if="$work/new.img" of="$img" bs=1M seek=$(( start * 512 )) oflag=seek_bytes conv=notrunc status=none  # not sparse: zeros must overwrite
    sync "$img" ;;
  *) echo "image-data: unknown command $cmd" >&2; exit 2 ;;
esac
