#!/usr/bin/env bash
# Boot time of the appliance in QEMU (TCG, the stock Debian kernel, our initramfs): wall time
# from starting QEMU to the first successful GET /health over TLS, and to the first streamed
# chat token. Runs RUNS boots (default 3) and writes the "Boot time" section of bench/RESULTS.md.
set -u
cd "$(dirname "$0")/.."
. tests/e2e/lib.sh
E2E_OUT=out/bench-boot
RUNS=${RUNS:-3}
trap vm_kill EXIT
mkdir -p "$E2E_OUT"
scripts/mkkeys.sh "$E2E_OUT/keys"
KEY=$(cat "$E2E_OUT/keys/api_key")
scripts/mkdatadisk.sh "$E2E_OUT/data.img" "$E2E_OUT/keys"
rows=""
for i in $(seq "$RUNS"); do
  vm_boot "boot$i" "$E2E_OUT/data.img" ""
  health_ms="" token_ms=""
  wait_health 600 && health_ms=$(( $(now_ms) - VM_T0 ))
  model=$(curl -sk -H "Authorization: Bearer $KEY" "https://127.0.0.1:$VM_PORT/v1/models" |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])' 2>/dev/null)
  # first SSE chunk that carries content
  body='{"model":"'"$model"'","stream":true,"max_tokens":8,"messages":[{"role":"user","content":"Hi"}]}'
  curl -skN --max-time 300 -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$body" \
      "https://127.0.0.1:$VM_PORT/v1/chat/completions" 2>/dev/null | while IFS= read -r line; do
    case $line in *'"content":"'?*) echo "$(( $(now_ms) - VM_T0 ))" > "$VM_DIR/token_ms"; break ;; esac
  done
  token_ms=$(cat "$VM_DIR/token_ms" 2>/dev/null)
  vm_kill
  echo "boot $i: health ${health_ms:-none} ms, first token ${token_ms:-none} ms"
  rows="$rows| $i | ${health_ms:-n/a} | ${token_ms:-n/a} |"$'\n'
done
load=$(cut -d' ' -f1-3 /proc/loadavg)
section=$(cat <<MD
## Boot time (init)

QEMU $(qemu-system-x86_64 --version | head -1 | grep -o '[0-9][0-9.]*' | head -1), \`-accel tcg -cpu max -smp 2 -m 2G\`, stock kernel
$(basename "$E2E_KERNEL"), initramfs $(stat -c %s "$E2E_INITRD") bytes (zstd), default model, ext4 data disk.
Wall time from starting QEMU; host $(nproc) cores, load average at the end: $load (shared machine:
the numbers move with the load). Measured by \`bench/boot.sh\` on $(date -u +%Y-%m-%d).

| boot | first /health 200 (ms) | first streamed chat token (ms) |
|---|---|---|
$rows
MD
)
python3 - "$section" <<'PY'
import re, sys, os
path = "bench/RESULTS.md"
new = sys.argv[1].rstrip() + "\n"
text = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
pat = re.compile(r"^## Boot time \(init\)\n.*?(?=^## |\Z)", re.S | re.M)
text = pat.sub(lambda m: new + "\n", text) if pat.search(text) else text.rstrip() + "\n\n" + new
open(path + ".tmp", "w").write(text)
os.replace(path + ".tmp", path)
PY
echo "bench/RESULTS.md: Boot time (init) section updated"
