// SPDX-License-Identifier: Apache-2.0
// The small feature grammar of the syn-* generators: noun phrases with number
// and a/an agreement, verb groups with tense, number and negation, passives,
// and the neutral phrases (places, times, fillers) shared by every task.
//
// Output conventions (docs/data.md): lower-case tokens, single spaces,
// punctuation as separate tokens, no tabs or newlines.
#pragma once

#include <string>
#include <vector>

#include "scalora/tasks/lexicon.hpp"
#include "scalora/tasks/text.hpp"

namespace scalora::tasks {

using Tokens = std::vector<std::string>;

enum class Tense { present, past };
enum class Number { singular, plural };

/// A noun's forms. Nonce nouns have no plural (plural is empty); names are proper.
struct NounForms {
  std::string singular;
  std::string plural;
  Gender gender = Gender::neuter;
  bool proper = false;
};

struct VerbForms {
  std::string base, third, past, participle;
};

inline NounForms real_noun(int i) {
  const auto& n = lexicon_data::kNouns[i];
  return {n.singular, n.plural, n.gender, false};
}
inline NounForms nonce_noun(int i) { return {nonce_words().nouns[std::size_t(i)], "", Gender::neuter, false}; }
inline NounForms name_noun(int i) {
  const auto& n = lexicon_data::kNames[i];
  return {n.name, "", n.gender, true};
}
inline VerbForms real_verb(int i) {
  const auto& v = lexicon_data::kVerbs[i];
  return {v.base, v.third, v.past, v.participle};
}
inline VerbForms nonce_verb(int i) {
  const auto& w = nonce_words();
  return {w.verbs_base[std::size_t(i)], w.verbs_third[std::size_t(i)], w.verbs_past[std::size_t(i)],
          w.verbs_past[std::size_t(i)]};
}
inline const char* nonce_adjective(int i) { return nonce_words().adjectives[std::size_t(i)].c_str(); }

/// det, adjectives, head, post-modifier. det "a" becomes "an" before a vowel;
/// det is ignored for proper nouns.
struct NounPhrase {
  NounForms noun;
  Number number = Number::singular;
  std::string det = "the";
  Tokens adjectives;
  Tokens post;
};

inline void append(Tokens& out, const Tokens& more) { out.insert(out.end(), more.begin(), more.end()); }

inline bool starts_with_vowel(const std::string& w) {
  return !w.empty() && (w[0] == 'a' || w[0] == 'e' || w[0] == 'i' || w[0] == 'o' || w[0] == 'u');
}

inline Tokens realize(const NounPhrase& np) {
  Tokens out;
  if (!np.noun.proper) {
    const std::string& head = np.number == Number::plural ? np.noun.plural : np.noun.singular;
    const std::string& next = np.adjectives.empty() ? head : np.adjectives.front();
    if (np.det == "a" && starts_with_vowel(next))
      out.push_back("an");
    else if (!np.det.empty())
      out.push_back(np.det);
    append(out, np.adjectives);
    out.push_back(head);
  } else {
    out.push_back(np.noun.singular);
  }
  append(out, np.post);
  return out;
}

/// "sees" / "see" / "saw"; negated: "does not see" / "do not see" / "did not see".
inline Tokens verb_group(const VerbForms& v, Tense tense, Number subject, bool negated) {
  if (negated) return {tense == Tense::past ? "did" : (subject == Number::singular ? "does" : "do"), "not", v.base};
  if (tense == Tense::past) return {v.past};
  return {subject == Number::singular ? v.third : v.base};
}

/// "is" / "are" / "was" / "were", followed by "not" when negated.
inline Tokens be_group(Tense tense, Number subject, bool negated) {
  const bool sg = subject == Number::singular;
  Tokens out{tense == Tense::past ? (sg ? "was" : "were") : (sg ? "is" : "are")};
  if (negated) out.push_back("not");
  return out;
}

/// subject verb-group [object] [tail].
inline Tokens active_clause(const NounPhrase& subject, const VerbForms& verb, Tense tense, bool negated,
                            const NounPhrase* object, const Tokens& tail = {}) {
  Tokens out = realize(subject);
  append(out, verb_group(verb, tense, subject.number, negated));
  if (object) append(out, realize(*object));
  append(out, tail);
  return out;
}

/// patient be-group participle "by" agent [tail].
inline Tokens passive_clause(const NounPhrase& patient, const VerbForms& verb, Tense tense, bool negated,
                             const NounPhrase& agent, const Tokens& tail = {}) {
  Tokens out = realize(patient);
  append(out, be_group(tense, patient.number, negated));
  out.push_back(verb.participle);
  out.push_back("by");
  append(out, realize(agent));
  append(out, tail);
  return out;
}

/// Joins tokens with single spaces.
inline std::string join(const Tokens& tokens) {
  std::string s;
  for (const auto& t : tokens) {
    if (!s.empty()) s += ' ';
    s += t;
  }
  return s;
}

/// true when text follows the output conventions: non-empty tokens of
/// lower-case letters, digits or punctuation, separated by single spaces.
inline bool well_formed_text(const std::string& text) {
  if (text.empty() || text.front() == ' ' || text.back() == ' ') return false;
  char prev = 0;
  for (char c : text) {
    if (c == ' ' && prev == ' ') return false;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' || c == '.' || c == ',' || c == '?' ||
                    c == '!' || c == '\'' || c == '-';
    if (!ok) return false;
    prev = c;
  }
  return true;
}

// ---- random neutral material (shared by the tasks) ----

/// A real noun of one kind.
inline int random_noun(Stream& rng, NounKind kind) { return rng.choice(nouns_of_kind(kind)); }

/// A person: a name (proper) or "the" + person noun, singular or plural.
inline NounPhrase random_person(Stream& rng, bool allow_plural = true, bool allow_name = true) {
  NounPhrase np;
  if (allow_name && rng.bernoulli(0.3)) {
    np.noun = name_noun(int(rng.below(std::size(lexicon_data::kNames))));
    np.det.clear();
    return np;
  }
  np.noun = real_noun(random_noun(rng, NounKind::person));
  np.number = allow_plural && rng.bernoulli(0.3) ? Number::plural : Number::singular;
  np.det = "the";
  return np;
}

/// "in the park", "near the river", ...
inline Tokens place_phrase(Stream& rng) {
  Tokens out{rng.choice(lexicon_data::kPlacePrepositions), "the"};
  out.push_back(lexicon_data::kNouns[random_noun(rng, NounKind::place)].singular);
  return out;
}

/// "yesterday", "last week", "on monday", ...
inline Tokens time_phrase(Stream& rng) {
  Tokens out;
  for (std::string_view w : detail::split_on(rng.choice(lexicon_data::kTimePhrases), ' ')) out.emplace_back(w);
  return out;
}

/// Optional neutral tail: nothing, a place, a time, or both.
inline Tokens neutral_tail(Stream& rng) {
  Tokens out;
  if (rng.bernoulli(0.4)) append(out, place_phrase(rng));
  if (rng.bernoulli(0.3)) append(out, time_phrase(rng));
  return out;
}

/// A descriptive (valence 0) adjective.
inline std::string descriptive_adjective(Stream& rng) {
  return lexicon_data::kAdjectives[rng.choice(adjective_groups().descriptive)].word;
}

/// A neutral clause with no sentiment and no nonce word, e.g.
/// "we went there on friday", "the farmer found the box in the park".
inline Tokens neutral_clause(Stream& rng) {
  switch (rng.below(3)) {
    case 0: {
      static const char* const pronouns[] = {"we", "i", "they"};
      Tokens out{rng.choice(pronouns), "went", "there"};
      append(out, time_phrase(rng));
      return out;
    }
    case 1: {
      const NounPhrase subject = random_person(rng);
      const auto& transitive = verbs_with_frame(Frame::transitive);
      const int v = rng.choice(transitive);
      NounPhrase object;
      object.noun = real_noun(random_noun(rng, NounKind::artifact));
      object.det = rng.bernoulli(0.5) ? "the" : "a";
      return active_clause(subject, real_verb(v), Tense::past, false, &object, neutral_tail(rng));
    }
    default: {
      NounPhrase subject;
      subject.noun = real_noun(random_noun(rng, NounKind::place));
      Tokens out = realize(subject);
      append(out, be_group(Tense::past, Number::singular, false));
      if (rng.bernoulli(0.3)) out.push_back("very");
      out.push_back(descriptive_adjective(rng));
      return out;
    }
  }
}

// ---- events and their meaning-preserving realisations ----

/// An event with a definite agent, a real transitive verb, optional place and
/// time. Its patient is supplied at realisation.
struct Event {
  NounPhrase agent;
  int verb = 0;
  Tense tense = Tense::past;
  Tokens place;
  Tokens time;
};

/// Realisations that keep the meaning of an event.
enum class EventForm { active, passive, time_fronted, place_fronted };
inline constexpr int kEventForms = 4;

/// A random event whose verb accepts objects of kind `object_kind`.
inline Event random_event(Stream& rng, NounKind object_kind) {
  static const std::vector<int> verbs = [] {
    std::vector<int> out;
    for (int v : verbs_with_frame(Frame::transitive))
      if (lexicon_data::kVerbs[v].objects & lexicon_data::bit(NounKind::artifact)) out.push_back(v);
    return out;
  }();
  static const std::vector<int> person_verbs = [] {
    std::vector<int> out;
    for (int v : verbs_with_frame(Frame::transitive))
      if (lexicon_data::kVerbs[v].objects & lexicon_data::bit(NounKind::person)) out.push_back(v);
    return out;
  }();
  Event e;
  e.agent = random_person(rng);
  e.verb = rng.choice(object_kind == NounKind::person ? person_verbs : verbs);
  e.tense = rng.bernoulli(0.8) ? Tense::past : Tense::present;
  if (rng.bernoulli(0.6)) e.place = place_phrase(rng);
  if (e.tense == Tense::past && rng.bernoulli(0.5)) e.time = time_phrase(rng);
  return e;
}

/// The event with `patient` in one of the meaning-preserving forms. A fronted
/// form without its phrase falls back to the active form.
inline Tokens realize_event(const Event& e, const NounPhrase& patient, EventForm form) {
  const VerbForms verb = real_verb(e.verb);
  Tokens out;
  if (form == EventForm::passive) {
    Tokens tail = e.place;
    append(tail, e.time);
    return passive_clause(patient, verb, e.tense, false, e.agent, tail);
  }
  if (form == EventForm::time_fronted && !e.time.empty()) {
    out = e.time;
    out.push_back(",");
    append(out, active_clause(e.agent, verb, e.tense, false, &patient, e.place));
    return out;
  }
  if (form == EventForm::place_fronted && !e.place.empty()) {
    out = e.place;
    out.push_back(",");
    append(out, active_clause(e.agent, verb, e.tense, false, &patient, e.time));
    return out;
  }
  Tokens tail = e.place;
  append(tail, e.time);
  return active_clause(e.agent, verb, e.tense, false, &patient, tail);
}

/// Two different forms (the second is a paraphrase of the first).
inline std::pair<EventForm, EventForm> two_forms(Stream& rng) {
  const int a = int(rng.below(kEventForms));
  const int b = (a + 1 + int(rng.below(kEventForms - 1))) % kEventForms;
  return {EventForm(a), EventForm(b)};
}

}  // namespace scalora::tasks
