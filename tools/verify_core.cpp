// SPDX-License-Identifier: Apache-2.0
// The one translation unit of the tools that instantiates the reference.
#include "verify_core.hpp"

#include "scalora/reference/verify.hpp"

namespace scalora::tools {

reference::Verdict verify(const io::Case& c, const reference::VerifyOptions& o) {
  return reference::verify_case(c, o);
}

reference::ReferenceOutputs expected_outputs(const io::Case& c) {
  return reference::reference_outputs<reference::mp50>(c);
}

}  // namespace scalora::tools
