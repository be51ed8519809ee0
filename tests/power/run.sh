#!/usr/bin/env bash
# Power suite (see rules.mk). One PASS/FAIL line per check. Env: LLMBOXD, MODEL, PYTHON.
set -u
cd "$(dirname "$0")/../.."
LLMBOXD=${LLMBOXD:-out/bin/llmboxd}
MODEL=${MODEL:-out/models/stories260K.gguf}
PYTHON=${PYTHON:-/usr/bin/python3}
for f in "$LLMBOXD" "$MODEL"; do
  [ -e "$f" ] || { echo "FAIL power/setup: $f is missing (make $f)"; exit 1; }
done
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
pass() { echo "PASS power/$1"; }
fail() { echo "FAIL power/$1: $2"; }
check() { if eval "$2"; then pass "$1"; else fail "$1" "${3:-$2}"; fi; }

# Fake machine: one intel_pstate policy, two CPUs with a deep C-state, one RAPL package.
sys=$tmp/sys
put() { mkdir -p "$(dirname "$sys/$1")"; echo "$2" >"$sys/$1"; }
get() { cat "$sys/$1" 2>/dev/null; }
P=devices/system/cpu/cpufreq/policy0
put $P/scaling_driver intel_pstate
put $P/scaling_available_governors "performance powersave"
put $P/scaling_governor powersave
put $P/energy_performance_preference balance_performance
put $P/energy_performance_available_preferences "default performance balance_performance balance_power power"
put $P/cpuinfo_min_freq 400000
put $P/cpuinfo_max_freq 3000000
put $P/scaling_min_freq 400000
put $P/scaling_max_freq 3000000
put devices/system/cpu/intel_pstate/no_turbo 0
for c in 0 1; do
  put devices/system/cpu/cpu$c/cpuidle/state2/latency 200
  put devices/system/cpu/cpu$c/cpuidle/state2/disable 0
done
RAPL=class/powercap/intel-rapl:0
put $RAPL/name package-0
put $RAPL/max_energy_range_uj 262143328850
put $RAPL/energy_uj 262143000000   # close to the wrap

