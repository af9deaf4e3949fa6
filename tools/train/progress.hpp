// SPDX-License-Identifier: Apache-2.0
// scalora-train's progress display: a bar on stderr when it is a terminal,
// else a plain line every 10%.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "scalora/train/run.hpp"

namespace scalora::train::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)), tty_(::isatty(2) != 0) {}
  ~ProgressBar() {
    if (tty_ && drawn_) std::fprintf(stderr, "\n");
  }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void operator()(const Progress& p) {
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double frac = p.total > 0 ? double(p.step) / double(p.total) : 1.0;
    const double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
    char metric[64] = "";
    if (!std::isnan(p.metric)) std::snprintf(metric, sizeof metric, " %s %.4f", p.metric_name.c_str(), p.metric);
    if (tty_) {
      if (p.step != p.total && std::chrono::duration<double>(now - last_).count() < 0.2) return;
      last_ = now;
      const int width = 30, fill = int(frac * width);
      std::fprintf(stderr, "\r%s [%s%s] %3d%% %ld/%ld loss %.4f%s eta %.0fs   ", label_.c_str(),
                   std::string(std::size_t(fill), '#').c_str(), std::string(std::size_t(width - fill), '.').c_str(),
                   int(100 * frac), p.step, p.total, p.loss, metric, eta);
      drawn_ = true;
    } else {
      const int decile = int(10 * frac);
      if (decile <= decile_ && p.step != p.total) return;
      decile_ = decile;
      std::fprintf(stderr, "%s: %3d%% step %ld/%ld loss %.4f%s (%.0f s, eta %.0f s)\n", label_.c_str(), int(100 * frac),
                   p.step, p.total, p.loss, metric, elapsed, eta);
    }
    std::fflush(stderr);
  }

 private:
  std::string label_;
  bool tty_;
  bool drawn_ = false;
  int decile_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
};

}  // namespace scalora::train::cli
