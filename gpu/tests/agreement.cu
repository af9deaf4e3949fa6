// SPDX-License-Identifier: Apache-2.0
// The batched Thrust kernels against the reference (exact decisions,
// cpp_bin_float_50) on random and degenerate layers covering every branch of
// the spec, with the budgets of docs/numerics.md. One source for the CUDA,
// CPP and OMP backends. A failure prints the layer, the check, the worst
// entry with its reference value, and the error in epsilons.
#include <doctest/doctest.h>

#include <memory>

#include "device_layer.hpp"

using namespace scalora;
using namespace scalora::gpu_test;
using gpu::BatchStep;
using gpu::StepConfig;

namespace {

/// Host layers uploaded to the device, with their descriptions. Row-major,
/// or with col_major_mix: odd layers' A column-major, every fourth (l % 4 == 1)
/// B column-major too.
template <class T>
struct Uploaded {
  std::vector<std::unique_ptr<DeviceLayer<T>>> dev;
  std::vector<gpu::Layer<T>> descs;
  explicit Uploaded(const std::vector<HostLayer>& layers, bool col_major_mix = false) {
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const bool cm = col_major_mix && (l % 2 == 1);
      dev.push_back(std::make_unique<DeviceLayer<T>>(layers[l], cm, cm && (l % 4 == 1)));
      descs.push_back(dev.back()->desc());
    }
  }
};

/// Runs steps 2-8 on a batch of host layers and judges every layer.
/// Returns the outcomes for further checks.
template <class T>
std::vector<gpu::LayerOutcome> run_and_check(const std::vector<HostLayer>& layers, const StepConfig& cfg,
                                             const std::string& name, bool col_major_mix = true) {
  const Uploaded<T> up(layers, col_major_mix);
  BatchStep<T> batch(up.descs);
  CHECK(batch.step(thrust::device, cfg, 0));
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const HostLayer after = up.dev[l]->download();
    const std::string lname = name + " layer " + std::to_string(l) + " (" + std::to_string(layers[l].A.rows) + "x" +
                              std::to_string(layers[l].B.rows) + ", r " + std::to_string(layers[l].A.cols) + ")";
    const CheckReport rep = check_layer(lname, layers[l], after, batch.outcomes()[l], batch.scalings(int(l)),
                                        cfg.bound.with_lora_scale(layers[l].lora_scale),
                                        cfg.mode == scaling_mode::scalar_only);
    CHECK_MESSAGE(rep.passed, rep.text);
  }
  return batch.outcomes();
}

