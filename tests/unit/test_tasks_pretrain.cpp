// SPDX-License-Identifier: Apache-2.0
// Pre-training text (lexicon coverage, no fine-tuning relation unless the
// distance setting asks for Z0 facts) and BERT masking statistics.
#include <doctest/doctest.h>

#include <set>
#include <sstream>

#include "scalora/tasks/pretrain.hpp"

using namespace scalora::tasks;

namespace {
std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}
}  // namespace

TEST_CASE("pre-training text covers the lexicon and every nonce form") {
  PretrainConfig c;
  c.documents = 8000;
  const PretrainCorpus corpus(c);
  std::set<std::string> seen;
  const Vocabulary vocab = Vocabulary::synthetic();
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    const std::string d = corpus.document(i);
    REQUIRE(well_formed_text(d));
    int unknown = 0;
    vocab.ids(d, &unknown);
    REQUIRE(unknown == 0);
    for (auto& w : words(d)) seen.insert(w);
  }
  const NonceWords& n = nonce_words();
  std::vector<std::string> required(n.nouns.begin(), n.nouns.end());
  required.insert(required.end(), n.adjectives.begin(), n.adjectives.end());
  required.insert(required.end(), n.verbs_base.begin(), n.verbs_base.end());
  required.insert(required.end(), n.verbs_third.begin(), n.verbs_third.end());
  required.insert(required.end(), n.verbs_past.begin(), n.verbs_past.end());
  for (const auto& noun : lexicon_data::kNouns) {
    required.push_back(noun.singular);
    required.push_back(noun.plural);
  }
  for (const auto& v : lexicon_data::kVerbs)
    for (const char* f : {v.base, v.third, v.past, v.participle}) required.push_back(f);
  for (const auto& a : lexicon_data::kAdjectives) required.push_back(a.word);
  for (const auto& nm : lexicon_data::kNames) required.push_back(nm.name);
  std::size_t missing = 0;
  for (const auto& w : required)
    if (!seen.count(w)) {
      ++missing;
      MESSAGE("never generated: " << w);
    }
  CHECK(missing == 0);
}

TEST_CASE("without the distance setting, no relation is stated") {
  PretrainConfig c;
  c.documents = 5000;
  const PretrainCorpus corpus(c);
  const NonceWords& n = nonce_words();
  const std::set<std::string> nonce_nouns(n.nouns.begin(), n.nouns.end());
  const std::set<std::string> nonce_adjectives(n.adjectives.begin(), n.adjectives.end());
  std::set<std::string> sentiment;
  for (const auto& a : lexicon_data::kAdjectives)
    if (a.kind == AdjectiveKind::evaluative) sentiment.insert(a.word);
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    const std::string d = corpus.document(i);
    CHECK(d.find(" is like ") == std::string::npos);
    CHECK(d.find(" is unlike ") == std::string::npos);
    CHECK(d.find(" a bit like ") == std::string::npos);
    CHECK(d.find(" which was ") == std::string::npos);
    // No sentence puts a nonce adjective next to a sentiment word.
    std::string sentence;
    std::istringstream in(d);
    bool has_nonce_adj = false, has_sentiment = false;
    for (std::string w; in >> w;) {
      has_nonce_adj |= nonce_adjectives.count(w) > 0;
      has_sentiment |= sentiment.count(w) > 0;
      if (w == ".") {
        CHECK_FALSE((has_nonce_adj && has_sentiment));
        has_nonce_adj = has_sentiment = false;
      }
    }
    // "every <nonce> is a <nonce>" never occurs.
    const auto w = words(d);
    for (std::size_t k = 0; k + 3 < w.size(); ++k)
      if (w[k] == "every" && nonce_nouns.count(w[k + 1])) CHECK(w[k + 2] != "is");
  }
}

