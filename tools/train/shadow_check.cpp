// SPDX-License-Identifier: Apache-2.0
#include "shadow_check.hpp"

#include "scalora/reference/judge_step.hpp"

namespace scalora::train {

ShadowReport shadow_check(const std::string& layer, const Layer<float>& before, const Layer<float>& after,
                          const StepOutcome<double>& outcome, const std::vector<double>& scalings,
                          const BoundParameters<double>& bound) {
  const Index r = Index(scalings.size() / 2);
  const Vector<double> alpha = Eigen::Map<const Vector<double>>(scalings.data(), r);
  const Vector<double> beta = Eigen::Map<const Vector<double>>(scalings.data() + r, r);
  reference::CompareOptions o;
  o.eps_compute = 0x1p-52;  // the kernels compute M, lambda and the scalings in double
  o.merge_in_float = true;
  const reference::Comparison cmp = reference::judge_step(before, after, outcome, alpha, beta, bound, o);
  return {cmp.status() == reference::verdict_status::fail, reference::describe(cmp, layer)};
}

}  // namespace scalora::train
