// SPDX-License-Identifier: Apache-2.0
// syn-* generators: determinism, per-example isolation, labels computed from
// records, class balance, the rank dial, splits by record and pair hold-out.
#include <doctest/doctest.h>

#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "scalora/tasks/generator.hpp"
#include "scalora/tasks/tsv.hpp"

using namespace scalora::tasks;

namespace {

TaskConfig config(TaskKind t, int m = 16, std::uint64_t seed = 1) {
  TaskConfig c;
  c.task = t;
  c.rank_dial = m;
  c.seed = seed;
  return c;
}

std::string train_bytes(const TaskConfig& c) {
  TaskConfig small = c;
  small.train_size = 300;
  const TaskGenerator g(small);
  return tsv_text(c.task, Split::train, g.split(Split::train), false);
}

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w)
    if (w == word) return true;
  return false;
}

/// Number of singular values above tol * the largest.
int numerical_rank(const Eigen::MatrixXd& A, double tol) {
  const Eigen::VectorXd s = Eigen::JacobiSVD<Eigen::MatrixXd>(A).singularValues();
  int r = 0;
  for (Eigen::Index k = 0; k < s.size(); ++k) r += s(k) > tol * s(0);
  return r;
}

Eigen::MatrixXd to_matrix(const Factors& f) {
  Eigen::MatrixXd M(f.rows, f.cols);
  for (int i = 0; i < f.rows; ++i)
    for (int k = 0; k < f.cols; ++k) M(i, k) = f(i, k);
  return M;
}

double mean_label(const std::vector<Example>& v, double cls) {
  double n = 0;
  for (const auto& e : v) n += e.label == cls;
  return n / double(v.size());
}

}  // namespace

TEST_CASE("same seed gives identical bytes, a different seed different bytes") {
  for (TaskKind t : kAllTasks) {
    CAPTURE(std::string(task_name(t)));
    const std::string a = train_bytes(config(t, 16, 1));
    CHECK(a == train_bytes(config(t, 16, 1)));
    CHECK(a != train_bytes(config(t, 16, 2)));
    CHECK(a != train_bytes(config(t, 8, 1)));
  }
}

TEST_CASE("example i regenerates alone, in any order, from a fresh generator") {
  for (TaskKind t : kAllTasks) {
    CAPTURE(std::string(task_name(t)));
    TaskConfig c = config(t);
    c.train_size = 200;
    c.dev_size = c.test_size = 50;
    const TaskGenerator g(c);
    for (Split s : task_splits(t)) {
      const std::vector<Example> all = g.split(s);
      const TaskGenerator fresh(c);
      for (std::size_t i : {std::size_t(49), std::size_t(0), std::size_t(17)}) {
        const Example e = fresh.example(s, i);
        CHECK(e.sentence1 == all[i].sentence1);
        CHECK(e.sentence2 == all[i].sentence2);
        CHECK(e.label == all[i].label);
        CHECK(e.record == all[i].record);
      }
    }
  }
}

TEST_CASE("label noise uses its own stream: clean examples do not change") {
  for (TaskKind t : kAllTasks) {
    CAPTURE(std::string(task_name(t)));
    TaskConfig clean = config(t);
    TaskConfig noisy = clean;
    noisy.label_noise = is_regression(t) ? 0.5 : 0.1;
    const auto a = TaskGenerator(clean).split(Split::train);
    const auto b = TaskGenerator(noisy).split(Split::train);
    REQUIRE(a.size() == b.size());
    double flips = 0, sq = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].sentence1 == b[i].sentence1);
      CHECK(a[i].sentence2 == b[i].sentence2);
      CHECK(b[i].clean_label == a[i].label);
      flips += b[i].label != b[i].clean_label;
      sq += (b[i].label - b[i].clean_label) * (b[i].label - b[i].clean_label);
    }
    if (is_regression(t)) {
      const double rms = std::sqrt(sq / double(a.size()));
      CHECK(rms > 0.35);  // sigma 0.5, reduced by clipping to [0, 5]
      CHECK(rms < 0.55);
    } else {
      CHECK(std::abs(flips / double(a.size()) - 0.1) < 0.02);
    }
  }
}

