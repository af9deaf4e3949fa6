// SPDX-License-Identifier: Apache-2.0
// Umbrella header of scalora::reference: multiprecision types, exact
// decisions (FLINT) and certified enclosures (double, Arb), the optimality
// verdict, step comparison, the reference step and epsilon-distance reports.
// Needs Boost.Multiprecision, FLINT, Arb, MPFR, GMP. Never include from code
// that nvcc compiles.
#pragma once

#include "scalora/reference/budget.hpp"
#include "scalora/reference/certified.hpp"
#include "scalora/reference/compare.hpp"
#include "scalora/reference/eps_distance.hpp"
#include "scalora/reference/exact.hpp"
#include "scalora/reference/judge_step.hpp"
#include "scalora/reference/judgement.hpp"
#include "scalora/reference/mp_types.hpp"
#include "scalora/reference/optimum.hpp"
#include "scalora/reference/step.hpp"
#include "scalora/scalora.hpp"
