// SPDX-License-Identifier: Apache-2.0
// The hybrid rule's guard (spec section 5, algorithm step 4; decision D4).
//
// Theorem 5: a v >= 0 with M v = lambda minimises the bound over every column
// scaling u >= 0, the scalar ones of Theorem 3 included, so its predicted
// decrease is at least the scalar scaling's. A computed column solution whose
// decrease falls short of the scalar one's is therefore a failed solve (on an
// ill-conditioned M the least-distance step can return a point that is
// non-negative but far from M v = lambda), and the scalar scaling is applied.
// Found by the long property run (tests/property/kernel_properties.cu, case
// {m 4, n 1, r 2, |A| 1e-30, |B| 1e10, |G| 1e5, cond(A) 1e8}: the column
// "solution" predicted a decrease of -4.4e17 against the scalar's 3.0e8).
//
// The guard is a backstop, not a precision test: a correct solve loses only its
// optimality gap (bounded in docs/numerics.md), so the column scaling is kept
// unless its decrease is below the scalar's by more than
//   2r sqrt(eps) |scalar decrease|,
// the accuracy scale at which the least-distance solve is already accepted
// (column_solve.hpp, ldp_tol). Checked by tests/unit/test_range.cpp and the
// property tests of the kernels.
#pragma once

#include <cmath>

#include "scalora/core/scalar_traits.hpp"

namespace scalora {

/// True when the computed column scaling may be applied: its predicted bound
/// decrease is not below the scalar scaling's beyond the guard's tolerance.
/// Both decreases for the same system, kappa and lr; n2 = 2r. NaN -> false.
template <class T>
SCALORA_HD bool column_beats_scalar(const T& column_decrease, const T& scalar_decrease, int n2) {
  using std::abs;
  using std::sqrt;
  const T tol = T(n2) * T(sqrt(scalar_traits<T>::epsilon())) * T(abs(scalar_decrease));
  return column_decrease >= scalar_decrease - tol;
}

}  // namespace scalora
