// SPDX-License-Identifier: Apache-2.0
// The property macro of every fuzz harness: a violated property traps (libFuzzer
// reports it with the input; the g++ replay dies with the message).
#pragma once

#include <cstddef>
#include <cstdio>

/// Inputs above this size are skipped (SCALORA_FUZZING cap: keeps every run small).
inline constexpr std::size_t kFuzzMaxInput = std::size_t{1} << 20;

#define SCALORA_FUZZ_REQUIRE(cond)                                                          \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "fuzz property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      __builtin_trap();                                                                     \
    }                                                                                       \
  } while (0)