template <class T>
std::vector<HostLayer> random_layers(std::uint64_t seed0, gpu::weight_format w) {
  const int shapes[][3] = {{64, 48, 4}, {40, 40, 8}, {5, 3, 4}, {3, 9, 2}, {300, 200, 1}, {513, 257, 8}, {96, 80, 2}};
  std::vector<HostLayer> out;
  std::uint64_t seed = seed0;
  for (const auto& sh : shapes)
    for (double b_scale : {0.01, 1.0}) {
      LayerSpec s;
      s.m = sh[0];
      s.n = sh[1];
      s.r = sh[2];
      s.seed = (seed += 101);
      s.b_scale = b_scale;
      s.w = w;
      s.lora_scale = (seed % 3 == 0) ? 2.0 : 1.0;
      out.push_back(make_host_layer<T>(s));
    }
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE("random layers of mixed shapes and layouts, one batch", T, float, double) {
  StepConfig cfg;
  cfg.bound.L = 4;
  cfg.bound.lr = 0.05;
  const std::vector<HostLayer> layers = random_layers<T>(7, sizeof(T) == 4 ? gpu::weight_format::f32 : gpu::weight_format::none);
  const std::vector<gpu::LayerOutcome> out = run_and_check<T>(layers, cfg, "random");
  int column = 0, scalar = 0;
  for (const gpu::LayerOutcome& o : out) (o.applied == branch::column ? column : scalar)++;
  MESSAGE("column " << column << ", scalar " << scalar);
  CHECK(column > 0);
  CHECK(scalar > 0);
}

TEST_CASE("float layers with a bfloat16 weight and its float master") {
  StepConfig cfg;
  cfg.bound.L = 4;
  cfg.bound.lr = 0.05;
  run_and_check<float>(random_layers<float>(99, gpu::weight_format::bf16_master), cfg, "bf16");
}

namespace {
HostLayer hand_layer(int m, int n, int r, std::vector<double> A, std::vector<double> B, std::vector<double> G) {
  HostLayer h;
  h.single = false;
  h.A = host_matrix(m, r, std::move(A));
  h.B = host_matrix(n, r, std::move(B));
  set_gradients(h, G, m, n, r);
  h.W = gaussian(m, n, 5, 1.0);
  round_to<float>(h.W);
  return h;
}
std::vector<double> diag54321() {
  std::vector<double> G(25, 0.0);
  for (int i = 0; i < 5; ++i) G[std::size_t(i) * 6] = 5 - i;
  return G;
}
const std::vector<double> kWorkedA = {0, 0, 0, 0, 0, 0, 1, -1, 1, 0};
const std::vector<double> kWorkedB = {1, 0, 1, -1, -1, -1, 0, 0, 0, 0};
}  // namespace

TEST_CASE("every branch of the spec on hand-made layers (double factors)") {
  StepConfig cfg;
  cfg.bound.L = 1;
  cfg.bound.lr = 1.0 / 6;
  struct Case {
    const char* name;
    HostLayer layer;
    branch expect;
    column_method method;
  };
  std::vector<Case> cases;
  cases.push_back({"worked example (column, unique)", hand_layer(5, 5, 2, kWorkedA, kWorkedB, diag54321()),
                   branch::column, column_method::unique});
  {
    HostLayer h = hand_layer(5, 5, 2, kWorkedA, std::vector<double>(10, 0.0), diag54321());
    cases.push_back({"B = 0 (singular, least change, beta = 1)", h, branch::column, column_method::least_change});
  }
  {
    HostLayer h = hand_layer(5, 5, 2, std::vector<double>(10, 0.0), kWorkedB, diag54321());
    cases.push_back({"A = 0, PEFT initialisation (singular, alpha = 1)", h, branch::column, column_method::least_change});
  }
  cases.push_back({"duplicate columns (equal split)",
                   hand_layer(5, 5, 2, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, {1, 1, 1, 1, -1, -1, 0, 0, 0, 0}, diag54321()),
                   branch::column, column_method::least_change});
  cases.push_back({"collinear columns, kappa = 1/6: weighted least change touches v_1 = 0 exactly",
                   hand_layer(5, 5, 2, {0, 0, 0, 0, 0, 0, 1, 2, 1, 2}, kWorkedB, diag54321()), branch::column,
                   column_method::least_change});
  cases.push_back({"column condition fails (scalar fallback)",
                   hand_layer(2, 2, 2, {-1, 1, 0, 1}, {1, 1, 0, 1}, {-1, 1, 0, -1}), branch::scalar,
                   column_method::infeasible});
  cases.push_back({"m = n = 2 < 2r = 4 (column, nonsingular)",
                   hand_layer(2, 2, 2, {0, 1, 1, 1}, {-1, -1, -1, 0}, {0, 1, -1, 1}), branch::column,
                   column_method::unique});
  cases.push_back({"zero gradient (no change)", hand_layer(5, 5, 2, kWorkedA, kWorkedB, std::vector<double>(25, 0.0)),
                   branch::column, column_method::least_change});
  std::vector<HostLayer> layers;
  for (const Case& c : cases) layers.push_back(c.layer);
  const std::vector<gpu::LayerOutcome> out = run_and_check<double>(layers, cfg, "hand");
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const std::string name = cases[k].name;
    CAPTURE(name);
    CHECK(out[k].applied == cases[k].expect);
    CHECK(out[k].method == cases[k].method);
  }
  CHECK(out.back().zero_gradient);
}

TEST_CASE("collinear columns with kappa = 1: least change is negative, the least-distance QP applies") {
  StepConfig cfg;
  cfg.bound.L = 1;
  cfg.bound.lr = 1;
  const std::vector<gpu::LayerOutcome> out = run_and_check<double>(
      {hand_layer(5, 5, 2, {0, 0, 0, 0, 0, 0, 1, 2, 1, 2}, kWorkedB, diag54321())}, cfg, "collinear");
  CHECK(out[0].applied == branch::column);
  CHECK(out[0].method == column_method::least_distance);
}

TEST_CASE("Theorem 3's table with scalar_only mode") {
  StepConfig cfg;
  cfg.bound.L = 1;
  cfg.bound.lr = 1;
  cfg.mode = scaling_mode::scalar_only;
  std::vector<HostLayer> layers = {
      hand_layer(2, 2, 2, {0, 1, -1, 1}, {0, -1, 0, 1}, {1, 1, 0, -1}),    // B off
      hand_layer(2, 2, 2, {0, 0, 1, 0}, {-1, 0, -1, -1}, {-2, 1, 0, 1}),  // A off
      hand_layer(5, 5, 2, kWorkedA, kWorkedB, diag54321()),                // interior
      hand_layer(2, 2, 1, {1, 0}, {2, 0}, {1, 0, 0, 0}),                   // collinear
  };
  const std::vector<gpu::LayerOutcome> out = run_and_check<double>(layers, cfg, "scalar");
  CHECK(out[0].scalar_kind == scalar_case::beta_zero);
  CHECK(out[1].scalar_kind == scalar_case::alpha_zero);
  CHECK(out[2].scalar_kind == scalar_case::interior);
  CHECK(out[3].scalar_kind == scalar_case::collinear);
  for (const gpu::LayerOutcome& o : out) CHECK(o.applied == branch::scalar);
}

