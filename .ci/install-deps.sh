#!/usr/bin/env bash
# Installs every Debian package the build and the tests need (Debian 12).
# Usage: .ci/install-deps.sh [--if-missing] [--plots]
#   --if-missing  skip apt-get when every package is already installed
#   --plots       also gnuplot-nox (scalora-train's plots; tools/run.sh main)
set -euo pipefail
packages=(
  build-essential cmake pkg-config ninja-build   # ninja: the mutation harness (tools/mutate)
  libeigen3-dev libboost-dev libmpfr-dev libgmp-dev libflint-dev libflint-arb-dev
  doctest-dev librapidcheck-dev nlohmann-json3-dev libbenchmark-dev
  zlib1g-dev
  python3-torch python3-numpy   # tools/torch_client (scalora-verify's PyTorch client test)
)
if [[ " $* " == *" --plots "* ]]; then
  packages+=(gnuplot-nox)
fi
if [[ " $* " == *" --if-missing "* ]] && dpkg -s "${packages[@]}" >/dev/null 2>&1; then
  exit 0
fi
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to run apt-get" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"
