#!/usr/bin/env bash
# End-to-end: boot the stock Debian kernel with our initramfs in QEMU (TCG) and check the
# appliance from outside, through the forwarded port, like a user on the LAN would.
# Three boots: the main one (DHCP, /health, chat with curl and openai, service killed and
# restarted, power-off), a missing model, and a corrupt model.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
HEALTH_BOUND=${E2E_HEALTH_BOUND:-150}  # s from QEMU start; kernel+init alone take ~35 s under TCG on a loaded 2-core host
trap vm_kill EXIT

if [ ! -r "$E2E_KERNEL" ] || ! command -v qemu-system-x86_64 >/dev/null; then
  echo "SKIP e2e/all: no kernel in /boot or no qemu-system-x86_64 (scripts/deps.sh installs them)"; exit 0
fi
[ -r "$E2E_INITRD" ] || { echo "FAIL e2e/all: $E2E_INITRD missing (make initramfs)"; exit 0; }

keys=$E2E_OUT/keys
mkdir -p "$E2E_OUT"
scripts/mkkeys.sh "$keys"
KEY=$(cat "$keys/api_key")
FP=$(openssl x509 -noout -fingerprint -sha256 -in "$keys/tls/cert.pem" | cut -d= -f2)

# ---- boot 1: the appliance as shipped, data disk with keys and config ----
scripts/mkdatadisk.sh "$E2E_OUT/data-main.img" "$keys" --conf "ctx=512"
vm_boot main "$E2E_OUT/data-main.img" ""
if wait_health "$HEALTH_BOUND"; then
  t=$(( $(now_ms) - VM_T0 ))
  pass health_tls "first 200 after ${t} ms, bound ${HEALTH_BOUND} s"
  echo "$t" > "$E2E_OUT/health_ms"
else
  fail health_tls "no 200 from /health within ${HEALTH_BOUND} s; console tail: $(tail -5 "$VM_DIR/console.log" | tr '\n' '|')"
fi

if grep -qE 'dhcp: eth0 got 10\.0\.2\.15/24 from server 10\.0\.2\.2' "$VM_DIR/console.log"; then
  pass dhcp_address "10.0.2.15 from QEMU's DHCP server"
else
  fail dhcp_address "console has no lease for 10.0.2.15"
fi

# the certificate served is the one on the data partition
served=$(echo | openssl s_client -connect "127.0.0.1:$VM_PORT" 2>/dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2)
[ "$served" = "$FP" ] && pass tls_cert_from_data_partition || fail tls_cert_from_data_partition "served '$served', expected '$FP'"

code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" "https://127.0.0.1:$VM_PORT/v1/models")
[ "$code" = 401 ] && pass wrong_key_rejected || fail wrong_key_rejected "status $code"

MODEL_ID=$(curl -sk -H "Authorization: Bearer $KEY" "https://127.0.0.1:$VM_PORT/v1/models" |
           python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])' 2>/dev/null)
body='{"model":"'"$MODEL_ID"'","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":16,"temperature":0}'
resp=$(curl -sk --max-time 120 -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
       -d "$body" "https://127.0.0.1:$VM_PORT/v1/chat/completions")
content=$(printf '%s' "$resp" | python3 -c 'import json,sys; print(json.load(sys.stdin)["choices"][0]["message"]["content"])' 2>/dev/null)
[ -n "$content" ] && pass chat_curl "\"$(printf '%s' "$content" | head -c 40 | tr '\n' ' ')\"" \
                  || fail chat_curl "response: $(printf '%s' "$resp" | head -c 200)"

if [ -d out/api-node/node_modules/openai ]; then
  cp tests/e2e/openai_chat.mjs out/api-node/
  if out=$(NODE_TLS_REJECT_UNAUTHORIZED=0 NODE_NO_WARNINGS=1 node out/api-node/openai_chat.mjs "https://127.0.0.1:$VM_PORT/v1" "$KEY" 2>"$E2E_OUT/openai.err"); then
    pass chat_openai_npm "$out"
  else
    fail chat_openai_npm "$(cat "$E2E_OUT/openai.err" "$out" 2>/dev/null | tail -3 | tr '\n' ' ')"
  fi
