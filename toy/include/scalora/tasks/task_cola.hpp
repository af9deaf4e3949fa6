// SPDX-License-Identifier: Apache-2.0
// syn-cola: acceptability of one sentence (CoLA layout, ~70% acceptable).
//
// relational family (the rank dial): idiosyncratic selection. A nonce verb
//   takes a nonce object: "the farmer blicked the dax ." is acceptable iff
//   u_verb . w_noun > 0 (U, W Gaussian of width m); tense, number, negation,
//   voice and modifiers vary and do not change acceptability.
// structural families (low-rank control), each a typed violation with its
//   grammatical twin: agreement (with attractors), determiner (this/these,
//   a/an), reflexive, npi ("ever" without a licensor), argument (frame
//   violations), word_order (adjacent swap). The CoLA `source` column holds
//   the family.
#pragma once

#include "scalora/tasks/task.hpp"

namespace scalora::tasks::detail {

class ColaTask final : public TaskImpl {
 public:
  explicit ColaTask(const TaskConfig& c)
      : TaskImpl(c), selection_(sign_relation()) {
    hold_out_pairs(false);
  }

  /// 1 when nonce verb v selects nonce noun n as its object.
  int selects(int verb, int noun) const { return selection_(verb, noun); }
  const SignRelation& relation() const { return selection_; }

  static constexpr const char* kFamilies[] = {"agreement", "determiner", "reflexive", "npi", "argument", "word_order"};

  std::optional<Example> attempt(Stream& rng, Split target) const override {
    const int label = rng.bernoulli(0.7) ? 1 : 0;
    if (relational_draw(rng)) return relational(rng, target, label);
    const int family = int(rng.below(std::size(kFamilies)));
    const std::uint64_t record = record_hash(task_id_, {1, family, label, std::int64_t(rng.next() >> 1)});
    if (router_.route(record, -1, -1) != target) return std::nullopt;
    return make_example(sentence_text(structural(rng, family, label == 1)), "", label, kFamilies[family], record);
  }

 private:
  std::optional<Example> relational(Stream& rng, Split target, int label) const {
    const auto [verb, noun] = pick_pair(rng, selection_, config_.items, config_.items, label, false);
    const NounPhrase agent = random_person(rng);
    const Tense tense = rng.bernoulli(0.6) ? Tense::past : Tense::present;
    const bool negated = rng.bernoulli(0.2);
    const std::uint64_t record = record_hash(task_id_, {0, verb, noun, phrase_id(agent), int(tense), negated});
    if (router_.route(record, verb, noun) != target) return std::nullopt;

    NounPhrase object;
    object.noun = nonce_noun(noun);
    if (rng.bernoulli(0.2)) object.adjectives.push_back(descriptive_adjective(rng));
    const Tokens tail = neutral_tail(rng);
    Tokens out = rng.bernoulli(0.25) ? passive_clause(object, nonce_verb(verb), tense, negated, agent, tail)
                                     : active_clause(agent, nonce_verb(verb), tense, negated, &object, tail);
    return make_example(sentence_text(out), "", label, "relational", record, verb, noun);
  }

  static NounPhrase common_np(Stream& rng, NounKind kind, Number number, const char* det = "the") {
    NounPhrase np;
    np.noun = real_noun(random_noun(rng, kind));
    np.number = number;
    np.det = det;
    return np;
  }
  static Number flip(Number n) { return n == Number::singular ? Number::plural : Number::singular; }
  static Number random_number(Stream& rng) { return rng.bernoulli(0.5) ? Number::plural : Number::singular; }

  /// A grammatical transitive clause "the dog chased the cat" (past tense).
  static Tokens simple_clause(Stream& rng, Tense tense = Tense::past) {
    const int v = rng.choice(verbs_with_frame(Frame::transitive));
    const auto& entry = lexicon_data::kVerbs[v];
    const NounPhrase subject = random_person(rng);
    NounPhrase object;
    object.noun = real_noun(rng.choice(nouns_in_mask(entry.objects)));
    object.number = random_number(rng);
    return active_clause(subject, real_verb(v), tense, false, &object);
  }

