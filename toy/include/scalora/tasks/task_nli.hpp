// SPDX-License-Identifier: Apache-2.0
// syn-rte (two-way, RTE layout) and syn-mnli (three-way, MNLI layout):
// entailment through a learned lexical relation and monotonicity.
//
// The relation: "every i is a j" between nonce nouns, R_ij = [u_i . v_j > 0]
// with U, V Gaussian of width m (asymmetric, sign-rank <= m; not transitive).
// Premise and hypothesis are the same clause with nonce noun i, resp. j. In
// an upward context ("the farmer saw a dax", "a dax slept") the premise
// entails the hypothesis iff R_ij; in a downward one ("did not see a dax",
// "no dax slept", "every dax slept") iff R_ji.
// syn-rte: same polarity in both sentences; entailment (0) iff the relation
//   holds in the context's direction, else not_entailment (1); premises may
//   carry a distractor sentence. Small data by default.
// syn-mnli: the hypothesis may flip polarity ("saw" vs "did not see", "a" vs
//   "no"): entailment (0) = relation and same polarity, contradiction (2) =
//   relation and flipped polarity, neutral (1) = no relation. Genres are
//   lexical domains of the context words; two are held out (mismatched).
// Both use the relation for every example (relational_fraction is ignored).
#pragma once

#include "scalora/tasks/task.hpp"

namespace scalora::tasks::detail {

struct Genre {
  const char* name;
  std::vector<const char*> people;
  std::vector<const char*> places;
};

/// MNLI genres; the last two are held out for the mismatched splits.
inline const std::vector<Genre>& nli_genres() {
  static const std::vector<Genre> genres = {
      {"farm", {"farmer", "hunter", "worker"}, {"farm", "barn", "village", "hill", "garden"}},
      {"city",
       {"driver", "officer", "clerk", "manager", "customer"},
       {"city", "street", "station", "market", "shop", "office"}},
      {"school", {"teacher", "student", "child", "boy", "girl"}, {"school", "library", "hall", "park"}},
      {"kitchen", {"cook", "chef", "baker", "waiter", "guest"}, {"kitchen", "hotel", "market", "house"}},
      {"travel", {"pilot", "tourist", "visitor", "driver"}, {"airport", "hotel", "station", "island", "bridge"}},
      {"sea", {"sailor", "hunter", "soldier"}, {"harbor", "beach", "island", "lake", "river"}},
      {"arts",
       {"artist", "painter", "singer", "dancer", "actor", "poet", "author"},
       {"museum", "hall", "castle", "church"}},
  };
  return genres;
}
inline constexpr int kMatchedGenres = 5;

class NliTask final : public TaskImpl {
 public:
  /// Contexts: object/subject position, upward or downward.
  enum Context { object_up, object_down, subject_a, subject_no, subject_every };
  static constexpr const char* kContextNames[] = {"object", "object_negated", "subject_a", "subject_no",
                                                  "subject_every"};

  explicit NliTask(const TaskConfig& c)
      : TaskImpl(c), hyponym_(sign_relation()) {
    hold_out_pairs(false);
  }

  /// 1 when "every i is a j".
  int entails(int i, int j) const { return hyponym_(i, j); }
  const SignRelation& relation() const { return hyponym_; }

  std::optional<Example> attempt(Stream& rng, Split target) const override {
    return config_.task == TaskKind::rte ? rte(rng, target) : mnli(rng, target);
  }

 private:
  static bool upward(Context c) { return c == object_up || c == subject_a; }

  /// (premise item, hypothesis item) with the relation value `value` in the
  /// direction of the premise's polarity; also returns the ordered relation pair.
  std::pair<std::pair<int, int>, std::pair<int, int>> items(Stream& rng, bool up, int value) const {
    const auto ab = pick_pair(rng, hyponym_, config_.items, config_.items, value, true);
    return {up ? ab : std::make_pair(ab.second, ab.first), ab};
  }