else
  fail chat_openai_npm "out/api-node/node_modules/openai missing (make test installs it)"
fi

# kill the service inside the guest; it must come back without a reboot
from=$(console_lines)
vm_hook kill-service
if wait_console 'llmboxd killed by signal 9' 20 "$from" && wait_console 'started llmboxd' 20 "$from" && wait_health 60; then
  boots=$(grep -c 'llmbox init .* starting' "$VM_DIR/console.log")
  [ "$boots" = 1 ] && pass service_restart_without_reboot || fail service_restart_without_reboot "init started $boots times"
else
  fail service_restart_without_reboot "service did not come back; console tail: $(tail -5 "$VM_DIR/console.log" | tr '\n' '|')"
fi

# power off through the API: QEMU exits 0
code=$(curl -sk -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $KEY" "https://127.0.0.1:$VM_PORT/v1/system/poweroff")
end=$(( $(date +%s) + 60 ))
while kill -0 "$VM_PID" 2>/dev/null && [ "$(date +%s)" -le "$end" ]; do sleep 0.3; done
if kill -0 "$VM_PID" 2>/dev/null; then
  fail poweroff "QEMU still running 60 s after POST /v1/system/poweroff (HTTP $code)"
else
  wait "$VM_PID"; rc=$?
  VM_PID=""
  if [ "$rc" = 0 ] && grep -q 'powering off now' "$VM_DIR/console.log"; then
    pass poweroff "HTTP $code, QEMU exit 0"
  else
    fail poweroff "HTTP $code, QEMU exit $rc"
  fi
fi
vm_kill

# ---- boot 2: the configured model does not exist ----
scripts/mkdatadisk.sh "$E2E_OUT/data-nomodel.img" "$keys"
vm_boot missing-model "$E2E_OUT/data-nomodel.img" "llmbox.model=missing.gguf"
if wait_console 'llmbox cannot serve: no model' "$HEALTH_BOUND" && wait_console 'reason: model missing.gguf not found' 5; then
  from=$(console_lines)
  vm_hook status
  if wait_console 'test hook: init alive \(pid 1\); llmboxd down.*fatal: no model' 20 "$from"; then
    pass missing_model_init_alive "banner shown, PID 1 answers"
  else
    fail missing_model_init_alive "PID 1 did not answer the status hook"
  fi
else
  fail missing_model_init_alive "no clear console message; tail: $(tail -5 "$VM_DIR/console.log" | tr '\n' '|')"
fi
vm_kill

# ---- boot 3: a corrupt model (GGUF magic, garbage after it) on the data partition ----
python3 -c 'import os,sys; open(sys.argv[1],"wb").write(b"GGUF"+os.urandom(4096))' "$E2E_OUT/corrupt.gguf"
scripts/mkdatadisk.sh "$E2E_OUT/data-corrupt.img" "$keys" --model "$E2E_OUT/corrupt.gguf"
vm_boot corrupt-model "$E2E_OUT/data-corrupt.img" ""
if wait_console 'model /data/models/corrupt.gguf' "$HEALTH_BOUND" && wait_console 'failed 5 times in a row right after starting, so it stays down' 90; then
  from=$(console_lines)
  vm_hook status
  if wait_console 'test hook: init alive \(pid 1\); llmboxd down \(gave up\)' 20 "$from"; then
    pass corrupt_model_init_alive "service gave up after 5 quick failures, PID 1 answers"
  else
    fail corrupt_model_init_alive "PID 1 did not answer the status hook"
  fi
else
  fail corrupt_model_init_alive "no clear console message; tail: $(tail -8 "$VM_DIR/console.log" | tr '\n' '|')"
fi
vm_kill
