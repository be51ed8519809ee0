#!/usr/bin/env bash
# API suite: starts out/bin/llmboxd on 127.0.0.1 (free port, temp TLS dir and key file, the
# default model) and checks it with curl, raw TLS clients (raw_checks.py) and the official
# openai npm client (openai_check.mjs). One PASS/FAIL line per check.
# Env: LLMBOXD, MODEL, API_NODE_DIR (node_modules with openai), PYTHON.
set -u
cd "$(dirname "$0")/../.."
LLMBOXD=${LLMBOXD:-out/bin/llmboxd}
MODEL=${MODEL:-out/models/stories260K.gguf}
API_NODE_DIR=${API_NODE_DIR:-out/api-node}
PYTHON=${PYTHON:-/usr/bin/python3}
here=tests/api

for f in "$LLMBOXD" "$MODEL"; do
  [ -e "$f" ] || { echo "FAIL api/setup: $f is missing (make $f)"; exit 1; }
done
mkdir -p out/tmp; tmp=$(mktemp -d "$PWD/out/tmp/api.XXXXXX")  # not /tmp: it may be a small tmpfs
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

pass() { echo "PASS api/$1"; }
fail() { echo "FAIL api/$1: $2"; }
ok_if() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1" "$3"; fi; }

# start SERVER_LOG: launches llmboxd, waits for /health, sets pid, port, base
start() {
  local log=$1
  "$LLMBOXD" --model "$MODEL" --listen 127.0.0.1:0 --tls-dir "$tmp/tls" --api-key-file "$tmp/api.key" \
    --parallel 4 --queue 8 --ctx 4096 -t 2 --header-timeout-ms 3000 >"$log" 2>&1 &
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
  for _ in $(seq 1 200); do
    [ "$(curl -sk -o /dev/null -w '%{http_code}' "$base/health")" = 200 ] && return 0
    sleep 0.05
  done
  return 1
}

