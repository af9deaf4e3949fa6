// SPDX-License-Identifier: Apache-2.0
// tests/support/hard_layers.hpp: each knob delivers what it claims, the generator
// covers every pathology, and the near-collinear cases are genuinely
// ill-conditioned after equilibration (histogram of the achieved condition numbers).
#include <doctest/doctest.h>

#include <Eigen/SVD>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "hard_layers.hpp"

namespace {

using scalora::Index;
using scalora::Matrix;
using namespace scalora::test;

/// `count` cases of gen_hard_layer_case() at RapidCheck's nominal size (full
/// ranges) that satisfy `keep`, from a fixed seed.
std::vector<HardLayerCase> sample_cases(std::size_t count, std::uint64_t seed,
                                        const std::function<bool(const HardLayerCase&)>& keep = {}) {
  const rc::Gen<HardLayerCase> gen = gen_hard_layer_case();
  rc::Random random(seed);
  std::vector<HardLayerCase> out;
  while (out.size() < count) {
    const HardLayerCase c = gen(random.split()).value();
    if (!keep || keep(c)) out.push_back(c);
  }
  return out;
}

std::string show(const HardLayerCase& c) {
  std::ostringstream os;
  os << c;
  return os.str();
}

bool same_bits(const Eigen::Ref<const Eigen::VectorXd>& a, const Eigen::Ref<const Eigen::VectorXd>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0;
}

bool same_layer_bits(const scalora::Layer<double>& a, const scalora::Layer<double>& b) {
  auto eq = [](const Matrix<double>& x, const Matrix<double>& y) {
    return x.rows() == y.rows() && x.cols() == y.cols() &&
           (x.size() == 0 || std::memcmp(x.data(), y.data(), sizeof(double) * std::size_t(x.size())) == 0);
  };
  return eq(a.A, b.A) && eq(a.B, b.B) && eq(a.grad_A, b.grad_A) && eq(a.grad_B, b.grad_B) && eq(a.W_pt, b.W_pt) &&
         eq(a.moments.exp_avg_A, b.moments.exp_avg_A) && eq(a.moments.exp_avg_sq_B, b.moments.exp_avg_sq_B);
}

double unit_roundoff(storage_type s) { return s == storage_type::float32 ? 0x1p-24 : 0x1p-53; }

bool representable(const Matrix<double>& X, storage_type s) {
  if (s == storage_type::float64) return true;
  for (Index k = 0; k < X.size(); ++k)
    if (double(float(X.data()[k])) != X.data()[k]) return false;
  return true;
}

int numerical_rank(const Matrix<double>& G) {
  const Eigen::JacobiSVD<Matrix<double>> svd(G);
  const auto& sv = svd.singularValues();
  int k = 0;
  for (Index i = 0; i < sv.size(); ++i)
    if (sv(i) > 1e-10 * sv(0)) ++k;
  return k;
}

/// Counts of log10 values in three-decade bins [1, 1e3), ..., [1e30, 1e33), [1e33, inf), inf.
struct Histogram {
  std::array<int, 13> bins{};
  void add(long double cond) {
    if (std::isinf(cond)) ++bins[12];
    else bins[std::size_t(std::clamp(int(std::log10(double(cond)) / 3), 0, 11))]++;
  }
  std::string str() const {
    std::ostringstream os;
    for (int b = 0; b < 11; ++b) os << "[1e" << 3 * b << ", 1e" << 3 * b + 3 << "): " << bins[std::size_t(b)] << "\n";
    os << "[1e33, inf): " << bins[11] << "\ninf (singular): " << bins[12];
    return os.str();
  }
};

}  // namespace

