#!/usr/bin/env python3
"""make bench: llmbox vs llama.cpp (node-llama-cpp oracle) on the same synthetic GGUF files.

For each thread count (default 1 and 2) and model: REPS rounds of a read-bandwidth sample
(bench/bandwidth.c), `llmbox bench` and the oracle's bench mode, one after the other (never at
the same time). Medians, ratios and the bandwidth roofline (bandwidth / weight bytes read per
generated token) go into the generated section of bench/RESULTS.md; raw runs into
bench/results/latest.json. The 1-minute load average is recorded before every run.

Environment: BENCH_THREADS="1 2", BENCH_REPS=3, BENCH_MODELS="llama1b-q4_0 ..." (subset),
BENCH_PP=128, BENCH_TG=64, PYTHON (for mkgguf, needs numpy), ORACLE (oracle.mjs path),
MKGGUF (mkgguf.py path), BENCH_GEMM=0 (skip the matmul microbenchmark), BENCH_LONG=2048
(the long-prompt comparison on the qwen2 model at the largest thread count; 0 skips it)."""
import json, os, platform, re, statistics, struct, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "out")
BENCH_DIR = os.path.join(OUT, "bench")
LLMBOX = os.path.join(OUT, "bin", "llmbox")
BANDWIDTH = os.path.join(BENCH_DIR, "bin", "bandwidth")
GEMM_BENCH = os.path.join(BENCH_DIR, "bin", "gemm_bench")
ORACLE = os.environ.get("ORACLE") or os.path.join(OUT, "oracle", "oracle.mjs")
MKGGUF = os.environ.get("MKGGUF") or os.path.join(ROOT, "scripts", "mkgguf.py")
RESULTS_MD = os.path.join(ROOT, "bench", "RESULTS.md")
RESULTS_JSON = os.path.join(ROOT, "bench", "results", "latest.json")

MODELS = [  # name, preset, type, description
    ("llama1b-q4_0", "llama-1b", "Q4_0", "1B-shaped llama Q4_0"),
    ("llama1b-q8_0", "llama-1b", "Q8_0", "1B-shaped llama Q8_0"),
    ("llama1b-q4_k", "llama-1b", "Q4_K", "1B-shaped llama Q4_K"),
    ("qwen05b-q8_0", "qwen2-0.5b", "Q8_0", "0.5B-shaped qwen2 Q8_0"),
]

# ggml type id -> (elements per block, bytes per block)
GGML_TYPES = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
              12: (256, 144), 13: (256, 176), 14: (256, 210), 30: (1, 2)}


def gguf_tensor_bytes(path):
    """{tensor name: bytes} from a GGUF file's tensor infos."""
    with open(path, "rb") as f:
        def rd(fmt):
            n = struct.calcsize(fmt)
            return struct.unpack("<" + fmt, f.read(n))
        def rstr():
            (n,) = rd("Q")
            return f.read(n).decode("utf-8", "replace")
        scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
        def skip_value(t):
            if t == 8:
                rstr()
            elif t == 9:
                (et,) = rd("I")
                (n,) = rd("Q")
                if et in scalar:
                    f.seek(n * struct.calcsize(scalar[et]), 1)
                else:
                    for _ in range(n):
                        skip_value(et)
            else:
                rd(scalar[t])
        if f.read(4) != b"GGUF":
            raise ValueError(f"{path}: not a GGUF file")
        (_ver,) = rd("I")
        n_t, n_kv = rd("QQ")
        for _ in range(n_kv):
            rstr()
            (t,) = rd("I")
            skip_value(t)
        out = {}
        for _ in range(n_t):
            name = rstr()
            (nd,) = rd("I")
            dims = rd("Q" * nd)
            (t,) = rd("I")
            rd("Q")
            n = 1
            for d in dims:
                n *= d
            be, bb = GGML_TYPES[t]
            out[name] = n // be * bb
        return out


def bytes_per_token(tensors):
    """Weight bytes streamed per generated token: everything but the embedding table, which is
    read one row per token (unless it is also the output matrix)."""
    total = sum(tensors.values())
    if "output.weight" in tensors:
        total -= tensors.get("token_embd.weight", 0)
    return total


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def run_json(cmd, timeout=900, env=None):
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()[-500:]}")
    line = [l for l in p.stdout.splitlines() if l.startswith("{")][-1]
    d = json.loads(line)
    d["_wall_s"] = round(time.time() - t0, 2)
    return d


