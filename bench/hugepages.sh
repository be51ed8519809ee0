#!/usr/bin/env bash
# Weights memory benchmark (issue 8): load time and generation tokens/s with the weights on
# anonymous THP memory vs explicit 2 MiB hugepages, and a service restart with the weights
# kept in a hugetlbfs file (time to ready without rereading the model).
# Needs root (sizes /proc/sys/vm/nr_hugepages, mounts a private hugetlbfs); puts everything
# back as found on exit. Usage: bench/hugepages.sh [MODEL.gguf] (default: 1B-shaped Q4_0,
# generated with scripts/mkgguf.py into out/bench/). Env: REPS (3), TOKENS (32), THREADS (2).
# Raw runs go to bench/results/hugepages.jsonl, medians to the "Hugepages and weights memory"
# section of bench/RESULTS.md; `bench/hugepages.sh --report` only rewrites that section.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out}
REPS=${REPS:-3}
TOKENS=${TOKENS:-32}
THREADS=${THREADS:-2}
MODEL=${1:-$OUT/bench/llama1b-q4_0.gguf}
BIN=$OUT/bench/bin/hugepages_bench
RES=bench/results/hugepages.jsonl

if [ "${1:-}" != --report ]; then
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
run() { "$BIN" "$MODEL" "$1" "$TOKENS" "$THREADS" | sed "s|^{|{\"model\":\"$(basename "$MODEL")\",\"load\":$(cut -d' ' -f1 /proc/loadavg),|" | tee -a "$RES"; }

for r in $(seq "$REPS"); do
  echo 0 > $NR
  run off
  run thp
  echo "$pages" > $NR
  got=$(cat $NR)
  [ "$got" -ge "$pages" ] || { echo "kernel granted $got of $pages hugepages" >&2; exit 1; }
  run huge
  mount -t hugetlbfs -o pagesize=2M none "$mnt"
  run "hugetlbfs:$mnt"          # first start: fills the file from the model
  run "hugetlbfs:$mnt"          # restart: maps the same pages, no model read
  umount "$mnt"                 # frees the pages for the next repetition
done

fi

python3 - "$RES" <<'PY'
import json, os, re, statistics, sys, time
res = sys.argv[1]
rows = [json.loads(l) for l in open(res) if l.strip()]
def med(key, sel):
    v = [r[key] for r in sel]
    return statistics.median(v) if v else float("nan")
groups = {"off": [], "thp": [], "huge": [], "fill": [], "restart": []}
seen = 0
for r in rows:
    if r["mode"] in ("off", "thp", "huge"): groups[r["mode"]].append(r)
    else:
        (groups["fill"] if seen % 2 == 0 else groups["restart"]).append(r)
        seen += 1
names = {"off": "anonymous, hugepages off", "thp": "anonymous + THP (madvise; empty hugetlb pool)", "huge": "explicit 2 MiB hugepages (MAP_HUGETLB)",
         "fill": "hugetlbfs file, first start (fills it)", "restart": "hugetlbfs file, restart (reuses it)"}
model = rows[0].get("model", "?") if rows else "?"
reps = len(groups["huge"])
loads = [r["load"] for r in rows if "load" in r]
lines = ["## Hugepages and weights memory (power)", "",
         f"`bench/hugepages.sh` on {time.strftime('%Y-%m-%d', time.gmtime(os.path.getmtime(res)))}: {model} "
         f"(1B-shaped), {reps} repetitions, medians; generation {rows[0]['tg_tokens'] if rows else '?'} tokens "
         "greedy at 2 threads after one warm-up step. Each row is a new process. *load ms* = lb_model_load "
         "(model file in the page cache), *ready ms* = load + context. Load average during the runs: "
         + (f"{min(loads):.1f}-{max(loads):.1f}" if loads else "?") + " on 2 cores (other work shared the "
         "machine), so tokens/s here say little; the load and restart columns are the result.", "",
         "| weights memory | reported as | load ms | ready ms | tg tokens/s |", "|---|---|---|---|---|"]
for k in ("off", "thp", "huge", "fill", "restart"):
    g = groups[k]
    if g:
        lines.append(f"| {names[k]} | {g[0]['weights_memory']} | {med('load_ms', g):.0f} | {med('ready_ms', g):.0f} | {med('tg_tps', g):.2f} |")
if groups["restart"] and groups["huge"]:
    lines += ["", f"A restarted service with `--hugetlb-dir` (the path llmboxd takes under init, which mounts "
              f"/dev/hugepages and reserves the pool) is ready in {med('ready_ms', groups['restart']):.0f} ms instead of "
              f"{med('ready_ms', groups['fill']):.0f} ms: the weights file is validated (model path, size, mtime, "
              "completion marker) and mapped, and the model's tensor data is not read. Explicit hugepages also "
              f"load faster than 4 KiB pages ({med('load_ms', groups['huge']):.0f} vs {med('load_ms', groups['off']):.0f} ms: "
              "fewer page faults while copying). A full llmboxd restart adds its TLS and key setup to these figures."]
section = "\n".join(lines) + "\n"
print(section)
path = "bench/RESULTS.md"
text = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
pat = re.compile(r"^## Hugepages and weights memory \(power\)\n.*?(?=^## |\Z)", re.S | re.M)
text = pat.sub(lambda m: section + "\n", text) if pat.search(text) else text.rstrip() + "\n\n" + section
open(path + ".tmp", "w").write(text)
os.replace(path + ".tmp", path)
print("bench/RESULTS.md: Hugepages section updated")
PY
