#!/usr/bin/env bash
# End-to-end check of `llmbox tokenize` / `llmbox detokenize` on the shared vocab-only GGUF
# files: every case of X.gguf.inp must give the ids of X.gguf.out (without BOS) and
# detokenize back to the same text. Prints PASS/FAIL lines for tests/run_all.sh.
set -u
bin=${1:-out/bin/llmbox}
dir=${LLMBOX_SHARED:-../shared}/testdata/tokenizer
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for gguf in "$dir"/*.gguf; do
  name=$(basename "$gguf" .gguf)
  if [ ! -f "$gguf.inp" ]; then echo "SKIP cli_tokenize/$name: no cases"; continue; fi
  # Split the cases with python (exact bytes, no trailing-newline games in shell).
  /usr/bin/python3 - "$gguf.inp" "$gguf.out" "$tmp/$name" <<'PY'
import sys, os
inp = open(sys.argv[1], 'rb').read().split(b'\n__ggml_vocab_test__\n')
out = open(sys.argv[2], 'rb').read().split(b'\n')
os.makedirs(sys.argv[3], exist_ok=True)
for i, text in enumerate(inp[:-1]):
    open(f'{sys.argv[3]}/{i}.txt', 'wb').write(text)
    open(f'{sys.argv[3]}/{i}.ids', 'wb').write(out[i].strip() + b'\n')
PY
  fails=0; n=0
  for t in "$tmp/$name"/*.txt; do
    n=$((n + 1)); ids="${t%.txt}.ids"
    got=$("$bin" tokenize -m "$gguf" --no-bos <"$t") || { fails=$((fails + 1)); continue; }
    if [ "$got" != "$(cat "$ids")" ]; then
      fails=$((fails + 1)); echo "  $name $(basename "$t"): got '$got' want '$(cat "$ids")'"; continue
    fi
    # Round trip (skip the empty case: nothing to print).
    if [ -s "$t" ]; then
      "$bin" detokenize -m "$gguf" <"$ids" >"$t.back" || { fails=$((fails + 1)); continue; }
      # SentencePiece keeps the space it prefixed when there is no BOS: compare without it.
      if ! cmp -s "$t" "$t.back" && ! cmp -s <(printf ' '; cat "$t") "$t.back"; then
        fails=$((fails + 1)); echo "  $name $(basename "$t"): round trip differs"
      fi
    fi
  done
  if [ "$fails" = 0 ] && [ "$n" -gt 0 ]; then echo "PASS cli_tokenize/$name ($n cases)"
  else echo "FAIL cli_tokenize/$name: $fails of $n cases failed"; fi
done
# Bad input: a non-GGUF file and an out-of-range id give status 2 and one line on stderr.
echo x >"$tmp/bad.gguf"
if "$bin" tokenize -m "$tmp/bad.gguf" </dev/null 2>"$tmp/err"; then echo "FAIL cli_tokenize/bad_file: accepted"
elif [ "$(wc -l <"$tmp/err")" = 1 ]; then echo "PASS cli_tokenize/bad_file"
else echo "FAIL cli_tokenize/bad_file: stderr not one line"; fi
one=$(ls "$dir"/*.gguf | head -1)
if echo "99999999" | "$bin" detokenize -m "$one" >/dev/null 2>&1; then echo "FAIL cli_tokenize/bad_id: accepted"
else echo "PASS cli_tokenize/bad_id"; fi
