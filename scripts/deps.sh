#!/usr/bin/env bash
# Idempotent install of every Debian package the project needs. Checks first, so a
# second run costs a few dpkg queries. Runs apt-get only when something is missing.
set -euo pipefail

PKGS=(
  build-essential musl-tools            # host gcc + musl-gcc for static production builds
  libopenblas-serial-dev                # static libopenblas.a (serial: our own thread pool owns the cores)
  libmbedtls-dev                        # static libmbedtls/x509/crypto
  clang libclang-rt-14-dev              # libFuzzer targets, sanitizers
  python3 python3-numpy python3-jinja2  # model conversion, synthetic GGUF, template expectations
  busybox-static                        # debug initramfs only
  qemu-system-x86 qemu-utils linux-image-amd64 ovmf  # boot the appliance in tests and `make run`
  cpio gzip zstd                        # initramfs packing
  e2fsprogs exfatprogs dosfstools mtools gdisk  # data partition and disk image, without root
  systemd-boot-efi binutils             # EFI stub + objcopy for the unified kernel image
  curl ca-certificates openssl          # API tests and fingerprints
  nodejs npm                            # llama.cpp oracle (node-llama-cpp) and the openai client
)
# Only for `make kernel` (scripts/deps.sh --kernel): the minimal appliance kernel's source and
# build tools; kept out of `make test` so CI does not fetch a 130 MB source package.
KERNEL_PKGS=(linux-source-6.1 bc flex bison libelf-dev libssl-dev xz-utils)
if [ "${1:-}" = --kernel ]; then PKGS+=("${KERNEL_PKGS[@]}"); fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from elsewhere (not Debian); accept a working node+npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps.sh: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
