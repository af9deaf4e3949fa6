// SPDX-License-Identifier: Apache-2.0
// The verifier's judgement for the tools, compiled once at full optimisation
// (Eigen's GEMMs dominate): reference/verify.hpp and reference/optimum.hpp.
#include "verify_core.hpp"

#include "scalora/reference/verify.hpp"

namespace scalora::tools {

reference::Verdict verify(const io::Case& c, const reference::VerifyOptions& o) {
  return reference::verify_case(c, o);
}

Optima optima(const io::Case& c) {
  reference::ScalingProblem P(c.input.A, c.input.B, c.input.grad_A, c.input.grad_B, c.bound);
  Optima o;
  o.column = P.column().optimum.u;
  o.column_feasible = P.column().feasible;
  o.scalar = P.scalar().optimum.u;
  o.nonnegative = P.nonnegative_optimum().u;
  return o;
}

}  // namespace scalora::tools
