// SPDX-License-Identifier: Apache-2.0
// Thin RAII owners of FLINT's exact integer and rational matrices and Arb's
// balls, the two libraries the reference's exact and certified paths are
// built on (docs/numerics.md, "The reference's engine"):
//   FmpzMatrix, FmpqMatrix   fmpz_mat_t / fmpq_mat_t (exact products, Dixon
//                            solves, reduced row echelon forms)
//   Ball                     arb_t at a fixed working precision: a midpoint and
//                            a radius that always encloses the exact value
// and the conversions to and from the reference's GMP rationals
// (exact_rational = boost::multiprecision::mpq_rational, same limbs as mpq_t).
// Move-only; nothing here throws except std::bad_alloc from the libraries'
// allocator (which aborts in FLINT; the reference sizes are 2r x 2r).
#pragma once

#include <arb.h>
#include <flint/fmpq.h>
#include <flint/fmpq_mat.h>
#include <flint/fmpz.h>
#include <flint/fmpz_mat.h>

#include <boost/multiprecision/gmp.hpp>
#include <cmath>
#include <limits>
#include <utility>

namespace scalora::reference {

using exact_int = boost::multiprecision::mpz_int;
using exact_rational = boost::multiprecision::mpq_rational;

/// An owned fmpz_mat_t.
class FmpzMatrix {
 public:
  FmpzMatrix(long rows, long cols) { fmpz_mat_init(m_, rows, cols); }
  FmpzMatrix(FmpzMatrix&& o) noexcept {
    fmpz_mat_init(m_, 0, 0);
    fmpz_mat_swap(m_, o.m_);
  }
  FmpzMatrix& operator=(FmpzMatrix&& o) noexcept {
    fmpz_mat_swap(m_, o.m_);
    return *this;
  }
  FmpzMatrix(const FmpzMatrix&) = delete;
  FmpzMatrix& operator=(const FmpzMatrix&) = delete;
  ~FmpzMatrix() { fmpz_mat_clear(m_); }
  fmpz_mat_struct* get() { return m_; }
  const fmpz_mat_struct* get() const { return m_; }
  fmpz* operator()(long i, long j) { return fmpz_mat_entry(m_, i, j); }
  const fmpz* operator()(long i, long j) const { return fmpz_mat_entry(m_, i, j); }
  long rows() const { return fmpz_mat_nrows(m_); }
  long cols() const { return fmpz_mat_ncols(m_); }

 private:
  fmpz_mat_t m_;
};

/// An owned fmpq_mat_t.
class FmpqMatrix {
 public:
  FmpqMatrix(long rows, long cols) { fmpq_mat_init(m_, rows, cols); }
  FmpqMatrix(FmpqMatrix&& o) noexcept {
    fmpq_mat_init(m_, 0, 0);
    fmpq_mat_swap(m_, o.m_);
  }
  FmpqMatrix& operator=(FmpqMatrix&& o) noexcept {
    fmpq_mat_swap(m_, o.m_);
    return *this;
  }
  FmpqMatrix(const FmpqMatrix&) = delete;
  FmpqMatrix& operator=(const FmpqMatrix&) = delete;
  ~FmpqMatrix() { fmpq_mat_clear(m_); }
  fmpq_mat_struct* get() { return m_; }
  const fmpq_mat_struct* get() const { return m_; }
  fmpq* operator()(long i, long j) { return fmpq_mat_entry(m_, i, j); }
  const fmpq* operator()(long i, long j) const { return fmpq_mat_entry(m_, i, j); }
  long rows() const { return fmpq_mat_nrows(m_); }
  long cols() const { return fmpq_mat_ncols(m_); }

