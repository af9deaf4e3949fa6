#!/usr/bin/env bash
# Installs every Debian package the build and the tests need (Debian 12).
# Usage: .ci/install-deps.sh [--if-missing] [--main]
#   --if-missing  skip apt-get when every package is already installed
#   --main        only what tools/run.sh main uses (the library, the reference,
#                 scalora-train and gnuplot-nox for its plots; no test tools)
set -euo pipefail
main_packages=(
  build-essential cmake
  libeigen3-dev libboost-dev libmpfr-dev libgmp-dev libflint-dev libflint-arb-dev
  nlohmann-json3-dev zlib1g-dev
  gnuplot-nox   # scalora-train's plots
)
test_packages=(
  pkg-config ninja-build   # ninja: the mutation harness (tools/mutate)
  doctest-dev librapidcheck-dev libbenchmark-dev
  python3-torch python3-numpy   # tools/torch_client (scalora-verify's PyTorch client test)
)
packages=("${main_packages[@]}")
if [[ " $* " != *" --main "* ]]; then
  packages+=("${test_packages[@]}")
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
