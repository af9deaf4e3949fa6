// SPDX-License-Identifier: Apache-2.0
// Theorems 1, 3, 5 and the step on hand-checked cases, scalar type: mpfr50
// (built only when MPFR is found).
#include "scalora/reference/mp_types.hpp"
#include "theorem_cases.hpp"

SCALORA_THEOREM_TESTS(scalora::reference::mpfr50, "[mpfr50]")
