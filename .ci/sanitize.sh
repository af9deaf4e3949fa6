#!/usr/bin/env bash
# The unit tests that index raw memory (target unit_tests_sanitized, listed in
# tests/CMakeLists.txt) and the fuzz corpora once under AddressSanitizer and
# UndefinedBehaviorSanitizer (g++, -O1, assertions on). Run by .ci/run after the
# main test command; a developer can run it alone: .ci/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${SCALORA_JOBS:-$(nproc)}"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1" -DSCALORA_SANITIZE=ON \
      -DSCALORA_BUILD_BENCH=OFF -DSCALORA_BUILD_TOOLS=OFF -DSCALORA_ENABLE_CUDA=OFF -DSCALORA_INSTALL=OFF >/dev/null
cmake --build build-asan -j "$jobs" --target unit_tests_sanitized fuzz_replays
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
exec ctest --test-dir build-asan -j "$jobs" --output-on-failure -L "unit|fuzz"
