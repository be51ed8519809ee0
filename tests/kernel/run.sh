#!/usr/bin/env bash
# `make test-kernel` (opt-in: the kernel build takes long): boot the appliance kernel from
# `make kernel` (all drivers built in, no modules) with the project's initramfs in QEMU (TCG)
# and check it serves the API through the forwarded port, like tests/e2e/run.sh does for the
# stock Debian kernel. When `make image` is available, also boot the disk image built with it.
set -u
cd "$(dirname "$0")/../.."
export E2E_KERNEL=${KERNEL_BZIMAGE:-out/kernel/bzImage}
export E2E_OUT=out/kernel-e2e
. tests/e2e/lib.sh
HEALTH_BOUND=${E2E_HEALTH_BOUND:-120}
trap vm_kill EXIT

[ -r "$E2E_KERNEL" ] || { echo "FAIL kernel/all: $E2E_KERNEL missing (make kernel)"; exit 0; }
[ -r "$E2E_INITRD" ] || { echo "FAIL kernel/all: $E2E_INITRD missing (make initramfs)"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || { echo "FAIL kernel/all: no qemu-system-x86_64"; exit 0; }
kpass() { echo "PASS kernel/$1${2:+ ($2)}"; }
kfail() { echo "FAIL kernel/$1: $2"; }
tailc() { tail -"${1:-6}" "$VM_DIR/console.log" | tr '\n' '|'; }

keys=$E2E_OUT/keys
mkdir -p "$E2E_OUT"
scripts/mkkeys.sh "$keys"
KEY=$(cat "$keys/api_key")
scripts/mkdatadisk.sh "$E2E_OUT/data.img" "$keys" --conf "ctx=512"

# loglevel=7 after lib.sh's "quiet": every kernel message on the serial console, for diagnosis.
vm_boot appliance-kernel "$E2E_OUT/data.img" "loglevel=7"
echo "# console: $VM_DIR/console.log"
if wait_health "$HEALTH_BOUND"; then
  kpass health_tls "first 200 after $(( $(now_ms) - VM_T0 )) ms, bound ${HEALTH_BOUND} s"
else
  kfail health_tls "no 200 from /health within ${HEALTH_BOUND} s; console tail: $(tailc 8)"
fi

# It is our kernel that booted, with no module tree, and /init carried on with built-in drivers.
if grep -qE 'Linux version 6\.1\.[0-9]+-llmbox' "$VM_DIR/console.log"; then
  kpass booted_appliance_kernel "$(grep -oE 'Linux version [^ ]+' "$VM_DIR/console.log" | head -1)"
else
  kfail booted_appliance_kernel "no 'Linux version 6.1.*-llmbox' on the console"
fi
# init writes each line to the console and to /dev/kmsg (echoed here by loglevel=7): count the former.
n=$(grep -c '^init: info: no module index .*relying on built-in drivers' "$VM_DIR/console.log")
[ "$n" = 1 ] && kpass no_modules_one_line || kfail no_modules_one_line "$n lines about the missing module index"
grep -qE 'data partition /dev/vda.* mounted on /data' "$VM_DIR/console.log" \
  && kpass data_partition_builtin_ext4_virtio_blk \
  || kfail data_partition_builtin_ext4_virtio_blk "not mounted; $(grep -iE 'data partition|LLMBOX' "$VM_DIR/console.log" | head -2 | tr '\n' '|')"
grep -qE 'dhcp: eth0 got 10\.0\.2\.15/24' "$VM_DIR/console.log" \
  && kpass dhcp_packet_socket "10.0.2.15 over the built-in virtio-net" || kfail dhcp_packet_socket "no lease on the console"
if grep -qE 'running without hugepages|cannot mount hugetlbfs' "$VM_DIR/console.log"; then
  kfail hugepages "$(grep -E 'running without hugepages|cannot mount hugetlbfs' "$VM_DIR/console.log" | head -1)"
else
  kpass hugepages "reserved and hugetlbfs mounted without a warning"
fi

MODEL_ID=$(curl -sk -H "Authorization: Bearer $KEY" "https://127.0.0.1:$VM_PORT/v1/models" |
           python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])' 2>/dev/null)
body='{"model":"'"$MODEL_ID"'","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":16,"temperature":0}'
resp=$(curl -sk --max-time 120 -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
       -d "$body" "https://127.0.0.1:$VM_PORT/v1/chat/completions")
content=$(printf '%s' "$resp" | python3 -c 'import json,sys; print(json.load(sys.stdin)["choices"][0]["message"]["content"])' 2>/dev/null)
[ -n "$content" ] && kpass chat_curl "\"$(printf '%s' "$content" | head -c 40 | tr '\n' ' ')\"" \
                  || kfail chat_curl "response: $(printf '%s' "$resp" | head -c 200)"

# ACPI power-off through the API: QEMU exits 0.
code=$(curl -sk -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $KEY" "https://127.0.0.1:$VM_PORT/v1/system/poweroff")
end=$(( $(date +%s) + 60 ))
while kill -0 "$VM_PID" 2>/dev/null && [ "$(date +%s)" -le "$end" ]; do sleep 0.3; done
if kill -0 "$VM_PID" 2>/dev/null; then
  kfail poweroff "QEMU still running 60 s after POST /v1/system/poweroff (HTTP $code)"
else
  wait "$VM_PID"; rc=$?; VM_PID=""
  [ "$rc" = 0 ] && kpass poweroff "HTTP $code, QEMU exit 0" || kfail poweroff "HTTP $code, QEMU exit $rc"
fi
vm_kill
