# Shared helpers for the QEMU end-to-end tests (sourced). Each VM gets its own directory,
# a random free host port forwarded to guest 443, its serial console in console.log, and a
# second serial port (test hook, only read by /init with llmbox.test=1) as a FIFO pair.
E2E_KERNEL=${E2E_KERNEL:-$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)}
E2E_INITRD=${E2E_INITRD:-out/initramfs/initramfs.img}
E2E_OUT=${E2E_OUT:-out/e2e}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

now_ms() { date +%s%3N; }

# vm_boot NAME DISK_IMG|- "EXTRA CMDLINE"   -> sets VM_DIR VM_PID VM_PORT VM_T0 (ms)
vm_boot() {
  local name=$1 disk=$2 append=$3
  VM_DIR=$E2E_OUT/$name
  rm -rf "$VM_DIR"; mkdir -p "$VM_DIR"
  mkfifo "$VM_DIR/hook.in" "$VM_DIR/hook.out"
  VM_PORT=$(free_port)
  local drive=()
  [ "$disk" != - ] && drive=(-drive "file=$disk,format=raw,if=virtio")
  VM_T0=$(now_ms)
  qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2G -display none -monitor none -no-reboot \
    -kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" \
    -append "console=ttyS0 quiet panic=-1 llmbox.test=1 $append" \
    -serial "file:$VM_DIR/console.log" \
    -chardev "pipe,id=hook,path=$VM_DIR/hook" -serial chardev:hook \
    "${drive[@]}" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$VM_PORT-:443" -device virtio-net-pci,netdev=n0,romfile= \
    -device virtio-rng-pci </dev/null >"$VM_DIR/qemu.log" 2>&1 &
  VM_PID=$!
  # keep the hook's output side drained so the guest never blocks on it
  cat "$VM_DIR/hook.out" >/dev/null 2>&1 &
  VM_DRAIN=$!
}

vm_kill() {
  [ -n "${VM_PID:-}" ] && kill "$VM_PID" 2>/dev/null && wait "$VM_PID" 2>/dev/null
  [ -n "${VM_DRAIN:-}" ] && kill "$VM_DRAIN" 2>/dev/null
  VM_PID="" VM_DRAIN=""
}

vm_hook() { printf '%s\n' "$1" > "$VM_DIR/hook.in"; }

# wait_console REGEX SECONDS [FROM_LINE]: 0 once the console shows REGEX
wait_console() {
  local re=$1 secs=$2 from=${3:-1} end=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -le "$end" ]; do
    tail -n +"$from" "$VM_DIR/console.log" 2>/dev/null | grep -qE "$re" && return 0
    kill -0 "$VM_PID" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

console_lines() { wc -l < "$VM_DIR/console.log"; }

# wait_health SECONDS -> 0 when GET /health answers 200 over TLS
wait_health() {
  local end=$(( $(date +%s) + $1 ))
  while [ "$(date +%s)" -le "$end" ]; do
    if curl -sk --max-time 3 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$VM_PORT/health" 2>/dev/null | grep -q 200; then
      return 0
    fi
    kill -0 "$VM_PID" 2>/dev/null || return 1
    sleep 0.3
  done
  return 1
}

pass() { echo "PASS e2e/$1${2:+ ($2)}"; }
fail() { echo "FAIL e2e/$1: $2"; }
