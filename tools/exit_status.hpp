// SPDX-License-Identifier: Apache-2.0
// The exit statuses shared by the command-line tools (docs/validating.md,
// "Exit status") and the checked close of the standard output.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

namespace scalora::tools {

/// 0 done / pass; 1 the result is a failure (a check failed); 2 the input is invalid
/// (arguments, a case or task file, a checkpoint); 3 the work could not be done (I/O,
/// out of memory, an output locked by another process); 4 inconclusive (scalora-verify).
inline constexpr int kExitOk = 0, kExitFailed = 1, kExitInvalid = 2, kExitError = 3, kExitInconclusive = 4;

/// Flushes and closes the standard output (std::cout and stdout), checking every step.
/// Call once, last, before returning `code` from main.
/// @returns `code`, or kExitError after printing "<tool>: cannot write the standard output: <reason>".
inline int close_stdout(const char* tool, int code = kExitOk) {
  std::cout.flush();
  const bool failed_before = !std::cout || std::ferror(stdout) != 0;
  errno = 0;
  bool bad = std::fflush(stdout) != 0;
  int err = errno;
  if (failed_before && !bad) {
    // An earlier write failed and errno has moved on since: one more byte gives the reason.
    std::clearerr(stdout);
    errno = 0;
    err = std::fputc('\n', stdout) == EOF || std::fflush(stdout) != 0 ? errno : 0;
    bad = true;
  }
  if (std::fclose(stdout) != 0 && !bad) {
    bad = true;
    err = errno;
  }
  if (!bad) return code;
  std::fprintf(stderr, "%s: cannot write the standard output: %s\n", tool, std::strerror(err != 0 ? err : EIO));
  return kExitError;
}

}  // namespace scalora::tools
