// SPDX-License-Identifier: Apache-2.0
// The hybrid rule's guard (spec section 5, algorithm step 4; decision D4).
//
// At a solution v >= 0 of M v = lambda (u = v / kappa) the predicted decrease
// of the bound is lr lambda^T u / 2 = lr kappa u^T M u / 2 >= 0, since M is
// positive semidefinite (linalg/optimal_scaling.hpp, bound_decrease). A
// computed column scaling that predicts a negative decrease, an increase of the
// bound, has therefore not solved the system (on an ill-conditioned singular M
// the least-distance step can return a point that is non-negative but far from
// M v = lambda): it is rejected and Theorem 3's scaling, whose decrease is
// >= 0 as well, is applied. The applied step never predicts a bound increase.
//
// Found by the long property run (tests/property/kernel_properties.cu, case
// {m 4, n 1, r 2, |A| 1e-30, cond(A) 1e8, |B| 1e10, |G| 1e5}: the exact
// decision is scalar, the computed "column" scaling predicted -4.4e17 against
// the scalar scaling's +3.0e8). A test against the scalar decrease itself
// (column >= scalar, which Theorem 5 also implies) is not used: a correct
// column solve on an ill-conditioned M may fall short of it by its optimality
// gap (1e-7 relative at cond(A) = 1e8 in the same run), which the budgets of
// docs/numerics.md allow. Checked by tests/unit/test_range.cpp.
#pragma once

#include "scalora/config.hpp"

namespace scalora {

/// True when a computed column scaling may be applied: its predicted bound
/// decrease is >= 0 (false for NaN).
template <class T>
SCALORA_HD bool column_decrease_admissible(const T& column_decrease) {
  return column_decrease >= T(0);
}

}  // namespace scalora
