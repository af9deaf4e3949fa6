// SPDX-License-Identifier: Apache-2.0
// The hybrid rule's guard (spec section 5, algorithm step 4; decision D4).
//
// Theorem 5's optimum over column scalings is at least Theorem 3's over scalar
// ones (every scalar scaling is a column scaling). A computed column scaling
// whose computed decrease of the bound falls below the computed scalar
// scaling's by more than the rounding of evaluating the two has therefore not
// solved the system (an ill-conditioned M, a least-distance step far from
// M v = lambda, or a clamp of a far-negative v_i): it is rejected and Theorem
// 3's scaling is applied. The applied step never predicts less decrease than
// Theorem 3's beyond that rounding, which is what scalora-verify's optimality
// verdict holds every step to (reference/judgement.hpp: the guard's two
// evaluations enter its budget as 2 Phi).
//
// History: the first guard only rejected a predicted increase (decrease < 0);
// a column scaling keeping 45% of the scalar decrease passed it on small
// ill-conditioned layers. Checked by tests/unit/test_range.cpp ("the hybrid
// guard") and by the property that the library's and the kernels' steps never
// fail scalora-verify's judgement (tests/property/kernel_properties.cu,
// tests/property/verdict_properties.cpp).
#pragma once

#include "scalora/config.hpp"

namespace scalora {

/// True when a computed column scaling may be applied: its computed decrease
/// is at least the scalar scaling's minus `rounding` (the sum of the two
/// decreases' rounding bounds, core/bound_decrease.hpp); false for NaN.
template <class T>
SCALORA_HD bool column_decrease_admissible(const T& column_decrease, const T& scalar_decrease, const T& rounding) {
  return column_decrease >= scalar_decrease - rounding;
}

}  // namespace scalora
