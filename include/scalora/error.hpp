// SPDX-License-Identifier: Apache-2.0
// Typed exceptions for invalid arguments at the host API.
//
// Channels (docs/decisions.md, "Errors"):
//   * invalid argument (shape, non-finite entry, kappa <= 0, r = 0): throw
//     scalora::invalid_argument, whose message names the argument;
//   * numerical outcome (singular system, scalar fallback, ties): returned in
//     result structs, never thrown;
//   * library code never calls exit().
#pragma once

#include <stdexcept>
#include <string>

namespace scalora {

/// Base of every exception the toolkit throws. what() starts with a stable
/// id in brackets, e.g. "[scalora.invalid_argument.non_finite] grad_A(3,1) is nan".
class error : public std::runtime_error {
 public:
  explicit error(const std::string& what) : std::runtime_error(what) {}
};

/// What is wrong with an argument.
enum class argument_problem {
  shape_mismatch,  ///< dimensions disagree with another argument
  non_finite,      ///< an entry is NaN or infinite
  out_of_range,    ///< a scalar outside its domain (kappa <= 0, r = 0, ...)
  empty,           ///< a required matrix has no entries
};

inline const char* to_string(argument_problem p) {
  switch (p) {
    case argument_problem::shape_mismatch: return "shape_mismatch";
    case argument_problem::non_finite: return "non_finite";
    case argument_problem::out_of_range: return "out_of_range";
    case argument_problem::empty: return "empty";
  }
  return "unknown";
}

/// An argument of a public function is invalid. argument() is its name as
/// written in the docs ("A", "grad_B", "kappa", ...).
class invalid_argument : public error {
 public:
  invalid_argument(std::string argument, argument_problem problem, const std::string& detail)
      : error("[scalora.invalid_argument." + std::string(to_string(problem)) + "] " + argument +
              ": " + detail),
        argument_(std::move(argument)),
        problem_(problem) {}
  const std::string& argument() const noexcept { return argument_; }
  argument_problem problem() const noexcept { return problem_; }

 private:
  std::string argument_;
  argument_problem problem_;
};

}  // namespace scalora
