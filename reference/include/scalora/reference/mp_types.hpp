// SPDX-License-Identifier: Apache-2.0
// The multiprecision scalar types of the reference and their Eigen traits.
// This is the ONE place that specialises Eigen::NumTraits for them.
//
//   mp50    cpp_bin_float_50 (166-bit mantissa, epsilon ~ 5.3e-51), header-only
//   mpfr50  mpfr_float_backend<50> without expression templates, when
//           SCALORA_HAS_MPFR is defined (CMake defines it when MPFR is found)
//
// Boost 1.74's <boost/multiprecision/eigen.hpp> provides a partial
// specialisation lacking infinity(), quiet_NaN() and digits(), and whose
// lowest() returns the smallest positive value; the full specialisations
// below take precedence and are complete (GenericNumTraits reads
// std::numeric_limits, which Boost specialises).
#pragma once

#include <boost/multiprecision/cpp_bin_float.hpp>
#include <boost/multiprecision/eigen.hpp>
#if defined(SCALORA_HAS_MPFR)
#  include <boost/multiprecision/mpfr.hpp>
#endif
#include <Eigen/Core>

namespace scalora::reference {
using mp50 = boost::multiprecision::cpp_bin_float_50;
#if defined(SCALORA_HAS_MPFR)
using mpfr50 = boost::multiprecision::number<boost::multiprecision::mpfr_float_backend<50>,
                                             boost::multiprecision::et_off>;
#endif
}  // namespace scalora::reference

#define SCALORA_MP_NUMTRAITS(MP)                                  \
  template <>                                                     \
  struct NumTraits<MP> : GenericNumTraits<MP> {                   \
    using Real = MP;                                              \
    using NonInteger = MP;                                        \
    using Literal = double;                                       \
    using Nested = MP;                                            \
    enum {                                                        \
      IsComplex = 0,                                              \
      IsInteger = 0,                                              \
      IsSigned = 1,                                               \
      RequireInitialization = 1,                                  \
      ReadCost = 1,                                               \
      AddCost = 4,                                                \
      MulCost = 8                                                 \
    };                                                            \
    static inline MP dummy_precision() { return MP(1000) * epsilon(); } \
  };

namespace Eigen {
SCALORA_MP_NUMTRAITS(scalora::reference::mp50)
#if defined(SCALORA_HAS_MPFR)
SCALORA_MP_NUMTRAITS(scalora::reference::mpfr50)
#endif
}  // namespace Eigen

#undef SCALORA_MP_NUMTRAITS
