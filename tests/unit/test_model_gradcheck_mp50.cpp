// SPDX-License-Identifier: Apache-2.0
// Toy transformer gradients in cpp_bin_float_50 against central finite differences (h = 1e-12):
// every tensor of every head and mode, the dense G, and the factor identities grad_A = lora_scale G B, grad_B = lora_scale G^T A.
#include "scalora/reference/mp_types.hpp"
#include "model_cases.hpp"

using namespace scalora;
using namespace scalora::test;
using mp50 = scalora::reference::mp50;
TYPE_TO_STRING(mp50);

namespace {

// Expected error (docs/model.md, "Tests and tolerances"): a central difference along a unit
// direction D errs by (h^2/6) |D^3 l| + O(eps |l| / h) = ~1e-25 + ~1e-38 at h = 1e-12,
// eps = 5.3e-51. The required relative error 1e-20 leaves 1e4 h^2 for |D^3 l| / ||g||;
// check_all() also asserts the allowance K sqrt(n) (h^2 + eps/h) of test_model.cpp.
const mp50 h("1e-12");
constexpr double kRelMax = 1e-20;

void check_all(const std::vector<TensorCheck>& checks, const std::string& what) {
  scalora::test::check_all(checks, double(h), double(scalar_traits<mp50>::epsilon()), kRelMax, what);
}

/// Directional check of every tensor of both modes: LoRA (with G against W_pt) and full.
void gradcheck_head(Head head, Index n_classes) {
  {
    Transformer<mp50> m = tiny_model<mp50>(tiny_config(head, n_classes, Mode::lora));
    check_all(gradient_checks(m, tiny_batch(), h, true, true), "lora + G, directional");
  }
  {
    Transformer<mp50> m = tiny_model<mp50>(tiny_config(head, n_classes, Mode::full));
    check_all(gradient_checks(m, tiny_batch(), h, true, false), "full, directional");
  }
}

/// Entrywise check of every entry of every A and B (the gradients ScaLoRA consumes); 4.4 ms
/// per mp50 forward makes this ~3.7 s per head, so it runs for the classification head only
/// (the heads share the factor code path; every head's factors pass the directional check).
void entrywise_factors(Head head, Index n_classes) {
  Transformer<mp50> m = tiny_model<mp50>(tiny_config(head, n_classes, Mode::lora));
  m.forward_backward(tiny_batch());
  std::vector<TensorCheck> checks;
  for (model::Linear<mp50>* l : m.adapted_linears()) {
    const Matrix<mp50> gA = l->grad_A, gB = l->grad_B;
    checks.push_back(entrywise_check(m, tiny_batch(), l->name + ".lora_A", model::view(l->A), gA, h));
    checks.push_back(entrywise_check(m, tiny_batch(), l->name + ".lora_B", model::view(l->B), gB, h));
  }
  check_all(checks, "lora factors, entrywise");
}

}  // namespace

TEST_CASE("gradient check, mp50, classification head: every tensor, both modes") { gradcheck_head(Head::sequence, 3); }
TEST_CASE("gradient check, mp50, regression head: every tensor, both modes") { gradcheck_head(Head::sequence, 1); }
TEST_CASE("gradient check, mp50, masked-LM head: every tensor, both modes") { gradcheck_head(Head::masked_lm, 0); }

TEST_CASE("gradient check, mp50, classification head: every entry of every LoRA factor") {
  entrywise_factors(Head::sequence, 3);
}

TEST_CASE("grad_A = lora_scale G B and grad_B = lora_scale G^T A with the dense G, mp50") {
  check_factor_identities<mp50>(Head::sequence, 3);
  check_factor_identities<mp50>(Head::sequence, 1);
  check_factor_identities<mp50>(Head::masked_lm, 0);
}
