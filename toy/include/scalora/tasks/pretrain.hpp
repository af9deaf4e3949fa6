// SPDX-License-Identifier: Apache-2.0
// Masked-LM pre-training text from the syn-* grammar, and BERT masking.
//
// The corpus covers the whole lexicon, nonce words included, but states none
// of the fine-tuning relations: nonce words fill their slots uniformly at
// random, and nonce adjectives never meet sentiment words. Line i opens with
// a sentence on nonce form i mod 1,792 (nouns, adjectives, then each verb's
// base, 3rd-singular and past form), so any 1,792 consecutive lines contain
// every nonce form. The optional
// "distance from pre-training" setting (docs/data.md section 5, rule 3) adds
// fact sentences that state a task's BASE geometry Z0 ("every dax is a
// blick .", "the dax is like the blick ."); fine-tuning with shift_rank = r
// then uses Z1 = Z0 + Delta, rank(Delta) = r.
//
// Masking (BERT): each non-special position is selected with probability
// 0.15; a selected token becomes [MASK] with probability 0.8, a uniformly
// random word with 0.1, and stays with 0.1. Deterministic in (seed, example).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "scalora/tasks/generator.hpp"
#include "scalora/tasks/tokenizer.hpp"

namespace scalora::tasks {

struct PretrainConfig {
  std::uint64_t seed = 1;
  std::size_t documents = 20000;           ///< lines of text, 1-3 sentences each
  std::vector<TaskConfig> relation_facts;  ///< tasks whose base geometry is stated (distance setting)
  double fact_fraction = 0.2;              ///< share of sentences that are facts, when relation_facts is set
};

class PretrainCorpus {
 public:
  /// Throws invalid_argument for bad knobs (syn-mrpc has no geometry to shift).
  explicit PretrainCorpus(const PretrainConfig& config) : config_(config) {
    if (!(config.fact_fraction >= 0 && config.fact_fraction <= 1))
      throw invalid_argument("fact_fraction", argument_problem::out_of_range, "must be in [0, 1]");
    for (const TaskConfig& raw : config.relation_facts) {
      const TaskConfig c = resolved(raw);
      if (c.task == TaskKind::mrpc)
        throw invalid_argument("relation_facts", argument_problem::out_of_range,
                               "syn-mrpc's synonym classes have no base geometry to shift");
      Facts f;
      f.config = c;
      const std::uint64_t id = stream_key(c.seed, hash_string(task_name(c.task)));
      if (c.task == TaskKind::stsb)
        f.kernel = CosineKernel(c.seed, id, c.items, c.rank_dial, c.shift_rank, Geometry::base);
      else
        f.sign = SignRelation(c.seed, id, c.items, c.items, c.rank_dial, c.shift_rank, Geometry::base);
      facts_.push_back(std::move(f));
    }
  }

  std::size_t size() const { return config_.documents; }

  /// Line `index`: 1-3 sentences, each ending in ".".
  std::string document(std::size_t index) const {
    Stream rng(stream_key(config_.seed, hash_string("pretrain"), std::uint64_t(index)));
    const int n = 1 + int(rng.below(3));
    std::string out = detail::sentence_text(focus_sentence(rng, index % kNonceForms));
    for (int k = 1; k < n; ++k) {
      out += ' ';
      const bool fact = !facts_.empty() && rng.bernoulli(config_.fact_fraction);
      out += detail::sentence_text(fact ? fact_sentence(rng) : plain_sentence(rng));
    }
    return out;
  }

 private:
  struct Facts {
    TaskConfig config;
    SignRelation sign;
    CosineKernel kernel;
  };

  static constexpr std::size_t kNonceForms = kNonceNouns + kNonceAdjectives + 3 * kNonceVerbs;

