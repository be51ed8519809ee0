#!/usr/bin/python3
"""API benchmark: llmboxd over HTTPS vs the engine alone (`llmbox bench`), and aggregate
generation speed with 1, 2 and 4 concurrent streams (continuous batching).

Usage: bench/api_bench.py [--model FILE] [--tokens N] [--threads T] [--reps R] [--write]
  --write  puts the table into bench/RESULTS.md (between this script's markers)

Single stream: tokens/s between the first and the last streamed token (prompt excluded), the
same quantity `llmbox bench` reports as tg. Concurrent: all completion tokens / wall time from
the first request sent to the last response done. EOS is banned (logit_bias) so every request
generates exactly N tokens."""
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


def engine_tg(args):
    cmd = [args.llmbox, "bench", "-m", args.model, "-p", "16", "-n", str(args.tokens), "-r", str(args.reps), "--json"]
    if args.threads:
        cmd += ["-t", str(args.threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["tg_tps"]


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
        single = []
        for _ in range(args.reps):
            _, times, usage = stream_completion(port, key, args.tokens, eos_ban)
            single.append((len(times) - 1) / (times[-1] - times[0]))
        srv_tps = statistics.median(single)
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
    eng_tps = engine_tg(args)
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
