// SPDX-License-Identifier: Apache-2.0
// Toy transformer with LoRA in double (float for training): gradients vs finite differences,
// padding mask, LoRA merge identities, optimizers, checkpoints, training smoke test, argument checks.
#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "model_cases.hpp"

using namespace scalora;
using namespace scalora::test;
using model::AdamW;
using model::AdamWOptions;
using model::Param;

namespace {

/// A double gradient check of one head in both modes (LoRA with dense G, and full).
void gradcheck_double(Head head, Index n_classes) {
  const double h = 1e-6, eps = scalar_traits<double>::epsilon();
  // Relative cap: the allowance for the largest tensor (n = 144) over the smallest gradient norm (1e-2).
  const double rel_max = fd_bound(144, h, eps) / 1e-2;
  for (const Mode mode : {Mode::lora, Mode::full}) {
    Transformer<double> m = tiny_model<double>(tiny_config(head, n_classes, mode));
    const auto checks = gradient_checks(m, tiny_batch(), h, false, mode == Mode::lora);
    check_all(checks, h, eps, rel_max, mode == Mode::lora ? "lora + G, entrywise" : "full, entrywise");
  }
}

}  // namespace

TEST_CASE("gradient check, double, classification head: every tensor entrywise, h = 1e-6") {
  gradcheck_double(Head::sequence, 3);
}
TEST_CASE("gradient check, double, regression head: every tensor entrywise, h = 1e-6") {
  gradcheck_double(Head::sequence, 1);
}
TEST_CASE("gradient check, double, masked-LM head: every tensor entrywise, h = 1e-6") {
  gradcheck_double(Head::masked_lm, 0);
}

TEST_CASE("grad_A = lora_scale G B and grad_B = lora_scale G^T A with the dense G, double") {
  check_factor_identities<double>(Head::sequence, 3);
  check_factor_identities<double>(Head::sequence, 1);
  check_factor_identities<double>(Head::masked_lm, 0);
}

TEST_CASE("one linear layer: LoRA gradients and output against the unmerged formulas") {
  // Y = W_pt X + scale A (B^T X) + b computed without W_eff, with elementwise bound
  // |Y_lora - Y_ref| <= 2 (n + r + 3) eps ((|W_pt| + scale |A| |B|^T) |X| + |b|)  (two summation paths).
  const Index m = 7, n = 5, r = 3, N = 9;
  model::Linear<double> l("x", m, n, r, 1.5);
  l.W = gaussian(m, n, 1);
  l.b = gaussian(m, 1, 2);
  l.A = gaussian(m, r, 3);
  l.B = gaussian(n, r, 4);
  l.dense_grad = true;
  l.prepare_gradients();
  const Matrix<double> X = gaussian(n, N, 5), dY = gaussian(m, N, 6);
  Matrix<double> Y, dX;
  l.forward(X, Y);
  const Matrix<double> Yref = (l.W * X + l.scale * (l.A * (l.B.transpose() * X))).colwise() + l.b;
  const double eps = scalar_traits<double>::epsilon();
  const Matrix<double> absW = l.W.cwiseAbs() + l.scale * l.A.cwiseAbs() * l.B.cwiseAbs().transpose();
  const Matrix<double> bound =
      (2.0 * double(n + r + 3) * eps) * ((absW * X.cwiseAbs()).colwise() + l.b.cwiseAbs()).array().matrix();
  CHECK(((Y - Yref).cwiseAbs().array() <= bound.array()).all());

  // Gradients: G = dY X^T; grad_A = lora_scale G B, grad_B = lora_scale G^T A, dX = W_eff^T dY, with
  // |diff| <= 2 (N + n + r) eps scale ||dY|| ||X|| ||B|| (Frobenius, gamma_k bounds of both paths).
  l.backward(X, dY, &dX);
  const Matrix<double> G = dY * X.transpose();
  const double k = 2.0 * double(N + std::max(m, n) + r) * eps;
  CHECK((l.grad_W - G).norm() <= k * dY.norm() * X.norm());
  CHECK((l.grad_A - l.scale * G * l.B).norm() <= k * l.scale * dY.norm() * X.norm() * l.B.norm());
  CHECK((l.grad_B - l.scale * G.transpose() * l.A).norm() <= k * l.scale * dY.norm() * X.norm() * l.A.norm());
  CHECK((dX - l.merged_weight().transpose() * dY).norm() == 0.0);  // the same product
  CHECK((l.grad_b - dY.rowwise().sum()).norm() == 0.0);
}