TEST_CASE("builds are deterministic and representable in the storage type") {
  for (const HardLayerCase& c : sample_cases(120, 1)) {
    INFO(show(c));
    const HardLayer a = build_hard_layer(c), b = build_hard_layer(c);
    CHECK(same_layer_bits(a.layer, b.layer));
    const scalora::Layer<double>& l = a.layer;
    CHECK(l.A.rows() == std::max(c.m, 1));
    CHECK(l.B.rows() == std::max(c.n, 1));
    CHECK(l.A.cols() == std::max(c.r, 1));
    CHECK((l.A.allFinite() && l.B.allFinite() && l.grad_A.allFinite() && l.grad_B.allFinite()));
    CHECK((representable(l.A, c.storage) && representable(l.B, c.storage) && representable(l.grad_A, c.storage) &&
           representable(l.grad_B, c.storage) && representable(l.W_pt, c.storage)));
    CHECK((l.W_pt.size() != 0) == c.w_pt);
    CHECK(l.moments.empty() == !c.moments);
    if (c.moments) {
      CHECK((l.moments.exp_avg_sq_A.array() >= 0).all());
      CHECK((l.moments.exp_avg_sq_B.array() >= 0).all());
      CHECK(representable(l.moments.exp_avg_sq_A, c.storage));
    }
    CHECK(a.bound.kappa() == std::ldexp(1.0, c.log2_L + c.log2_lr + 2 * c.log2_lora_scale));
  }
}

TEST_CASE("the generated layers are valid step inputs") {
  int column = 0, fallback = 0, singular = 0, count = 0;
  for (const HardLayerCase& c : sample_cases(150, 2)) {
    INFO(show(c));
    const HardLayer h = build_hard_layer(c);
    scalora::StepOptions<double> options;
    options.bound = h.bound;
    if (c.storage == storage_type::float32) {
      scalora::Layer<float> l = scalora::cast_layer<float>(h.layer);
      CHECK_NOTHROW(scalora::scalora_step(l, options));
    } else {
      scalora::Layer<double> l = h.layer;
      scalora::StepResult<double> res;
      CHECK_NOTHROW(res = scalora::scalora_step(l, options));
      ++count;
      column += res.scaling.applied == scalora::branch::column;
      fallback += res.scalar_fallback;
      singular += res.singular_system;
    }
  }
  MESSAGE("double-storage cases: " << count << ", column branch " << column << ", scalar fallback " << fallback
                                   << ", singular M " << singular);
}

TEST_CASE("the generator covers every pathology") {
  const std::vector<HardLayerCase> cases = sample_cases(600, 3);
  auto share = [&](const std::function<bool(const HardLayerCase&)>& p) {
    int k = 0;
    for (const HardLayerCase& c : cases) k += p(c);
    return double(k) / double(cases.size());
  };
  struct Claim {
    const char* name;
    std::function<bool(const HardLayerCase&)> holds;
  };
  const std::vector<Claim> claims = {
      {"near-collinear columns", [](const HardLayerCase& c) { return c.collinear != factor_choice::none && c.r >= 2; }},
      {"duplicated columns", [](const HardLayerCase& c) { return c.duplicate != factor_choice::none && c.r >= 2; }},
      {"B = 0", [](const HardLayerCase& c) { return c.zero_init == zero_factor::B; }},
      {"A = 0", [](const HardLayerCase& c) { return c.zero_init == zero_factor::A; }},
      {"rank G < 2r", [](const HardLayerCase& c) { return c.g_rank > 0; }},
      {"m or n < 2r", [](const HardLayerCase& c) { return c.m < 2 * c.r || c.n < 2 * c.r; }},
      {"column spread", [](const HardLayerCase& c) { return c.column_decades > 0; }},
      {"row spread", [](const HardLayerCase& c) { return c.row_decades > 0; }},
      {"spread of 1e8", [](const HardLayerCase& c) { return c.row_decades == 8 || c.column_decades == 8; }},
      {"near-zero margin", [](const HardLayerCase& c) { return c.margin != margin_side::none; }},
      {"inconsistent gradients", [](const HardLayerCase& c) { return c.grad_rounding != gradient_rounding::storage; }},
      {"float storage", [](const HardLayerCase& c) { return c.storage == storage_type::float32; }},
      {"moments", [](const HardLayerCase& c) { return c.moments; }},
      {"W_pt", [](const HardLayerCase& c) { return c.w_pt; }},
  };
  std::ostringstream os;
  for (const Claim& claim : claims) {
    const double f = share(claim.holds);
    os << claim.name << ": " << f << "\n";
    CHECK_MESSAGE(f >= 0.08, claim.name << " in only " << f << " of the cases");
  }
  MESSAGE("share of " << cases.size() << " generated cases per pathology:\n" << os.str());
  const std::string text = show(cases.front());
  for (const char* knob : {"m=", "r=", "seed=", "storage=", "collinear=", "duplicate=", "zero_init=", "g_rank=",
                           "row_decades=", "column_decades=", "margin=", "grads="})
    CHECK_MESSAGE(text.find(knob) != std::string::npos, text);
}

