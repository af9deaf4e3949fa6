// SPDX-License-Identifier: Apache-2.0
// Theorems 1, 3, 5 and the step on hand-checked cases, scalar type: float.
#include "theorem_cases.hpp"

SCALORA_THEOREM_TESTS(float, "[float]")
