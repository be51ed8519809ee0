#!/usr/bin/env bash
# The disk image as a user gets it: out of scripts/mkimage.sh, booted by UEFI firmware (OVMF)
# with the image as the only disk. First boot generates the API key onto the exFAT data
# partition; a model added from the host (no root) is served on the second boot, with the same key.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
OVMF=${OVMF:-/usr/share/ovmf/OVMF.fd}
IMAGE_KERNEL=${IMAGE_KERNEL:-$E2E_KERNEL}
BOOT_SECS=${BOOT_SECS:-600}
dir=out/image-test
rm -rf "$dir"; mkdir -p "$dir"
img=$dir/llmbox.img

ok() { echo "PASS image/$1${2:+ ($2)}"; }
bad() { echo "FAIL image/$1: $2"; }

# Serial console first in the list so /dev/console (init's and llmboxd's output) is the serial port.
if scripts/mkimage.sh --kernel "$IMAGE_KERNEL" --initrd "$E2E_INITRD" --out "$img" --data-mib 64 \
     --cmdline "console=tty0 console=ttyS0,115200 panic=-1" > "$dir/mkimage.log" 2>&1 &&
   [ "$(python3 - "$img" <<'PY'
import sys
d = open(sys.argv[1], "rb").read(4096)
print("ok" if d[512:520] == b"EFI PART" else "no")
PY
)" = ok ]; then
  ok build "$(tail -1 "$dir/mkimage.log")"
else
  bad build "$(tail -3 "$dir/mkimage.log")"; exit 1
fi

boot_uefi() {  # NAME -> VM_DIR VM_PID VM_PORT VM_T0
  VM_DIR=$dir/$1; mkdir -p "$VM_DIR"
  VM_PORT=$(free_port)
  VM_T0=$(now_ms)
  qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2G -display none -monitor none -no-reboot \
    -bios "$OVMF" -drive "file=$img,format=raw,if=virtio" \
    -serial "file:$VM_DIR/console.log" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$VM_PORT-:443" -device virtio-net-pci,netdev=n0,romfile= \
    -device virtio-rng-pci </dev/null >"$VM_DIR/qemu.log" 2>&1 &
  VM_PID=$!
}

api() {  # METHOD PATH [BODY] -> prints "STATUS BODY"
  local args=(-sk --max-time 120 -o "$VM_DIR/resp" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $KEY")
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
  local code; code=$(curl "${args[@]}" "https://127.0.0.1:$VM_PORT$2" 2>/dev/null)
  echo "$code $(cat "$VM_DIR/resp" 2>/dev/null)"
}

poweroff_and_wait() {  # NAME
  local r; r=$(api POST /v1/system/poweroff '{}')
  local end=$(( $(date +%s) + 120 ))
  while kill -0 "$VM_PID" 2>/dev/null && [ "$(date +%s)" -le "$end" ]; do sleep 0.5; done
  if kill -0 "$VM_PID" 2>/dev/null; then
    bad "$1_poweroff" "QEMU still running 120 s after POST /v1/system/poweroff (${r%% *})"; vm_kill
  else
    wait "$VM_PID"; local rc=$?
    [ "$rc" = 0 ] && ok "$1_poweroff" "QEMU exit 0" || bad "$1_poweroff" "QEMU exit $rc"
  fi
  VM_PID=""
}
trap 'vm_kill' EXIT

chat() {  # the served model's id, as a client reads it from /v1/models
  local id; id=$(api GET /v1/models | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
  api POST /v1/chat/completions \
    '{"model":"'"$id"'","messages":[{"role":"user","content":"Tell me a story."}],"max_tokens":8,"temperature":0}'
}

# --- first boot: key generated and stored on the data partition ---
boot_uefi boot1
if wait_health "$BOOT_SECS"; then ok boot1_health "$(( ($(now_ms) - VM_T0) / 1000 )) s from QEMU start, UEFI + TCG"
else bad boot1_health "no /health within $BOOT_SECS s; console: $(tail -5 "$VM_DIR/console.log" | tr '\n' '|')"; exit 1; fi
KEY=$(grep -aoE 'new API key \(stored in [^)]*\): [A-Za-z0-9_-]+' "$VM_DIR/console.log" | tail -1 | sed 's/.*: //')
[ -n "$KEY" ] && ok boot1_key_printed || bad boot1_key_printed "no 'new API key' line on the console"
r=$(chat)
[[ ${r%% *} == 200 && $r == *'"choices"'* ]] && ok boot1_chat || bad boot1_chat "$r"
poweroff_and_wait boot1

if scripts/image-data.sh get "$img" llmbox/api_key "$dir/api_key" 2>"$dir/get.log" &&
   [ "$(tr -d '\n' < "$dir/api_key")" = "$KEY" ]; then
  ok key_on_data_partition
else
  bad key_on_data_partition "$(cat "$dir/get.log") $(cat "$dir/api_key" 2>/dev/null)"
fi

# --- a model copied onto the data partition from the host, without root ---
cp "${DEFAULT_MODEL:-out/models/stories260K.gguf}" "$dir/custom-story.gguf"
if scripts/image-data.sh add "$img" models "$dir/custom-story.gguf" 2>"$dir/add.log" &&
   scripts/image-data.sh ls "$img" | grep -q '^models/custom-story.gguf '; then
  ok model_added_from_host
else
  bad model_added_from_host "$(cat "$dir/add.log")"
fi

# --- second boot: same key, the added model served ---
boot_uefi boot2
if wait_health "$BOOT_SECS"; then ok boot2_health "$(( ($(now_ms) - VM_T0) / 1000 )) s"
else bad boot2_health "no /health within $BOOT_SECS s; console: $(tail -5 "$VM_DIR/console.log" | tr '\n' '|')"; exit 1; fi
r=$(api GET /v1/models)
[[ ${r%% *} == 200 ]] && ok boot2_key_reused || bad boot2_key_reused "GET /v1/models with the first boot's key: $r"
[[ $r == *'"id":"custom-story"'* ]] && ok boot2_serves_added_model || bad boot2_serves_added_model "$r"
grep -aq 'new API key' "$VM_DIR/console.log" && bad boot2_no_new_key "a new key was generated" || ok boot2_no_new_key
r=$(chat)
[[ ${r%% *} == 200 && $r == *'"choices"'* ]] && ok boot2_chat || bad boot2_chat "$r"
poweroff_and_wait boot2
