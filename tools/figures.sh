#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerates every figure of docs/figures/ (SVG, committed): builds
# scalora-figures-data, writes its data to $BUILD_DIR/figures (default
# build/figures) and plots each docs/figures/*.gp with gnuplot (Debian
# gnuplot-nox). Usage: bash tools/figures.sh
#   bash tools/figures.sh --check SCALORA_FIGURES_DATA WORKDIR   (CTest docs.figures)
#     plots into WORKDIR with the given program and fails unless every
#     committed SVG is byte-identical to its regenerated copy; exit 77 without gnuplot.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
check=0
if [ "${1:-}" = "--check" ]; then
  check=1 program=$2 work=$3
fi
if ! command -v gnuplot > /dev/null; then
  echo "figures.sh: gnuplot not found (Debian: apt-get install gnuplot-nox)" >&2
  [ $check = 1 ] && exit 77
  exit 2
fi
if [ $check = 1 ]; then
  data=$work/data out=$work/svg
  mkdir -p "$data" "$out"
else
  [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
  cmake --build "$build" -j 2 --target scalora-figures-data
  program=$build/tools/scalora-figures-data data=$build/figures out=$root/docs/figures
  mkdir -p "$data"
fi
"$program" "$data"
status=0
for gp in "$root"/docs/figures/*.gp; do
  name=$(basename "$gp" .gp).svg
  echo "figures.sh: $name"
  gnuplot -e "data='$data'; out='$out'" "$gp"
  if [ $check = 1 ] && ! cmp -s "$out/$name" "$root/docs/figures/$name"; then
    echo "figures.sh: docs/figures/$name differs from its regenerated copy (run bash tools/figures.sh)" >&2
    status=1
  fi
done
exit $status
