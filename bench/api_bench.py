#!/usr/bin/python3
"""API benchmark: llmboxd over HTTPS vs the engine alone (`llmbox bench`), and aggregate
generation speed with 1, 2 and 4 concurrent streams (continuous batching).

Usage: bench/api_bench.py [--model FILE] [--tokens N] [--threads T] [--reps R] [--write]
  --write  puts the table into bench/RESULTS.md (between this script's markers)

Single stream: tokens/s between the first and the last streamed token (prompt excluded), the
same quantity `llmbox bench` reports as tg. Concurrent: all completion tokens / wall time from
the first request sent to the last response done. EOS is banned (logit_bias) so every request
generates exactly N tokens.

The engine and the server are measured in alternation (engine run, server stream, engine run,
...; the idle server's threads sleep), so a slow phase of the machine hits both alike. Every
run is listed with the CPU time other processes used during it: on a shared 2-core VM a run
with more than a few percent of that is disturbed, and run-to-run spread of +-10 % is normal
there; use --reps 5 or more before comparing within a few percent."""
import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
RESULTS_MD = os.path.join(ROOT, "bench", "RESULTS.md")
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def start_server(args, tmp):
    log = open(os.path.join(tmp, "log"), "w")
    cmd = [args.llmboxd, "--model", args.model, "--listen", "127.0.0.1:0", "--tls-dir", os.path.join(tmp, "tls"),
           "--api-key-file", os.path.join(tmp, "key"), "--parallel", "4", "--ctx", str(args.ctx)]
    if args.threads:
        cmd += ["-t", str(args.threads)]
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    port = None
    for _ in range(600):
        text = open(os.path.join(tmp, "log")).read()
        if "(port " in text and port is None:
            port = int(text.split("(port ", 1)[1].split(")", 1)[0])
        if "ready:" in text:
            break
        if p.poll() is not None:
            sys.exit("llmboxd exited:\n" + text)
        time.sleep(0.1)
    key = open(os.path.join(tmp, "key")).read().strip()
    return p, port, key


def stream_completion(port, key, n_tokens, eos_ban):
    """Returns (t_send, [arrival time of each content chunk], usage)."""
    s = CTX.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=600), server_hostname="llmbox")
    body = json.dumps({"prompt": "Once upon a time", "max_tokens": n_tokens, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}, "logit_bias": eos_ban}).encode()
    req = (b"POST /v1/completions HTTP/1.1\r\nHost: llmbox\r\nConnection: close\r\nAuthorization: Bearer " +
           key.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
           b"\r\n\r\n" + body)
    t_send = time.perf_counter()
    s.sendall(req)
    buf, times, usage = b"", [], None
    while True:
        d = s.recv(65536)
        if not d:
            break
        now = time.perf_counter()
        buf += d
        while b"\n\n" in buf:
            ev, buf = buf.split(b"\n\n", 1)
            i = ev.find(b"data: ")
            if i < 0:
                continue
            payload = ev[i + 6:]
            if payload.startswith(b"[DONE]"):
                continue
            j = json.loads(payload)
            if j.get("usage"):
                usage = j["usage"]
            if j["choices"] and j["choices"][0].get("finish_reason") is None:
                times.append(now)
    s.close()
    return t_send, times, usage


def busy_ticks():
    """CPU time (clock ticks) all processes used so far: /proc/stat minus idle and iowait."""
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(v) - v[3] - v[4]


def proc_ticks(pid):
    """User + system clock ticks of process pid and its threads (0 once it is gone)."""
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except (OSError, IndexError, ValueError):
        return 0


def other_cpu_s(t0, own0, t1, own1):
    """Seconds of CPU time used by other processes between two (busy, own) samples."""
    return max(0, (t1 - t0) - (own1 - own0)) / os.sysconf("SC_CLK_TCK")