  /// The clause of a context with nonce item `item` and polarity `positive`.
  static Tokens clause(Context shape, bool positive, int item, const NounPhrase& agent, int verb, const Tokens& tail) {
    NounPhrase np;
    np.noun = nonce_noun(item);
    if (shape == object_up || shape == object_down) {
      np.det = "a";
      return active_clause(agent, real_verb(verb), Tense::past, !positive, &np, tail);
    }
    np.det = positive ? (shape == subject_every ? "every" : "a") : "no";
    Tokens out = realize(np);
    out.push_back(lexicon_data::kVerbs[verb].past);
    append(out, tail);
    return out;
  }

  static int object_verb(Stream& rng) {
    static const std::vector<int> verbs = [] {
      std::vector<int> out;
      for (int v : verbs_with_frame(Frame::transitive))
        if (lexicon_data::kVerbs[v].objects & lexicon_data::bit(NounKind::artifact)) out.push_back(v);
      return out;
    }();
    return rng.choice(verbs);
  }

  std::optional<Example> rte(Stream& rng, Split target) const {
    const int label = int(rng.below(2));  // 0 entailment, 1 not_entailment
    const Context context = Context(rng.below(5));
    const bool up = upward(context);
    const auto [ph, ab] = items(rng, up, label == 0 ? 1 : 0);
    const bool object = context == object_up || context == object_down;
    const NounPhrase agent = random_person(rng);
    const int verb = object ? object_verb(rng) : rng.choice(verbs_with_frame(Frame::intransitive));
    const std::uint64_t record = record_hash(task_id_, {0, ph.first, ph.second, int(context), verb, phrase_id(agent)});
    if (router_.route(record, ab.first, ab.second) != target) return std::nullopt;

    const Tokens tail = neutral_tail(rng);
    const bool positive = context != object_down && context != subject_no;
    std::string premise = sentence_text(clause(context, positive, ph.first, agent, verb, tail));
    const int distractor = int(rng.below(3));  // none, before, after
    if (distractor == 1) premise = sentence_text(neutral_clause(rng)) + " " + premise;
    if (distractor == 2) premise += " " + sentence_text(neutral_clause(rng));
    return make_example(premise, sentence_text(clause(context, positive, ph.second, agent, verb, tail)), label,
                        kContextNames[context], record, ph.first, ph.second);
  }

  std::optional<Example> mnli(Stream& rng, Split target) const {
    const int label = int(rng.below(3));  // 0 entailment, 1 neutral, 2 contradiction
    const bool object = rng.bernoulli(0.5);
    const bool premise_positive = rng.bernoulli(0.5);
    const bool flip = label == 2 || (label == 1 && rng.bernoulli(0.5));
    const auto [ph, ab] = items(rng, premise_positive, label == 1 ? 0 : 1);
    const int genre = int(rng.below(nli_genres().size()));
    const Genre& g = nli_genres()[std::size_t(genre)];
    NounPhrase agent;
    agent.noun = real_noun(find_noun(rng.choice(g.people)));
    agent.number = rng.bernoulli(0.3) ? Number::plural : Number::singular;
    const int verb = object ? object_verb(rng) : rng.choice(verbs_with_frame(Frame::intransitive));
    const std::uint64_t record =
        record_hash(task_id_, {1, ph.first, ph.second, object, premise_positive, flip, genre, verb, phrase_id(agent)});
    if (router_.route(record, ab.first, ab.second, genre >= kMatchedGenres) != target) return std::nullopt;

    Tokens tail;
    if (rng.bernoulli(0.7)) tail = {rng.choice(lexicon_data::kPlacePrepositions), "the", rng.choice(g.places)};
    if (rng.bernoulli(0.3)) append(tail, time_phrase(rng));
    const Context shape = object ? object_up : subject_a;
    return make_example(sentence_text(clause(shape, premise_positive, ph.first, agent, verb, tail)),
                        sentence_text(clause(shape, premise_positive != flip, ph.second, agent, verb, tail)), label,
                        g.name, record, ph.first, ph.second);
  }

  SignRelation hyponym_;
};

}  // namespace scalora::tasks::detail
