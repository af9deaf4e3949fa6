// SPDX-License-Identifier: Apache-2.0
// syn-sst2: binary sentiment of one sentence (SST-2 layout).
//
// relational family (the rank dial): "the <nonce noun> was (not) (very)
//   <nonce adjective> ." with contextual polarity sign(u_adj . v_noun), U, V
//   Gaussian of width m; negation flips it; neutral clauses around it carry
//   no sentiment. Label = polarity XOR negated.
// lexical family (low-rank control): clauses "the <aspect> was (not)
//   (intensifier) <real adjective>", valence sampled per occurrence (mean +
//   spread * normal), times the intensifier, sign flipped by negation; "and"
//   adds clause scores, "but" gives 0.25 * (score so far) + 0.75 * clause.
//   Label = score > 0; records with |score| < 0.5 are dropped.
#pragma once

#include "scalora/tasks/task.hpp"

namespace scalora::tasks::detail {

class Sst2Task final : public TaskImpl {
 public:
  explicit Sst2Task(const TaskConfig& c)
      : TaskImpl(c), polarity_(sign_relation()) {
    hold_out_pairs(false);
  }

  /// Contextual polarity of nonce adjective a with nonce noun n (1 positive).
  int polarity(int adjective, int noun) const { return polarity_(adjective, noun); }
  const SignRelation& relation() const { return polarity_; }

  std::optional<Example> attempt(Stream& rng, Split target) const override {
    const int label = int(rng.below(2));
    return relational_draw(rng) ? relational(rng, target, label) : lexical(rng, target, label);
  }

 private:
  std::optional<Example> relational(Stream& rng, Split target, int label) const {
    const bool negated = rng.bernoulli(0.3);
    const int intensifier = rng.bernoulli(0.4) ? int(rng.below(std::size(lexicon_data::kIntensifiers))) : -1;
    const int value = label ^ int(negated);
    const auto [adjective, noun] = pick_pair(rng, polarity_, config_.items, config_.items, value, false);
    const std::uint64_t record = record_hash(task_id_, {0, adjective, noun, negated, intensifier});
    if (router_.route(record, adjective, noun) != target) return std::nullopt;

    // Surface (drawn after acceptance).
    NounPhrase subject;
    subject.noun = nonce_noun(noun);
    if (rng.bernoulli(0.25)) subject.adjectives.push_back(descriptive_adjective(rng));
    const Tense tense = rng.bernoulli(0.7) ? Tense::past : Tense::present;
    Tokens core = realize(subject);
    append(core, be_group(tense, Number::singular, negated));
    if (intensifier >= 0) core.push_back(lexicon_data::kIntensifiers[intensifier].word);
    core.push_back(nonce_adjective(adjective));

    Tokens out;
    const int frame = int(rng.below(5));
    if (frame == 0) {
      out = core;
    } else if (frame == 1) {
      out = {"i", "thought", "that"};
      append(out, core);
    } else if (frame == 2) {
      out = neutral_clause(rng);
      append(out, {",", "and"});
      append(out, core);
    } else if (frame == 3) {
      out = core;
      append(out, {",", "and"});
      append(out, neutral_clause(rng));
    } else {
      out = neutral_clause(rng);
      out.push_back("but");
      append(out, core);
    }
    return make_example(sentence_text(out), "", label, "relational", record, adjective, noun);
  }

  std::optional<Example> lexical(Stream& rng, Split target, int label) const {
    // Record: clauses (aspect, adjective, negated, intensifier, valence draw) and connectors.
    struct Clause {
      int aspect, adjective, intensifier;
      bool negated, but;
      double valence;
    };
    for (int tries = 0; tries < 1000; ++tries) {
      const int n = 1 + int(rng.below(3));
      std::vector<Clause> clauses;
      double score = 0;
      std::uint64_t record = record_hash(task_id_, {1, n});
      const auto& groups = adjective_groups();
      for (int k = 0; k < n; ++k) {
        Clause c{};
        c.aspect = random_noun(rng, NounKind::aspect);
        const double kind = rng.uniform();
        c.adjective = kind < 0.42 ? rng.choice(groups.positive)
                                  : (kind < 0.84 ? rng.choice(groups.negative) : rng.choice(groups.descriptive));
        c.intensifier = rng.bernoulli(0.3) ? int(rng.below(std::size(lexicon_data::kIntensifiers))) : -1;
        c.negated = rng.bernoulli(0.25);
        c.but = k > 0 && rng.bernoulli(0.4);
        const auto& a = lexicon_data::kAdjectives[c.adjective];
        c.valence = a.valence + a.spread * rng.normal();
        double s = c.valence * (c.intensifier >= 0 ? lexicon_data::kIntensifiers[c.intensifier].factor : 1.0);
        if (c.negated) s = -s;
        score = c.but ? 0.25 * score + 0.75 * s : score + s;
        record = hash_combine(record, std::uint64_t(c.aspect * 1000003 + c.adjective * 1009 + c.intensifier + 1));
        record = hash_combine(record, std::uint64_t(int(c.negated) + 2 * int(c.but)));
        record = hash_combine(record, std::uint64_t(std::int64_t(c.valence * 65536.0)));
        clauses.push_back(c);
      }
      if (std::abs(score) < 0.5 || int(score > 0) != label) continue;
      if (router_.route(record, -1, -1) != target) return std::nullopt;

      Tokens out;
      for (int k = 0; k < n; ++k) {
        const Clause& c = clauses[std::size_t(k)];
        if (k > 0) {
          if (c.but)
            out.push_back("but");
          else
            append(out, {",", "and"});
        }
        NounPhrase subject;
        subject.noun = real_noun(c.aspect);
        append(out, realize(subject));
        append(out, be_group(Tense::past, Number::singular, c.negated));
        if (c.intensifier >= 0) out.push_back(lexicon_data::kIntensifiers[c.intensifier].word);
        out.push_back(lexicon_data::kAdjectives[c.adjective].word);
      }
      if (rng.bernoulli(0.3)) {
        append(out, {",", "and"});
        append(out, neutral_clause(rng));
      }
      return make_example(sentence_text(out), "", label, "lexical", record);
    }
    return std::nullopt;
  }

  SignRelation polarity_;
};

}  // namespace scalora::tasks::detail
