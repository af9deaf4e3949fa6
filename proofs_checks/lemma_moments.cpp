// SPDX-License-Identifier: Apache-2.0
// The moment lemmas (spec section 6): "At the same W, grad_{A~} = G B~ =
// grad_A diag(beta) and grad_{B~} = G^T A~ = grad_B diag(alpha). AdamW moments
// therefore move as m_A diag(beta), v_A diag(beta o beta), m_B diag(alpha),
// v_B diag(alpha o alpha) ... These are exactly the moments AdamW would hold
// had every past gradient been taken in the rescaled parametrisation."
// Checked in cpp_bin_float_50: the gradient identity with an explicit G, and
// transferred moments against AdamW replayed over the rescaled gradient
// history, for column and scalar scalings. Code: core/moments.hpp,
// linalg/resplit.hpp (transfer_moments).
#include "check.hpp"

using namespace scalora;
using namespace scalora::proofs;

namespace {

/// AdamW's moment recursions over a gradient history (bias correction is a
/// function of the step counter only, which the transfer leaves unchanged).
void replay(const std::vector<Mat>& grads, const mp50& b1, const mp50& b2, Mat& m, Mat& v) {
  m.setZero(grads[0].rows(), grads[0].cols());
  v.setZero(grads[0].rows(), grads[0].cols());
  for (const Mat& g : grads) {
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g.cwiseAbs2();
  }
}

mp50 worst_rel(const Mat& a, const Mat& b) {
  const mp50 s = b.cwiseAbs().maxCoeff() + mp50(1e-300);
  return (a - b).cwiseAbs().maxCoeff() / s;
}

void check_case(Report& rep, const std::string& name, Index m, Index n, Index r, bool scalar, std::uint64_t seed) {
  rep.section(name);
  const Mat A = random_mat(m, r, seed), B = random_mat(n, r, seed + 1, 0.3);
  Vec alpha(r), beta(r);
  for (Index j = 0; j < r; ++j) {
    alpha(j) = mp50(0.5) + mp50(j) / 3 + (scalar ? mp50(0) : mp50(0.1) * mp50(int(seed % 5)));
    beta(j) = mp50(1.7) - mp50(j) / 5;
  }
  if (scalar) {
    alpha.setConstant(alpha(0));
    beta.setConstant(beta(0));
  }
  // Gradient identity at the same W: G B~ = grad_A diag(beta), G^T A~ = grad_B diag(alpha).
  const Mat G = random_mat(m, n, seed + 2);
  const Mat At = A * alpha.asDiagonal(), Bt = B * beta.asDiagonal();
  const double gi = double(std::max(worst_rel(G * Bt, Mat(G * B * beta.asDiagonal())),
                                    worst_rel(G.transpose() * At, Mat(G.transpose() * A * alpha.asDiagonal()))));
  rep.check("grad_{A~} = grad_A diag(beta), grad_{B~} = grad_B diag(alpha)", 1e-45 - gi,
            "relative error " + Report::num(gi));

  // A history of 12 gradients of different G's at the same factors.
  std::vector<Mat> gA, gB, gA_new, gB_new;
  for (int t = 0; t < 12; ++t) {
    const Mat Gt = random_mat(m, n, seed + 100 + std::uint64_t(t));
    gA.push_back(Gt * B);
    gB.push_back(Gt.transpose() * A);
    gA_new.push_back(Gt * Bt);            // taken in the rescaled parametrisation
    gB_new.push_back(Gt.transpose() * At);
  }
  const mp50 b1 = mp50(9) / 10, b2 = mp50(999) / 1000;
  AdamMoments<mp50> mom;
  replay(gA, b1, b2, mom.exp_avg_A, mom.exp_avg_sq_A);
  replay(gB, b1, b2, mom.exp_avg_B, mom.exp_avg_sq_B);
  transfer_moments(mom, alpha, beta);
  Mat mA, vA, mB, vB;
  replay(gA_new, b1, b2, mA, vA);
  replay(gB_new, b1, b2, mB, vB);
  const double em = double(std::max(worst_rel(mom.exp_avg_A, mA), worst_rel(mom.exp_avg_B, mB)));
  const double ev = double(std::max(worst_rel(mom.exp_avg_sq_A, vA), worst_rel(mom.exp_avg_sq_B, vB)));
  rep.check("transferred first moments = AdamW replayed on the rescaled history", 1e-45 - em,
            "relative error " + Report::num(em));
  rep.check("transferred second moments = AdamW replayed on the rescaled history", 1e-45 - ev,
            "relative error " + Report::num(ev));
  // The planted mistake: pairing A's moments with alpha does not match the replay.
  AdamMoments<mp50> wrong;
  replay(gA, b1, b2, wrong.exp_avg_A, wrong.exp_avg_sq_A);
  replay(gB, b1, b2, wrong.exp_avg_B, wrong.exp_avg_sq_B);
  transfer_moments(wrong, beta, alpha);  // swapped
  const double es = double(worst_rel(wrong.exp_avg_A, mA));
  rep.check("the swapped pairing (A's moments by alpha) does not match", es - 1e-3,
            "relative error " + Report::num(es));
}

}  // namespace

int main() {
  return run("Moment lemmas: AdamW moments transferred with the crossed pairing equal AdamW replayed over the "
             "rescaled gradient history",
             [](Report& rep) {
               check_case(rep, "column scaling, 7 x 5, r = 3", 7, 5, 3, false, 1);
               check_case(rep, "column scaling, 4 x 9, r = 2", 4, 9, 2, false, 2);
               check_case(rep, "scalar scaling, 6 x 6, r = 2", 6, 6, 2, true, 3);
             });
}