TEST_CASE("labels are computed from the records (spot checks)") {
  SUBCASE("syn-sst2: polarity(adjective, noun) flipped by negation") {
    const TaskGenerator g(config(TaskKind::sst2));
    const auto& task = g.task<detail::Sst2Task>();
    for (const Example& e : g.split(Split::train)) {
      CHECK(has_word(e.sentence1, nonce_adjective(e.item_a)));
      CHECK(has_word(e.sentence1, nonce_words().nouns[std::size_t(e.item_b)]));
      CHECK(int(e.label) == (task.polarity(e.item_a, e.item_b) ^ int(has_word(e.sentence1, "not"))));
    }
  }
  SUBCASE("syn-sst2 lexical: one strong un-negated clause decides") {
    TaskConfig c = config(TaskKind::sst2);
    c.relational_fraction = 0;
    int checked = 0;
    for (const Example& e : TaskGenerator(c).split(Split::train)) {
      std::istringstream in(e.sentence1);
      std::vector<std::string> w;
      for (std::string x; in >> x;) w.push_back(x);
      if (w.size() != 5 || w[2] != "was") continue;  // "the <aspect> was <adjective> ."
      for (const auto& a : lexicon_data::kAdjectives)
        if (w[3] == a.word && std::abs(a.valence) >= 2.5) {
          CHECK_MESSAGE(int(e.label) == int(a.valence > 0), e.sentence1);
          ++checked;
        }
    }
    CHECK(checked > 20);
  }
  SUBCASE("syn-cola: selection of the nonce object by the nonce verb") {
    const TaskGenerator g(config(TaskKind::cola));
    const auto& task = g.task<detail::ColaTask>();
    const NonceWords& n = nonce_words();
    for (const Example& e : g.split(Split::train)) {
      const std::size_t v = std::size_t(e.item_a);
      CHECK((has_word(e.sentence1, n.verbs_base[v]) || has_word(e.sentence1, n.verbs_third[v]) ||
             has_word(e.sentence1, n.verbs_past[v])));
      CHECK(has_word(e.sentence1, n.nouns[std::size_t(e.item_b)]));
      CHECK(int(e.label) == task.selects(e.item_a, e.item_b));
    }
  }
  SUBCASE("syn-cola structural: determiner number and npi licensing") {
    TaskConfig c = config(TaskKind::cola);
    c.relational_fraction = 0;
    std::set<std::string> plurals;
    for (const auto& noun : lexicon_data::kNouns) plurals.insert(noun.plural);
    int det = 0, npi = 0;
    for (const Example& e : TaskGenerator(c).split(Split::train)) {
      std::istringstream in(e.sentence1);
      std::string first, second;
      in >> first >> second;
      if (e.family == "determiner" && (first == "this" || first == "that" || first == "these" || first == "those")) {
        CHECK_MESSAGE(int(e.label) == int((first == "these" || first == "those") == (plurals.count(second) > 0)),
                      e.sentence1);
        ++det;
      }
      if (e.family == "npi") {
        CHECK_MESSAGE(int(e.label) == int(has_word(e.sentence1, "no") || has_word(e.sentence1, "not")), e.sentence1);
        ++npi;
      }
    }
    CHECK(det > 50);
    CHECK(npi > 50);
  }
  SUBCASE("syn-mrpc: paraphrase iff the nonce nouns share a synonym class") {
    const TaskGenerator g(config(TaskKind::mrpc));
    const auto& classes = g.task<detail::MrpcTask>().relation();
    for (const Example& e : g.split(Split::train)) {
      CHECK(has_word(e.sentence1, nonce_words().nouns[std::size_t(e.item_a)]));
      CHECK(has_word(e.sentence2, nonce_words().nouns[std::size_t(e.item_b)]));
      CHECK(e.item_a != e.item_b);
      CHECK(int(e.label) == int(classes.class_of(e.item_a) == classes.class_of(e.item_b)));
    }
  }
  SUBCASE("syn-stsb: score from cos(z_i, z_j)") {
    const TaskGenerator g(config(TaskKind::stsb, 16));
    const auto& task = g.task<detail::StsbTask>();
    for (const Example& e : g.split(Split::train)) {
      CHECK(e.label == task.score(e.item_a, e.item_b));
      const double cos = task.relation()(e.item_a, e.item_b);
      CHECK(std::abs(e.label - std::clamp(2.5 + 2.5 * 2.0 * cos, 0.0, 5.0)) <= 0.0005 + 1e-12);
    }
  }
  SUBCASE("syn-rte: entailment iff the relation holds in the context's direction") {
    const TaskGenerator g(config(TaskKind::rte));
    const auto& task = g.task<detail::NliTask>();
    for (const Example& e : g.split(Split::train)) {
      const bool up = e.family == "object" || e.family == "subject_a";
      const int holds = up ? task.entails(e.item_a, e.item_b) : task.entails(e.item_b, e.item_a);
      CHECK_MESSAGE(int(e.label) == (holds ? 0 : 1), e.sentence1 << " | " << e.sentence2);
    }
  }
  SUBCASE("syn-mnli: relation + polarity decide entailment, contradiction, neutral") {
    const TaskGenerator g(config(TaskKind::mnli));
    const auto& task = g.task<detail::NliTask>();
    auto positive = [](const std::string& s) { return !has_word(s, "not") && s.rfind("no ", 0) != 0; };
    for (Split s : task_splits(TaskKind::mnli))
      for (const Example& e : g.split(s)) {
        const bool p = positive(e.sentence1), h = positive(e.sentence2);
        const int holds = p ? task.entails(e.item_a, e.item_b) : task.entails(e.item_b, e.item_a);
        const int expected = !holds ? 1 : (p == h ? 0 : 2);
        CHECK_MESSAGE(int(e.label) == expected, e.sentence1 << " | " << e.sentence2);
      }
  }
}