def machine():
    info = {"kernel": platform.release(), "nproc": os.cpu_count()}
    with open("/proc/cpuinfo") as f:
        txt = f.read()
    m = re.search(r"model name\s*:\s*(.*)", txt)
    info["cpu"] = m.group(1).strip() if m else "?"
    flags = re.search(r"flags\s*:\s*(.*)", txt).group(1).split()
    info["simd_flags"] = [x for x in flags if x.startswith(("avx", "amx", "fma", "f16c"))]
    info["hypervisor"] = "hypervisor" in flags
    with open("/proc/meminfo") as f:
        info["mem_gib"] = round(int(re.search(r"MemTotal:\s*(\d+)", f.read()).group(1)) / 2**20, 1)
    try:
        info["lscpu_caches"] = [l.strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                                if "cache" in l.lower()]
    except OSError:
        pass
    return info


def ensure_model(name, preset, typ):
    path = os.path.join(BENCH_DIR, name + ".gguf")
    if not os.path.exists(path):
        py = os.environ.get("PYTHON", "/usr/bin/python3")
        tmp = path + ".tmp"
        subprocess.run([py, MKGGUF, "-q", "-o", tmp, "--preset", preset, "--type", typ], check=True)
        os.rename(tmp, path)
    return path


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def engine_run(eng, kind, name, path, pp, tg, t, ctx, rep):
    """One `llmbox bench` or llama.cpp run as a result row (errors kept in the row, not raised).
    llmbox sizes its context to pp + tg itself; llama.cpp gets ctx."""
    la = loadavg()
    if eng == "llmbox":
        cmd = [LLMBOX, "bench", "-m", path, "-p", str(pp), "-n", str(tg), "-t", str(t), "--json"]
    else:
        cmd = ["node", ORACLE, "-m", path, "--bench", "--pp", str(pp), "--tg", str(tg), "-t", str(t), "-c", str(ctx)]
    row = {"kind": kind, "model": name, "threads": t, "rep": rep, "loadavg": la}
    try:
        d = run_json(cmd)
        row.update({"pp_tps": d.get("pp_tps"), "tg_tps": d.get("tg_tps"), "raw": d})
    except Exception as e:  # keep going: report the failure in the table
        row["error"] = str(e)[-300:]
    print(f"bench: {kind} {name} pp{pp} t={t} rep={rep}: pp={row.get('pp_tps')} tg={row.get('tg_tps')} load={la}"
          + (f" ERROR {row['error']}" if "error" in row else ""), flush=True)
    return row