TEST_CASE("duplicated columns are bit-identical, M exactly singular") {
  for (const HardLayerCase& c : sample_cases(150, 4, [](const HardLayerCase& c) {
         return c.duplicate != factor_choice::none && c.r >= 2;
       })) {
    INFO(show(c));
    const HardLayer h = build_hard_layer(c);
    const scalora::Layer<double>& l = h.layer;
    const Index j = h.duplicate_column;
    REQUIRE(j >= 1);
    REQUIRE(j < l.A.cols());
    const bool in_A = c.duplicate != factor_choice::B, in_B = c.duplicate != factor_choice::A;
    if (in_A) {
      CHECK(same_bits(l.A.col(j), l.A.col(0)));
      CHECK(same_bits(l.grad_B.col(j), l.grad_B.col(0)));
    }
    if (in_B) {
      CHECK(same_bits(l.B.col(j), l.B.col(0)));
      CHECK(same_bits(l.grad_A.col(j), l.grad_A.col(0)));
    }
    // Two equal nonzero rows of M: singular.
    const SystemLD sys = long_double_system(l);
    const bool row_equal = (sys.M.row(j) == sys.M.row(0)) || (sys.M.row(l.A.cols() + j) == sys.M.row(l.A.cols()));
    CHECK(row_equal);
    if ((in_A && sys.M(0, 0) > 0) || (in_B && sys.M(l.A.cols(), l.A.cols()) > 0)) {
      CHECK(std::isinf(equilibrated_condition(sys)));
      CHECK(std::isinf(equilibrated_condition(l)));
    }
  }
}

TEST_CASE("zero initialisation is exactly zero") {
  for (const HardLayerCase& c :
       sample_cases(120, 5, [](const HardLayerCase& c) { return c.zero_init != zero_factor::none; })) {
    INFO(show(c));
    const HardLayer h = build_hard_layer(c);
    const scalora::Layer<double>& l = h.layer;
    if (c.zero_init == zero_factor::B) {
      CHECK((l.B.array() == 0).all());
      CHECK((l.grad_A.array() == 0).all());  // grad_A = lora_scale G B
    } else {
      CHECK((l.A.array() == 0).all());
      CHECK((l.grad_B.array() == 0).all());  // grad_B = lora_scale G^T A
    }
    // Half of diag(M) is 0: those coordinates are inactive (free).
    const SystemLD sys = long_double_system(l);
    const Index r = l.A.cols();
    const auto d = sys.M.diagonal();
    CHECK(((c.zero_init == zero_factor::B ? d.tail(r) : d.head(r)).array() == 0).all());
  }
}