TEST_CASE("class balance follows the GLUE priors in every split") {
  struct Prior {
    TaskKind task;
    double cls, rate, tol_train, tol_eval;
  };
  const Prior priors[] = {{TaskKind::sst2, 1, 0.5, 0.035, 0.07},     {TaskKind::cola, 1, 0.7, 0.03, 0.07},
                          {TaskKind::mrpc, 1, 0.68, 0.035, 0.07},    {TaskKind::rte, 0, 0.5, 0.05, 0.09},
                          {TaskKind::mnli, 0, 1.0 / 3, 0.035, 0.07}, {TaskKind::mnli, 2, 1.0 / 3, 0.035, 0.07}};
  for (const Prior& p : priors)
    for (double rho : {1.0, 0.0}) {
      TaskConfig c = config(p.task);
      c.relational_fraction = rho;
      const TaskGenerator g(c);
      for (Split s : task_splits(p.task)) {
        CAPTURE(std::string(task_name(p.task)));
        CAPTURE(std::string(split_file_stem(p.task, s)));
        CAPTURE(rho);
        CHECK(std::abs(mean_label(g.split(s), p.cls) - p.rate) < (s == Split::train ? p.tol_train : p.tol_eval));
      }
    }
  // syn-stsb: scores spread over 0-5 around 2.5 for low and high m.
  for (int m : {2, 64}) {
    const auto v = TaskGenerator(config(TaskKind::stsb, m)).split(Split::train);
    double sum = 0, sq = 0, low = 0, high = 0;
    for (const auto& e : v) {
      sum += e.label;
      sq += e.label * e.label;
      low += e.label < 1.5;
      high += e.label > 3.5;
    }
    const double mean = sum / double(v.size()), sd = std::sqrt(sq / double(v.size()) - mean * mean);
    CAPTURE(m);
    CHECK(std::abs(mean - 2.5) < 0.15);
    CHECK(sd > 1.0);
    CHECK(low / double(v.size()) > 0.15);
    CHECK(high / double(v.size()) > 0.15);
  }
}

