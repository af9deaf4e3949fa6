#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerates every figure of docs/figures/ (SVG, committed): builds
# scalora-figures-data, writes its data to $BUILD_DIR/figures (default
# build/figures) and plots each docs/figures/*.gp with gnuplot (Debian
# gnuplot-nox). Usage: bash tools/figures.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
if ! command -v gnuplot > /dev/null; then
  echo "figures.sh: gnuplot not found (Debian: apt-get install gnuplot-nox)" >&2
  exit 2
fi
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j 2 --target scalora-figures-data
data=$build/figures
mkdir -p "$data"
"$build/tools/scalora-figures-data" "$data"
for gp in "$root"/docs/figures/*.gp; do
  echo "figures.sh: $(basename "$gp" .gp).svg"
  gnuplot -e "data='$data'; out='$root/docs/figures'" "$gp"
done