TEST_CASE("a non-finite input marks its layer and leaves it unchanged; the others proceed") {
  LayerSpec s;
  std::vector<HostLayer> layers = {make_host_layer<float>(s), make_host_layer<float>(s)};
  layers[1].grad_A.v[3] = std::nan("");
  const Uploaded<float> up(layers);
  BatchStep<float> batch(up.descs);
  StepConfig cfg;
  batch.step(thrust::device, cfg, 0);
  const std::vector<gpu::LayerOutcome> out = batch.outcomes();
  CHECK_FALSE(out[0].nonfinite);
  CHECK(out[1].nonfinite);
  const HostLayer after = up.dev[1]->download();
  CHECK(after.A.v == layers[1].A.v);
  CHECK(after.W.v == layers[1].W.v);
  CHECK(after.exp_avg_B.v == layers[1].exp_avg_B.v);
  CHECK(up.dev[0]->download().A.v != layers[0].A.v);
}

TEST_CASE("scalings float cannot hold are reported, not applied; a NaN moment marks the layer") {
  // kappa = 1e-300: u ~ 1 / kappa, alpha ~ 1e150 > FLT_MAX (docs/numerics.md, "Range").
  LayerSpec s;
  s.lora_scale = 1e-150;
  std::vector<HostLayer> layers = {make_host_layer<float>(s), make_host_layer<float>(LayerSpec{}),
                                   make_host_layer<float>(LayerSpec{})};
  layers[2].exp_avg_sq_B.v[1] = std::nan("");
  const Uploaded<float> up(layers);
  BatchStep<float> batch(up.descs);
  StepConfig cfg;
  batch.step(thrust::device, cfg, 0);
  const std::vector<gpu::LayerOutcome> out = batch.outcomes();
  CHECK(out[0].not_representable);
  CHECK_FALSE(out[0].nonfinite);
  CHECK(out[0].bound_decrease == out[0].vanilla_bound_decrease);
  for (double x : batch.scalings(0)) CHECK(x == 1.0);
  const HostLayer after = up.dev[0]->download();
  CHECK(after.A.v == layers[0].A.v);
  CHECK(after.W.v == layers[0].W.v);
  CHECK(after.exp_avg_sq_A.v == layers[0].exp_avg_sq_A.v);
  CHECK_FALSE(out[1].not_representable);
  CHECK(up.dev[1]->download().A.v != layers[1].A.v);
  CHECK(out[2].nonfinite);
  CHECK(up.dev[2]->download().B.v == layers[2].B.v);
}

TEST_CASE("ScaLoRA-I: steps 2-8 run only on due optimizer steps") {
  LayerSpec s;
  const HostLayer h = make_host_layer<float>(s);
  DeviceLayer<float> d(h, false, false);
  BatchStep<float> batch({d.desc()});
  StepConfig cfg;
  cfg.schedule = RescaleSchedule{3, 1};
  std::vector<long> ran;
  for (long t = 0; t < 9; ++t) {
    const std::vector<double> before = d.download().A.v;
    const bool did = batch.step(thrust::device, cfg, t);
    if (did) ran.push_back(t);
    else CHECK(d.download().A.v == before);
  }
  CHECK(ran == std::vector<long>{1, 4, 7});
}

TEST_CASE("the two Gram strategies give identical scalings") {
  StepConfig cfg;
  cfg.bound.L = 2;
  cfg.bound.lr = 0.1;
  std::vector<HostLayer> layers = random_layers<float>(3, gpu::weight_format::none);
  const Uploaded<float> up(layers);
  BatchStep<float> batch(up.descs);
  cfg.gram = gpu::gram_strategy::per_tile;
  batch.compute_scalings(thrust::device, cfg);
  std::vector<std::vector<double>> tile;
  for (int l = 0; l < batch.size(); ++l) tile.push_back(batch.scalings(l));
  cfg.gram = gpu::gram_strategy::per_entry;
  batch.compute_scalings(thrust::device, cfg);
  for (int l = 0; l < batch.size(); ++l) CHECK(batch.scalings(l) == tile[std::size_t(l)]);
}