TEST_CASE("rank dial: the syn-stsb similarity kernel has numerical rank m") {
  for (int m : {4, 16, 48}) {
    CAPTURE(m);
    const TaskGenerator g(config(TaskKind::stsb, m));
    const CosineKernel& kernel = g.task<detail::StsbTask>().relation();
    const int K = kernel.items();
    REQUIRE(K == 128);
    Eigen::MatrixXd S(K, K);
    for (int i = 0; i < K; ++i)
      for (int j = 0; j < K; ++j) S(i, j) = kernel(i, j);
    CHECK(numerical_rank(S, 1e-10) == m);
    CHECK(kernel.width() == m);
  }
}

TEST_CASE("rank dial: sign relations are sign(U V^T) with Gaussian factors of width m") {
  for (TaskKind t : {TaskKind::sst2, TaskKind::cola, TaskKind::rte}) {
    for (int m : {2, 8, 32}) {
      CAPTURE(std::string(task_name(t)));
      CAPTURE(m);
      const TaskGenerator g(config(t, m));
      const SignRelation& R = t == TaskKind::sst2   ? g.task<detail::Sst2Task>().relation()
                              : t == TaskKind::cola ? g.task<detail::ColaTask>().relation()
                                                    : g.task<detail::NliTask>().relation();
      CHECK(R.width() == m);
      CHECK(R.left().cols == m);
      CHECK(R.right().cols == m);
      const Eigen::MatrixXd P = to_matrix(R.left()) * to_matrix(R.right()).transpose();
      CHECK(numerical_rank(P, 1e-10) == m);
      int ones = 0;
      for (int i = 0; i < R.left_items(); ++i)
        for (int j = 0; j < R.right_items(); ++j) {
          REQUIRE(R(i, j) == int(P(i, j) > 0));
          ones += R(i, j);
        }
      const double frac = double(ones) / double(R.left_items() * R.right_items());
      CHECK(frac > 0.3);
      CHECK(frac < 0.7);
    }
  }
}

TEST_CASE("rank dial: factors are nested in m and the synonym matrix of syn-mrpc has rank m") {
  const Factors f8 = gaussian_factors(1, 99, 20, 8), f16 = gaussian_factors(1, 99, 20, 16);
  for (int i = 0; i < 20; ++i)
    for (int k = 0; k < 8; ++k) CHECK(f8(i, k) == f16(i, k));
  for (int m : {4, 16, 64}) {
    const TaskGenerator g(config(TaskKind::mrpc, m));
    const SynonymClasses& classes = g.task<detail::MrpcTask>().relation();
    const int K = classes.items();
    Eigen::MatrixXd S(K, K);
    for (int i = 0; i < K; ++i)
      for (int j = 0; j < K; ++j) S(i, j) = classes(i, j);
    CAPTURE(m);
    CHECK(numerical_rank(S, 1e-10) == m);
    for (int c = 0; c < m; ++c) CHECK(classes.members(c).size() >= std::size_t(K / m));
  }
}

TEST_CASE("distance from pre-training: Z1 - Z0 has rank shift_rank") {
  for (int r : {1, 3, 8}) {
    const SignRelation base(5, 77, 64, 64, 24, r, Geometry::base);
    const SignRelation shifted(5, 77, 64, 64, 24, r, Geometry::shifted);
    const Eigen::MatrixXd D = to_matrix(shifted.left()) - to_matrix(base.left());
    CAPTURE(r);
    // Re-quantisation to 2^-16 adds noise of 2^-17 per entry, far below tol.
    CHECK(numerical_rank(D, 1e-3) == r);
    CHECK(to_matrix(shifted.right()) == to_matrix(base.right()));
    int changed = 0;
    for (int i = 0; i < 64; ++i)
      for (int j = 0; j < 64; ++j) changed += base(i, j) != shifted(i, j);
    CHECK(changed > 64 * 64 / 20);
  }
  // shift_rank 0: fine-tuning uses the pre-training geometry itself.
  const SignRelation z0(5, 77, 16, 16, 8, 0, Geometry::shifted), off(5, 77, 16, 16, 8, -1);
  CHECK(to_matrix(z0.left()) == to_matrix(off.left()));
}

