// SPDX-License-Identifier: Apache-2.0
// Umbrella header of scalora::scalora: the scalar-generic core and the Eigen
// layer (Theorems 1, 3, 5, the lemmas and the step). Needs Eigen 3.4.
// The high-precision reference is <scalora/reference.hpp>; the Thrust
// kernels are <scalora/gpu.hpp>.
#pragma once

#include "scalora/config.hpp"
#include "scalora/core/branch.hpp"
#include "scalora/core/column_solve.hpp"
#include "scalora/core/moments.hpp"
#include "scalora/core/nnls.hpp"
#include "scalora/core/scalar_scaling.hpp"
#include "scalora/core/scalar_traits.hpp"
#include "scalora/core/schedule.hpp"
#include "scalora/core/small_dense.hpp"
#include "scalora/error.hpp"
#include "scalora/linalg/objective.hpp"
#include "scalora/linalg/optimal_scaling.hpp"
#include "scalora/linalg/random.hpp"
#include "scalora/linalg/resplit.hpp"
#include "scalora/linalg/scaling_system.hpp"
#include "scalora/linalg/step.hpp"
#include "scalora/linalg/svd_optimum.hpp"
#include "scalora/linalg/types.hpp"
#include "scalora/version.hpp"
