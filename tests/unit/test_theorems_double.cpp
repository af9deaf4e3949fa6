// SPDX-License-Identifier: Apache-2.0
// Theorems 1, 3, 5 and the step on hand-checked cases, scalar type: double.
#include "theorem_cases.hpp"

SCALORA_THEOREM_TESTS(double, "[double]")