  /// A relation-free sentence on nonce form `k` (see the file comment).
  static Tokens focus_sentence(Stream& rng, std::size_t k) {
    NounPhrase subject = random_person(rng);
    if (k < std::size_t(kNonceNouns)) {
      NounPhrase object;
      object.noun = nonce_noun(int(k));
      object.det = rng.bernoulli(0.5) ? "the" : "a";
      return active_clause(subject, real_verb(rng.choice(verbs_with_frame(Frame::transitive))), Tense::past,
                           rng.bernoulli(0.15), &object, neutral_tail(rng));
    }
    k -= std::size_t(kNonceNouns);
    if (k < std::size_t(kNonceAdjectives)) {
      NounPhrase np = any_noun_phrase(rng);
      Tokens out = realize(np);
      append(out, be_group(rng.bernoulli(0.5) ? Tense::past : Tense::present, np.number, rng.bernoulli(0.15)));
      out.push_back(nonce_adjective(int(k)));
      return out;
    }
    k -= std::size_t(kNonceAdjectives);
    const int verb = int(k / 3), form = int(k % 3);
    // form 0: base (plural subject, present), 1: 3rd singular present, 2: past.
    if (form == 0) subject = random_person(rng, true, false);
    subject.number = form == 0 ? Number::plural : Number::singular;
    NounPhrase object = any_noun_phrase(rng);
    return active_clause(subject, nonce_verb(verb), form == 2 ? Tense::past : Tense::present, false, &object,
                         neutral_tail(rng));
  }

  static NounPhrase any_noun_phrase(Stream& rng) {
    NounPhrase np;
    const double u = rng.uniform();
    if (u < 0.35) {
      np.noun = nonce_noun(int(rng.below(kNonceNouns)));
      np.det = rng.bernoulli(0.5) ? "the" : "a";
    } else if (u < 0.45) {
      np.noun = name_noun(int(rng.below(std::size(lexicon_data::kNames))));
    } else {
      np.noun = real_noun(int(rng.below(std::size(lexicon_data::kNouns))));
      np.number = rng.bernoulli(0.35) ? Number::plural : Number::singular;
      static const char* const sg[] = {"the", "a", "this", "that", "every", "each", "some", "no"};
      static const char* const pl[] = {"the",  "these", "those", "some", "no", "all",
                                       "most", "two",   "three", "many", "few"};
      np.det = np.number == Number::plural ? rng.choice(pl) : rng.choice(sg);
    }
    if (rng.bernoulli(0.15)) np.adjectives.push_back(descriptive_adjective(rng));
    return np;
  }

  static Tokens plain_sentence(Stream& rng) {
    const bool nonce_verb_used = rng.bernoulli(0.3);
    const int kind = int(rng.below(6));
    NounPhrase subject = any_noun_phrase(rng);
    const Tense tense = rng.bernoulli(0.6) ? Tense::past : Tense::present;
    const bool negated = rng.bernoulli(0.15);
    switch (kind) {
      case 0:
      case 1: {  // transitive, real or nonce verb
        NounPhrase object = any_noun_phrase(rng);
        const VerbForms verb = nonce_verb_used ? nonce_verb(int(rng.below(kNonceVerbs)))
                                               : real_verb(rng.choice(verbs_with_frame(Frame::transitive)));
        Tokens tail = neutral_tail(rng);
        if (rng.bernoulli(0.2)) tail.push_back(rng.choice(lexicon_data::kAdverbs));
        if (rng.bernoulli(0.25)) return passive_clause(object, verb, tense, negated, subject, tail);
        return active_clause(subject, verb, tense, negated, &object, tail);
      }
      case 2: {  // intransitive, with a perfect now and then (covers participles)
        const int v = rng.choice(verbs_with_frame(Frame::intransitive));
        Tokens out = realize(subject);
        if (rng.bernoulli(0.25)) {
          const bool sg = subject.number == Number::singular;
          append(out, {tense == Tense::past ? "had" : (sg ? "has" : "have"), lexicon_data::kVerbs[v].participle});
        } else {
          append(out, verb_group(real_verb(v), tense, subject.number, negated));
        }
        if (rng.bernoulli(0.3)) out.push_back(rng.choice(lexicon_data::kAdverbs));
        append(out, neutral_tail(rng));
        return out;
      }
      case 3: {  // perfect of a transitive verb
        const int v = rng.choice(verbs_with_frame(Frame::transitive));
        NounPhrase object = any_noun_phrase(rng);
        Tokens out = realize(subject);
        const bool sg = subject.number == Number::singular;
        append(out, {tense == Tense::past ? "had" : (sg ? "has" : "have"), lexicon_data::kVerbs[v].participle});
        append(out, realize(object));
        return out;
      }
      case 4: {  // copula with a descriptive or nonce adjective (no sentiment words)
        Tokens out = realize(subject);
        append(out, be_group(tense, subject.number, negated));
        if (rng.bernoulli(0.3)) out.push_back(rng.choice(lexicon_data::kIntensifiers).word);
        out.push_back(rng.bernoulli(0.5) ? std::string(nonce_adjective(int(rng.below(kNonceAdjectives))))
                                         : descriptive_adjective(rng));
        if (rng.bernoulli(0.2)) append(out, {"on", rng.choice(lexicon_data::kDays)});
        return out;
      }
      default: {  // real evaluative sentence about a real noun (pre-training-consistent polarity)
        NounPhrase aspect;
        aspect.noun = real_noun(rng.bernoulli(0.5) ? random_noun(rng, NounKind::aspect)
                                                   : int(rng.below(std::size(lexicon_data::kNouns))));
        Tokens out = realize(aspect);
        append(out, be_group(tense, Number::singular, negated));
        if (rng.bernoulli(0.3)) out.push_back(rng.choice(lexicon_data::kIntensifiers).word);
        const auto& g = adjective_groups();
        out.push_back(
            lexicon_data::kAdjectives[rng.bernoulli(0.5) ? rng.choice(g.positive) : rng.choice(g.negative)].word);
        return out;
      }
    }
  }

