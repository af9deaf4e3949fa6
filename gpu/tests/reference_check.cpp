// SPDX-License-Identifier: Apache-2.0
// The gpu tests' reference judgement, compiled by the host compiler only:
// Eigen copies of the host layers handed to reference::judge_step.
#include "reference_check.hpp"

#include "scalora/reference.hpp"

namespace scalora::gpu_test {
namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class S>
Matrix<S> to_eigen(const HostMatrix& h) {
  if (!h.present()) return {};
  return Eigen::Map<const RowMajor>(h.v.data(), h.rows, h.cols).cast<S>();
}

template <class S>
Layer<S> to_layer(const HostLayer& h) {
  Layer<S> l;
  l.W_pt = to_eigen<S>(h.W);
  l.A = to_eigen<S>(h.A);
  l.B = to_eigen<S>(h.B);
  l.grad_A = to_eigen<S>(h.grad_A);
  l.grad_B = to_eigen<S>(h.grad_B);
  l.moments.exp_avg_A = to_eigen<S>(h.exp_avg_A);
  l.moments.exp_avg_sq_A = to_eigen<S>(h.exp_avg_sq_A);
  l.moments.exp_avg_B = to_eigen<S>(h.exp_avg_B);
  l.moments.exp_avg_sq_B = to_eigen<S>(h.exp_avg_sq_B);
  return l;
}

template <class S>
reference::Comparison judge(const HostLayer& before, const HostLayer& after, const StepOutcome<double>& outcome,
                            const std::vector<double>& scalings, const BoundParameters<double>& bound,
                            bool scalar_only) {
  const Index r = Index(scalings.size() / 2);
  const Vector<double> alpha = Eigen::Map<const Vector<double>>(scalings.data(), r);
  const Vector<double> beta = Eigen::Map<const Vector<double>>(scalings.data() + r, r);
  reference::CompareOptions o;
  o.mode = scalar_only ? scaling_mode::scalar_only : scaling_mode::hybrid;
  o.eps_compute = 0x1p-52;  // the kernels compute M, lambda and the scalings in double
  o.merge_in_float = true;  // W is float in every weight format (gpu/layer.hpp)
  return reference::judge_step(to_layer<S>(before), to_layer<S>(after), outcome, alpha, beta, bound, o);
}

}  // namespace

CheckReport check_layer(const std::string& name, const HostLayer& before, const HostLayer& after,
                        const StepOutcome<double>& outcome, const std::vector<double>& scalings,
                        const BoundParameters<double>& bound, bool scalar_only) {
  reference::Comparison cmp = before.single ? judge<float>(before, after, outcome, scalings, bound, scalar_only)
                                            : judge<double>(before, after, outcome, scalings, bound, scalar_only);
  if (after.W_bf16.present()) cmp.checks.push_back(reference::bf16_copy_check(to_eigen<double>(after.W), to_eigen<double>(after.W_bf16)));
  CheckReport rep;
  // The kernels' step must never fail its judge; inconclusive is allowed (the
  // precision cannot tell) and reported.
  rep.passed = cmp.status() != reference::verdict_status::fail;
  rep.inconclusive = cmp.status() == reference::verdict_status::inconclusive;
  rep.text = reference::describe(cmp, name);
  return rep;
}

}  // namespace scalora::gpu_test
