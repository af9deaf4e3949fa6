// SPDX-License-Identifier: Apache-2.0
// Lexicon, nonce block and word-level tokenizer: closed vocabulary, pair
// encoding with segments, truncation, padding, [UNK], top-k vocabularies.
#include <doctest/doctest.h>

#include <set>

#include "scalora/tasks/generator.hpp"
#include "scalora/tasks/tokenizer.hpp"

using namespace scalora::tasks;

namespace {
bool lower_letters(const std::string& w) {
  for (char c : w)
    if (c < 'a' || c > 'z') return false;
  return !w.empty();
}
}  // namespace

TEST_CASE("the nonce block is fixed, distinct, lower-case and disjoint from real words") {
  const NonceWords& n = nonce_words();
  CHECK(n.nouns.size() == std::size_t(kNonceNouns));
  CHECK(n.adjectives.size() == std::size_t(kNonceAdjectives));
  CHECK(n.verbs_base.size() == std::size_t(kNonceVerbs));
  CHECK(n.nouns[0] == "blick");
  CHECK(n.nouns[1] == "dax");
  std::set<std::string> all;
  std::size_t count = 0;
  for (const auto* block : {&n.nouns, &n.adjectives, &n.verbs_base, &n.verbs_third, &n.verbs_past})
    for (const auto& w : *block) {
      CHECK_MESSAGE(lower_letters(w), w);
      all.insert(w);
      ++count;
    }
  CHECK(all.size() == count);
  for (const auto& w : detail::real_word_forms()) CHECK_MESSAGE(all.count(w) == 0, w);
  CHECK(n.verbs_third[0] == n.verbs_base[0] + "s");
  CHECK(n.verbs_past[0] == n.verbs_base[0] + "ed");
}

TEST_CASE("the synthetic vocabulary: specials first, then every lexicon and nonce form once") {
  const Vocabulary v = Vocabulary::synthetic();
  CHECK(v.token(kPadId) == "[PAD]");
  CHECK(v.token(kUnkId) == "[UNK]");
  CHECK(v.token(kClsId) == "[CLS]");
  CHECK(v.token(kSepId) == "[SEP]");
  CHECK(v.token(kMaskId) == "[MASK]");
  const NonceWords& n = nonce_words();
  CHECK(v.size() ==
        kSpecialTokens + int(detail::real_word_forms().size()) + kNonceNouns + kNonceAdjectives + 3 * kNonceVerbs);
  CHECK(v.contains("blick"));
  CHECK(v.contains(n.verbs_past.back()));
  CHECK(v.contains("children"));
  CHECK(v.contains("."));
  CHECK(v.id("zzzz-not-a-word") == kUnkId);
  const Vocabulary again = Vocabulary::from_text(v.to_text());
  CHECK(again.size() == v.size());
  CHECK(again.to_text() == v.to_text());
  CHECK_THROWS_AS(Vocabulary::from_text("[UNK]\n[PAD]\n"), scalora::invalid_argument);
}

TEST_CASE("basic_tokenize lower-cases and splits punctuation") {
  CHECK(basic_tokenize("Hello, World!") == std::vector<std::string>{"hello", ",", "world", "!"});
  CHECK(basic_tokenize("  it's  fine\t") == std::vector<std::string>{"it", "'", "s", "fine"});
  CHECK(basic_tokenize("the dax was blick .") == std::vector<std::string>{"the", "dax", "was", "blick", "."});
  CHECK(basic_tokenize("caf\xc3\xa9") == std::vector<std::string>{"caf\xc3\xa9"});
}

TEST_CASE("encode: CLS s1 SEP s2 SEP with segments, mask and padding") {
  const Vocabulary v = Vocabulary::synthetic();
  const Encoding e = v.encode("the dax slept .", "a blick slept .", 16);
  const std::vector<int> expected_prefix = {kClsId,    v.id("the"),   v.id("dax"),   v.id("slept"), v.id("."), kSepId,
                                            v.id("a"), v.id("blick"), v.id("slept"), v.id("."),     kSepId};
  CHECK(std::vector<int>(e.input_ids.begin(), e.input_ids.begin() + 11) == expected_prefix);
  CHECK(e.length == 11);
  CHECK(e.input_ids.size() == 16);
  CHECK(e.input_ids[11] == kPadId);
  CHECK(e.segment_ids == std::vector<int>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0});
  CHECK(e.attention_mask == std::vector<int>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0});
  CHECK_FALSE(e.truncated);
  CHECK(e.unknown == 0);

  const Encoding single = v.encode("the dax slept .", "", 8);
  CHECK(single.length == 6);
  CHECK(single.input_ids[5] == kSepId);
  CHECK(single.segment_ids == std::vector<int>(8, 0));
}

TEST_CASE("encode: longest-first truncation and unknown words") {
  const Vocabulary v = Vocabulary::synthetic();
  // 6 + 2 words, max 8: budget 5 words; the longer first sentence loses three.
  const Encoding e = v.encode("the farmer saw the dax today", "qwzx slept", 8);
  CHECK(e.truncated);
  CHECK(e.length == 8);
  CHECK(e.input_ids ==
        std::vector<int>{kClsId, v.id("the"), v.id("farmer"), v.id("saw"), kSepId, kUnkId, v.id("slept"), kSepId});
  CHECK(e.unknown == 1);
  // Equal lengths: the second sentence loses the token.
  const Encoding tie = v.encode("a b c", "d e f", 8);
  CHECK(tie.input_ids[4] == kSepId);
  CHECK(tie.segment_ids[5] == 1);
  CHECK(tie.length == 8);
  CHECK_THROWS_AS(v.encode("a", "b", 4), scalora::invalid_argument);
}

TEST_CASE("from_texts keeps the top-k words by count, ties in byte order") {
  const Vocabulary v = Vocabulary::from_texts({"b a a c", "A b d", "e"}, 3);
  CHECK(v.size() == kSpecialTokens + 3);
  CHECK(v.token(5) == "a");  // 3 times
  CHECK(v.token(6) == "b");  // 2 times
  CHECK(v.token(7) == "c");  // 1 time, first in byte order among c, d, e
  CHECK(v.id("e") == kUnkId);
  CHECK(Vocabulary::from_texts({"x x y"}, 10, 2).size() == kSpecialTokens + 1);
}

TEST_CASE("every generated sentence is well formed and fully in the synthetic vocabulary") {
  const Vocabulary v = Vocabulary::synthetic();
  for (TaskKind t : kAllTasks)
    for (double rho : {1.0, 0.0}) {
      TaskConfig c;
      c.task = t;
      c.relational_fraction = rho;
      const TaskGenerator g(c);
      for (Split s : task_splits(t))
        for (std::size_t i = 0; i < 60; ++i) {
          const Example e = g.example(s, i);
          for (const std::string* text : {&e.sentence1, &e.sentence2}) {
            if (text->empty()) continue;
            CHECK_MESSAGE(well_formed_text(*text), *text);
            int unknown = 0;
            v.ids(*text, &unknown);
            CHECK_MESSAGE(unknown == 0, task_name(t) << ": " << *text);
          }
        }
    }
}