TEST_CASE("key padding mask: non-padded outputs do not depend on padded tokens") {
  for (const Head head : {Head::sequence, Head::masked_lm}) {
    Transformer<double> m = tiny_model<double>(tiny_config(head, 3, Mode::full));
    Batch a = tiny_batch();
    const double loss_a = m.forward(a);
    const Matrix<double> ha = m.hidden();
    Batch b = a;
    b.tokens(3, 1) = 9;  // sequence 1 has length 3: rows 3, 4 are padding
    b.tokens(4, 1) = 4;
    b.segments(3, 1) = 1;
    const double loss_b = m.forward(b);
    const Matrix<double> hb = m.hidden();
    CHECK(loss_a == loss_b);
    for (Index t : {0, 1, 2, 3, 4, 5, 6, 7}) CHECK_MESSAGE(ha.col(t) == hb.col(t), "column " << t);  // all of seq 0, seq 1 rows 0-2
    CHECK(ha.col(8) != hb.col(8));  // the padded positions themselves change
    // Gradients: padded tokens receive none (token 9 appears only at a padded position;
    // with the tied masked-LM decoder every vocabulary column gets a decoder gradient).
    m.forward_backward(b);
    if (head == Head::sequence)
      for (const Param<double>& p : m.parameters())
        if (p.name == "embed.token") CHECK(p.grad.col(9).norm() == 0.0);
  }
}

TEST_CASE("LoRA with A = 0 is exactly the base model; merged weights reproduce the LoRA model") {
  for (const Head head : {Head::sequence, Head::masked_lm}) {
    // Tensor seeds depend on names only: the full model has the same W as the LoRA model's W_pt.
    Transformer<double> base(tiny_config(head, 3, Mode::full), 11);
    Transformer<double> lora(tiny_config(head, 3, Mode::lora), 11);
    for (model::Linear<double>* l : lora.adapted_linears()) CHECK(l->A.norm() == 0.0);
    CHECK(lora.forward(tiny_batch()) == base.forward(tiny_batch()));
    CHECK(lora.logits() == base.logits());

    // Non-zero A: a plain model holding W_pt + lora_scale A B^T (merged_weight(), the forward's own
    // merge) gives bit-identical outputs.
    lora = tiny_model<double>(tiny_config(head, 3, Mode::lora), 11);
    auto lin = lora.adapted_linears();
    std::vector<model::Linear<double>*> plain;
    for (model::Block<double>& blk : base.blocks())
      for (model::Linear<double>* l : {&blk.q, &blk.k, &blk.v, &blk.o, &blk.up, &blk.down}) plain.push_back(l);
    REQUIRE(lin.size() == plain.size());
    for (std::size_t i = 0; i < lin.size(); ++i) plain[i]->W = lin[i]->merged_weight();
    const double l_lora = lora.forward(tiny_batch()), l_base = base.forward(tiny_batch());
    CHECK(l_lora == l_base);
    CHECK(lora.logits() == base.logits());
    CHECK(l_lora != lora.forward(tiny_batch()) + 1);  // (sanity: the loss is a number)
  }
}

