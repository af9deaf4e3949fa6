// SPDX-License-Identifier: Apache-2.0
// Which theorem's scaling a step applies, and the rule choosing it. Host and device.
#pragma once

namespace scalora {

/// Which theorem's scaling is applied.
enum class branch : unsigned char {
  column,  ///< Theorem 5: A~ = A diag(alpha), B~ = B diag(beta)
  scalar,  ///< Theorem 3: A~ = alpha A, B~ = beta B
};

inline const char* to_string(branch b) { return b == branch::column ? "column" : "scalar"; }

/// hybrid: column scaling when a non-negative solution exists, else scalar
/// (the paper's rule, algorithm step 4); scalar_only: Theorem 3 always.
enum class scaling_mode : unsigned char { hybrid, scalar_only };

}  // namespace scalora
