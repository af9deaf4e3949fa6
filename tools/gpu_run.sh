#!/usr/bin/env bash
# The GPU check in one command: build the CUDA variant of the gpu/ checks and
# benchmark (nvcc, sm_90), run the tests, run the benchmarks (CUDA, and OMP on
# the same machine for comparison) and print the tables.
#
#   tools/gpu_run.sh prepare   on a machine with the Debian packages: copy the
#                              headers the build needs (Eigen, the Boost headers
#                              the reference uses, doctest) into build-gpu/deps
#   tools/gpu_run.sh run       on the GPU machine (no package registry there):
#                              configure with build-gpu/deps, build, test, bench
#
# With the device tool: run(command="tools/gpu_run.sh run", carry=["build-gpu/deps"]).
set -euo pipefail
cd "$(dirname "$0")/.."
deps=build-gpu/deps

prepare() {
  rm -rf "$deps"
  # A prefix laid out like /usr, so that the packages' CMake files find their headers.
  mkdir -p "$deps/include" "$deps/share/eigen3" "$deps/lib/cmake"
  cp -r /usr/include/eigen3 "$deps/include/"
  cp -r /usr/share/eigen3/cmake "$deps/share/eigen3/"
  cp -r /usr/include/doctest "$deps/include/"
  cp -r /usr/lib/cmake/doctest "$deps/lib/cmake/"
  # Exactly the Boost headers that the host-side reference check includes.
  g++ -std=c++17 -M -DSCALORA_GPU_DEPS_SCAN -Iinclude -Ireference/include -Igpu/tests \
      -I/usr/include/eigen3 gpu/tests/reference_check.cpp |
    tr ' \\' '\n\n' | grep '^/usr/include/boost/' | sort -u |
    while read -r h; do mkdir -p "$deps/include/$(dirname "${h#/usr/include/}")"; cp "$h" "$deps/include/${h#/usr/include/}"; done
  du -sh "$deps"
}

run() {
  [[ -d "$deps/include/eigen3" ]] || { echo "gpu_run: $deps missing: run 'tools/gpu_run.sh prepare' first" >&2; exit 2; }
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  local jobs
  jobs=$(nproc)
  rm -f build-gpu/build/CMakeCache.txt  # the dependency paths are this run's
  cmake -S . -B build-gpu/build -DCMAKE_BUILD_TYPE=Release -DSCALORA_BUILD_TOOLS=OFF -DSCALORA_BUILD_BENCH=ON \
        -DSCALORA_ENABLE_MPFR=OFF -DSCALORA_INSTALL=OFF -DCMAKE_CUDA_ARCHITECTURES=90 \
        -DCMAKE_PREFIX_PATH="$PWD/$deps" -DBoost_INCLUDE_DIR="$PWD/$deps/include" >/dev/null
  cmake --build build-gpu/build -j "$jobs" --target gpu.agreement.cuda gpu.allocations.cuda bench_gpu_step.cuda \
        bench_gpu_step.omp
  local status=0
  (cd build-gpu/build && ctest -L cuda --output-on-failure) || status=1
  build-gpu/build/gpu/gpu.agreement.cuda -s 2>&1 | grep -E 'MESSAGE|test cases|assertions' || true
  build-gpu/build/gpu/gpu.allocations.cuda -s 2>&1 | grep -E 'MESSAGE|allocations' || true
  echo "== CUDA"
  build-gpu/build/gpu/bench_gpu_step.cuda || status=1
  echo "== OMP, all cores of this machine"
  build-gpu/build/gpu/bench_gpu_step.omp || status=1
  return $status
}

case "${1:-}" in
  prepare) prepare ;;
  run) time run ;;
  *) echo "usage: tools/gpu_run.sh prepare|run" >&2; exit 2 ;;
esac
