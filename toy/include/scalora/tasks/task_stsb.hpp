// SPDX-License-Identifier: Apache-2.0
// syn-stsb: similarity regression 0-5 (STS-B layout). The sharpest rank dial.
//
// relational family: sentence 2 is a meaning-preserving transform of
//   sentence 1 with nonce noun i replaced by j != i; the score is
//   2.5 + 2.5 clamp(a cos(z_i, z_j), -1, 1) with z in R^m Gaussian and
//   a = max(1, sqrt(m) / 2) (so the score spreads over 0-5 for every m; it is
//   affine in the rank-m cosine kernel wherever the clamp is inactive).
// slots family (low-rank control): real-word events; sentence 2 keeps each
//   slot (agent, verb, object, place) or changes it; score = 5 (0.3 agent +
//   0.3 verb + 0.25 object + 0.15 place).
// Scores are rounded to 3 decimals, as written in the files.
#pragma once

#include <algorithm>
#include <cmath>

#include "scalora/tasks/task.hpp"

namespace scalora::tasks::detail {

/// Round to the 3 decimals the STS-B files carry.
inline double round_score(double s) { return std::round(s * 1000.0) / 1000.0; }

class StsbTask final : public TaskImpl {
 public:
  explicit StsbTask(const TaskConfig& c)
      : TaskImpl(c),
        kernel_(c.seed, task_id_, c.items, c.rank_dial, c.shift_rank),
        gain_(std::max(1.0, std::sqrt(double(c.rank_dial)) / 2.0)) {
    hold_out_pairs(true);
  }

  const CosineKernel& relation() const { return kernel_; }
  /// The clean score of the relational family for nonce nouns i, j.
  double score(int i, int j) const { return round_score(2.5 + 2.5 * std::clamp(gain_ * kernel_(i, j), -1.0, 1.0)); }

  std::optional<Example> attempt(Stream& rng, Split target) const override {
    return relational_draw(rng) ? relational(rng, target) : slots(rng, target);
  }

 private:
  std::optional<Example> relational(Stream& rng, Split target) const {
    const int K = config_.items;
    const int i = int(rng.below(std::uint64_t(K)));
    int j = i;
    while (j == i) j = int(rng.below(std::uint64_t(K)));
    const Substitution pair = draw_substitution(rng, task_id_, i, j);
    if (router_.route(pair.record, i, j) != target) return std::nullopt;
    return realize_substitution(rng, pair, score(i, j));
  }

  std::optional<Example> slots(Stream& rng, Split target) const {
    const Event first = random_event(rng, NounKind::artifact);
    NounPhrase object;
    object.noun = real_noun(random_noun(rng, NounKind::artifact));
    Event second = first;
    NounPhrase object2 = object;
    const bool same_agent = rng.bernoulli(0.5), same_verb = rng.bernoulli(0.5), same_object = rng.bernoulli(0.5),
               same_place = rng.bernoulli(0.5);
    if (!same_agent)
      while (join(realize(second.agent)) == join(realize(first.agent))) second.agent = random_person(rng);
    if (!same_verb)
      while (second.verb == first.verb) second.verb = random_event(rng, NounKind::artifact).verb;
    if (!same_object)
      while (object2.noun.singular == object.noun.singular)
        object2.noun = real_noun(random_noun(rng, NounKind::artifact));
    if (!same_place) {
      if (first.place.empty())
        second.place = place_phrase(rng);
      else
        while (second.place == first.place) second.place = place_phrase(rng);
    }
    const double clean =
        round_score(5.0 * (0.3 * same_agent + 0.3 * same_verb + 0.25 * same_object + 0.15 * same_place));
    const std::uint64_t record =
        record_hash(task_id_, {1, first.verb, second.verb, phrase_id(first.agent), phrase_id(second.agent),
                               std::int64_t(hash_string(object.noun.singular + object2.noun.singular))});
    if (router_.route(record, -1, -1) != target) return std::nullopt;
    const auto [f1, f2] = two_forms(rng);
    return make_example(sentence_text(realize_event(first, object, f1)),
                        sentence_text(realize_event(second, object2, f2)), clean, "slots", record);
  }

  CosineKernel kernel_;
  double gain_;
};

}  // namespace scalora::tasks::detail
