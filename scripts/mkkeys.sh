#!/usr/bin/env bash
# Makes an API key and an ECDSA P-256 self-signed certificate for the appliance, once, so the
# host knows the key and fingerprint it prints. Usage: mkkeys.sh DIR   (kept if present)
set -euo pipefail
dir=$1
mkdir -p "$dir/tls"
if [ ! -s "$dir/api_key" ]; then
  printf 'sk-llmbox-%s' "$(openssl rand -hex 24)" > "$dir/api_key.tmp" && mv "$dir/api_key.tmp" "$dir/api_key"
fi
if [ ! -s "$dir/tls/cert.pem" ] || [ ! -s "$dir/tls/key.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj /CN=llmbox -addext "subjectAltName=DNS:llmbox,DNS:localhost,IP:127.0.0.1,IP:10.0.2.15" \
    -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" 2>/dev/null
fi
chmod 600 "$dir/api_key" "$dir/tls/key.pem"