 private:
  fmpq_mat_t m_;
};

/// fmpq -> GMP rational (exact).
inline exact_rational to_exact(const fmpq* q) {
  exact_rational out;
  fmpq_get_mpq(out.backend().data(), q);
  return out;
}

/// GMP rational -> fmpq (exact).
inline void set_fmpq(fmpq* dst, const exact_rational& q) { fmpq_set_mpq(dst, q.backend().data()); }

/// fmpz -> GMP integer (exact).
inline exact_int to_exact(const fmpz* z) {
  exact_int out;
  fmpz_get_mpz(out.backend().data(), z);
  return out;
}

/// A real number enclosed by an Arb ball [mid - rad, mid + rad] at `prec`
/// bits. Arithmetic propagates the enclosure rigorously (Arb's guarantee):
/// whatever the inputs' exact values inside their balls, the exact result of
/// the operation lies in the output ball.
class Ball {
 public:
  static constexpr long kPrecision = 128;  ///< bits of the midpoints

  Ball() { arb_init(b_); }
  explicit Ball(double x) : Ball() { arb_set_d(b_, x); }  // exact: every double is a dyadic
  /// mid +- rad (rad >= 0; the radius is rounded up).
  Ball(double mid, double rad) : Ball() {
    arb_set_d(b_, mid);
    if (rad > 0) {
      arb_t e;
      arb_init(e);
      arb_set_d(e, rad);
      arb_add_error(b_, e);
      arb_clear(e);
    }
  }
  explicit Ball(const exact_rational& q) : Ball() {
    fmpq_t f;
    fmpq_init(f);
    set_fmpq(f, q);
    arb_set_fmpq(b_, f, kPrecision);
    fmpq_clear(f);
  }
  Ball(const Ball& o) : Ball() { arb_set(b_, o.b_); }
  Ball& operator=(const Ball& o) {
    arb_set(b_, o.b_);
    return *this;
  }
  ~Ball() { arb_clear(b_); }

  arb_struct* get() { return b_; }
  const arb_struct* get() const { return b_; }

  friend Ball operator+(const Ball& a, const Ball& b) {
    Ball o;
    arb_add(o.b_, a.b_, b.b_, kPrecision);
    return o;
  }
  friend Ball operator-(const Ball& a, const Ball& b) {
    Ball o;
    arb_sub(o.b_, a.b_, b.b_, kPrecision);
    return o;
  }
  friend Ball operator*(const Ball& a, const Ball& b) {
    Ball o;
    arb_mul(o.b_, a.b_, b.b_, kPrecision);
    return o;
  }
  friend Ball operator/(const Ball& a, const Ball& b) {
    Ball o;
    arb_div(o.b_, a.b_, b.b_, kPrecision);
    return o;
  }
  Ball& operator+=(const Ball& b) {
    arb_add(b_, b_, b.b_, kPrecision);
    return *this;
  }
  Ball& operator-=(const Ball& b) {
    arb_sub(b_, b_, b.b_, kPrecision);
    return *this;
  }
  Ball operator-() const {
    Ball o;
    arb_neg(o.b_, b_);
    return o;
  }
  /// The ball scaled by 2^e (exact).
  Ball times_pow2(long e) const {
    Ball o;
    arb_mul_2exp_si(o.b_, b_, e);
    return o;
  }

  bool certainly_positive() const { return arb_is_positive(b_) != 0; }
  bool certainly_negative() const { return arb_is_negative(b_) != 0; }
  bool certainly_nonnegative() const { return arb_is_nonnegative(b_) != 0; }
  bool contains_zero() const { return arb_contains_zero(b_) != 0; }
  bool finite() const { return arb_is_finite(b_) != 0; }

  /// A double <= every value in the ball (-inf when unbounded or below range).
  double lower() const {
    arf_t t;
    arf_init(t);
    arb_get_lbound_arf(t, b_, kPrecision);
    const double d = arf_get_d(t, ARF_RND_FLOOR);
    arf_clear(t);
    return d;
  }
  /// A double >= every value in the ball.
  double upper() const {
    arf_t t;
    arf_init(t);
    arb_get_ubound_arf(t, b_, kPrecision);
    const double d = arf_get_d(t, ARF_RND_CEIL);
    arf_clear(t);
    return d;
  }
  /// The midpoint rounded to the nearest double.
  double mid() const { return arf_get_d(arb_midref(b_), ARF_RND_NEAR); }

 private:
  arb_t b_;
};

}  // namespace scalora::reference
