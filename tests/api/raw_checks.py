#!/usr/bin/python3
"""Hostile and concurrent clients against a running llmboxd, over raw TLS sockets.

Usage: raw_checks.py PORT KEYFILE SERVER_LOG
Prints one line per check: PASS name / FAIL name: why. After each hostile input the server
must still answer the next request (GET /health and an authenticated request)."""
import json
import os
import socket
import ssl
import sys
import threading
import time

HOST = "127.0.0.1"
PORT = int(sys.argv[1])
KEY = open(sys.argv[2]).read().strip()
LOG = sys.argv[3]
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
failures = 0


def report(name, ok, why=""):
    global failures
    if ok:
        print(f"PASS api/{name}", flush=True)
    else:
        failures += 1
        print(f"FAIL api/{name}: {why}", flush=True)


def connect(timeout=20):
    raw = socket.create_connection((HOST, PORT), timeout=timeout)
    return CTX.wrap_socket(raw, server_hostname="llmbox")


def read_all(s):
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (socket.timeout, ssl.SSLError, ConnectionResetError, OSError):
        pass
    return data


def dechunk(body):
    out, rest = b"", body
    while rest:
        line, _, rest = rest.partition(b"\r\n")
        try:
            n = int(line.split(b";")[0], 16)
        except ValueError:
            return out
        if n == 0:
            break
        out, rest = out + rest[:n], rest[n + 2:]
    return out


def request(method, path, body=None, key=KEY, extra=b"", timeout=30):
    """One request on a fresh connection; returns (status, headers dict, body bytes)."""
    s = connect(timeout)
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
    head = f"{method} {path} HTTP/1.1\r\nHost: llmbox\r\nConnection: close\r\n"
    if key:
        head += f"Authorization: Bearer {key}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    s.sendall(head.encode() + extra + b"\r\n" + data)
    resp = read_all(s)
    s.close()
    return parse(resp)


