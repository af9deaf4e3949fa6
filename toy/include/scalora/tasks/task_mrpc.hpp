// SPDX-License-Identifier: Apache-2.0
// syn-mrpc: paraphrase pairs (MRPC layout, ~68% positive).
//
// relational family (the rank dial): learned synonymy. K nonce nouns fall in
//   m synonym classes (R = Z Z^T with one-hot Z, rank exactly m). Sentence 2
//   is a meaning-preserving transform (active/passive, fronting) of sentence
//   1 with its nonce noun i replaced by j != i: paraphrase iff class(i) ==
//   class(j). Both classes have the same word overlap. The hold-out never
//   takes the pairs of a path through each class (its members in id order),
//   so every synonym stays learnable from train by transitivity; the other
//   positive pairs of a class of size s are held out with probability
//   f s / (s - 2), so that a fraction f of all positive pairs is held out, as
//   for negative pairs (needs s >= 3: items >= 3 rank_dial).
// roles family (low-rank control): PAWS-style pairs over real words with the
//   same bag of words; sentence 2 is a transform of sentence 1 (paraphrase)
//   or of its role swap (not a paraphrase).
#pragma once

#include "scalora/tasks/task.hpp"

namespace scalora::tasks::detail {

class MrpcTask final : public TaskImpl {
 public:
  explicit MrpcTask(const TaskConfig& c) : TaskImpl(c), classes_(c.seed, task_id_, c.items, c.rank_dial) {
    hold_out_pairs(true);
  }

  const SynonymClasses& relation() const { return classes_; }

  std::optional<Example> attempt(Stream& rng, Split target) const override {
    const int label = rng.bernoulli(0.68) ? 1 : 0;
    return relational_draw(rng) ? relational(rng, target, label) : roles(rng, target, label);
  }

  /// The pair hold-out of the synonym relation (see the file comment).
  bool held_out_pair(int i, int j) const {
    if (classes_(i, j) == 0) return router_.holdout().held_out(i, j);
    if (on_class_path(i, j)) return false;
    const double s = double(classes_.members(classes_.class_of(i)).size());
    const double p = std::min(0.95, router_.holdout().fraction() * s / (s - 2));
    Stream rng(stream_key(config_.seed, hash_combine(task_id_, 0x48), std::uint64_t(std::min(i, j)),
                          std::uint64_t(std::max(i, j))));
    return rng.uniform() < p;
  }

  /// true when i and j are neighbours on their class's path (members in id order).
  bool on_class_path(int i, int j) const {
    if (classes_(i, j) == 0) return false;
    const auto& members = classes_.members(classes_.class_of(i));
    for (std::size_t k = 0; k + 1 < members.size(); ++k)
      if ((members[k] == i && members[k + 1] == j) || (members[k] == j && members[k + 1] == i)) return true;
    return false;
  }

 private:
  std::optional<Example> relational(Stream& rng, Split target, int label) const {
    const int K = config_.items;
    const int i = int(rng.below(std::uint64_t(K)));
    int j = i;
    if (label == 1) {
      const auto& members = classes_.members(classes_.class_of(i));
      while (j == i) j = rng.choice(members);
    } else {
      while (classes_(i, j) == 1) j = int(rng.below(std::uint64_t(K)));
    }
    const Substitution pair = draw_substitution(rng, task_id_, i, j);
    const bool use_pairs = router_.holdout().fraction() > 0;
    const bool held_out = use_pairs && held_out_pair(i, j);
    if (router_.route_decided(pair.record, use_pairs, held_out) != target) return std::nullopt;
    return realize_substitution(rng, pair, label);
  }

  std::optional<Example> roles(Stream& rng, Split target, int label) const {
    Event event = random_event(rng, NounKind::person);
    NounPhrase patient = random_person(rng);
    while (join(realize(patient)) == join(realize(event.agent))) patient = random_person(rng);
    const std::uint64_t record =
        record_hash(task_id_, {1, label, event.verb, phrase_id(event.agent), phrase_id(patient)});
    if (router_.route(record, -1, -1) != target) return std::nullopt;

    const auto [f1, f2] = two_forms(rng);
    Event swapped = event;
    if (label == 0) swapped.agent = patient;
    const NounPhrase& patient2 = label == 0 ? event.agent : patient;
    return make_example(sentence_text(realize_event(event, patient, f1)),
                        sentence_text(realize_event(swapped, patient2, f2)), label, "roles", record);
  }

  SynonymClasses classes_;
};

}  // namespace scalora::tasks::detail