  static Tokens structural(Stream& rng, int family, bool ok) {
    switch (family) {
      case 0: {  // agreement: the verb agrees with the head, not the attractor
        const Number number = random_number(rng);
        NounPhrase subject = common_np(rng, rng.bernoulli(0.5) ? NounKind::person : NounKind::animal, number);
        if (rng.bernoulli(0.6)) {
          NounPhrase attractor = common_np(rng, NounKind::place, flip(number));
          subject.post = {rng.choice(lexicon_data::kPlacePrepositions)};
          append(subject.post, realize(attractor));
        }
        const Number verb_number = ok ? number : flip(number);
        Tokens out = realize(subject);
        if (rng.bernoulli(0.5)) {
          append(out, be_group(Tense::present, verb_number, false));
          out.push_back(descriptive_adjective(rng));
        } else {
          const int v = rng.choice(verbs_with_frame(Frame::intransitive));
          append(out, verb_group(real_verb(v), Tense::present, verb_number, false));
        }
        return out;
      }
      case 1: {  // determiner: this/these/that/those and a/an agree with the noun
        const Number number = random_number(rng);
        NounPhrase np = common_np(rng, rng.bernoulli(0.5) ? NounKind::artifact : NounKind::animal, number);
        const bool article = number == Number::singular && rng.bernoulli(0.4);
        Tokens out;
        if (article) {
          const std::string& head = np.noun.singular;
          const bool an = starts_with_vowel(head);
          out = {(an == ok) ? "an" : "a", head};
        } else {
          const bool near = rng.bernoulli(0.5);
          const Number det_number = ok ? number : flip(number);
          const char* det = det_number == Number::singular ? (near ? "this" : "that") : (near ? "these" : "those");
          out = {det, number == Number::singular ? np.noun.singular : np.noun.plural};
        }
        append(out, be_group(Tense::past, number, false));
        out.push_back(descriptive_adjective(rng));
        return out;
      }
      case 2: {  // reflexive: gender and number of himself/herself/themselves
        static const char* const male[] = {"man", "boy", "king", "father", "brother", "uncle"};
        static const char* const female[] = {"woman", "girl", "queen", "mother", "sister", "aunt"};
        const bool plural = rng.bernoulli(0.3);
        const bool is_male = rng.bernoulli(0.5);
        Tokens out;
        if (plural) {
          NounPhrase s = common_np(rng, NounKind::person, Number::plural);
          out = realize(s);
        } else if (rng.bernoulli(0.4)) {
          std::vector<int> names;
          for (int i = 0; i < int(std::size(lexicon_data::kNames)); ++i)
            if ((lexicon_data::kNames[i].gender == Gender::male) == is_male) names.push_back(i);
          out = {lexicon_data::kNames[rng.choice(names)].name};
        } else {
          out = {"the", is_male ? rng.choice(male) : rng.choice(female)};
        }
        static const char* const kReflexiveVerbs[] = {"see", "praise", "admire", "hear", "protect"};
        const int v = find_verb(rng.choice(kReflexiveVerbs));
        append(out, verb_group(real_verb(v), Tense::past, plural ? Number::plural : Number::singular, false));
        const char* right = plural ? "themselves" : (is_male ? "himself" : "herself");
        const char* wrong = plural ? (rng.bernoulli(0.5) ? "himself" : "herself")
                                   : (rng.bernoulli(0.7) ? (is_male ? "herself" : "himself") : "themselves");
        out.push_back(ok ? right : wrong);
        return out;
      }
      case 3: {  // npi: "ever" needs a licensor ("no", "not")
        const int v = rng.choice(verbs_with_frame(Frame::transitive));
        const auto& entry = lexicon_data::kVerbs[v];
        NounPhrase object;
        object.noun = real_noun(rng.choice(nouns_in_mask(entry.objects)));
        const Tokens obj = realize(object);
        Tokens out;
        const int shape = int(rng.below(2));
        if (shape == 0) {  // no N ever V-ed / the N ever V-ed
          out = {ok ? "no" : (rng.bernoulli(0.5) ? "the" : "every"),
                 lexicon_data::kNouns[random_noun(rng, NounKind::person)].singular, "ever", entry.past};
        } else {  // N did not ever V / N did also ever V
          out = realize(random_person(rng, false));
          if (ok)
            append(out, {"did", "not", "ever", entry.base});
          else
            append(out, {rng.bernoulli(0.5) ? "often" : "also", "ever", entry.past});
        }
        append(out, obj);
        return out;
      }
      case 4: {  // argument: intransitive verbs take no object; transitive ones need one
        const NounPhrase subject = random_person(rng);
        const bool use_intransitive = rng.bernoulli(0.5);
        const int v = rng.choice(verbs_with_frame(use_intransitive ? Frame::intransitive : Frame::transitive));
        Tokens out = realize(subject);
        append(out, verb_group(real_verb(v), Tense::past, subject.number, false));
        const bool with_object = use_intransitive ? !ok : ok;
        if (with_object) {
          const std::uint8_t mask = use_intransitive ? lexicon_data::kThings : lexicon_data::kVerbs[v].objects;
          NounPhrase object;
          object.noun = real_noun(rng.choice(nouns_in_mask(mask)));
          append(out, realize(object));
        }
        append(out, place_phrase(rng));
        return out;
      }
      default: {  // word_order: swap two adjacent words of a grammatical clause
        Tokens out = simple_clause(rng);
        if (!ok) {
          // Swap at a position whose two words differ and whose swap is not itself grammatical:
          // determiner-noun or verb-determiner boundaries.
          std::vector<std::size_t> cuts;
          for (std::size_t k = 0; k + 1 < out.size(); ++k)
            if (out[k] == "the" || out[k + 1] == "the") cuts.push_back(k);
          if (cuts.empty()) cuts.push_back(0);
          const std::size_t k = rng.choice(cuts);
          std::swap(out[k], out[k + 1]);
        }
        return out;
      }
    }
  }

  SignRelation selection_;
};

}  // namespace scalora::tasks::detail