TEST_CASE("parameter and tensor enumeration: stable, unique names; modes train the documented sets") {
  for (const Mode mode : {Mode::lora, Mode::full}) {
    Transformer<double> m(tiny_config(Head::sequence, 3, mode), 1);
    const auto params = m.parameters();
    const auto tensors = m.tensors();
    std::set<std::string> tensor_names, param_names;
    for (const auto& t : tensors) CHECK_MESSAGE(tensor_names.insert(t.name).second, "duplicate " << t.name);
    for (const auto& p : params) {
      CHECK_MESSAGE(param_names.insert(p.name).second, "duplicate " << p.name);
      CHECK_MESSAGE(tensor_names.count(p.name) == 1, p.name << " not among tensors()");
      CHECK(p.value.rows() == p.grad.rows());
      CHECK(p.value.cols() == p.grad.cols());
    }
    // 3 embeddings + 2 x (2 LN x 2 + 6 linears x (weight, bias) [+ lora_A, lora_B]) + final LN 2 + head 2
    CHECK(tensors.size() == std::size_t(3 + 2 * (4 + 6 * (mode == Mode::lora ? 4 : 2)) + 2 + 2));
    if (mode == Mode::lora) {
      CHECK(param_names.count("embed.token") == 0);
      CHECK(param_names.count("layer0.attn.q.weight") == 0);
      CHECK(param_names.count("layer1.mlp.down.lora_A") == 1);
      CHECK(param_names.count("layer1.mlp.down.bias") == 1);
      CHECK(param_names.count("layer0.ln2.weight") == 1);
      CHECK(param_names.count("head.weight") == 1);
      CHECK(params.size() == std::size_t(2 * (4 + 6 * 3) + 2 + 2));
    } else {
      CHECK(params.size() == tensors.size());
    }
    // Names and order do not depend on the instance.
    Transformer<double> other(tiny_config(Head::sequence, 3, mode), 99);
    const auto other_tensors = other.tensors();
    REQUIRE(other_tensors.size() == tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) CHECK(other_tensors[i].name == tensors[i].name);
  }
  // Targets subset: LoRA only on q and v.
  Config c = tiny_config(Head::sequence, 2, Mode::lora);
  c.lora_targets = model::target_q | model::target_v;
  Transformer<double> qv(c, 1);
  const auto adapted = qv.adapted_linears();
  REQUIRE(adapted.size() == 4);
  CHECK(adapted[0]->name == "layer0.attn.q");
  CHECK(adapted[1]->name == "layer0.attn.v");
  CHECK(adapted[3]->name == "layer1.attn.v");
}

TEST_CASE("adapted-layer views alias the model and AdamW state; a scalora_step round trip keeps W") {
  Transformer<double> m = tiny_model<double>(tiny_config(Head::sequence, 3, Mode::lora));
  AdamW<double> opt(m.parameters());
  m.set_dense_gradients(true);
  m.forward_backward(tiny_batch());
  opt.step(m.parameters(), 1e-3);  // non-zero moments
  m.forward_backward(tiny_batch());
  auto layers = model::adapted_layers(m, &opt);
  REQUIRE(layers.size() == 12);
  CHECK(layers[0].name == "layer0.attn.q");
  CHECK(layers[11].name == "layer1.mlp.down");
  CHECK(layers[0].scale == 2.0);
  CHECK(layers[4].W_pt.rows() == 12);  // mlp.up: d_ff x d
  CHECK(layers[4].W_pt.cols() == 8);
  CHECK(layers[4].B.rows() == 8);
  CHECK(layers[4].G.rows() == 12);
  CHECK(layers[0].exp_avg_A.data() == opt.exp_avg("layer0.attn.q.lora_A").data());
  CHECK(layers[0].exp_avg_sq_B.norm() > 0.0);
  CHECK(model::adapted_layers(m)[0].exp_avg_A.size() == 0);  // without optimizer: absent

  // Through a scalora_step on every layer (re-split, rescale, gradients, moments): the merged
  // weight W_pt + lora_scale A B^T is unchanged up to the re-split's rounding.
  const double eps = scalar_traits<double>::epsilon();
  StepOptions<double> options;
  options.bound.L = 1;
  options.bound.lr = 1e-3;
  options.bound.lora_scale = 2.0;
  // Budget (docs/numerics.md, "The re-split invariant"): 2r + 8 eps relative to
  // |W_pt| + lora_scale |A| diag(1 + |alpha beta| + |1 - alpha beta|) |B|^T, plus r + 2 roundings for
  // each of the two merged weights this test forms in double: (4r + 12) eps.
  for (model::AdaptedLayer<double>& a : layers) {
    const Index r = a.A.cols();
    const Matrix<double> before = a.W_pt + a.scale * a.A * a.B.transpose();
    const Matrix<double> absW = a.W_pt.cwiseAbs(), absA = a.A.cwiseAbs(), absB = a.B.cwiseAbs();
    Layer<double> l = model::to_layer(a);
    const auto result = scalora_step(l, options);
    model::assign(a, l);
    const Vector<double> ab = result.scaling.alpha.cwiseProduct(result.scaling.beta);
    const Vector<double> weight = Vector<double>::Ones(r) + ab.cwiseAbs() + (Vector<double>::Ones(r) - ab).cwiseAbs();
    const Matrix<double> scale = absW + a.scale * absA * weight.asDiagonal() * absB.transpose();
    const Matrix<double> after = a.W_pt + a.scale * a.A * a.B.transpose();
    const double worst = ((after - before).cwiseAbs().array() / scale.array()).maxCoeff() / eps;
    CHECK_MESSAGE(worst <= double(4 * r + 12), a.name << ": " << worst << " eps");
  }
  // The views wrote into the model: the layer's A is the rescaled one.
  CHECK(m.adapted_linears()[0]->A.data() == layers[0].A.data());
}