def main():
    threads = [int(x) for x in os.environ.get("BENCH_THREADS", "1 2").split()]
    reps = int(os.environ.get("BENCH_REPS", "3"))
    pp, tg = int(os.environ.get("BENCH_PP", "128")), int(os.environ.get("BENCH_TG", "64"))
    only = os.environ.get("BENCH_MODELS", "").split()
    models = [m for m in MODELS if not only or m[0] in only]
    os.makedirs(os.path.dirname(RESULTS_JSON), exist_ok=True)
    res = {"started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), "machine": machine(),
           "pp": pp, "tg": tg, "reps": reps, "threads": threads, "loadavg_start": loadavg(),
           "bandwidth": {}, "runs": [], "models": {}}
    for name, preset, typ, desc in models:
        path = ensure_model(name, preset, typ)
        tb = gguf_tensor_bytes(path)
        res["models"][name] = {"desc": desc, "file_mib": round(os.path.getsize(path) / 2**20, 1),
                               "bytes_per_token": bytes_per_token(tb)}
    for t in threads:
        bws = []
        for name, *_ in models:
            path = os.path.join(BENCH_DIR, name + ".gguf")
            for r in range(reps):
                # A bandwidth sample next to every round: this VM's bandwidth drifts with its
                # neighbours over minutes, and each model's roofline uses the samples taken with it.
                la = loadavg()
                d = run_json([BANDWIDTH, "-t", str(t), "-m", "1024"])
                bws.append(d["gbps"])
                res["runs"].append({"kind": "bandwidth", "model": name, "threads": t, "gbps": d["gbps"], "loadavg": la})
                for eng in ("llmbox", "llama.cpp"):
                    res["runs"].append(engine_run(eng, eng, name, path, pp, tg, t, 512, r))
        res["bandwidth"][str(t)] = med(bws)
        print(f"bench: bandwidth t={t}: {bws} GB/s", flush=True)
        # Partial results after each thread count, so an interrupted run still reports.
        res["finished_utc"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) + " (partial)"
        res["loadavg_end"] = loadavg()
        with open(RESULTS_JSON, "w") as f:
            json.dump(res, f, indent=1)
        write_md(res)
    long_pp = int(os.environ.get("BENCH_LONG", "2048"))
    long_model = "qwen05b-q8_0"
    if long_pp > 0 and long_model in res["models"]:
        # A chat's history as the prompt: attention grows with it, the weights do not.
        t, path = max(threads), os.path.join(BENCH_DIR, long_model + ".gguf")
        res["long"] = {"pp": long_pp, "tg": tg, "threads": t, "model": long_model}
        for r in range(reps):
            for eng in ("llmbox", "llama.cpp"):
                res["runs"].append(engine_run(eng, eng + "-long", long_model, path, long_pp, tg, t, long_pp + tg, r))
    if os.path.exists(GEMM_BENCH) and os.environ.get("BENCH_GEMM", "1") != "0":
        print("bench: gemm_bench (1 thread, after the engine runs)", flush=True)
        p = subprocess.run([GEMM_BENCH, "-n", str(pp), "-r", "3", "-c"], capture_output=True, text=True, timeout=900)
        res["gemm"] = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
        res["gemm_loadavg"] = loadavg()
    res["finished_utc"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    res["loadavg_end"] = loadavg()
    with open(RESULTS_JSON, "w") as f:
        json.dump(res, f, indent=1)
    write_md(res)


def fmt(x, nd=1):
    return "—" if x is None else f"{x:.{nd}f}"


def write_md(res):
    L = []
    m = res["machine"]
    L.append(f"Run: {res['started_utc']} – {res['finished_utc']} UTC, command `make bench` "
             f"(bench/run.py: pp{res['pp']}/tg{res['tg']}, {res['reps']} runs each, medians).")
    L.append(f"Machine: {m['cpu']}, {m['nproc']} vCPUs{' (KVM guest)' if m['hypervisor'] else ''}, {m['mem_gib']} GiB, "
             f"Linux {m['kernel']}; SIMD: {' '.join(m['simd_flags'])}.")
    loads = [r["loadavg"] for r in res["runs"]]
    L.append(f"Load average (1 min) before runs: start {res['loadavg_start']:.2f}, min {min(loads):.2f}, "
             f"max {max(loads):.2f}, end {res['loadavg_end']:.2f} (the runs' own threads hold it near their thread "
             f"count; a value well above 2 on 2 vCPUs, or a high start, means other work was running).")
    L.append("")
    if res.get("gemm"):
        L.append("### Prompt-processing matmul, one thread (bench/gemm_bench.c -c: GFLOP/s per thread-CPU-second, 128 tokens)")
        L.append("")
        L.append("| type | rows × k | vec_dot (VNNI) | x4 kernels (VNNI; 4 tokens per pass, Q4_0/Q8_0 8 in zmm where selected) | AMX tiles | OpenBLAS sgemm (dequantized) | chosen |")
        L.append("|---|---|---|---|---|---|---|")
        keys = {}
        for g in res["gemm"]:
            meth = g["method"]
            key = "vec" if meth.startswith("vec_dot") else "openblas" if meth.startswith("openblas") else meth
            keys.setdefault((g["type"], g["rows"], g["k"]), {})[key] = g["gflops"]
        for (ty, rows, k), v in keys.items():
            best = max(v, key=v.get)
            L.append(f"| {ty} | {rows} × {k} | {fmt(v.get('vec'))} | {fmt(v.get('x4'))} | {fmt(v.get('amx'))} | {fmt(v.get('openblas'))} | {best} |")
        L.append("")
    L.append("### llmbox vs llama.cpp (tokens/s, medians)")
    L.append("")
    L.append("| model | threads | llmbox pp | llama.cpp pp | pp ratio | llmbox tg | llama.cpp tg | tg ratio | "
             "bandwidth GB/s | roofline tg | llmbox % of roofline | llama.cpp % of roofline |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for t in res["threads"]:
        for name, mi in res["models"].items():
            def runs(kind, key):
                return [r.get(key) for r in res["runs"] if r["kind"] == kind and r.get("model") == name and r["threads"] == t]
            bw = med(runs("bandwidth", "gbps"))
            lp, op = med(runs("llmbox", "pp_tps")), med(runs("llama.cpp", "pp_tps"))
            lt, ot = med(runs("llmbox", "tg_tps")), med(runs("llama.cpp", "tg_tps"))
            roof = bw * 1e9 / mi["bytes_per_token"] if bw else None
            ratio = lambda a, b: (a / b) if a and b else None
            pct = lambda a: (100 * a / roof) if a and roof else None
            L.append(f"| {mi['desc']} ({mi['file_mib']} MiB) | {t} | {fmt(lp)} | {fmt(op)} | {fmt(ratio(lp, op), 2)}× | "
                     f"{fmt(lt)} | {fmt(ot)} | {fmt(ratio(lt, ot), 2)}× | {fmt(bw)} | {fmt(roof)} | {fmt(pct(lt), 0)}% | {fmt(pct(ot), 0)}% |")
    lg = res.get("long")
    if lg:
        def lruns(kind, key):
            return [r.get(key) for r in res["runs"] if r["kind"] == kind and r.get(key)]
        mi = res["models"][lg["model"]]
        lp, op = med(lruns("llmbox-long", "pp_tps")), med(lruns("llama.cpp-long", "pp_tps"))
        lt, ot = med(lruns("llmbox-long", "tg_tps")), med(lruns("llama.cpp-long", "tg_tps"))
        ratio = lambda a, b: (a / b) if a and b else None
        L.append("")
        L.append(f"Long prompt: {lg['pp']} tokens, then {lg['tg']} generated after them, {lg['threads']} threads, "
                 f"context {lg['pp'] + lg['tg']} on both sides (llmbox sizes it so), medians:")
        L.append("")
        L.append("| model | llmbox pp | llama.cpp pp | pp ratio | llmbox tg | llama.cpp tg | tg ratio |")
        L.append("|---|---|---|---|---|---|---|")
        L.append(f"| {mi['desc']} | {fmt(lp)} | {fmt(op)} | {fmt(ratio(lp, op), 2)}× | {fmt(lt)} | {fmt(ot)} | "
                 f"{fmt(ratio(lt, ot), 2)}× |")
    errs = [r for r in res["runs"] if "error" in r]
    if errs:
        L.append("")
        L.append("Failed runs:")
        for r in errs:
            L.append(f"- {r['kind']} {r['model']} t={r['threads']} rep {r['rep']}: `{r['error'][:200]}`")
    L.append("")
    spans = []
    for t in res["threads"]:
        bws = [r["gbps"] for r in res["runs"] if r["kind"] == "bandwidth" and r["threads"] == t]
        if bws:
            spans.append(f"{min(bws):.1f}–{max(bws):.1f} GB/s at {t} thread{'s' if t > 1 else ''}")
    L.append("Roofline: median of the read-bandwidth samples taken before each round of that model at that thread "
             "count ÷ weight bytes streamed per generated token (all tensors except the token-embedding table, of "
             f"which one row is read). All samples: {'; '.join(spans)}. Raw runs: bench/results/latest.json.")
    # Each llmbox round against the sample taken just before it: how far the VM moved under a median.
    per = {}
    sample = None
    for r in res["runs"]:
        if r["kind"] == "bandwidth":
            sample = r["gbps"]
        elif r["kind"] == "llmbox" and r.get("tg_tps") and sample:
            gbps = r["tg_tps"] * res["models"][r["model"]]["bytes_per_token"] / 1e9
            per.setdefault(r["threads"], []).append(100 * gbps / sample)
    if per:
        L.append("")
        L.append("Per round (llmbox tg64 ÷ the roofline of the bandwidth sample just before it): " + "; ".join(
            f"{min(v):.0f}–{max(v):.0f} % at {t} thread{'s' if t > 1 else ''}" for t, v in sorted(per.items())) + ".")
    gen = "\n".join(L)
    # Other benches keep their own generated blocks in the same file: only ours is replaced.
    begin, end = "<!-- BEGIN GENERATED (bench/run.py) -->", "<!-- END GENERATED (bench/run.py) -->"
    text = open(RESULTS_MD).read() if os.path.exists(RESULTS_MD) else f"# Benchmark results\n\n{begin}\n{end}\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    pre, rest = text.split(begin, 1)
    old_end = "<!-- END GENERATED -->"
    if end in rest:
        post = rest.split(end, 1)[1]
    elif old_end in rest:
        post = rest.split(old_end, 1)[1]
    else:
        post = ""
    with open(RESULTS_MD, "w") as f:
        f.write(pre + begin + "\n" + gen + "\n" + end + post)
    print(gen)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--md-only":
        write_md(json.load(open(RESULTS_JSON)))
    else:
        main()
