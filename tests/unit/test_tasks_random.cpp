// SPDX-License-Identifier: Apache-2.0
// Counter-based randomness: SplitMix64 reference value, key separation, and
// the distributions (uniform, below, normal on the 2^-16 grid).
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "scalora/tasks/random.hpp"

using namespace scalora::tasks;

TEST_CASE("Stream is SplitMix64: the reference first output for state 0") {
  Stream s(0);
  CHECK(s.next() == 0xe220a8397b1dcdafULL);
  CHECK(s.next() == 0x6e789e6aa1b965f4ULL);
}

TEST_CASE("stream keys separate every component and are order-sensitive") {
  std::set<std::uint64_t> keys;
  for (std::uint64_t seed : {1, 2})
    for (std::uint64_t task : {10, 11})
      for (std::uint64_t split : {0, 1, 2})
        for (std::uint64_t index = 0; index < 50; ++index) keys.insert(stream_key(seed, task, split, index));
  CHECK(keys.size() == 2 * 2 * 3 * 50);
  CHECK(stream_key(1, 2, 3) != stream_key(1, 3, 2));
  CHECK(stream_key(7, 1, 2) == stream_key(7, 1, 2));
  CHECK(hash_string("syn-stsb") != hash_string("syn-sst2"));
}

TEST_CASE("below(n) covers 0 to n-1 evenly") {
  Stream s(stream_key(3, 4));
  std::vector<int> counts(7, 0);
  const int draws = 70000;
  for (int i = 0; i < draws; ++i) {
    const auto v = s.below(7);
    REQUIRE(v < 7);
    ++counts[std::size_t(v)];
  }
  double chi2 = 0;
  for (int c : counts) chi2 += (c - draws / 7.0) * (c - draws / 7.0) / (draws / 7.0);
  CHECK(chi2 < 22.5);  // chi-square, 6 degrees of freedom, p = 0.001
  CHECK(s.below(1) == 0);
}

TEST_CASE("uniform() lies in the unit interval with mean 1/2") {
  Stream s(stream_key(5));
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double u = s.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  CHECK(std::abs(sum / 100000 - 0.5) < 0.005);
}

TEST_CASE("normal() is on the 2^-16 grid with mean 0 and variance 1") {
  Stream s(stream_key(6));
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double z = s.normal();
    REQUIRE(std::abs(z) <= 6.0);
    REQUIRE(z * 65536.0 == std::floor(z * 65536.0));
    sum += z;
    sq += z * z;
  }
  const double mean = sum / n, var = sq / n - mean * mean;
  CHECK(std::abs(mean) < 0.01);
  CHECK(std::abs(var - 1.0) < 0.015);
}

TEST_CASE("shuffle is a permutation and reproducible") {
  std::vector<int> a(50), b;
  for (int i = 0; i < 50; ++i) a[std::size_t(i)] = i;
  b = a;
  Stream s1(9), s2(9);
  s1.shuffle(a);
  s2.shuffle(b);
  CHECK(a == b);
  std::set<int> seen(a.begin(), a.end());
  CHECK(seen.size() == 50);
}