TEST_CASE("G has the rank it claims, and the gradients are those of G rounded as claimed") {
  for (const HardLayerCase& c : sample_cases(200, 6)) {
    INFO(show(c));
    const HardLayer h = build_hard_layer(c);
    const Index m = h.G.rows(), n = h.G.cols(), r = h.layer.A.cols();
    if (c.g_rank > 0) {
      CHECK(h.g_rank < 2 * r);
      CHECK(h.g_rank <= c.g_rank);
    } else {
      CHECK(h.g_rank == std::min(m, n));
    }
    // The margin search may end near G_2, itself of rank <= r: only the bound then.
    if (c.margin == margin_side::none) CHECK(numerical_rank(h.G) == h.g_rank);
    else CHECK(numerical_rank(h.G) <= h.g_rank);
    // grad_A = lora_scale G B and grad_B = lora_scale G^T A up to one rounding of each entry.
    const double s = h.bound.lora_scale;
    const Matrix<double> gA = s * h.G * h.layer.B, gB = s * h.G.transpose() * h.layer.A;
    const double u = c.grad_rounding == gradient_rounding::bfloat16  ? 0x1p-8
                     : c.grad_rounding == gradient_rounding::float32 ? 0x1p-24
                                                                     : unit_roundoff(c.storage);
    const double sum_A = (s * h.G.cwiseAbs() * h.layer.B.cwiseAbs()).maxCoeff();
    const double sum_B = (s * h.G.transpose().cwiseAbs() * h.layer.A.cwiseAbs()).maxCoeff();
    const double big = double(std::numeric_limits<float>::max()) / 2;
    if (sum_A < big && sum_B < big) {  // no saturation
      CHECK(((h.layer.grad_A - gA).array().abs() <= u * gA.array().abs() + 1e-14 * sum_A + 1e-300).all());
      CHECK(((h.layer.grad_B - gB).array().abs() <= u * gB.array().abs() + 1e-14 * sum_B + 1e-300).all());
    }
  }
  // bfloat16 gradients are not the float ones: the two sides no longer share one G.
  HardLayerCase c;
  c.m = 20, c.n = 16, c.r = 3, c.seed = 11;
  const HardLayer exact = build_hard_layer(c);
  c.grad_rounding = gradient_rounding::bfloat16;
  const HardLayer rounded = build_hard_layer(c);
  CHECK(exact.layer.A == rounded.layer.A);
  CHECK(exact.layer.grad_A != rounded.layer.grad_A);
  CHECK(((exact.layer.grad_A - rounded.layer.grad_A).array().abs() <= 0x1p-8 * exact.layer.grad_A.array().abs()).all());
}

TEST_CASE("near-collinear columns are delta apart") {
  auto check_delta = [](const HardLayerCase& c, const HardLayer& h) {
    const Index j = h.collinear_column;
    const double u = unit_roundoff(c.storage);
    for (const Matrix<double>* F : {&h.layer.A, &h.layer.B}) {
      if ((F == &h.layer.A) != (c.collinear != factor_choice::B) && c.collinear != factor_choice::both) continue;
      const double rel = (F->col(j) - F->col(0)).norm() / F->col(0).norm();
      CHECK_MESSAGE(std::abs(rel - h.delta) <= 1e-6 * h.delta + 3 * u * (1 + h.delta),
                    "relative distance " << rel << ", delta " << h.delta);
    }
  };
  for (storage_type st : {storage_type::float64, storage_type::float32})
    for (int e : {3, 6, 9, 12}) {
      HardLayerCase c;
      c.m = 12, c.n = 10, c.r = 3, c.seed = 100 + std::uint64_t(e), c.storage = st;
      c.collinear = factor_choice::both, c.collinear_column = 2, c.collinear_exponent = e;
      const HardLayer h = build_hard_layer(c);
      INFO(show(c));
      CHECK(h.collinear_column == 2);
      CHECK(h.delta == std::pow(10.0, -e));
      check_delta(c, h);
    }
  for (const HardLayerCase& c : sample_cases(150, 7, [](const HardLayerCase& c) {
         return c.collinear != factor_choice::none && c.r >= 2 && c.zero_init == zero_factor::none &&
                (c.duplicate == factor_choice::none || (c.duplicate_column - 1) % (c.r - 1) != (c.collinear_column - 1) % (c.r - 1));
       })) {
    INFO(show(c));
    const HardLayer h = build_hard_layer(c);
    REQUIRE(h.collinear_column >= 1);
    check_delta(c, h);
  }
}

