// SPDX-License-Identifier: Apache-2.0
// The plain description of a hard layer (tests/support/hard_layers.hpp builds
// it), its printing and its RapidCheck generator. No Eigen: nvcc-compiled
// property tests include this and build layers through a host-compiled bridge.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <ostream>
#include <utility>
#include <vector>

namespace scalora::test {
/// The type every value of the layer is representable in (the layer itself is
/// always Layer<double>; cast_layer<float> converts it exactly).
enum class storage_type : unsigned char { float64, float32 };
/// How the gradients are rounded after being computed in double from one G.
/// storage: to the storage type (consistent up to one rounding); float32,
/// bfloat16: each gradient separately to that format, so grad_A and grad_B no
/// longer come from one G (mixed-precision training; lambda leaves range(M)).
enum class gradient_rounding : unsigned char { storage, float32, bfloat16 };
enum class factor_choice : unsigned char { none, A, B, both };
enum class zero_factor : unsigned char { none, A, B };
/// Near-zero margin: none, above (just feasible, margin >= 0), below (just infeasible).
enum class margin_side : unsigned char { none, above, below };

/// A layer case: every field is a knob (gen_hard_layer_case shrinks each towards
/// small sizes and "absent"). Out-of-range values are clamped by
/// build_hard_layer, so any combination builds.
struct HardLayerCase {
  int m = 8, n = 8, r = 2;  ///< shapes (clamped to >= 1)
  std::uint64_t seed = 0;   ///< all Gaussian draws derive from it
  storage_type storage = storage_type::float64;
  gradient_rounding grad_rounding = gradient_rounding::storage;
  /// Column j = 1 + (collinear_column - 1) mod (r - 1) of the chosen factor(s)
  /// becomes column 0 + delta ||column 0|| e / ||e||, delta = 10^-collinear_exponent
  /// (3, 6, 9, 12 from the generator). No effect for r = 1.
  factor_choice collinear = factor_choice::none;
  int collinear_column = 1;
  int collinear_exponent = 6;
  /// Column j (clamped as above) of the chosen factor(s) is a bit-identical copy
  /// of column 0 (after every other change; wins over collinear on the same column).
  factor_choice duplicate = factor_choice::none;
  int duplicate_column = 1;
  zero_factor zero_init = zero_factor::none;  ///< PEFT initialisation: that factor is 0
  /// 0: G of full rank min(m, n); k >= 1: rank min(k, 2r - 1, m, n) (< 2r).
  int g_rank = 0;
  /// Per-column scales of A and B span 10^-d .. 10^d (exactly, for r >= 2).
  int column_decades = 0;
  /// Per-row scales of A and B span 10^-d .. 10^d (exactly, for m, n >= 2).
  int row_decades = 0;
  margin_side margin = margin_side::none;
  int log2_g_scale = 0;  ///< G multiplied by 2^e
  int log2_L = 0, log2_lr = 0, log2_lora_scale = 0;  ///< L, lr, s = 2^e
  bool moments = false;  ///< AdamW exp_avg, exp_avg_sq (>= 0) present
  bool w_pt = false;     ///< W_pt present (m x n Gaussian)
};

inline const char* to_string(storage_type s) { return s == storage_type::float32 ? "float32" : "float64"; }
inline const char* to_string(gradient_rounding g) {
  switch (g) {
    case gradient_rounding::float32: return "float32";
    case gradient_rounding::bfloat16: return "bfloat16";
    case gradient_rounding::storage: break;
  }
  return "storage";
}
inline const char* to_string(factor_choice f) {
  switch (f) {
    case factor_choice::A: return "A";
    case factor_choice::B: return "B";
    case factor_choice::both: return "AB";
    case factor_choice::none: break;
  }
  return "none";
}
inline const char* to_string(zero_factor z) { return z == zero_factor::A ? "A" : z == zero_factor::B ? "B" : "none"; }
inline const char* to_string(margin_side s) {
  return s == margin_side::above ? "above" : s == margin_side::below ? "below" : "none";
}

/// Every knob, on one line (RapidCheck prints counterexamples with it).
inline std::ostream& operator<<(std::ostream& os, const HardLayerCase& c) {
  os << "HardLayerCase{m=" << c.m << " n=" << c.n << " r=" << c.r << " seed=" << c.seed
     << " storage=" << to_string(c.storage) << " grads=" << to_string(c.grad_rounding)
     << " collinear=" << to_string(c.collinear) << "[col " << c.collinear_column << ", delta 1e-"
     << c.collinear_exponent << "] duplicate=" << to_string(c.duplicate) << "[col " << c.duplicate_column
     << "] zero_init=" << to_string(c.zero_init) << " g_rank=" << c.g_rank << " column_decades=" << c.column_decades
     << " row_decades=" << c.row_decades << " margin=" << to_string(c.margin) << " log2_g_scale=" << c.log2_g_scale
     << " log2_L=" << c.log2_L << " log2_lr=" << c.log2_lr << " log2_lora_scale=" << c.log2_lora_scale
     << " moments=" << c.moments << " w_pt=" << c.w_pt << "}";
  return os;
}

namespace detail {
/// Picks values with the given weights; shrinks towards the first.
template <class T>
rc::Gen<T> weighted_towards_first(std::vector<std::pair<std::size_t, T>> choices) {
  return [choices](const rc::Random& random, int) {
    std::size_t total = 0;
    for (const auto& c : choices) total += c.first;
    std::size_t pick = std::size_t(rc::Random(random).next() % total), i = 0;
    while (pick >= choices[i].first) pick -= choices[i++].first;
    return rc::shrinkable::map(
        rc::shrinkable::shrinkRecur(i, [](std::size_t x) { return rc::shrink::towards<std::size_t>(x, 0); }),
        [choices](std::size_t x) { return choices[x].second; });
  };
}
/// Uniform in [lo, hi]; shrinks towards 0 (towards lo or hi when 0 is outside).
inline rc::Gen<int> int_in(int lo, int hi) {
  return [lo, hi](const rc::Random& random, int) {
    const int x = lo + int(rc::Random(random).next() % std::uint64_t(hi - lo + 1));
    const int target = std::clamp(0, lo, hi);
    return rc::shrinkable::shrinkRecur(x, [target](int v) { return rc::shrink::towards<int>(v, target); });
  };
}
/// 0 with the given weight, otherwise a value of gen.
inline rc::Gen<int> zero_or(std::size_t zero_weight, std::size_t other_weight, rc::Gen<int> gen) {
  return rc::gen::join(weighted_towards_first<rc::Gen<int>>({{zero_weight, rc::gen::just(0)}, {other_weight, gen}}));
}
}  // namespace detail

namespace detail {
/// The structural knobs of `from` that it sets (collinear, duplicate,
/// zero_init, g_rank, margin), copied into `into`.
inline HardLayerCase with_structure(HardLayerCase into, const HardLayerCase& from) {
  if (from.collinear != factor_choice::none) {
    into.collinear = from.collinear;
    into.collinear_column = from.collinear_column;
    into.collinear_exponent = from.collinear_exponent;
  }
  if (from.duplicate != factor_choice::none) {
    into.duplicate = from.duplicate;
    into.duplicate_column = from.duplicate_column;
  }
  if (from.zero_init != zero_factor::none) into.zero_init = from.zero_init;
  if (from.g_rank != 0) into.g_rank = from.g_rank;
  if (from.margin != margin_side::none) into.margin = from.margin;
  return into;
}
}  // namespace detail

/// Hard layer cases. Independent knobs: m, n in [1, 8] (25%) or [8, 40] (so m
/// or n < 2r in about 40% of cases), r in [1, 8], float storage 50%, gradients
/// rounded separately to float or bfloat16 40%, row and column spreads 40% each,
/// G scaled by 2^[-40, 40] 30%, moments and W_pt 50% each. Structure (what makes
/// M singular or the decision close): none 16%, one of near-collinear,
/// duplicated, zero initialisation, rank-deficient G, near-zero margin 68%, two
/// of them 16% (near-collinear in about 29% of all cases, near-zero margin 22%,
/// each other one 15%). One structural pathology at a time keeps each
/// delivering what it claims (two duplicated columns leave no margin to tune);
/// the pairs test their interactions. Sizes scale with RapidCheck's size; every
/// knob shrinks towards "absent".
inline rc::Gen<HardLayerCase> gen_hard_layer_case() {
  namespace gen = rc::gen;
  using detail::weighted_towards_first;
  using C = HardLayerCase;
  using Pair = std::pair<C, C>;
  auto merge = [](const Pair& p) { return detail::with_structure(p.first, p.second); };

  auto dim = gen::join(weighted_towards_first<rc::Gen<int>>({{1, gen::inRange(1, 9)}, {3, gen::inRange(8, 41)}}));
  auto decades = detail::zero_or(3, 2, weighted_towards_first<int>({{1, 1}, {1, 2}, {1, 4}, {2, 8}}));
  const rc::Gen<C> base = gen::build<C>(
      gen::set(&C::m, dim), gen::set(&C::n, dim), gen::set(&C::r, gen::inRange(1, 9)),
      gen::set(&C::seed, gen::inRange<std::uint64_t>(0, 1u << 30)),
      gen::set(&C::storage, weighted_towards_first<storage_type>({{1, storage_type::float64}, {1, storage_type::float32}})),
      gen::set(&C::grad_rounding,
               weighted_towards_first<gradient_rounding>({{3, gradient_rounding::storage},
                                                          {1, gradient_rounding::float32},
                                                          {1, gradient_rounding::bfloat16}})),
      gen::set(&C::column_decades, decades), gen::set(&C::row_decades, decades),
      gen::set(&C::log2_g_scale, detail::zero_or(7, 3, detail::int_in(-40, 40))),
      gen::set(&C::log2_L, detail::int_in(-4, 4)), gen::set(&C::log2_lr, detail::int_in(-16, 0)),
      gen::set(&C::log2_lora_scale, detail::int_in(-2, 4)), gen::set(&C::moments, gen::arbitrary<bool>()),
      gen::set(&C::w_pt, gen::arbitrary<bool>()));

  auto factor = weighted_towards_first<factor_choice>({{2, factor_choice::A}, {2, factor_choice::B}, {1, factor_choice::both}});
  const rc::Gen<C> collinear =
      gen::build<C>(gen::set(&C::collinear, factor), gen::set(&C::collinear_column, gen::inRange(1, 8)),
                    gen::set(&C::collinear_exponent, weighted_towards_first<int>({{1, 3}, {1, 6}, {1, 9}, {1, 12}})));
  const rc::Gen<C> duplicate =
      gen::build<C>(gen::set(&C::duplicate, factor), gen::set(&C::duplicate_column, gen::inRange(1, 8)));
  const rc::Gen<C> zero =
      gen::build<C>(gen::set(&C::zero_init, weighted_towards_first<zero_factor>({{1, zero_factor::B}, {1, zero_factor::A}})));
  const rc::Gen<C> rank = gen::build<C>(gen::set(&C::g_rank, gen::inRange(1, 16)));
  const rc::Gen<C> margin = gen::build<C>(
      gen::set(&C::margin, weighted_towards_first<margin_side>({{1, margin_side::above}, {1, margin_side::below}})));
  const rc::Gen<C> one = gen::join(
      weighted_towards_first<rc::Gen<C>>({{4, collinear}, {2, duplicate}, {2, zero}, {2, rank}, {3, margin}}));
  const rc::Gen<C> two = gen::map(gen::pair(one, one), merge);
  const rc::Gen<C> structure = gen::join(weighted_towards_first<rc::Gen<C>>({{3, gen::just(C{})}, {13, one}, {3, two}}));
  return gen::map(gen::pair(base, structure), merge);
}

}  // namespace scalora::test

namespace rc {
template <>
struct Arbitrary<scalora::test::HardLayerCase> {
  static Gen<scalora::test::HardLayerCase> arbitrary() { return scalora::test::gen_hard_layer_case(); }
};
}  // namespace rc