def parse(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return 0, {}, resp
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        hdrs[k.strip().lower().decode()] = v.strip().decode()
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return status, hdrs, body


def alive():
    """The server still serves: /health and an authenticated completion."""
    try:
        st, _, _ = request("GET", "/health", key=None)
        if st != 200:
            return f"/health answered {st}"
        st, _, b = request("POST", "/v1/completions", {"prompt": "Once", "max_tokens": 3, "temperature": 0})
        if st != 200:
            return f"completion answered {st}: {b[:200]!r}"
        return ""
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {e}"


def check(name, fn):
    try:
        ok, why = fn()
    except Exception as e:  # noqa: BLE001
        ok, why = False, f"{type(e).__name__}: {e}"
    after = alive()
    if ok and after:
        ok, why = False, f"server not serving afterwards: {after}"
    report(name, ok, why)


def error_shape(body):
    try:
        e = json.loads(body)["error"]
        return all(k in e for k in ("message", "type", "param", "code"))
    except (ValueError, KeyError, TypeError):
        return False


def huge_header():
    st, _, _ = request("GET", "/health", key=None, extra=b"X-Big: " + b"a" * 40000 + b"\r\n")
    return st in (431, 400, 413), f"status {st} for a 40 KB header"


def huge_body():
    """A 3 MiB body: 413 (the server may answer and close before the body is sent)."""
    s = connect()
    body = b'{"prompt":"' + b"a" * (3 << 20) + b'"}'
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: llmbox\r\nAuthorization: Bearer " + KEY.encode() +
              b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    try:
        s.sendall(body)
    except (ssl.SSLError, OSError):
        pass  # closed early: the answer is already waiting
    st, _, b = parse(read_all(s))
    s.close()
    return st == 413 and error_shape(b), f"status {st} for a 3 MiB body: {b[:100]!r}"


def slowloris():
    """Headers one byte a second: the connection is dropped at the header deadline, and others
    are served meanwhile."""
    s = connect(timeout=30)
    msg = b"GET /health HTTP/1.1\r\nHost: llmbox\r\nX-Slow: " + b"z" * 100
    t0 = time.time()
    closed = False
    served_meanwhile = None
    for i, ch in enumerate(msg):
        try:
            s.sendall(bytes([ch]))
        except (ssl.SSLError, OSError):
            closed = True
            break
        if i == 2:
            served_meanwhile = alive()
        # a closed connection shows up as readable EOF (or a 408 response)
        s.settimeout(1.0)
        try:
            d = s.recv(4096)
            if d == b"" or d.startswith(b"HTTP/1.1 408") or d.startswith(b"HTTP/1.1 400"):
                closed = True
                break
        except socket.timeout:
            pass
        except (ssl.SSLError, OSError):
            closed = True
            break
        if time.time() - t0 > 40:
            break
    s.close()
    took = time.time() - t0
    if served_meanwhile:
        return False, f"other clients not served during slowloris: {served_meanwhile}"
    return closed and took < 35, f"closed={closed} after {took:.1f}s"


def tls_garbage():
    raw = socket.create_connection((HOST, PORT), timeout=10)
    raw.sendall(os.urandom(4096))
    d = read_all(raw)
    raw.close()
    return b"HTTP/1.1 200" not in d, "garbage got a 200"


def plain_http():
    raw = socket.create_connection((HOST, PORT), timeout=10)
    raw.sendall(b"GET /health HTTP/1.1\r\nHost: llmbox\r\n\r\n")
    d = read_all(raw)
    raw.close()
    return b"HTTP/1.1 200" not in d, f"plain HTTP was served: {d[:80]!r}"


def busy_slots():
    st, _, b = request("GET", "/health", key=None)
    return json.loads(b).get("slots_processing", -1)


def disconnect_mid_stream():
    """Read the first content chunk of a long stream (4000 tokens, several seconds), hang up:
    the slot is freed at once and generation stops early (the request's log line)."""
    s = connect()
    body = json.dumps({"prompt": "Once upon a time", "max_tokens": 4000, "stream": True, "temperature": 0,
                       "logit_bias": {"2": -100}}).encode()
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: llmbox\r\nAuthorization: Bearer " + KEY.encode() +
              b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    got = b""
    while b"data: {" not in got:
        d = s.recv(4096)
        if not d:
            return False, "stream ended before the first chunk"
        got += d
    if not got.startswith(b"HTTP/1.1 200"):
        return False, f"stream answered {got[:40]!r}"
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close
    s.close()
    t0 = time.time()
    while time.time() - t0 < 3:
        if busy_slots() == 0:
            break
        time.sleep(0.05)
    else:
        return False, "slot still busy 3 s after the client left"
    took = time.time() - t0
    last = ""
    while time.time() - t0 < 5 and not last:  # the request's log line: status 499, client gone
        lines = [ln for ln in open(LOG).read().splitlines() if "POST /v1/completions 499" in ln]
        last = lines[-1] if lines else ""
        time.sleep(0.05)
    try:
        out = int(last.split("tokens=", 1)[1].split("/", 1)[1].split()[0])
    except (IndexError, ValueError):
        return False, f"no log line for the request: {last!r}"
    return out < 4000, f"slot freed after {took:.2f} s; log: {last}"


def concurrent_64():
    """64 connections at once against 4 slots (queue 8): each gets 200 or 429 with a valid body."""
    results = [None] * 64
    start = threading.Barrier(64)

    def worker(i):
        try:
            s = connect(timeout=120)
            body = json.dumps({"prompt": "Once upon a time", "max_tokens": 200, "temperature": 0,
                               "logit_bias": {"2": -100}}).encode()
            req = (b"POST /v1/completions HTTP/1.1\r\nHost: llmbox\r\nConnection: close\r\nAuthorization: Bearer " +
                   KEY.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: " +
                   str(len(body)).encode() + b"\r\n\r\n" + body)
            start.wait(timeout=60)
            s.sendall(req)
            results[i] = parse(read_all(s))
            s.close()
        except Exception as e:  # noqa: BLE001
            results[i] = (0, {}, repr(e).encode())

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(64)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(180)
    ok200 = n429 = 0
    for st, _, b in results:
        if st == 200:
            u = json.loads(b)["usage"]
            if u["completion_tokens"] != 200:
                return False, f"a 200 had {u['completion_tokens']} tokens"
            ok200 += 1
        elif st == 429 and error_shape(b):
            n429 += 1
        else:
            return False, f"unexpected answer {st}: {b[:120]!r}"
    print(f"# concurrency: {ok200} x 200, {n429} x 429", flush=True)
    return ok200 >= 4 and ok200 + n429 == 64, f"{ok200} x 200, {n429} x 429"


def keep_alive_two_requests():
    s = connect()
    for _ in range(2):
        s.sendall(b"GET /health HTTP/1.1\r\nHost: llmbox\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            got += s.recv(4096)
        head, _, rest = got.partition(b"\r\n\r\n")
        length = int([ln.split(b":")[1] for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")][0])
        while len(rest) < length:
            rest += s.recv(4096)
        if not head.startswith(b"HTTP/1.1 200"):
            return False, f"answer {head[:30]!r}"
    s.close()
    return True, ""


check("keep_alive_two_requests", keep_alive_two_requests)
check("huge_header_rejected", huge_header)
check("huge_body_413", huge_body)
check("tls_garbage_dropped", tls_garbage)
check("plain_http_on_tls_port_refused", plain_http)
check("disconnect_mid_stream_frees_slot", disconnect_mid_stream)
check("concurrent_64_connections_4_slots", concurrent_64)
check("slowloris_dropped_others_served", slowloris)
sys.exit(0)
