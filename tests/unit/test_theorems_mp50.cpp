// SPDX-License-Identifier: Apache-2.0
// Theorems 1, 3, 5 and the step on hand-checked cases, scalar type:
// cpp_bin_float_50 (the library itself instantiated in high precision).
#include "scalora/reference/mp_types.hpp"
#include "theorem_cases.hpp"

SCALORA_THEOREM_TESTS(scalora::reference::mp50, "[mp50]")