  Tokens fact_sentence(Stream& rng) const {
    const Facts& f = facts_[rng.below(facts_.size())];
    const int K = f.config.items;
    const int i = int(rng.below(std::uint64_t(K)));
    int j = int(rng.below(std::uint64_t(K)));
    switch (f.config.task) {
      case TaskKind::sst2: {  // the <noun j> was <adjective i> , which was good / bad
        Tokens out{"the", nonce_words().nouns[std::size_t(j)], "was", nonce_adjective(i), ",", "which", "was"};
        out.push_back(f.sign(i, j) ? "good" : "bad");
        return out;
      }
      case TaskKind::cola: {  // only acceptable verb-object pairs are attested
        const auto [v, n] = detail::pick_pair(rng, f.sign, K, K, 1, false);
        NounPhrase object;
        object.noun = nonce_noun(n);
        return active_clause(random_person(rng), nonce_verb(v), Tense::past, false, &object);
      }
      case TaskKind::stsb: {
        while (j == i) j = int(rng.below(std::uint64_t(K)));
        const double gain = std::max(1.0, std::sqrt(double(f.config.rank_dial)) / 2.0);
        const double s = gain * f.kernel(i, j);
        Tokens out{"the", nonce_words().nouns[std::size_t(i)], "is"};
        if (s > 0.33)
          out.push_back("like");
        else if (s < -0.33)
          out.push_back("unlike");
        else
          append(out, {"a", "bit", "like"});
        append(out, {"the", nonce_words().nouns[std::size_t(j)]});
        return out;
      }
      default: {  // rte, mnli: every <i> is a <j>, for R0(i, j) = 1
        const auto [a, b] = detail::pick_pair(rng, f.sign, K, K, 1, true);
        NounPhrase hyper;
        hyper.noun = nonce_noun(b);
        hyper.det = "a";
        Tokens out{"every", nonce_words().nouns[std::size_t(a)], "is"};
        append(out, realize(hyper));
        return out;
      }
    }
  }

  PretrainConfig config_;
  std::vector<Facts> facts_;
};

inline constexpr int kIgnoreLabel = -100;

/// Masked input and the targets (kIgnoreLabel where nothing is predicted).
struct MaskedTokens {
  std::vector<int> input_ids;
  std::vector<int> labels;
};

/// BERT masking of `ids` (special ids < kSpecialTokens are never selected),
/// a deterministic function of (seed, example_index, ids).
inline MaskedTokens mask_tokens(const std::vector<int>& ids, int vocab_size, std::uint64_t seed,
                                std::uint64_t example_index, double rate = 0.15) {
  if (vocab_size <= kSpecialTokens)
    throw invalid_argument("vocab_size", argument_problem::out_of_range, "must exceed the 5 special tokens");
  if (!(rate >= 0 && rate <= 1)) throw invalid_argument("rate", argument_problem::out_of_range, "must be in [0, 1]");
  Stream rng(stream_key(seed, hash_string("mlm-mask"), example_index));
  MaskedTokens out{ids, std::vector<int>(ids.size(), kIgnoreLabel)};
  for (std::size_t k = 0; k < ids.size(); ++k) {
    if (ids[k] < kSpecialTokens) continue;
    if (!rng.bernoulli(rate)) continue;
    out.labels[k] = ids[k];
    const double u = rng.uniform();
    if (u < 0.8)
      out.input_ids[k] = kMaskId;
    else if (u < 0.9)
      out.input_ids[k] = kSpecialTokens + int(rng.below(std::uint64_t(vocab_size - kSpecialTokens)));
  }
  return out;
}

}  // namespace scalora::tasks
