// SPDX-License-Identifier: Apache-2.0
// The gpu tests' reference judgement, compiled by the host compiler only.
#include "reference_check.hpp"

#include <sstream>

#include "scalora/core/bfloat16.hpp"
#include "scalora/reference.hpp"

namespace scalora::gpu_test {
namespace {

template <class S>
Matrix<S> to_eigen(const HostMatrix& h) {
  Matrix<S> m(h.rows, h.cols);
  for (int i = 0; i < h.rows; ++i)
    for (int j = 0; j < h.cols; ++j) m(i, j) = S(h(i, j));
  return m;
}

template <class S>
Layer<S> to_layer(const HostLayer& h) {
  Layer<S> l;
  l.A = to_eigen<S>(h.A);
  l.B = to_eigen<S>(h.B);
  l.grad_A = to_eigen<S>(h.grad_A);
  l.grad_B = to_eigen<S>(h.grad_B);
  if (h.exp_avg_A.present()) {
    l.moments.exp_avg_A = to_eigen<S>(h.exp_avg_A);
    l.moments.exp_avg_sq_A = to_eigen<S>(h.exp_avg_sq_A);
    l.moments.exp_avg_B = to_eigen<S>(h.exp_avg_B);
    l.moments.exp_avg_sq_B = to_eigen<S>(h.exp_avg_sq_B);
  }
  return l;
}

template <class S>
CheckReport check(const std::string& name, const HostLayer& before, const HostLayer& after,
                  const HostOutcome& outcome, double L, double lr, bool scalar_only) {
  CheckReport rep;
  std::ostringstream os;
  os.precision(6);
  if (outcome.nonfinite) {
    rep.passed = false;
    os << "FAIL " << name << ": kernel reported non-finite input on a finite layer\n";
    rep.text = os.str();
    return rep;
  }
  Layer<S> in = to_layer<S>(before), out = to_layer<S>(after);
  BoundParameters<double> bp{L, lr, before.lora_scale};
  const Index r = Index(outcome.alpha.size());
  const Vector<double> alpha = Eigen::Map<const Vector<double>>(outcome.alpha.data(), r);
  const Vector<double> beta = Eigen::Map<const Vector<double>>(outcome.beta.data(), r);
  reference::CompareOptions co;
  co.mode = scalar_only ? scaling_mode::scalar_only : scaling_mode::hybrid;
  co.eps_compute = 0x1p-52;  // the kernels compute M, lambda and the scalings in double
  reference::Comparison cmp = reference::compare_step(in, out, alpha, beta, bp, co);
  // The re-split check needs W in the layer; it is float (f32 or the master).
  if (before.W.present()) {
    Layer<float> fin = to_layer<float>(before), fout = to_layer<float>(after);
    fin.W_pt = to_eigen<float>(before.W);
    fout.W_pt = to_eigen<float>(after.W);
    if (!before.single) {  // factors were double, the merge ran in float: judge W with the factors as applied
      fin.A = to_eigen<double>(before.A).template cast<float>();
      fin.B = to_eigen<double>(before.B).template cast<float>();
      fout.A = to_eigen<double>(after.A).template cast<float>();
      fout.B = to_eigen<double>(after.B).template cast<float>();
    }
    const Vector<double> af = alpha.template cast<float>().template cast<double>();
    const Vector<double> bf = beta.template cast<float>().template cast<double>();
    cmp.checks.push_back(reference::w_unchanged_check(
        fin.W_pt.template cast<double>(), fout.W_pt.template cast<double>(), fin.A.template cast<double>(),
        fin.B.template cast<double>(), fout.A.template cast<double>(), fout.B.template cast<double>(), af, bf,
        before.lora_scale, double(std::numeric_limits<float>::epsilon()), "eps_F32"));
  }
  if (before.W_bf16.present()) {
    double bad = 0;
    for (std::size_t k = 0; k < after.W.v.size(); ++k)
      if (double(bf16_to_float(float_to_bf16(float(after.W.v[k])))) != after.W_bf16.v[k]) ++bad;
    cmp.checks.push_back({"W_bf16", "W_bf16 = round(W master) (entries off)",
                          bad == 0 ? reference::check_status::pass : reference::check_status::fail, bad, 0, "entries",
                          ""});
  }
  for (const reference::Check& c : cmp.checks) {
    if (!c.decides()) continue;
    os << (c.status == reference::check_status::pass ? "pass " : c.status == reference::check_status::fail ? "FAIL " : "INCONCLUSIVE ")
       << name << ": " << c.id << " " << c.name << " = " << c.value << " (tolerance " << c.tolerance << " " << c.unit
       << ") " << c.detail << "\n";
  }
  // The kernels' step must never fail its judge; inconclusive is allowed (the
  // precision cannot tell), and reported.
  rep.passed = cmp.status() != reference::verdict_status::fail;
  rep.inconclusive = cmp.status() == reference::verdict_status::inconclusive;
  rep.text = os.str();
  return rep;
}

}  // namespace

CheckReport check_layer(const std::string& name, const HostLayer& before, const HostLayer& after,
                        const HostOutcome& outcome, double L, double lr, bool scalar_only) {
  return before.single ? check<float>(name, before, after, outcome, L, lr, scalar_only)
                       : check<double>(name, before, after, outcome, L, lr, scalar_only);
}

}  // namespace scalora::gpu_test
