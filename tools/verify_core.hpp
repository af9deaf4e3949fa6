// SPDX-License-Identifier: Apache-2.0
// The multiprecision part of scalora-verify and scalora-vectors, compiled once
// (verify_core.cpp): the programs themselves do not include Boost.
#pragma once

#include "scalora/io/case_file.hpp"
#include "scalora/reference/verdict.hpp"

namespace scalora::tools {

/// reference::verify_case (reference/verify.hpp).
reference::Verdict verify(const io::Case& c, const reference::VerifyOptions& o);

/// Squared scalings of the optima of a case's inputs (reference/optimum.hpp),
/// rounded to double: the unconstrained column optimum, Theorem 3's, and the
/// best non-negative column scaling. For building conformance cases.
struct Optima {
  Vector<double> column, scalar, nonnegative;
  bool column_feasible = false;
};
Optima optima(const io::Case& c);

/// reference::reference_outputs<mp50>: the expected outputs of a case.
reference::ReferenceOutputs expected_outputs(const io::Case& c);

}  // namespace scalora::tools
