#!/usr/bin/env bash
# The toolkit's entry points on a fresh Debian 12 machine. Each installs the
# packages it needs (apt-get, as root or with sudo), configures and builds
# into build/, then runs:
#   tools/run.sh main    the main job: scalora-step on its built-in example
#   tools/run.sh test    every test (ctest), except the `long` label
#   tools/run.sh bench   the benchmarks of docs/performance.md
# Extra arguments are passed to the program (main, bench) or to ctest (test).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-}"
shift || true
case "$what" in main|test|bench) ;; *) echo "usage: tools/run.sh main|test|bench [args...]" >&2; exit 2 ;; esac

.ci/install-deps.sh --if-missing
jobs="${SCALORA_JOBS:-$(nproc)}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
case "$what" in
  main)
    cmake --build build -j "$jobs" --target scalora-step
    exec build/tools/scalora-step "$@" ;;
  test)
    cmake --build build -j "$jobs"
    exec ctest --test-dir build -j "$jobs" --output-on-failure -LE long "$@" ;;
  bench)
    cmake --build build -j "$jobs" --target bench_scaling
    exec build/bench/bench_scaling "$@" ;;
esac