TEST_CASE("distance setting: facts state the base geometry Z0, fine-tuning uses Z1") {
  TaskConfig rte;
  rte.task = TaskKind::rte;
  rte.rank_dial = 16;
  rte.shift_rank = 4;
  PretrainConfig c;
  c.documents = 3000;
  c.relation_facts = {rte};
  c.fact_fraction = 0.5;
  const PretrainCorpus corpus(c);
  const TaskGenerator g(rte);
  const SignRelation& z1 = g.task<detail::NliTask>().relation();
  const std::uint64_t id = stream_key(rte.seed, hash_string("syn-rte"));
  const SignRelation z0(rte.seed, id, 64, 64, 16, 4, Geometry::base);
  std::map<std::string, int> index;
  for (int i = 0; i < 64; ++i) index[nonce_words().nouns[std::size_t(i)]] = i;
  int facts = 0, disagree = 0;
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    const auto w = words(corpus.document(i));
    for (std::size_t k = 0; k + 4 < w.size(); ++k)
      if (w[k] == "every" && index.count(w[k + 1]) && w[k + 2] == "is") {
        const int a = index[w[k + 1]], b = index[w[k + 4]];
        CHECK(z0(a, b) == 1);
        disagree += z1(a, b) != 1;
        ++facts;
      }
  }
  CHECK(facts > 500);
  CHECK(disagree > facts / 20);  // Z1 differs from Z0
  TaskConfig mrpc;
  mrpc.task = TaskKind::mrpc;
  PretrainConfig bad;
  bad.relation_facts = {mrpc};
  CHECK_THROWS_AS(PretrainCorpus{bad}, scalora::invalid_argument);
}

TEST_CASE("BERT masking: 15% selected, 80/10/10, specials untouched, deterministic") {
  const Vocabulary vocab = Vocabulary::synthetic();
  PretrainConfig c;
  c.documents = 3000;
  const PretrainCorpus corpus(c);
  double eligible = 0, selected = 0, masked = 0, random = 0, kept = 0;
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    const Encoding e = vocab.encode(corpus.document(i), "", 64);
    const MaskedTokens m = mask_tokens(e.input_ids, vocab.size(), 11, i);
    REQUIRE(m.input_ids.size() == e.input_ids.size());
    for (std::size_t k = 0; k < e.input_ids.size(); ++k) {
      const int id = e.input_ids[k];
      if (id < kSpecialTokens) {
        REQUIRE(m.labels[k] == kIgnoreLabel);
        REQUIRE(m.input_ids[k] == id);
        continue;
      }
      ++eligible;
      if (m.labels[k] == kIgnoreLabel) {
        REQUIRE(m.input_ids[k] == id);
        continue;
      }
      REQUIRE(m.labels[k] == id);
      ++selected;
      if (m.input_ids[k] == kMaskId)
        ++masked;
      else if (m.input_ids[k] == id)
        ++kept;  // includes random draws of the same id (rare)
      else {
        REQUIRE(m.input_ids[k] >= kSpecialTokens);
        ++random;
      }
    }
  }
  CHECK(eligible > 30000);
  CHECK(std::abs(selected / eligible - 0.15) < 0.006);
  CHECK(std::abs(masked / selected - 0.8) < 0.015);
  CHECK(std::abs(random / selected - 0.1) < 0.012);
  CHECK(std::abs(kept / selected - 0.1) < 0.012);

  const std::vector<int> ids = vocab.encode(corpus.document(0), "", 64).input_ids;
  const MaskedTokens a = mask_tokens(ids, vocab.size(), 11, 0), b = mask_tokens(ids, vocab.size(), 11, 0);
  CHECK(a.input_ids == b.input_ids);
  CHECK(a.labels == b.labels);
  bool differs = false;
  for (std::uint64_t idx = 1; idx < 20 && !differs; ++idx)
    differs = mask_tokens(ids, vocab.size(), 11, idx).labels != a.labels;
  CHECK(differs);
  CHECK_THROWS_AS(mask_tokens(ids, 5, 1, 0), scalora::invalid_argument);
}
