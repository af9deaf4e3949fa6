// SPDX-License-Identifier: Apache-2.0
// Limits shared by the kernels and their callers. Host and device.
#pragma once

namespace scalora {

/// The largest rank r the production kernels accept: each work item holds a
/// row of S_A or S_B (2r doubles) in registers or on the stack
/// (gpu/kernels.hpp gpu::kMaxRank; train::validate(FinetuneSettings);
/// scalora-train --rank).
inline constexpr int kMaxKernelRank = 64;

}  // namespace scalora