TEST_CASE("row and column scales span the claimed decades, and only the row scales change cond(D M D)") {
  for (const HardLayerCase& c : sample_cases(150, 8, [](const HardLayerCase& c) {
         return c.row_decades > 0 || c.column_decades > 0;
       })) {
    INFO(show(c));
    const HardLayer h = build_hard_layer(c);
    auto span = [](const scalora::Vector<double>& v) { return std::log10(v.maxCoeff() / v.minCoeff()); };
    if (h.row_scale_A.size() >= 2) CHECK(std::abs(span(h.row_scale_A) - 2 * c.row_decades) < 1e-9);
    if (h.row_scale_B.size() >= 2) CHECK(std::abs(span(h.row_scale_B) - 2 * c.row_decades) < 1e-9);
    if (h.col_scale_A.size() >= 2) CHECK(std::abs(span(h.col_scale_A) - 2 * c.column_decades) < 1e-9);
    // The stored factor is the unscaled one times the scales (double storage, no other change).
    if (c.storage == storage_type::float64 && c.collinear == factor_choice::none &&
        c.duplicate == factor_choice::none && c.zero_init == zero_factor::none) {
      HardLayerCase plain = c;
      plain.row_decades = plain.column_decades = 0;
      const Matrix<double> A0 = build_hard_layer(plain).layer.A;
      const Matrix<double> expect = h.row_scale_A.asDiagonal() * A0 * h.col_scale_A.asDiagonal();
      CHECK(((h.layer.A - expect).array().abs() <= 4e-16 * expect.array().abs()).all());
    }
  }
  // Column scales are a diagonal congruence of M: the equilibrated condition is
  // unchanged. Row scales are not.
  HardLayerCase c;
  c.m = 30, c.n = 24, c.r = 4, c.seed = 3;
  const long double base = equilibrated_condition(build_hard_layer(c).layer);
  c.column_decades = 8;
  const long double columns = equilibrated_condition(build_hard_layer(c).layer);
  c.column_decades = 0, c.row_decades = 8;
  const long double rows = equilibrated_condition(build_hard_layer(c).layer);
  MESSAGE("cond(D M D): plain " << double(base) << ", columns 1e+-8 " << double(columns) << ", rows 1e+-8 "
                                << double(rows));
  CHECK(std::abs(columns / base - 1) < 1e-6);
  CHECK(std::abs(rows / base - 1) > 0.1);
}

TEST_CASE("near-zero margin: the decision statistic is within 1e-10 of 0, on the requested side") {
  // Every generated margin case: what the search reached is what it claims. By
  // the precision the gradients are stored in (double, float, bfloat16): cases,
  // sign change found, |margin| <= 1e-10, <= 1e-8, <= 1e-6, <= 1e-4, larger.
  std::array<std::array<int, 7>, 3> stats{};
  for (const HardLayerCase& c :
       sample_cases(150, 9, [](const HardLayerCase& c) { return c.margin != margin_side::none; })) {
    INFO(show(c));
    const HardLayer h = build_hard_layer(c);
    const long double stored = equilibrated_margin(h.layer);  // the margin of the stored layer
    CHECK(((std::isnan(stored) && std::isnan(h.margin)) || stored == h.margin));
    const std::size_t p = c.grad_rounding == gradient_rounding::bfloat16                                   ? 2
                          : c.grad_rounding == gradient_rounding::float32 || c.storage == storage_type::float32 ? 1
                                                                                                                : 0;
    ++stats[p][0];
    CHECK(h.margin_found == (h.margin_bracketed && std::abs(h.margin) <= hard_margin_tolerance));
    if (!h.margin_bracketed) continue;
    ++stats[p][1];
    CHECK((c.margin == margin_side::above ? h.margin >= 0 : h.margin < 0));
    const long double a = std::abs(h.margin);
    ++stats[p][a <= hard_margin_tolerance ? 2 : a <= 1e-8L ? 3 : a <= 1e-6L ? 4 : a <= 1e-4L ? 5 : 6];
  }
  std::ostringstream os;
  const char* names[] = {"double", "float", "bfloat16"};
  for (std::size_t p = 0; p < 3; ++p)
    os << names[p] << " gradients: " << stats[p][0] << " cases, sign change found in " << stats[p][1]
       << "; |margin| <= 1e-10: " << stats[p][2] << ", <= 1e-8: " << stats[p][3] << ", <= 1e-6: " << stats[p][4]
       << ", <= 1e-4: " << stats[p][5] << ", larger: " << stats[p][6] << "\n";
  MESSAGE("margin search over generated cases:\n" << os.str());
  CHECK(stats[0][2] >= stats[0][1] * 3 / 4);  // double gradients: the tolerance is reachable

  // Cases whose active system is nonsingular by construction: double storage,
  // consistent gradients, m, n >= 2r, no collinear, duplicate or zero columns.
  int clean_found = 0, clean_total = 0;
  for (const HardLayerCase& c : sample_cases(100, 12, [](const HardLayerCase& c) {
         return c.margin != margin_side::none && c.storage == storage_type::float64 &&
                c.grad_rounding == gradient_rounding::storage && c.collinear == factor_choice::none &&
                c.duplicate == factor_choice::none && c.zero_init == zero_factor::none && c.m >= 2 * c.r &&
                c.n >= 2 * c.r;
       })) {
    INFO(show(c));
    const HardLayer h = build_hard_layer(c);
    ++clean_total, clean_found += h.margin_found;
  }
  MESSAGE("margin within 1e-10 in " << clean_found << " of " << clean_total << " nonsingular double cases");
  CHECK(clean_found >= 0.8 * clean_total);
}