def server_metrics(port, key):
    """The scheduler's counters from GET /metrics: steps, decode seconds, between-steps seconds."""
    s = CTX.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=60), server_hostname="llmbox")
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: llmbox\r\nConnection: close\r\nAuthorization: Bearer " + key.encode() +
              b"\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    vals = {}
    for line in data.decode(errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("llmbox_decode_steps_total", "llmbox_decode_seconds_total",
                                            "llmbox_between_steps_seconds_total"):
            vals[parts[0]] = float(parts[1])
    return vals


def engine_tg(args):
    """One `llmbox bench` run: (tg tokens/s, CPU seconds of other processes during it, which
    includes this script's own small polling)."""
    cmd = [args.llmbox, "bench", "-m", args.model, "-p", "16", "-n", str(args.tokens), "-r", "1", "--json"]
    if args.threads:
        cmd += ["-t", str(args.threads)]
    t0 = busy_ticks()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    own = 0
    while p.poll() is None:  # its CPU time, read while it still exists
        own = max(own, proc_ticks(p.pid))
        time.sleep(0.05)
    out = p.stdout.read()
    if p.returncode != 0:
        sys.exit(f"llmbox bench failed ({p.returncode})")
    return json.loads(out.strip().splitlines()[-1])["tg_tps"], other_cpu_s(t0, 0, busy_ticks(), own)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llmboxd", default=os.path.join(ROOT, "out/bin/llmboxd"))
    ap.add_argument("--llmbox", default=os.path.join(ROOT, "out/bin/llmbox"))
    ap.add_argument("--model", default=os.path.join(ROOT, "out/models/stories260K.gguf"))
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    eos_ban = {"1": -100, "2": -100}  # BOS/EOS of llama-style vocabularies: fixed-length generations

    os.makedirs(os.path.join(ROOT, "out", "tmp"), exist_ok=True)
    tmp = tempfile.mkdtemp(dir=os.path.join(ROOT, "out", "tmp"))
    p, port, key = start_server(args, tmp)
    try:
        stream_completion(port, key, 8, eos_ban)  # warm-up
        single, engine, dist_srv, dist_eng = [], [], [], []
        me = os.getpid()
        m0 = server_metrics(port, key)
        for _ in range(args.reps):  # alternate: engine run, then a server stream
            tps, other = engine_tg(args)
            engine.append(tps)
            dist_eng.append(other)
            t0, own0 = busy_ticks(), proc_ticks(p.pid) + proc_ticks(me)
            _, times, usage = stream_completion(port, key, args.tokens, eos_ban)
            dist_srv.append(other_cpu_s(t0, own0, busy_ticks(), proc_ticks(p.pid) + proc_ticks(me)))
            single.append((len(times) - 1) / (times[-1] - times[0]))
        m1 = server_metrics(port, key)
        srv_tps = statistics.median(single)
        eng_tps = statistics.median(engine)
        d = {k: m1.get(k, 0) - m0.get(k, 0) for k in m1}
        steps = d.get("llmbox_decode_steps_total", 0) or 1
        step_decode_ms = 1e3 * d.get("llmbox_decode_seconds_total", 0) / steps
        step_between_ms = 1e3 * d.get("llmbox_between_steps_seconds_total", 0) / steps
        agg = {}
        for n in (1, 2, 4):
            runs = []
            for _ in range(args.reps):
                res = [None] * n
                t0 = time.perf_counter()
                ts = [threading.Thread(target=lambda i=i: res.__setitem__(i, stream_completion(port, key, args.tokens, eos_ban)))
                      for i in range(n)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                wall = max(r[1][-1] for r in res) - t0
                runs.append(sum(r[2]["completion_tokens"] for r in res) / wall)
            agg[n] = statistics.median(runs)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    model = os.path.basename(args.model)
    lines = [
        f"API benchmark ({model}, {args.tokens} generated tokens per request, median of {args.reps}, "
        f"threads {args.threads or 'default'}, `bench/api_bench.py`):",
        "",
        "| measurement | tokens/s |",
        "|---|---|",
        f"| engine alone (`llmbox bench` tg{args.tokens}) | {eng_tps:.1f} |",
        f"| llmboxd, 1 stream over HTTPS (first to last token) | {srv_tps:.1f} ({100 * (srv_tps / eng_tps - 1):+.1f}% vs engine) |",
    ]
    for n in (1, 2, 4):
        lines.append(f"| llmboxd, {n} concurrent stream{'s' if n > 1 else ''}, aggregate (incl. prompt + HTTPS) | "
                     f"{agg[n]:.1f} ({agg[n] / agg[1]:.2f}× of 1 stream) |")
    fmt = lambda v: ", ".join(f"{x:.1f}" for x in v)
    lines += ["", f"Runs in order (tok/s): engine {fmt(engine)}; server {fmt(single)}. CPU seconds used by other "
              f"processes during each run: engine {fmt(dist_eng)}; server {fmt(dist_srv)}. Inside llmboxd over "
              f"its single-stream runs (GET /metrics): {step_decode_ms:.2f} ms per step in decode, "
              f"{step_between_ms:.3f} ms between steps (sampling, scheduling), vs {1e3 / eng_tps:.2f} ms per "
              f"token for the engine alone."]
    text = "\n".join(lines)
    print(text)
    if args.write:
        begin, end = "<!-- BEGIN GENERATED (bench/api_bench.py) -->", "<!-- END GENERATED (bench/api_bench.py) -->"
        md = open(RESULTS_MD).read() if os.path.exists(RESULTS_MD) else "# Benchmark results\n"
        if begin not in md:
            md += f"\n{begin}\n{end}\n"
        pre, rest = md.split(begin, 1)
        post = rest.split(end, 1)[1] if end in rest else ""
        with open(RESULTS_MD, "w") as f:
            f.write(pre + begin + "\n" + text + "\n" + end + post)


if __name__ == "__main__":
    main()