TEST_CASE("AdamW matches hand-computed updates on a 2-element parameter for 3 steps") {
  // lr 0.1, beta (0.9, 0.999), eps 1e-8, weight decay 0.01; gradients given per step.
  // Step 1 by hand: m = g/10, v = g^2/1000, m^ = g, v^ = g^2:
  //   p1 = p0 (1 - 0.001) - 0.1 g / (|g| + 1e-8): 1 -> 0.999 - 0.1 (1 - 2e-8) = 0.899000002.
  // Steps 2, 3: the same formulas evaluated in 50-digit decimal arithmetic.
  Matrix<double> value(2, 1), grad(2, 1);
  value << 1.0, -2.0;
  std::vector<Param<double>> params{{"p", model::view(value), model::view(grad), true, false}};
  AdamWOptions o;
  o.beta1 = 0.9;
  o.beta2 = 0.999;
  o.eps = 1e-8;
  o.weight_decay = 0.01;
  AdamW<double> opt(params, o);
  const double g[3][2] = {{0.5, -1.0}, {0.25, 2.0}, {-0.125, 0.5}};
  const double expected[3][2] = {{0.89900000199999996000000079999998400000031999999360, -1.8980000009999999900000000999999990000000099999999},
                                 {0.80488304047546166899781540922875334624565441173026, -1.9327123534710750882155071488271492993200226838668},
                                 {0.74771202148563519808936220641153931778551044911709, -1.9723447607923029717147557605090790388065488954429}};
  for (int t = 0; t < 3; ++t) {
    grad << g[t][0], g[t][1];
    opt.step(params, 0.1);
    // ~10 roundings per step, errors of earlier steps carried: 32 eps relative.
    for (int i = 0; i < 2; ++i) SCALORA_CHECK_EPS(value(i), expected[t][i], 32);
  }
  CHECK(opt.step_count() == 3);
  // No decay on a decay = false tensor: p1 = 1 - 0.1 (1 - 2e-8).
  Matrix<double> v2(1, 1), g2(1, 1);
  v2 << 1.0;
  g2 << 0.5;
  std::vector<Param<double>> nodecay{{"b", model::view(v2), model::view(g2), false, true}};
  AdamW<double> opt2(nodecay, o);
  opt2.step(nodecay, 0.1);
  SCALORA_CHECK_EPS(v2(0), 0.900000002, 8);
}

TEST_CASE("SGD with momentum and weight decay matches hand-computed updates for 3 steps") {
  // lr 0.1, momentum 0.9, weight decay 0.1 (coupled): g' = g + 0.1 p, buf = g' then 0.9 buf + g'.
  //   step 1: g' = (0.6, -1.2), p = (0.94, -1.88)
  //   step 2: g' = (0.344, 1.812), buf = (0.884, 0.732), p = (0.8516, -1.9532)
  //   step 3: g' = (-0.03984, 0.30468), buf = (0.75576, 0.96348), p = (0.776024, -2.049548)
  Matrix<double> value(2, 1), grad(2, 1);
  value << 1.0, -2.0;
  std::vector<Param<double>> params{{"p", model::view(value), model::view(grad), true, false}};
  model::SGDOptions o;
  o.momentum = 0.9;
  o.weight_decay = 0.1;
  model::SGD<double> opt(params, o);
  const double g[3][2] = {{0.5, -1.0}, {0.25, 2.0}, {-0.125, 0.5}};
  const double expected[3][2] = {{0.94, -1.88}, {0.8516, -1.9532}, {0.776024, -2.049548}};
  for (int t = 0; t < 3; ++t) {
    grad << g[t][0], g[t][1];
    opt.step(params, 0.1);
    for (int i = 0; i < 2; ++i) SCALORA_CHECK_EPS(value(i), expected[t][i], 16);
  }
  // Plain SGD: p - lr g.
  Matrix<double> v2(1, 1), g2(1, 1);
  v2 << 1.0;
  g2 << 0.5;
  std::vector<Param<double>> plain{{"p", model::view(v2), model::view(g2), true, false}};
  model::SGD<double> sgd(plain);
  sgd.step(plain, 0.1);
  CHECK(v2(0) == 0.95);
  CHECK(sgd.tensors().empty());  // no momentum buffers to save
}

