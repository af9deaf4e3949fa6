#!/usr/bin/env bash
# The toolkit's entry points on a fresh Debian 12 machine. Each installs the
# packages it needs (apt-get, as root or with sudo), configures and builds
# into build/, then runs:
#   tools/run.sh main    the main job: masked-LM pre-training (cached in build/cache),
#                        then ScaLoRA and LoRA fine-tuned side by side on the embedded
#                        default task, the kernels shadow-checked against the reference
#                        (scalora-train; outputs in build/main-job, docs/training.md)
#   tools/run.sh step    scalora-step: one ScaLoRA step on a built-in layer, checked
#                        against the exact reference
#   tools/run.sh test    every test (ctest), except the `long` label (builds no benchmark)
#   tools/run.sh bench   the benchmarks of docs/performance.md
# Extra arguments are passed to the program (main, bench) or to ctest (test).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-}"
shift || true
case "$what" in main|step|test|bench) ;; *) echo "usage: tools/run.sh main|step|test|bench [args...]" >&2; exit 2 ;; esac

jobs="${SCALORA_JOBS:-$(nproc)}"
if [[ "$what" == main ]]; then
  # The main job builds scalora-train alone: no test tools installed or configured.
  .ci/install-deps.sh --if-missing --main
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSCALORA_BUILD_TESTS=OFF -DSCALORA_BUILD_BENCH=OFF >/dev/null
else
  # The test command builds no benchmark (tools/run.sh bench does): in CI that is
  # 5 minutes of compilation (docs/performance.md, "CI's cost").
  .ci/install-deps.sh --if-missing
  bench=OFF; [[ "$what" == bench ]] && bench=ON
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSCALORA_BUILD_TESTS=ON -DSCALORA_BUILD_BENCH=$bench >/dev/null
fi
case "$what" in
  main)
    start=$(date +%s)
    cmake --build build -j "$jobs" --target scalora-train
    echo "main: build took $(( $(date +%s) - start )) s" >&2
    exec build/tools/scalora-train --task syn-sst2 --relational-fraction 0 --method scalora,lora \
      --jobs 2 --shadow-every 50 --cache build/cache --out build/main-job "$@" ;;
  step)
    cmake --build build -j "$jobs" --target scalora-step
    exec build/tools/scalora-step "$@" ;;
  test)
    cmake --build build -j "$jobs"
    exec ctest --test-dir build -j "$jobs" --output-on-failure -LE long "$@" ;;
  bench)
    cmake --build build -j "$jobs" --target bench_scaling
    exec build/bench/bench_scaling "$@" ;;
esac
