// SPDX-License-Identifier: Apache-2.0
// Harness of the proof checks: each check prints its margin (>= 0 passes;
// how far the statement is from failing), and finish() prints
// "N passed, M failed" and returns the exit status (1 on any failure).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include "scalora/reference/mp_types.hpp"
#include "scalora/scalora.hpp"

namespace scalora::proofs {

using reference::mp50;
using Mat = Matrix<mp50>;
using Vec = Vector<mp50>;

class Report {
 public:
  explicit Report(const char* statement) { std::printf("%s\n\n", statement); }

  /// Passes when margin >= 0. The margin is printed with the detail.
  void check(const std::string& name, double margin, const std::string& detail = "") {
    const bool ok = margin >= 0 && !std::isnan(margin);
    (ok ? passed_ : failed_)++;
    std::printf("  %s  %-64s margin %+.3e  %s\n", ok ? "pass" : "FAIL", name.c_str(), margin, detail.c_str());
  }
  /// value <= bound, margin bound - value.
  void check_le(const std::string& name, double value, double bound, const std::string& detail = "") {
    check(name, bound - value, detail.empty() ? "value " + num(value) + " <= " + num(bound) : detail);
  }
  void note(const std::string& text) { std::printf("  note  %s\n", text.c_str()); }
  void section(const std::string& title) { std::printf("\n%s\n", title.c_str()); }

  int finish() const {
    std::printf("\n%d passed, %d failed\n", passed_, failed_);
    return failed_ == 0 ? 0 : 1;
  }
  static std::string num(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", x);
    return buf;
  }

 private:
  int passed_ = 0, failed_ = 0;
};

/// Runs body(report) and turns any exception into a failed check: a proof
/// check never throws out of main.
template <class Body>
int run(const char* statement, Body body) {
  Report report(statement);
  try {
    body(report);
  } catch (const std::exception& e) {
    report.check(std::string("no exception: ") + e.what(), -1.0);
  }
  return report.finish();
}

/// A random matrix in mp50 whose entries are doubles (exact inputs).
inline Mat random_mat(Index rows, Index cols, std::uint64_t seed, double scale = 1.0) {
  return (scale * gaussian_matrix(rows, cols, seed)).cast<mp50>();
}

/// A random matrix of dyadic numbers: Gaussian entries times 2^log2_scale,
/// rounded to multiples of 2^(log2_scale - bits). Products and sums of a few
/// dozen of them are exact in double (gradients G B stored in double are
/// exactly those of G) and in mp50 (M, lambda formed exactly), so the library
/// in mp50 and the reference (exact, from the doubles) see the same layer.
inline Mat dyadic_mat(Index rows, Index cols, std::uint64_t seed, int log2_scale = 0, int bits = 10) {
  const Matrix<double> g = gaussian_matrix(rows, cols, seed);
  Mat out(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i)
      out(i, j) = mp50(std::ldexp(std::nearbyint(std::ldexp(g(i, j), bits)), log2_scale - bits));
  return out;
}

/// Relative difference |a - b| / max(|a|, |b|, floor).
inline double reldiff(const mp50& a, const mp50& b, const mp50& floor = mp50(1e-300)) {
  using std::abs;
  return double(abs(a - b) / std::max({mp50(abs(a)), mp50(abs(b)), floor}));
}

inline double rel(const mp50& a, const mp50& scale) { return double(a / scale); }

}  // namespace scalora::proofs
