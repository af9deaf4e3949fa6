// SPDX-License-Identifier: Apache-2.0
// Distance of a float/double result from the reference, in units of the
// computed type's epsilon, with the worst entry located (Boost.Math style).
#pragma once

#include <cmath>
#include <string>

#include "scalora/core/scalar_traits.hpp"
#include "scalora/linalg/types.hpp"

namespace scalora::reference {

/// err_ij = |computed_ij - reference_ij| / (eps * max(|reference_ij|, floor)).
struct EpsDistance {
  double max_eps = 0;   ///< max_ij err_ij
  double mean_eps = 0;  ///< mean_ij err_ij
  Index row = -1, col = -1;        ///< worst entry
  double computed = 0, reference = 0;  ///< values at the worst entry
  bool within(double budget) const { return max_eps <= budget; }
  std::string describe() const {
    return std::to_string(max_eps) + " eps at (" + std::to_string(row) + "," + std::to_string(col) +
           "): computed " + std::to_string(computed) + ", reference " + std::to_string(reference);
  }
};

/// Entry-wise distance with an explicit floor (use floor > 0 where reference
/// entries may be 0) and the epsilon of the computed type.
template <class DC, class DR, class R = typename DR::Scalar>
EpsDistance distance_in_eps(const Eigen::MatrixBase<DC>& computed, const Eigen::MatrixBase<DR>& reference,
                            const R& floor, double eps = double(scalar_traits<typename DC::Scalar>::epsilon())) {
  using std::abs;
  EpsDistance d;
  if (computed.rows() != reference.rows() || computed.cols() != reference.cols()) {
    d.max_eps = d.mean_eps = INFINITY;
    return d;
  }
  double sum = 0;
  for (Index j = 0; j < reference.cols(); ++j)
    for (Index i = 0; i < reference.rows(); ++i) {
      const R ref = reference(i, j);
      const R c = R(computed(i, j));
      R scale = abs(ref);
      if (scale < floor) scale = floor;
      double e;
      if (c == ref) e = 0;
      else if (!(scale > R(0))) e = INFINITY;
      else e = double(R(abs(c - ref) / scale)) / eps;
      if (std::isnan(e)) e = INFINITY;
      sum += e;
      if (d.row < 0 || e > d.max_eps) {
        d.max_eps = e;
        d.row = i;
        d.col = j;
        d.computed = double(c);
        d.reference = double(ref);
      }
    }
  const double count = double(reference.size());
  d.mean_eps = count > 0 ? sum / count : 0;
  return d;
}

/// Normwise-by-entry distance: floor = max_ij |reference_ij|, so err_ij is the
/// error relative to the largest reference entry.
template <class DC, class DR>
EpsDistance distance_in_eps(const Eigen::MatrixBase<DC>& computed, const Eigen::MatrixBase<DR>& reference) {
  using R = typename DR::Scalar;
  using std::abs;
  R floor = R(0);
  for (Index j = 0; j < reference.cols(); ++j)
    for (Index i = 0; i < reference.rows(); ++i)
      if (floor < abs(reference(i, j))) floor = abs(reference(i, j));
  return distance_in_eps(computed, reference, floor);
}

}  // namespace scalora::reference
