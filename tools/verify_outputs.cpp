// SPDX-License-Identifier: Apache-2.0
// The reference's expected outputs (cpp_bin_float_50 values of steps 5-8) for
// scalora-vectors: the one translation unit of the tools that instantiates the
// multiprecision reference step, compiled at -O1 (docs/numerics.md, "Build cost").
#include "scalora/reference/verify.hpp"
#include "verify_core.hpp"

namespace scalora::tools {

reference::ReferenceOutputs expected_outputs(const io::Case& c) {
  return reference::reference_outputs<reference::mp50>(c);
}

}  // namespace scalora::tools