TEST_CASE("equilibrated condition: the Khatri-Rao SVD agrees with the eigenvalues of D M D") {
  int compared = 0;
  for (const HardLayerCase& c : sample_cases(200, 13)) {
    INFO(show(c));
    const HardLayer h = build_hard_layer(c);
    const long double from_m = equilibrated_condition(long_double_system(h.layer));
    const long double from_k = equilibrated_condition(h.layer);
    CHECK(from_k >= 1);
    if (from_m < 1e10L) {
      ++compared;
      CHECK_MESSAGE(std::abs(from_k / from_m - 1) < 1e-6L, "eigenvalues " << double(from_m) << ", SVD " << double(from_k));
    } else if (!std::isinf(from_k)) {
      CHECK(from_k > 1e9L);  // beyond what M's entries resolve, finite for the SVD
    }
    if (std::isinf(from_k)) CHECK(std::isinf(from_m));
  }
  MESSAGE(compared << " of 200 generated cases compared below 1e10");
}

TEST_CASE("near-collinear cases are genuinely ill-conditioned after equilibration") {
  const std::vector<HardLayerCase> cases = sample_cases(300, 10, [](const HardLayerCase& c) {
    return c.collinear != factor_choice::none && c.r >= 2;
  });
  Histogram hist;
  std::array<Histogram, 4> by_delta;
  int above_1e6 = 0, above_1e12 = 0;
  for (const HardLayerCase& c : cases) {
    const long double cond = equilibrated_condition(build_hard_layer(c).layer);
    hist.add(cond);
    by_delta[std::size_t(std::clamp(c.collinear_exponent / 3 - 1, 0, 3))].add(cond);
    above_1e6 += cond > 1e6L;
    above_1e12 += cond > 1e12L;
  }
  MESSAGE("log10 cond(D M D) of " << cases.size() << " generated near-collinear cases:\n" << hist.str());
  for (int k = 0; k < 4; ++k)
    MESSAGE("delta = 1e-" << 3 * (k + 1) << ":\n" << by_delta[std::size_t(k)].str());
  MESSAGE(above_1e6 << " of " << cases.size() << " exceed 1e6, " << above_1e12 << " exceed 1e12");

  // The law cond ~ 1 / delta^2 where nothing else is degenerate: double
  // storage, one collinear factor, m, n >= 2r.
  std::ostringstream law;
  for (int e : {3, 6, 9, 12}) {
    law << "delta = 1e-" << e << ":";
    for (std::uint64_t seed = 0; seed < 6; ++seed) {
      HardLayerCase c;
      c.m = 24, c.n = 20, c.r = 2 + int(seed % 4) * 2, c.seed = seed;
      c.collinear = seed % 2 ? factor_choice::A : factor_choice::B, c.collinear_exponent = e;
      const long double cond = equilibrated_condition(build_hard_layer(c).layer);
      law << " " << (std::isinf(cond) ? std::string("inf") : std::to_string(int(std::lround(std::log10(double(cond))))));
    }
    law << "\n";
  }
  MESSAGE("log10 cond(D M D), m = 24, n = 20, r = 2, 4, 6, 8, 2, 4, double storage:\n" << law.str());
  CHECK(above_1e6 >= int(0.6 * double(cases.size())));

  Histogram all;
  for (const HardLayerCase& c : sample_cases(300, 11)) all.add(equilibrated_condition(build_hard_layer(c).layer));
  MESSAGE("log10 cond(D M D) of 300 generated cases (all knobs):\n" << all.str());
}
