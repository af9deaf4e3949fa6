// SPDX-License-Identifier: Apache-2.0
// Word-level tokenizer and vocabulary: [PAD] [UNK] [CLS] [SEP] [MASK], then
// words. The closed vocabulary of the syn-* tasks holds every lexicon form
// and every nonce form (one token each); for real GLUE text the vocabulary is
// the top-k words of a training file. Pairs encode as [CLS] s1 [SEP] s2 [SEP]
// with segment ids, longest-first truncation and padding to max_length.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "scalora/error.hpp"
#include "scalora/tasks/lexicon.hpp"
#include "scalora/tasks/tsv.hpp"

namespace scalora::tasks {

inline constexpr int kPadId = 0, kUnkId = 1, kClsId = 2, kSepId = 3, kMaskId = 4;
inline constexpr int kSpecialTokens = 5;

/// Lower-cases ASCII letters, splits on whitespace, and makes every ASCII
/// punctuation character its own token ("Don't!" -> "don ' t !"). Bytes
/// >= 0x80 stay inside words. Idempotent on generated text.
inline std::vector<std::string> basic_tokenize(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out.push_back(std::move(word));
    word.clear();
  };
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      flush();
    } else if (c < 0x80 &&
               ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))) {
      flush();
      out.emplace_back(1, ch);
    } else {
      word += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : ch;
    }
  }
  flush();
  return out;
}

/// One encoded input, padded to max_length.
struct Encoding {
  std::vector<int> input_ids;
  std::vector<int> segment_ids;     ///< 0 for [CLS] s1 [SEP], 1 for s2 [SEP], 0 for padding
  std::vector<int> attention_mask;  ///< 1 for real tokens, 0 for padding
  int length = 0;                   ///< real tokens including specials
  bool truncated = false;
  int unknown = 0;  ///< words mapped to [UNK]
};

class Vocabulary {
 public:
  /// Only the five special tokens.
  Vocabulary() {
    for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) add(s);
  }

  /// The closed vocabulary of the syn-* tasks: specials, the real lexicon
  /// (sorted), then the nonce nouns, adjectives and verb forms in block order.
  static Vocabulary synthetic() {
    Vocabulary v;
    for (const std::string& w : detail::real_word_forms())
      for (const std::string& t : basic_tokenize(w)) v.add(t);
    const NonceWords& n = nonce_words();
    for (const auto& w : n.nouns) v.add(w);
    for (const auto& w : n.adjectives) v.add(w);
    for (std::size_t i = 0; i < n.verbs_base.size(); ++i) {
      v.add(n.verbs_base[i]);
      v.add(n.verbs_third[i]);
      v.add(n.verbs_past[i]);
    }
    return v;
  }

  /// Specials plus the `max_words` most frequent words of `texts` (after
  /// basic_tokenize) that occur at least `min_count` times; ties by byte order.
  static Vocabulary from_texts(const std::vector<std::string>& texts, std::size_t max_words,
                               std::size_t min_count = 1) {
    std::map<std::string, std::size_t> counts;
    for (const auto& t : texts)
      for (auto& w : basic_tokenize(t)) ++counts[w];
    std::vector<std::pair<std::string, std::size_t>> ranked(counts.begin(), counts.end());
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    Vocabulary v;
    for (const auto& [w, c] : ranked) {
      if (std::size_t(v.size() - kSpecialTokens) >= max_words || c < min_count) break;
      v.add(w);
    }
    return v;
  }

  /// Vocabulary for real GLUE data: top-k words of the sentences of a training file.
  static Vocabulary from_glue_file(const GlueFile& train, std::size_t max_words, std::size_t min_count = 1) {
    std::vector<std::string> texts;
    for (const auto& e : train.examples) {
      texts.push_back(e.sentence1);
      if (!e.sentence2.empty()) texts.push_back(e.sentence2);
    }
    return from_texts(texts, max_words, min_count);
  }

  /// One token per line, in id order (the first five are the specials).
  std::string to_text() const {
    std::string s;
    for (const auto& t : tokens_) s += t + "\n";
    return s;
  }
  /// Inverse of to_text(); throws invalid_argument when the specials are not first.
  static Vocabulary from_text(std::string_view text) {
    Vocabulary v;
    std::size_t start = 0, line = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      const std::string tok(text.substr(start, end - start));
      if (line < std::size_t(kSpecialTokens)) {
        if (tok != v.tokens_[line])
          throw invalid_argument(
              "text", argument_problem::out_of_range,
              "line " + std::to_string(line + 1) + " must be " + v.tokens_[line] + ", got '" + tok + "'");
      } else if (!tok.empty()) {
        v.add(tok);
      }
      ++line;
      start = end + 1;
    }
    return v;
  }

  int size() const { return int(tokens_.size()); }
  int id(const std::string& token) const {
    const auto it = index_.find(token);
    return it == index_.end() ? kUnkId : it->second;
  }
  bool contains(const std::string& token) const { return index_.count(token) > 0; }
  const std::string& token(int id) const { return tokens_.at(std::size_t(id)); }

  /// Ids of a text's words ([UNK] for unknown ones).
  std::vector<int> ids(std::string_view text, int* unknown = nullptr) const {
    std::vector<int> out;
    for (const auto& w : basic_tokenize(text)) {
      const int i = id(w);
      if (i == kUnkId && unknown) ++*unknown;
      out.push_back(i);
    }
    return out;
  }

  /// [CLS] s1 [SEP] (s2 [SEP]) with truncation (longest first; s2 loses a
  /// token on ties) and padding to max_length. Pass an empty s2 for single
  /// sentences. Throws invalid_argument when max_length cannot hold the specials.
  Encoding encode(std::string_view s1, std::string_view s2, int max_length) const {
    const bool pair = !s2.empty();
    const int specials = pair ? 3 : 2;
    if (max_length < specials + (pair ? 2 : 1))
      throw invalid_argument(
          "max_length", argument_problem::out_of_range,
          "must be at least " + std::to_string(specials + (pair ? 2 : 1)) + ", got " + std::to_string(max_length));
    Encoding e;
    std::vector<int> a = ids(s1, &e.unknown);
    std::vector<int> b = pair ? ids(s2, &e.unknown) : std::vector<int>{};
    while (int(a.size() + b.size()) + specials > max_length) {
      e.truncated = true;
      if (b.size() >= a.size() && !b.empty())
        b.pop_back();
      else
        a.pop_back();
    }
    e.input_ids.push_back(kClsId);
    e.input_ids.insert(e.input_ids.end(), a.begin(), a.end());
    e.input_ids.push_back(kSepId);
    e.segment_ids.assign(e.input_ids.size(), 0);
    if (pair) {
      e.input_ids.insert(e.input_ids.end(), b.begin(), b.end());
      e.input_ids.push_back(kSepId);
      e.segment_ids.resize(e.input_ids.size(), 1);
    }
    e.length = int(e.input_ids.size());
    e.attention_mask.assign(e.input_ids.size(), 1);
    e.input_ids.resize(std::size_t(max_length), kPadId);
    e.segment_ids.resize(std::size_t(max_length), 0);
    e.attention_mask.resize(std::size_t(max_length), 0);
    return e;
  }

 private:
  void add(const std::string& t) {
    if (index_.count(t)) return;
    index_.emplace(t, int(tokens_.size()));
    tokens_.push_back(t);
  }

  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int> index_;
};

}  // namespace scalora::tasks