# req METHOD PATH [BODY] [KEY]: prints the body, then the status on the last line
req() {
  local key=${4-$KEY}
  local args=(-sk -X "$1" -w '\n%{http_code}' --max-time 60)
  [ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
  [ -n "${3-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  curl "${args[@]}" "$base$2"
}
status_of() { tail -n1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }
# jget JSON EXPR: evaluates a Python expression on the parsed JSON `j`
jget() { "$PYTHON" -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null; }
error_shape() { [ "$(jget "$1" 'sorted(j["error"].keys())')" = "['code', 'message', 'param', 'type']" ]; }

# expect NAME STATUS METHOD PATH [BODY] [KEY]: status and OpenAI error shape for >= 400
expect() {
  local name=$1 want=$2; shift 2
  local r; r=$(req "$@"); local st; st=$(status_of "$r")
  if [ "$st" != "$want" ]; then fail "$name" "status $st, want $want: $(body_of "$r" | head -c 200)"; return; fi
  if [ "$want" -ge 400 ] && ! error_shape "$(body_of "$r")"; then fail "$name" "not the OpenAI error shape: $(body_of "$r" | head -c 200)"; return; fi
  pass "$name"
}

# --- command line: version, bad options, a model that cannot be loaded ---------------------
"$LLMBOXD" --version | grep -q '^llmboxd '; ok_if version_flag $? "$("$LLMBOXD" --version 2>&1)"
"$LLMBOXD" --model "$MODEL" --parallel zero >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ]; ok_if bad_option_exit_2 $? "exit status $rc"
printf 'GGUF garbage' >"$tmp/bad.gguf"
timeout 20 "$LLMBOXD" --model "$tmp/bad.gguf" --listen 127.0.0.1:0 --tls-dir "$tmp/badtls" --api-key-file "$tmp/bad.key" >"$tmp/logbad" 2>&1; rc=$?
[ "$rc" = 1 ] && grep -q "cannot serve model" "$tmp/logbad"; ok_if corrupt_model_clear_error_exit_1 $? "exit $rc: $(tail -2 "$tmp/logbad")"

if ! start "$tmp/log1"; then
  echo "FAIL api/start: llmboxd did not become healthy"; sed 's/^/# /' "$tmp/log1"; exit 1
fi
KEY=$(tr -d '\n' <"$tmp/api.key")
pass start

# --- console output at start: URL, fingerprint, the new key exactly once -----------------
fp_log=$(sed -n 's/.*fingerprint: \([0-9A-F:]*\).*/\1/p' "$tmp/log1" | head -1)
fp_real=$(openssl s_client -connect "127.0.0.1:$port" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//')
[ -n "$fp_log" ] && [ "$fp_log" = "$fp_real" ]; ok_if start_prints_cert_fingerprint $? "log '$fp_log' vs served '$fp_real'"
[ "$(grep -c -- "$KEY" "$tmp/log1")" = 1 ] && grep -q "https://127.0.0.1:$port/v1" "$tmp/log1"
ok_if start_prints_url_and_new_key_once $? "key or URL not printed exactly once"
[ "$(stat -c %a "$tmp/api.key")" = 600 ]; ok_if key_file_mode_0600 $? "mode $(stat -c %a "$tmp/api.key")"

# --- happy paths with curl ---------------------------------------------------------------
r=$(req GET /health "" ""); [ "$(status_of "$r")" = 200 ] && [ "$(jget "$(body_of "$r")" 'j["status"], j["slots_idle"]')" = "('ok', 4)" ]
ok_if health_without_key $? "$r"
r=$(req GET /v1/models); model_id=$(jget "$(body_of "$r")" 'j["data"][0]["id"]')
[ "$(status_of "$r")" = 200 ] && [ "$model_id" = "$(basename "$MODEL" .gguf)" ]; ok_if models_list $? "$r"

text="Once upon a time, there was a little girl named Lily. She liked to play outside."
r=$(req POST /tokenize "{\"content\": \"$text\"}"); toks=$(jget "$(body_of "$r")" 'j["tokens"]')
r2=$(req POST /detokenize "{\"tokens\": $toks}")
[ "$(status_of "$r")" = 200 ] && [ "$(jget "$(body_of "$r2")" 'j["content"]')" = "$text" ]
ok_if tokenize_round_trip $? "tokens $toks -> $(body_of "$r2")"
expect detokenize_bad_id_400 400 POST /detokenize '{"tokens": [1, 99999]}'
expect tokenize_without_key_401 401 POST /tokenize '{"content": "x"}' ""

r=$(req POST /tokenize '{"content": "Once upon a time", "add_special": true}'); n_prompt=$(jget "$(body_of "$r")" 'len(j["tokens"])')
r=$(req POST /v1/completions '{"prompt": "Once upon a time", "max_tokens": 5, "temperature": 0, "logit_bias": {"2": -100}}')
b=$(body_of "$r")
[ "$(jget "$b" 'j["usage"]["prompt_tokens"], j["usage"]["completion_tokens"], j["usage"]["total_tokens"], j["choices"][0]["finish_reason"]')" = "($n_prompt, 5, $((n_prompt + 5)), 'length')" ]
ok_if usage_counts_and_length $? "$b (prompt by /tokenize: $n_prompt)"

full=$(body_of "$(req POST /v1/completions '{"prompt": "Once upon a time", "max_tokens": 60, "temperature": 0}')")
full_text=$(jget "$full" 'j["choices"][0]["text"]')
r=$(req POST /v1/completions '{"prompt": "Once upon a time", "max_tokens": 60, "temperature": 0, "stop": ["."]}')
stopped=$(jget "$(body_of "$r")" 'j["choices"][0]["text"]')
want=${full_text%%.*}
[ "$stopped" = "$want" ] && [ "$(jget "$(body_of "$r")" 'j["choices"][0]["finish_reason"]')" = stop ] && [ "$full_text" != "$want" ]
ok_if stop_string_cuts_text $? "stopped '$stopped' vs prefix '$want' of '$full_text'"

s1=$(jget "$(body_of "$(req POST /v1/completions '{"prompt": "Once", "max_tokens": 20, "temperature": 1, "seed": 7}')")" 'j["choices"][0]["text"]')
s2=$(jget "$(body_of "$(req POST /v1/completions '{"prompt": "Once", "max_tokens": 20, "temperature": 1, "seed": 7}')")" 'j["choices"][0]["text"]')
[ -n "$s1" ] && [ "$s1" = "$s2" ]; ok_if seed_reproducible $? "'$s1' vs '$s2'"

sse=$(curl -skN -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  --data-binary '{"model": "'"$model_id"'", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 10, "stream": true, "stream_options": {"include_usage": true}}' \
  "$base/v1/chat/completions")
"$PYTHON" - "$sse" <<'EOF'
import json, sys
events = sys.argv[1].split("\n\n")
events = [e for e in events if e.strip()]
assert all(e.startswith("data: ") for e in events), events[:3]
assert events[-1] == "data: [DONE]", events[-1]
chunks = [json.loads(e[6:]) for e in events[:-1]]
assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
assert chunks[-2]["choices"][0]["finish_reason"] in ("stop", "length")
assert all(c["usage"] is None for c in chunks[:-1])
EOF
ok_if chat_stream_sse_framing $? "$(head -c 300 <<<"$sse")"

# Message content never becomes control tokens: "</s>" in a message stays text. The model has
# no chat template, so the ChatML fallback renders the conversation as below.
render='<|im_start|>user\na </s> b<|im_end|>\n<|im_start|>assistant\n'
n_special=$(jget "$(body_of "$(req POST /tokenize "{\"content\": \"$render\", \"add_special\": true, \"parse_special\": true}")")" 'len(j["tokens"])')
n_plain=$(jget "$(body_of "$(req POST /tokenize "{\"content\": \"$render\", \"add_special\": true, \"parse_special\": false}")")" 'len(j["tokens"])')
r=$(req POST /v1/chat/completions '{"messages": [{"role": "user", "content": "a </s> b"}], "max_tokens": 1}')
n_chat=$(jget "$(body_of "$r")" 'j["usage"]["prompt_tokens"]')
[ -n "$n_special" ] && [ "$n_special" != "$n_plain" ] && [ "$n_chat" = "$n_plain" ]
ok_if chat_content_cannot_inject_control_tokens $? "prompt tokens $n_chat, plain $n_plain, with specials $n_special"

# --- bad input matrix ----------------------------------------------------------------------
expect no_key_401 401 GET /v1/models "" ""
expect wrong_key_401 401 GET /v1/models "" "sk-wrong"
expect unknown_v1_path_without_key_401 401 GET /v1/nothing "" ""
expect unknown_path_404 404 GET /nothing
expect wrong_method_405 405 GET /v1/chat/completions
curl -sk -o /dev/null -D "$tmp/h401" "$base/v1/models"; curl -sk -o /dev/null -D "$tmp/h405" -H "Authorization: Bearer $KEY" "$base/v1/completions"
grep -qi '^WWW-Authenticate: Bearer' "$tmp/h401" && grep -qi '^Allow: POST' "$tmp/h405"
ok_if auth_and_allow_headers $? "$(cat "$tmp/h401" "$tmp/h405" | tr -d '\r' | head -20 | tr '\n' '|')"
expect malformed_json_400 400 POST /v1/chat/completions '{"messages": [{"role": "user", "content": "x"}'
expect body_not_object_400 400 POST /v1/completions '[1, 2]'
expect wrong_types_400 400 POST /v1/chat/completions '{"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}'
expect missing_messages_400 400 POST /v1/chat/completions '{"model": "x"}'
expect unknown_model_404 404 POST /v1/chat/completions '{"model": "gpt-17", "messages": [{"role": "user", "content": "x"}]}'
expect n_2_400 400 POST /v1/completions '{"prompt": "x", "n": 2}'
long=$(printf 'Once upon a time %.0s' $(seq 1 1500))
r=$(req POST /v1/completions "{\"prompt\": \"$long\"}")
[ "$(status_of "$r")" = 400 ] && [ "$(jget "$(body_of "$r")" 'j["error"]["code"]')" = context_length_exceeded ]
ok_if prompt_longer_than_context_400 $? "$(head -c 300 <<<"$r")"
expect poweroff_outside_init_409 409 POST /v1/system/poweroff '{}'
expect metrics_without_key_401 401 GET /metrics "" ""
r=$(req GET /metrics); [ "$(status_of "$r")" = 200 ] && grep -q '^llmbox_requests_total{status="401"} [1-9]' <<<"$r" \
  && grep -q '^llmbox_time_to_first_token_seconds_count [1-9]' <<<"$r" && grep -q '^llmbox_generated_tokens_total [1-9]' <<<"$r"
ok_if metrics_prometheus_text $? "$(head -c 300 <<<"$r")"
# the scheduler's step counters: requests above generated tokens, so steps ran and took time
mval() { sed -n "s/^$1 \([0-9.e+-]*\)\$/\1/p" <<<"$r"; }
"$PYTHON" -c 'import sys; s, t, d, b = map(float, sys.argv[1:]); sys.exit(not (s >= 1 and t >= s and d > 0 and b >= 0))' \
  "$(mval llmbox_decode_steps_total)" "$(mval llmbox_batch_tokens_total)" "$(mval llmbox_decode_seconds_total)" \
  "$(mval llmbox_between_steps_seconds_total)" 2>/dev/null
ok_if metrics_decode_step_counters $? "$(grep -E '^llmbox_(decode|batch|between)' <<<"$r" | tr '\n' '|')"

"$PYTHON" "$here/raw_checks.py" "$port" "$tmp/api.key" "$tmp/log1"

# --- the official openai client ------------------------------------------------------------
if [ -d "$API_NODE_DIR/node_modules/openai" ]; then
  cp "$here/openai_check.mjs" "$API_NODE_DIR/"
  NODE_TLS_REJECT_UNAUTHORIZED=0 NODE_NO_WARNINGS=1 node "$API_NODE_DIR/openai_check.mjs" "$base/v1" "$KEY"
else
  fail openai_client "$API_NODE_DIR/node_modules/openai missing (make the api-node stamp)"
fi

# --- logging hygiene, graceful stop, restart ----------------------------------------------
[ "$(grep -c -- "$KEY" "$tmp/log1")" = 1 ] && ! grep -q "Once upon a time" "$tmp/log1" && ! grep -q "little girl" "$tmp/log1" \
  && grep -Eq 'POST /v1/completions 200 tokens=[0-9]+/[0-9]+ [0-9]+ms' "$tmp/log1"
ok_if log_lines_without_key_or_prompt $? "$(grep -n -e "$KEY" -e 'Once upon' "$tmp/log1" | head -3)"
kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then fail sigterm_graceful_stop "still running 10 s after SIGTERM"; kill -9 "$pid"; wait "$pid" 2>/dev/null
else wait "$pid"; rc=$?; [ "$rc" = 0 ]; ok_if sigterm_graceful_stop $? "exit status $rc"; fi
pid=
if start "$tmp/log2"; then
  fp2=$(sed -n 's/.*fingerprint: \([0-9A-F:]*\).*/\1/p' "$tmp/log2" | head -1)
  [ "$fp2" = "$fp_log" ] && ! grep -q -- "$KEY" "$tmp/log2" && [ "$(tr -d '\n' <"$tmp/api.key")" = "$KEY" ]
  ok_if restart_reuses_cert_and_key $? "fingerprint '$fp2' vs '$fp_log'"
  expect restart_old_key_still_valid 200 GET /v1/models
else
  fail restart_reuses_cert_and_key "second start failed"
fi
exit 0