TEST_CASE("learning-rate schedule and gradient clipping") {
  model::Schedule s{1e-3, 10, 110, model::Decay::linear};
  CHECK(s.lr_at(0) == 0.0);
  SCALORA_CHECK_EPS(s.lr_at(5), 5e-4, 2);
  CHECK(s.lr_at(10) == 1e-3);
  SCALORA_CHECK_EPS(s.lr_at(60), 5e-4, 2);
  CHECK(s.lr_at(110) == 0.0);
  CHECK(s.lr_at(500) == 0.0);
  s.decay = model::Decay::cosine;
  SCALORA_CHECK_EPS(s.lr_at(60), 5e-4, 4);  // cos(pi/2) = 0
  SCALORA_CHECK_EPS(s.lr_at(35), 1e-3 * 0.5 * (1 + std::cos(3.14159265358979323846 / 4)), 4);
  s.decay = model::Decay::constant;
  CHECK(s.lr_at(100) == 1e-3);

  Matrix<double> a(2, 1), ga(2, 1), b(1, 1), gb(1, 1);
  ga << 3.0, 0.0;
  gb << 4.0;
  std::vector<Param<double>> params{{"a", model::view(a), model::view(ga), true, false},
                                    {"b", model::view(b), model::view(gb), false, true}};
  CHECK(model::global_grad_norm(params) == 5.0);
  CHECK(model::clip_grad_norm(params, 10.0) == 5.0);  // below max: untouched
  CHECK(gb(0) == 4.0);
  CHECK(model::clip_grad_norm(params, 1.0) == 5.0);
  SCALORA_CHECK_EPS(ga(0), 3.0 / (5.0 + 1e-6), 4);
  SCALORA_CHECK_EPS(gb(0), 4.0 / (5.0 + 1e-6), 4);
  CHECK_THROWS_AS(model::clip_grad_norm(params, 0.0), invalid_argument);
}

namespace {
/// A float classification task: label 1 iff token 5 appears among the 6 content tokens.
Batch presence_batch(std::mt19937_64& gen, Index B) {
  const Index L = 8;
  Batch b;
  b.tokens.resize(L, B);
  b.lengths.resize(std::size_t(B));
  b.labels.resize(std::size_t(B));
  for (Index j = 0; j < B; ++j) {
    const Index len = 6 + Index(gen() % 3);
    b.lengths[std::size_t(j)] = len;
    b.tokens.col(j).setZero();
    b.tokens(0, j) = 2;
    bool has = false;
    const bool want = gen() % 2 == 0;
    for (Index i = 1; i < len - 1; ++i) {
      b.tokens(i, j) = std::int32_t(6 + gen() % 10);
      if (want && gen() % 3 == 0) b.tokens(i, j) = 5, has = true;
    }
    b.tokens(len - 1, j) = 3;
    b.labels[std::size_t(j)] = has ? 1 : 0;
  }
  return b;
}

Config smoke_config(Mode mode) {
  Config c;
  c.vocab_size = 16;
  c.max_len = 8;
  c.d_model = 16;
  c.n_heads = 2;
  c.d_ff = 32;
  c.n_layers = 2;
  c.n_classes = 2;
  c.init_std = 0.2;
  c.mode = mode;
  c.lora_rank = 4;
  c.lora_alpha = 8;
  return c;
}

/// Trains on a fixed set of 8 batches of 16; returns the mean loss of the first and last epoch.
std::pair<double, double> train_presence(Mode mode, int epochs, double peak_lr) {
  std::mt19937_64 gen(5);
  std::vector<Batch> data;
  for (int i = 0; i < 8; ++i) data.push_back(presence_batch(gen, 16));
  Transformer<float> m(smoke_config(mode), 3);
  AdamW<float> opt(m.parameters());
  const model::Schedule sched{peak_lr, 20, std::int64_t(epochs) * 8, model::Decay::linear};
  double first = 0, last = 0;
  for (int e = 0; e < epochs; ++e) {
    double sum = 0;
    for (const Batch& b : data) {
      sum += double(m.forward_backward(b));
      model::clip_grad_norm(m.parameters(), 1.0);
      opt.step(m.parameters(), sched.lr_at(opt.step_count()));
    }
    if (e == 0) first = sum / 8;
    last = sum / 8;
  }
  return {first, last};
}
}  // namespace