# start LOG ARGS...: launches llmboxd, waits for the model (/v1/models answers 200)
start() {
  local log=$1; shift
  "$LLMBOXD" --model "$MODEL" --listen 127.0.0.1:0 --tls-dir "$tmp/tls" --api-key-file "$tmp/api.key" \
    --parallel 2 --ctx 256 -t 1 "$@" >"$log" 2>&1 &
  pid=$!
  port=
  for _ in $(seq 1 200); do
    port=$(sed -n 's/.*listening on .*(port \([0-9]*\)).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$port" ] || return 1
  base="https://127.0.0.1:$port"
  KEY=$(tr -d '\n' <"$tmp/api.key")
  for _ in $(seq 1 400); do
    [ "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$base/v1/models")" = 200 ] && return 0
    sleep 0.05
  done
  return 1
}
stop() { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }
req() {  # METHOD PATH [BODY] [KEY] -> body, then status on the last line
  local key=${4-$KEY}
  local args=(-sk -X "$1" -w '\n%{http_code}' --max-time 60)
  [ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
  [ -n "${3-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  curl "${args[@]}" "$base$2"
}
status_of() { tail -n1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }
# jget JSON EXPR: evaluates a Python expression on the parsed JSON `j` (tuples space-separated)
jget() { "$PYTHON" -c 'import json,sys; j=json.loads(sys.argv[1]); v=eval(sys.argv[2]); print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' "$1" "$2" 2>/dev/null; }
wait_file() {  # REL VALUE: up to 10 s for the service's timer to write it
  for _ in $(seq 1 200); do [ "$(get "$1")" = "$2" ] && return 0; sleep 0.05; done; return 1
}
CHAT='{"messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":8,"temperature":0}'

if ! start "$tmp/log1" --power balanced --power-idle-ms 1500 --sysfs-root "$sys"; then
  echo "FAIL power/start: llmboxd did not become ready"; sed 's/^/# /' "$tmp/log1"; exit 1
fi
pass start_with_fake_sysfs

r=$(req GET /v1/system/power); b=$(body_of "$r")
check get_power_200 '[ "$(status_of "$r")" = 200 ]' "status $(status_of "$r")"
check get_power_fields '[ "$(jget "$b" "j[\"policy\"], j[\"available\"], j[\"profile\"], j[\"cpufreq_driver\"], j[\"energy\"][\"available\"]")" = "balanced True idle intel_pstate (active) True" ]' "$b"
check idle_profile_at_start '[ "$(get $P/scaling_governor)" = powersave ] && [ "$(get $P/energy_performance_preference)" = power ] && [ "$(get devices/system/cpu/intel_pstate/no_turbo)" = 1 ]'
check power_needs_key '[ "$(status_of "$(req GET /v1/system/power "" "")")" = 401 ]'

r=$(req POST /v1/chat/completions "$CHAT"); b=$(body_of "$r")
check chat_ok '[ "$(status_of "$r")" = 200 ]' "$(head -c 300 <<<"$b")"
check usage_energy_joules '[ "$(jget "$b" "j[\"usage\"][\"energy_joules\"] >= 0")" = True ]' "$(head -c 300 <<<"$b")"
# Right after the request the busy profile is still on (1.5 s idle delay), then it drops.
check busy_right_after_request '[ "$(get $P/scaling_governor)" = performance ] && [ "$(get devices/system/cpu/cpu1/cpuidle/state2/disable)" = 1 ] && [ "$(get devices/system/cpu/intel_pstate/no_turbo)" = 0 ]'
check busy_then_idle_after_delay 'wait_file $P/scaling_governor powersave && wait_file devices/system/cpu/cpu1/cpuidle/state2/disable 0'

r=$(req PUT /v1/system/power '{"policy":"performance"}'); b=$(body_of "$r")
check put_performance '[ "$(status_of "$r")" = 200 ] && [ "$(jget "$b" "j[\"policy\"], j[\"profile\"]")" = "performance busy" ]' "$b"
check performance_files '[ "$(get $P/scaling_governor)" = performance ] && [ "$(get $P/scaling_min_freq)" = 3000000 ] && [ "$(get devices/system/cpu/cpu0/cpuidle/state2/disable)" = 1 ]'
check put_bad_policy_400 '[ "$(status_of "$(req PUT /v1/system/power "{\"policy\":\"turbo\"}")")" = 400 ]'
check put_not_json_400 '[ "$(status_of "$(req PUT /v1/system/power "policy=x")")" = 400 ]'
check delete_405 '[ "$(status_of "$(req DELETE /v1/system/power)")" = 405 ]'

# The counter wraps between two scrapes: the total still grows by the energy in between.
m1=$(req GET /metrics)
put $RAPL/energy_uj 1000000
m2=$(req GET /metrics)
tot() { sed -n 's/^llmbox_energy_joules_total \(.*\)$/\1/p' <<<"$1"; }
check metrics_power_lines 'grep -q "^llmbox_power_policy{policy=\"performance\"} 1$" <<<"$m2" && grep -q "^llmbox_power_control_available 1$" <<<"$m2" && grep -q "^llmbox_weights_hugepage_bytes " <<<"$m2"'
check metrics_energy_wraps '[ "$("$PYTHON" -c "print(abs(($(tot "$m2")) - ($(tot "$m1")) - 1.32885) < 1e-6)")" = True ]' "$(tot "$m1") -> $(tot "$m2")"

stop
check restored_on_sigterm '[ "$(get $P/scaling_governor)" = powersave ] && [ "$(get $P/energy_performance_preference)" = balance_performance ] && [ "$(get $P/scaling_min_freq)" = 400000 ] && [ "$(get devices/system/cpu/intel_pstate/no_turbo)" = 0 ] && [ "$(get devices/system/cpu/cpu0/cpuidle/state2/disable)" = 0 ]'

# QEMU-like machine: nothing to control, the service still serves and says so.
mkdir -p "$tmp/empty/devices/system/cpu/cpu0"
if ! start "$tmp/log2" --sysfs-root "$tmp/empty"; then
  fail start_without_power_control "llmboxd did not become ready"; sed 's/^/# /' "$tmp/log2"; exit 1
fi
r=$(req GET /v1/system/power); b=$(body_of "$r")
check unavailable_reported '[ "$(jget "$b" "j[\"available\"], j[\"energy\"][\"available\"], j[\"cpufreq_driver\"]")" = "False False none" ]' "$b"
r=$(req POST /v1/chat/completions "$CHAT"); b=$(body_of "$r")
check chat_without_power_control '[ "$(status_of "$r")" = 200 ] && [ "$(jget "$b" "\"energy_joules\" in j[\"usage\"]")" = False ]' "$(head -c 300 <<<"$b")"
check one_info_line_no_warning '! grep -q ": warn: .*power" "$tmp/log2" && grep -q "control unavailable" "$tmp/log2"'
stop
