#!/usr/bin/env bash
# install-deps.sh: the Debian packages and npm packages lowbit needs to build and test.
# Idempotent; used by .ci/run and by the README's first command.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive

PKGS=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libopenblas-dev libhdf5-dev libzstd-dev libcyaml-dev libcjson-dev libutf8proc-dev
      python3 python3-numpy python3-torch python3-h5py python3-hdf5plugin hdf5-filter-plugin
      gnuplot-nox)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm  >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Real llama.cpp (prebuilt, pinned by tests/peer/package-lock.json) for agreement tests.
if [ -f tests/peer/package-lock.json ]; then
  (cd tests/peer && npm ci --omit=optional --no-audit --no-fund --loglevel=error)
fi
echo "install-deps: ok"
