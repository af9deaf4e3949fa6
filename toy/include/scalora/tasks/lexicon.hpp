// SPDX-License-Identifier: Apache-2.0
// Lexicon access for the syn-* generators: the real words of lexicon_data.hpp
// grouped for the grammar, and the fixed block of nonce words ("blick", "dax",
// ...) reserved for the rank-dial relations.
//
// The nonce block does not depend on any seed: it is part of the closed
// vocabulary. Nouns and adjectives are bare stems; each nonce verb has three
// forms (stem, stem+"s", stem+"ed"). Every form is distinct from every real
// word and from every other nonce form.
#pragma once

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "scalora/tasks/lexicon_data.hpp"
#include "scalora/tasks/random.hpp"
#include "scalora/tasks/text.hpp"

namespace scalora::tasks {

using lexicon_data::AdjectiveKind;
using lexicon_data::Frame;
using lexicon_data::Gender;
using lexicon_data::NounKind;

inline constexpr int kNonceNouns = 512;
inline constexpr int kNonceAdjectives = 256;
inline constexpr int kNonceVerbs = 256;

/// The nonce block. verbs_* are parallel arrays (base, 3rd singular, past).
struct NonceWords {
  std::vector<std::string> nouns;
  std::vector<std::string> adjectives;
  std::vector<std::string> verbs_base;
  std::vector<std::string> verbs_third;
  std::vector<std::string> verbs_past;
};

namespace detail {

/// Every form of every real word, including closed-class words.
inline std::set<std::string> real_word_forms() {
  std::set<std::string> s;
  for (const auto& n : lexicon_data::kNouns) {
    s.insert(n.singular);
    s.insert(n.plural);
  }
  for (const auto& v : lexicon_data::kVerbs) {
    s.insert(v.base);
    s.insert(v.third);
    s.insert(v.past);
    s.insert(v.participle);
  }
  for (const auto& a : lexicon_data::kAdjectives) s.insert(a.word);
  for (const auto& i : lexicon_data::kIntensifiers) s.insert(i.word);
  for (const auto& n : lexicon_data::kNames) s.insert(n.name);
  for (const char* w : lexicon_data::kPlacePrepositions) s.insert(w);
  for (const char* w : lexicon_data::kAdverbs) s.insert(w);
  for (const char* w : lexicon_data::kDays) s.insert(w);
  for (const char* w : lexicon_data::kFunctionWords) s.insert(w);
  for (const char* phrase : lexicon_data::kTimePhrases)
    for (std::string_view w : split_on(phrase, ' ')) s.insert(std::string(w));
  return s;
}

inline NonceWords build_nonce_words() {
  // Classic nonce words first (nouns), then two-syllable CV-CVC stems in a
  // fixed pseudo-random order.
  static const char* const classic[] = {"blick", "dax",  "wug",    "fep",    "toma", "zib",    "lorp",
                                        "pilk",  "modi", "tulver", "gazzer", "zorb", "fendle", "glorp",
                                        "snib",  "tove", "kiki",   "bouba",  "jarb", "tupa"};
  static const char* const onsets[] = {"b",  "d",  "f",  "g",  "k",  "l",  "m",  "n",  "p",  "r",
                                       "s",  "t",  "v",  "z",  "bl", "br", "dr", "fl", "gr", "kl",
                                       "pl", "pr", "sk", "sn", "st", "tr", "sp", "gl", "j",  "w"};
  static const char* const vowels[] = {"a", "e", "i", "o", "u"};
  static const char* const codas[] = {"b", "d", "g", "k", "l", "m", "n", "p", "t", "nd", "mp", "lk", "rk", "sk"};
  constexpr std::uint64_t n_onsets = std::size(onsets), n_vowels = std::size(vowels), n_codas = std::size(codas);

  std::set<std::string> used = real_word_forms();
  NonceWords out;
  auto take = [&](const std::vector<std::string>& forms) {
    for (const auto& f : forms)
      if (used.count(f)) return false;
    for (const auto& f : forms) used.insert(f);
    return true;
  };
  for (const char* w : classic)
    if (int(out.nouns.size()) < kNonceNouns && take({w})) out.nouns.push_back(w);

  std::uint64_t counter = 0;
  auto next_stem = [&] {
    const std::uint64_t h = mix64(0x6e6f6e6365ULL + counter++);  // "nonce"
    std::uint64_t x = h;
    const char* o1 = onsets[x % n_onsets];
    x /= n_onsets;
    const char* v1 = vowels[x % n_vowels];
    x /= n_vowels;
    const char* o2 = onsets[x % n_onsets];
    x /= n_onsets;
    const char* v2 = vowels[x % n_vowels];
    x /= n_vowels;
    const char* c2 = codas[x % n_codas];
    x /= n_codas;
    // One syllable (CVC) a quarter of the time, two syllables otherwise.
    if (x % 4 == 0) return std::string(o1) + v1 + c2;
    return std::string(o1) + v1 + o2 + v2 + c2;
  };
  while (int(out.nouns.size()) < kNonceNouns) {
    const std::string s = next_stem();
    if (take({s})) out.nouns.push_back(s);
  }
  while (int(out.adjectives.size()) < kNonceAdjectives) {
    const std::string s = next_stem();
    if (take({s})) out.adjectives.push_back(s);
  }
  while (int(out.verbs_base.size()) < kNonceVerbs) {
    const std::string s = next_stem();
    if (s.back() == 'k' && s.size() >= 2 && s[s.size() - 2] == 's') continue;  // no "-sks"
    if (take({s, s + "s", s + "ed"})) {
      out.verbs_base.push_back(s);
      out.verbs_third.push_back(s + "s");
      out.verbs_past.push_back(s + "ed");
    }
  }
  return out;
}

}  // namespace detail

/// The nonce block (built once; thread-safe static initialisation).
inline const NonceWords& nonce_words() {
  static const NonceWords words = detail::build_nonce_words();
  return words;
}

/// Indices into lexicon_data::kNouns of the nouns of one kind.
inline const std::vector<int>& nouns_of_kind(NounKind kind) {
  static const auto table = [] {
    std::array<std::vector<int>, 7> t;
    for (int i = 0; i < int(std::size(lexicon_data::kNouns)); ++i)
      t[std::size_t(lexicon_data::kNouns[i].kind)].push_back(i);
    return t;
  }();
  return table[std::size_t(kind)];
}

/// Indices of the nouns whose kind is in a mask.
inline std::vector<int> nouns_in_mask(std::uint8_t mask) {
  std::vector<int> out;
  for (int i = 0; i < int(std::size(lexicon_data::kNouns)); ++i)
    if (mask & lexicon_data::bit(lexicon_data::kNouns[i].kind)) out.push_back(i);
  return out;
}

/// Indices into lexicon_data::kVerbs with a frame.
inline const std::vector<int>& verbs_with_frame(Frame frame) {
  static const auto table = [] {
    std::array<std::vector<int>, 2> t;
    for (int i = 0; i < int(std::size(lexicon_data::kVerbs)); ++i)
      t[std::size_t(lexicon_data::kVerbs[i].frame)].push_back(i);
    return t;
  }();
  return table[std::size_t(frame)];
}

/// Index of a real verb (by base form) or noun (by singular); -1 when absent.
inline int find_verb(std::string_view base) {
  for (int i = 0; i < int(std::size(lexicon_data::kVerbs)); ++i)
    if (base == lexicon_data::kVerbs[i].base) return i;
  return -1;
}
inline int find_noun(std::string_view singular) {
  for (int i = 0; i < int(std::size(lexicon_data::kNouns)); ++i)
    if (singular == lexicon_data::kNouns[i].singular) return i;
  return -1;
}

/// Indices into lexicon_data::kAdjectives: positive, negative, descriptive.
struct AdjectiveGroups {
  std::vector<int> positive, negative, descriptive;
};
inline const AdjectiveGroups& adjective_groups() {
  static const AdjectiveGroups g = [] {
    AdjectiveGroups out;
    for (int i = 0; i < int(std::size(lexicon_data::kAdjectives)); ++i) {
      const auto& a = lexicon_data::kAdjectives[i];
      if (a.kind == AdjectiveKind::descriptive)
        out.descriptive.push_back(i);
      else if (a.valence > 0)
        out.positive.push_back(i);
      else
        out.negative.push_back(i);
    }
    return out;
  }();
  return g;
}

}  // namespace scalora::tasks