TEST_CASE("training smoke test (float): 400 AdamW steps drive the loss down") {
  // Initial loss ~ ln 2 = 0.69; a fitted model reaches well below 0.1 on this separable task.
  const auto [first_lora, last_lora] = train_presence(Mode::lora, 50, 1e-2);
  MESSAGE("LoRA r = 4: first epoch " << first_lora << ", last epoch " << last_lora);
  CHECK(first_lora > 0.5);
  CHECK(last_lora < 0.1);
  const auto [first_full, last_full] = train_presence(Mode::full, 50, 3e-3);
  MESSAGE("full: first epoch " << first_full << ", last epoch " << last_full);
  CHECK(first_full > 0.5);
  CHECK(last_full < 0.1);
}

TEST_CASE("checkpoint: save -> load -> continue is bit-identical to an uninterrupted run (float)") {
  const Config c = smoke_config(Mode::lora);
  std::mt19937_64 gen(8);
  std::vector<Batch> data;
  for (int i = 0; i < 6; ++i) data.push_back(presence_batch(gen, 8));
  auto train = [&](Transformer<float>& m, AdamW<float>& opt, int from, int to, std::vector<float>& losses) {
    for (int i = from; i < to; ++i) {
      losses.push_back(m.forward_backward(data[std::size_t(i)]));
      opt.step(m.parameters(), 1e-2);
    }
  };
  std::vector<float> straight, resumed;
  {
    Transformer<float> m(c, 4);
    AdamW<float> opt(m.parameters());
    train(m, opt, 0, 6, straight);
  }
  model::StateDict<float> saved;
  {
    Transformer<float> m(c, 4);
    AdamW<float> opt(m.parameters());
    train(m, opt, 0, 3, resumed);
    saved = model::save_state<float>(m, opt);
  }
  CHECK(saved.counters.at("adamw.step") == 3);
  CHECK(saved.tensors.count("adamw.exp_avg.layer0.attn.q.lora_A") == 1);
  CHECK(saved.tensors.count("layer0.attn.q.weight") == 1);  // frozen W_pt is state too
  Transformer<float> m(c, 12345);  // different initial values: every tensor must be overwritten
  AdamW<float> opt(m.parameters());
  CHECK(model::load_from(saved, m).empty());
  CHECK(model::load_from(saved, opt).empty());
  CHECK(opt.step_count() == 3);
  train(m, opt, 3, 6, resumed);
  REQUIRE(resumed.size() == straight.size());
  for (std::size_t i = 0; i < straight.size(); ++i) CHECK_MESSAGE(resumed[i] == straight[i], "step " << i);

  // Transfer: a pre-trained full model's checkpoint loads into a LoRA model non-strictly;
  // the LoRA factors stay at their initialisation and are reported missing.
  Transformer<float> pre(smoke_config(Mode::full), 1);
  const model::StateDict<float> pre_state = model::save_state<float>(pre);
  Transformer<float> lora(smoke_config(Mode::lora), 2);
  const auto missing = model::load_from(pre_state, lora, false);
  CHECK(missing.size() == 24);  // 12 adapted layers x (lora_A, lora_B)
  CHECK(lora.blocks()[0].q.W == pre.blocks()[0].q.W);
  CHECK_THROWS_AS(model::load_from(pre_state, lora, true), invalid_argument);
  model::StateDict<float> bad = pre_state;
  bad.tensors["layer0.attn.q.weight"] = Matrix<float>::Zero(3, 3);
  try {
    model::load_from(bad, pre);
    FAIL("no exception");
  } catch (const invalid_argument& e) {
    CHECK(e.problem() == argument_problem::shape_mismatch);
    CHECK(std::string(e.what()).find("layer0.attn.q.weight") != std::string::npos);
  }
}

