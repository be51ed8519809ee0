#!/usr/bin/env bash
# Weights memory benchmark (issue 8): load time and generation tokens/s with the weights on
# anonymous THP memory vs explicit 2 MiB hugepages, and a service restart with the weights
# kept in a hugetlbfs file (time to ready without rereading the model).
# Needs root (sizes /proc/sys/vm/nr_hugepages, mounts a private hugetlbfs); puts everything
# back as found on exit. Usage: bench/hugepages.sh [MODEL.gguf] (default: 1B-shaped Q4_0,
# generated with scripts/mkgguf.py into out/bench/). Env: REPS (3), TOKENS (32), THREADS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out}
REPS=${REPS:-3}
TOKENS=${TOKENS:-32}
THREADS=${THREADS:-2}
MODEL=${1:-$OUT/bench/llama1b-q4_0.gguf}
BIN=$OUT/bench/bin/hugepages_bench
RES=bench/results/hugepages.jsonl

[ "$(id -u)" = 0 ] || { echo "hugepages.sh: needs root (hugetlb pool, hugetlbfs mount)" >&2; exit 1; }
make -s "$BIN" >/dev/null
if [ ! -f "$MODEL" ]; then
  mkdir -p "$(dirname "$MODEL")"
  python3 scripts/mkgguf.py -q -o "$MODEL" --preset llama-1b --type Q4_0
fi

NR=/proc/sys/vm/nr_hugepages
orig_nr=$(cat $NR)
mnt=$(mktemp -d /tmp/lb-hugetlbfs.XXXXXX)
cleanup() {
  umount "$mnt" 2>/dev/null || true
  rmdir "$mnt" 2>/dev/null || true
  echo "$orig_nr" > $NR
}
trap cleanup EXIT

size=$(stat -c %s "$MODEL")
pages=$(( (size + (2 << 20) - 1) / (2 << 20) + 8 ))   # data section + footer page + slack
mkdir -p bench/results
: > "$RES"
run() { "$BIN" "$MODEL" "$1" "$TOKENS" "$THREADS" | tee -a "$RES"; }

for r in $(seq "$REPS"); do
  echo 0 > $NR
  run off
  echo "$pages" > $NR
  got=$(cat $NR)
  [ "$got" -ge "$pages" ] || { echo "kernel granted $got of $pages hugepages" >&2; exit 1; }
  run huge
  mount -t hugetlbfs -o pagesize=2M none "$mnt"
  run "hugetlbfs:$mnt"          # first start: fills the file from the model
  run "hugetlbfs:$mnt"          # restart: maps the same pages, no model read
  umount "$mnt"                 # frees the pages for the next repetition
done

python3 - "$RES" "$MODEL" "$REPS" "$TOKENS" "$THREADS" <<'PY'
import json, statistics, sys
res, model, reps, tokens, threads = sys.argv[1:]
rows = [json.loads(l) for l in open(res) if l.strip()]
def med(key, sel):
    v = [r[key] for r in sel]
    return statistics.median(v) if v else float("nan")
groups = {"off": [], "huge": [], "fill": [], "restart": []}
seen = 0
for r in rows:
    if r["mode"] == "off": groups["off"].append(r)
    elif r["mode"] == "huge": groups["huge"].append(r)
    else:
        (groups["fill"] if seen % 2 == 0 else groups["restart"]).append(r)
        seen += 1
names = {"off": "anonymous + THP (no hugetlb pool)", "huge": "explicit 2 MiB hugepages (MAP_HUGETLB)",
         "fill": "hugetlbfs file, first start (fills it)", "restart": "hugetlbfs file, restart (reuses it)"}
print(f"\nModel {model}, {reps} repetitions (medians), generation {tokens} tokens, {threads} threads\n")
print("| weights memory | reported as | load ms | ready ms | tg tokens/s |")
print("|---|---|---|---|---|")
for k in ("off", "huge", "fill", "restart"):
    g = groups[k]
    if g:
        print(f"| {names[k]} | {g[0]['weights_memory']} | {med('load_ms', g):.0f} | {med('ready_ms', g):.0f} | {med('tg_tps', g):.2f} |")
PY