TEST_CASE("splits: relation pairs of dev/test are held out of train, records never straddle") {
  for (TaskKind t : kAllTasks) {
    CAPTURE(std::string(task_name(t)));
    const TaskGenerator g(config(t));
    std::set<std::pair<int, int>> train_pairs;
    std::set<std::uint64_t> train_records;
    // The relation entry an example tests: unordered for symmetric relations;
    // for NLI (premise item, hypothesis item) in upward contexts, reversed in downward ones.
    auto key = [&](const Example& e) {
      if (t == TaskKind::mrpc || t == TaskKind::stsb)
        return std::make_pair(std::min(e.item_a, e.item_b), std::max(e.item_a, e.item_b));
      bool up = true;
      if (t == TaskKind::rte) up = e.family == "object" || e.family == "subject_a";
      if (t == TaskKind::mnli) up = !has_word(e.sentence1, "not") && e.sentence1.rfind("no ", 0) != 0;
      return up ? std::make_pair(e.item_a, e.item_b) : std::make_pair(e.item_b, e.item_a);
    };
    for (const Example& e : g.split(Split::train)) {
      if (e.item_a >= 0) train_pairs.insert(key(e));
      train_records.insert(e.record);
    }
    CHECK(train_pairs.size() > 200);
    for (Split s : task_splits(t)) {
      if (s == Split::train) continue;
      for (const Example& e : g.split(s)) {
        if (e.item_a >= 0) CHECK(train_pairs.count(key(e)) == 0);
        CHECK(train_records.count(e.record) == 0);
      }
    }
  }
  SUBCASE("without a relation: records split 80/10/10 by hash") {
    TaskConfig c = config(TaskKind::cola);
    c.relational_fraction = 0;
    const TaskGenerator g(c);
    std::set<std::uint64_t> train;
    for (const Example& e : g.split(Split::train)) train.insert(e.record);
    for (const Example& e : g.split(Split::dev)) CHECK(train.count(e.record) == 0);
  }
}

TEST_CASE("syn-mnli: held-out genres appear only in the mismatched splits") {
  const TaskGenerator g(config(TaskKind::mnli));
  std::set<std::string> matched, mismatched;
  for (Split s : {Split::train, Split::dev, Split::test})
    for (const Example& e : g.split(s)) matched.insert(e.family);
  for (Split s : {Split::dev_mismatched, Split::test_mismatched})
    for (const Example& e : g.split(s)) mismatched.insert(e.family);
  CHECK(matched == std::set<std::string>{"farm", "city", "school", "kitchen", "travel"});
  CHECK(mismatched == std::set<std::string>{"sea", "arts"});
  CHECK_THROWS_AS(TaskGenerator(config(TaskKind::rte)).example(Split::dev_mismatched, 0), scalora::invalid_argument);
}

TEST_CASE("invalid knobs throw invalid_argument naming the knob") {
  auto rejects = [](TaskConfig c, const std::string& name) {
    try {
      TaskGenerator g(c);
    } catch (const scalora::invalid_argument& e) {
      CHECK(e.argument() == name);
      return;
    }
    FAIL("no exception for " << name);
  };
  TaskConfig c = config(TaskKind::stsb);
  c.rank_dial = 0;
  rejects(c, "rank_dial");
  c = config(TaskKind::sst2);
  c.items = 300;
  rejects(c, "items");
  c = config(TaskKind::mrpc, 100);
  rejects(c, "items");  // 256 < 3 * 100
  c = config(TaskKind::cola);
  c.label_noise = 0.6;
  rejects(c, "label_noise");
  c.label_noise = 0;
  c.relational_fraction = 1.5;
  rejects(c, "relational_fraction");
  c.relational_fraction = 1;
  c.holdout_fraction = -0.1;
  rejects(c, "holdout_fraction");
  c.holdout_fraction = 0.2;
  c.shift_rank = -2;
  rejects(c, "shift_rank");
  c = config(TaskKind::mrpc);
  c.shift_rank = 2;
  rejects(c, "shift_rank");
  CHECK_THROWS_AS(parse_task("syn-qqp"), scalora::invalid_argument);
  CHECK(parse_task("STS-B") == TaskKind::stsb);
  CHECK(parse_task("syn-mnli") == TaskKind::mnli);
}