TEST_CASE("invalid layer descriptions throw invalid_argument naming the field") {
  LayerSpec s;
  DeviceLayer<float> d(make_host_layer<float>(s), false, false);
  gpu::Layer<float> bad = d.desc();
  bad.r = 0;
  CHECK_THROWS_WITH_AS(BatchStep<float>({bad}), doctest::Contains("layers[0].r"), invalid_argument);
  bad = d.desc();
  bad.grad_B.data = nullptr;
  CHECK_THROWS_WITH_AS(BatchStep<float>({d.desc(), bad}), doctest::Contains("layers[1].grad_B"), invalid_argument);
  bad = d.desc();
  bad.exp_avg_sq_A.data = nullptr;
  CHECK_THROWS_WITH_AS(BatchStep<float>({bad}), doctest::Contains("exp_avg"), invalid_argument);
  bad = d.desc();
  bad.lora_scale = 0;
  CHECK_THROWS_WITH_AS(BatchStep<float>({bad}), doctest::Contains("lora_scale"), invalid_argument);
  BatchStep<float> ok({d.desc()});
  StepConfig cfg;
  cfg.bound.L = -1;
  CHECK_THROWS_WITH_AS(ok.compute_scalings(thrust::device, cfg), doctest::Contains("L"), invalid_argument);
  CHECK_THROWS_AS(ok.merge(thrust::device), invalid_argument);  // before compute_scalings
}

TEST_CASE("bfloat16 weight: the copy stays one rounding from the float master over many steps") {
  // 40 ScaLoRA steps with fresh small gradients each step. The bf16 copy must
  // equal round(master) after every merge (so its error never exceeds 2^-8
  // relative and does not accumulate). For comparison, a shadow W that merges
  // the same updates directly into bfloat16 (no master) is tracked on the host.
  LayerSpec s;
  s.m = 64;
  s.n = 48;
  s.r = 4;
  s.w = gpu::weight_format::bf16_master;
  s.g_scale = 1e-2;
  HostLayer h = make_host_layer<float>(s);
  DeviceLayer<float> d(h, false, false);
  BatchStep<float> batch({d.desc()});
  StepConfig cfg;
  cfg.bound.L = 4;
  cfg.bound.lr = 0.05;
  std::vector<double> shadow = h.W_bf16.v;  // bf16 values, merged in bf16
  for (long t = 0; t < 40; ++t) {
    LayerSpec g = s;
    g.seed = 1000 + std::uint64_t(t);
    HostLayer now = d.download();
    // Gradients of a new G at the current factors.
    std::vector<double> G(std::size_t(s.m) * std::size_t(s.n));
    const HostMatrix X = gaussian(s.m, 3, g.seed + 50, 1e-2), Y = gaussian(s.n, 3, g.seed + 51, 1.0);
    for (int i = 0; i < s.m; ++i)
      for (int j = 0; j < s.n; ++j)
        for (int k = 0; k < 3; ++k) G[std::size_t(i) * std::size_t(s.n) + std::size_t(j)] += X(i, k) * Y(j, k);
    set_gradients(now, G, s.m, s.n, s.r);
    round_to<float>(now.grad_A);
    round_to<float>(now.grad_B);
    DeviceLayer<float>::upload(d.grad_A, now.grad_A, false);
    DeviceLayer<float>::upload(d.grad_B, now.grad_B, false);
    const std::vector<double> before = now.W.v;
    REQUIRE(batch.step(thrust::device, cfg, t));
    const HostLayer after = d.download();
    for (std::size_t k = 0; k < shadow.size(); ++k)
      shadow[k] = double(bf16_to_float(float_to_bf16(float(shadow[k] + (after.W.v[k] - before[k])))));
  }
  const HostLayer end = d.download();
  double copy_err = 0, shadow_err = 0, copy_mean = 0, shadow_mean = 0;
  for (std::size_t k = 0; k < shadow.size(); ++k) {
    const double w = end.W.v[k];
    if (w == 0) continue;
    const double ce = std::abs(end.W_bf16.v[k] - w) / std::abs(w), se = std::abs(shadow[k] - w) / std::abs(w);
    copy_err = std::max(copy_err, ce);
    shadow_err = std::max(shadow_err, se);
    copy_mean += ce;
    shadow_mean += se;
  }
  copy_mean /= double(shadow.size());
  shadow_mean /= double(shadow.size());
  MESSAGE("after 40 steps: bf16 copy of the master: max " << copy_err << ", mean " << copy_mean
                                                           << "; bf16-only merges: max " << shadow_err << ", mean "
                                                           << shadow_mean << " (relative to the master)");
  CHECK(copy_err <= std::ldexp(1.0, -8));
}