TEST_CASE("invalid arguments throw scalora::invalid_argument naming the argument") {
  auto expect = [](auto&& fn, const std::string& name) {
    bool thrown = false;
    try {
      fn();
    } catch (const invalid_argument& e) {
      thrown = true;
      CHECK_MESSAGE(e.argument() == name, "argument " << e.argument() << ", expected " << name);
    }
    CHECK_MESSAGE(thrown, "no exception for " << name);
  };
  Config c = tiny_config(Head::sequence, 3, Mode::lora);
  Transformer<double> m(c, 1);
  CHECK_THROWS_AS(m.backward(), scalora::error);  // no forward yet
  auto forward_with = [&](auto edit) {
    return [&, edit] {
      Batch b = tiny_batch();
      edit(b);
      m.forward(b);
    };
  };
  expect(forward_with([](Batch& b) { b.tokens(2, 0) = 11; }), "tokens");
  expect(forward_with([](Batch& b) { b.tokens(2, 0) = -1; }), "tokens");
  expect(forward_with([](Batch& b) { b.tokens = IdMatrix::Constant(6, 2, 2); }), "tokens");  // L > max_len
  expect(forward_with([](Batch& b) { b.segments(1, 1) = 2; }), "segments");
  expect(forward_with([](Batch& b) { b.segments = IdMatrix::Zero(4, 2); }), "segments");
  expect(forward_with([](Batch& b) { b.lengths = {5}; }), "lengths");
  expect(forward_with([](Batch& b) { b.lengths = {0, 3}; }), "lengths");
  expect(forward_with([](Batch& b) { b.lengths = {6, 3}; }), "lengths");
  expect(forward_with([](Batch& b) { b.labels = {1, 3}; }), "labels");
  expect(forward_with([](Batch& b) { b.labels.clear(); }), "labels");

  Transformer<double> mlm(tiny_config(Head::masked_lm, 0, Mode::lora), 1);
  Batch b = tiny_batch();
  b.mlm_labels(4, 1) = 3;  // padded position
  expect([&] { mlm.forward(b); }, "mlm_labels");
  b = tiny_batch();
  b.mlm_labels(0, 0) = 11;
  expect([&] { mlm.forward(b); }, "mlm_labels");

  Transformer<double> reg(tiny_config(Head::sequence, 1, Mode::lora), 1);
  b = tiny_batch();
  b.targets = {1.0};
  expect([&] { reg.forward(b); }, "targets");

  auto with_config = [](auto edit, const std::string& name) {
    Config c2 = tiny_config(Head::sequence, 3, Mode::lora);
    edit(c2);
    bool thrown = false;
    try {
      Transformer<double> bad(c2, 1);
    } catch (const invalid_argument& e) {
      thrown = true;
      CHECK(e.argument() == name);
    }
    CHECK_MESSAGE(thrown, name);
  };
  with_config([](Config& x) { x.n_heads = 3; }, "n_heads");
  with_config([](Config& x) { x.d_model = 0; }, "d_model");
  with_config([](Config& x) { x.vocab_size = 0; }, "vocab_size");
  with_config([](Config& x) { x.lora_rank = 0; }, "lora_rank");
  with_config([](Config& x) { x.lora_alpha = -1; }, "lora_alpha");
  with_config([](Config& x) { x.n_classes = 0; }, "n_classes");
  with_config([](Config& x) { x.lora_targets = 64; }, "lora_targets");

  // Padding helper: right padding only.
  IdMatrix padded(4, 3);
  padded << 2, 2, 2, 7, 7, 0, 3, 0, 0, 0, 0, 0;
  CHECK(model::lengths_from_padding(padded) == std::vector<Index>{3, 2, 1});
  padded(3, 1) = 5;  // id after a pad
  expect([&] { model::lengths_from_padding(padded); }, "tokens");
  padded(0, 2) = 0;  // empty sequence
  expect([&] { model::lengths_from_padding(padded); }, "tokens");

  // An optimizer built for one parameter list refuses another.
  Transformer<double> full(tiny_config(Head::sequence, 3, Mode::full), 1);
  AdamW<double> opt(m.parameters());
  expect([&] { opt.step(full.parameters(), 1e-3); }, "params");
}
