// SPDX-License-Identifier: Apache-2.0
// Moment lemmas (spec section 6): AdamW state under A~ = A diag(alpha),
// B~ = B diag(beta). Host and device.
//
// At the same W, grad_{A~} = G B~ = grad_A diag(beta) and
// grad_{B~} = G^T A~ = grad_B diag(alpha): each factor's gradient scales with
// the OTHER factor's scaling. Replaying AdamW over the rescaled gradient
// history gives
//   m_A <- m_A diag(beta),   v_A <- v_A diag(beta o beta),
//   m_B <- m_B diag(alpha),  v_B <- v_B diag(alpha o alpha);
// the step counter and bias corrections are unchanged.
// Proof check: proofs_checks/lemma_moments.cpp; unit: tests/unit/test_theorems_*.cpp
// (theorem_cases.hpp, the moments of a full step).
#pragma once

#include "scalora/config.hpp"
#include "scalora/core/scalar_traits.hpp"

namespace scalora {

/// One entry of a first moment (exp_avg) of a factor whose gradient column is
/// multiplied by `scale` (= beta_j for A's column j, alpha_j for B's).
SCALORA_HD_NOWARN
template <class T, class S>
SCALORA_HD inline T transfer_first_moment(const T& m, const S& scale) {
  return T(m * scale);
}

/// One entry of a second moment (exp_avg_sq): multiplied by scale^2, formed in
/// the accumulation type (double for float) and rounded once: in float, scale^2
/// of a scale below 1e-19 is subnormal, and v (scale scale) lost up to 3.7 eps
/// (the kernels' long property run on hard layers, row and column scales 1e+-8).
SCALORA_HD_NOWARN
template <class T, class S>
SCALORA_HD inline T transfer_second_moment(const T& v, const S& scale) {
  using A = accumulate_t<T>;
  return T(A(v) * (A(scale) * A(scale)));
}

}  // namespace scalora
