// SPDX-License-Identifier: Apache-2.0
// The committed, hand-written English lexicon of the syn-* generators: words
// with part of speech, inflected forms, selection features and valences.
//
// Written for this project (no package was copied). Valences are our own
// judgements on a -4..4 scale with a per-word spread; they play the role the
// VADER ratings play in docs/data.md and are not taken from VADER.
#pragma once

#include <cstdint>

namespace scalora::tasks::lexicon_data {

enum class NounKind : std::uint8_t { person, animal, food, drink, artifact, place, aspect };
enum class Gender : std::uint8_t { neuter, male, female, either };

/// Bit masks over NounKind for verb selection.
inline constexpr std::uint8_t bit(NounKind k) { return std::uint8_t(1u << unsigned(k)); }
inline constexpr std::uint8_t kAnimate = bit(NounKind::person) | bit(NounKind::animal);
inline constexpr std::uint8_t kThings = bit(NounKind::artifact) | bit(NounKind::food) | bit(NounKind::drink);
inline constexpr std::uint8_t kConcrete = kAnimate | kThings | bit(NounKind::place);

struct NounEntry {
  const char* singular;
  const char* plural;
  NounKind kind;
  Gender gender;
};

inline constexpr NounEntry kNouns[] = {
    // people
    {"farmer", "farmers", NounKind::person, Gender::either},
    {"baker", "bakers", NounKind::person, Gender::either},
    {"teacher", "teachers", NounKind::person, Gender::either},
    {"doctor", "doctors", NounKind::person, Gender::either},
    {"student", "students", NounKind::person, Gender::either},
    {"child", "children", NounKind::person, Gender::either},
    {"man", "men", NounKind::person, Gender::male},
    {"woman", "women", NounKind::person, Gender::female},
    {"boy", "boys", NounKind::person, Gender::male},
    {"girl", "girls", NounKind::person, Gender::female},
    {"king", "kings", NounKind::person, Gender::male},
    {"queen", "queens", NounKind::person, Gender::female},
    {"nurse", "nurses", NounKind::person, Gender::either},
    {"pilot", "pilots", NounKind::person, Gender::either},
    {"artist", "artists", NounKind::person, Gender::either},
    {"writer", "writers", NounKind::person, Gender::either},
    {"singer", "singers", NounKind::person, Gender::either},
    {"driver", "drivers", NounKind::person, Gender::either},
    {"cook", "cooks", NounKind::person, Gender::either},
    {"judge", "judges", NounKind::person, Gender::either},
    {"lawyer", "lawyers", NounKind::person, Gender::either},
    {"soldier", "soldiers", NounKind::person, Gender::either},
    {"sailor", "sailors", NounKind::person, Gender::either},
    {"hunter", "hunters", NounKind::person, Gender::either},
    {"waiter", "waiters", NounKind::person, Gender::either},
    {"clerk", "clerks", NounKind::person, Gender::either},
    {"guard", "guards", NounKind::person, Gender::either},
    {"painter", "painters", NounKind::person, Gender::either},
    {"dancer", "dancers", NounKind::person, Gender::either},
    {"player", "players", NounKind::person, Gender::either},
    {"friend", "friends", NounKind::person, Gender::either},
    {"neighbor", "neighbors", NounKind::person, Gender::either},
    {"stranger", "strangers", NounKind::person, Gender::either},
    {"author", "authors", NounKind::person, Gender::either},
    {"actor", "actors", NounKind::person, Gender::either},
    {"chef", "chefs", NounKind::person, Gender::either},
    {"tourist", "tourists", NounKind::person, Gender::either},
    {"officer", "officers", NounKind::person, Gender::either},
    {"manager", "managers", NounKind::person, Gender::either},
    {"worker", "workers", NounKind::person, Gender::either},
    {"visitor", "visitors", NounKind::person, Gender::either},
    {"customer", "customers", NounKind::person, Gender::either},
    {"guest", "guests", NounKind::person, Gender::either},
    {"poet", "poets", NounKind::person, Gender::either},
    {"scientist", "scientists", NounKind::person, Gender::either},
    {"engineer", "engineers", NounKind::person, Gender::either},
    {"father", "fathers", NounKind::person, Gender::male},
    {"mother", "mothers", NounKind::person, Gender::female},
    {"brother", "brothers", NounKind::person, Gender::male},
    {"sister", "sisters", NounKind::person, Gender::female},
    {"uncle", "uncles", NounKind::person, Gender::male},
    {"aunt", "aunts", NounKind::person, Gender::female},
    // animals
    {"dog", "dogs", NounKind::animal, Gender::neuter},
    {"cat", "cats", NounKind::animal, Gender::neuter},
    {"horse", "horses", NounKind::animal, Gender::neuter},
    {"cow", "cows", NounKind::animal, Gender::neuter},
    {"bird", "birds", NounKind::animal, Gender::neuter},
    {"mouse", "mice", NounKind::animal, Gender::neuter},
    {"goat", "goats", NounKind::animal, Gender::neuter},
    {"pig", "pigs", NounKind::animal, Gender::neuter},
    {"duck", "ducks", NounKind::animal, Gender::neuter},
    {"rabbit", "rabbits", NounKind::animal, Gender::neuter},
    {"fox", "foxes", NounKind::animal, Gender::neuter},
    {"wolf", "wolves", NounKind::animal, Gender::neuter},
    {"bear", "bears", NounKind::animal, Gender::neuter},
    {"lion", "lions", NounKind::animal, Gender::neuter},
    {"tiger", "tigers", NounKind::animal, Gender::neuter},
    {"snake", "snakes", NounKind::animal, Gender::neuter},
    {"frog", "frogs", NounKind::animal, Gender::neuter},
    {"owl", "owls", NounKind::animal, Gender::neuter},
    {"monkey", "monkeys", NounKind::animal, Gender::neuter},
    {"donkey", "donkeys", NounKind::animal, Gender::neuter},
    // food
    {"soup", "soups", NounKind::food, Gender::neuter},
    {"cake", "cakes", NounKind::food, Gender::neuter},
    {"apple", "apples", NounKind::food, Gender::neuter},
    {"pie", "pies", NounKind::food, Gender::neuter},
    {"salad", "salads", NounKind::food, Gender::neuter},
    {"pizza", "pizzas", NounKind::food, Gender::neuter},
    {"sandwich", "sandwiches", NounKind::food, Gender::neuter},
    {"cookie", "cookies", NounKind::food, Gender::neuter},
    {"egg", "eggs", NounKind::food, Gender::neuter},
    {"steak", "steaks", NounKind::food, Gender::neuter},
    {"orange", "oranges", NounKind::food, Gender::neuter},
    {"potato", "potatoes", NounKind::food, Gender::neuter},
    {"banana", "bananas", NounKind::food, Gender::neuter},
    {"onion", "onions", NounKind::food, Gender::neuter},
    // drinks
    {"coffee", "coffees", NounKind::drink, Gender::neuter},
    {"tea", "teas", NounKind::drink, Gender::neuter},
    {"juice", "juices", NounKind::drink, Gender::neuter},
    {"milk", "milks", NounKind::drink, Gender::neuter},
    {"wine", "wines", NounKind::drink, Gender::neuter},
    {"beer", "beers", NounKind::drink, Gender::neuter},
    {"soda", "sodas", NounKind::drink, Gender::neuter},
    {"lemonade", "lemonades", NounKind::drink, Gender::neuter},
    // artifacts
    {"book", "books", NounKind::artifact, Gender::neuter},
    {"table", "tables", NounKind::artifact, Gender::neuter},
    {"chair", "chairs", NounKind::artifact, Gender::neuter},
    {"car", "cars", NounKind::artifact, Gender::neuter},
    {"box", "boxes", NounKind::artifact, Gender::neuter},
    {"letter", "letters", NounKind::artifact, Gender::neuter},
    {"key", "keys", NounKind::artifact, Gender::neuter},
    {"phone", "phones", NounKind::artifact, Gender::neuter},
    {"lamp", "lamps", NounKind::artifact, Gender::neuter},
    {"cup", "cups", NounKind::artifact, Gender::neuter},
    {"door", "doors", NounKind::artifact, Gender::neuter},
    {"window", "windows", NounKind::artifact, Gender::neuter},
    {"bag", "bags", NounKind::artifact, Gender::neuter},
    {"ball", "balls", NounKind::artifact, Gender::neuter},
    {"bottle", "bottles", NounKind::artifact, Gender::neuter},
    {"clock", "clocks", NounKind::artifact, Gender::neuter},
    {"coat", "coats", NounKind::artifact, Gender::neuter},
    {"hat", "hats", NounKind::artifact, Gender::neuter},
    {"shoe", "shoes", NounKind::artifact, Gender::neuter},
    {"knife", "knives", NounKind::artifact, Gender::neuter},
    {"map", "maps", NounKind::artifact, Gender::neuter},
    {"pen", "pens", NounKind::artifact, Gender::neuter},
    {"picture", "pictures", NounKind::artifact, Gender::neuter},
    {"ring", "rings", NounKind::artifact, Gender::neuter},
    {"rope", "ropes", NounKind::artifact, Gender::neuter},
    {"boat", "boats", NounKind::artifact, Gender::neuter},
    {"ticket", "tickets", NounKind::artifact, Gender::neuter},
    {"toy", "toys", NounKind::artifact, Gender::neuter},
    {"wheel", "wheels", NounKind::artifact, Gender::neuter},
    {"gift", "gifts", NounKind::artifact, Gender::neuter},
    {"plate", "plates", NounKind::artifact, Gender::neuter},
    {"bike", "bikes", NounKind::artifact, Gender::neuter},
    {"camera", "cameras", NounKind::artifact, Gender::neuter},
    {"guitar", "guitars", NounKind::artifact, Gender::neuter},
    {"piano", "pianos", NounKind::artifact, Gender::neuter},
    {"computer", "computers", NounKind::artifact, Gender::neuter},
    {"desk", "desks", NounKind::artifact, Gender::neuter},
    {"basket", "baskets", NounKind::artifact, Gender::neuter},
    {"blanket", "blankets", NounKind::artifact, Gender::neuter},
    {"candle", "candles", NounKind::artifact, Gender::neuter},
    {"mirror", "mirrors", NounKind::artifact, Gender::neuter},
    {"umbrella", "umbrellas", NounKind::artifact, Gender::neuter},
    // places
    {"house", "houses", NounKind::place, Gender::neuter},
    {"park", "parks", NounKind::place, Gender::neuter},
    {"school", "schools", NounKind::place, Gender::neuter},
    {"city", "cities", NounKind::place, Gender::neuter},
    {"garden", "gardens", NounKind::place, Gender::neuter},
    {"kitchen", "kitchens", NounKind::place, Gender::neuter},
    {"river", "rivers", NounKind::place, Gender::neuter},
    {"forest", "forests", NounKind::place, Gender::neuter},
    {"beach", "beaches", NounKind::place, Gender::neuter},
    {"church", "churches", NounKind::place, Gender::neuter},
    {"market", "markets", NounKind::place, Gender::neuter},
    {"office", "offices", NounKind::place, Gender::neuter},
    {"shop", "shops", NounKind::place, Gender::neuter},
    {"station", "stations", NounKind::place, Gender::neuter},
    {"village", "villages", NounKind::place, Gender::neuter},
    {"hotel", "hotels", NounKind::place, Gender::neuter},
    {"museum", "museums", NounKind::place, Gender::neuter},
    {"library", "libraries", NounKind::place, Gender::neuter},
    {"bridge", "bridges", NounKind::place, Gender::neuter},
    {"hill", "hills", NounKind::place, Gender::neuter},
    {"lake", "lakes", NounKind::place, Gender::neuter},
    {"farm", "farms", NounKind::place, Gender::neuter},
    {"barn", "barns", NounKind::place, Gender::neuter},
    {"island", "islands", NounKind::place, Gender::neuter},
    {"street", "streets", NounKind::place, Gender::neuter},
    {"hall", "halls", NounKind::place, Gender::neuter},
    {"harbor", "harbors", NounKind::place, Gender::neuter},
    {"castle", "castles", NounKind::place, Gender::neuter},
    {"hospital", "hospitals", NounKind::place, Gender::neuter},
    {"airport", "airports", NounKind::place, Gender::neuter},
    // aspects (things reviewed)
    {"movie", "movies", NounKind::aspect, Gender::neuter},
    {"film", "films", NounKind::aspect, Gender::neuter},
    {"plot", "plots", NounKind::aspect, Gender::neuter},
    {"acting", "actings", NounKind::aspect, Gender::neuter},
    {"music", "musics", NounKind::aspect, Gender::neuter},
    {"ending", "endings", NounKind::aspect, Gender::neuter},
    {"service", "services", NounKind::aspect, Gender::neuter},
    {"story", "stories", NounKind::aspect, Gender::neuter},
    {"script", "scripts", NounKind::aspect, Gender::neuter},
    {"cast", "casts", NounKind::aspect, Gender::neuter},
    {"scene", "scenes", NounKind::aspect, Gender::neuter},
    {"dialogue", "dialogues", NounKind::aspect, Gender::neuter},
    {"soundtrack", "soundtracks", NounKind::aspect, Gender::neuter},
    {"performance", "performances", NounKind::aspect, Gender::neuter},
    {"director", "directors", NounKind::aspect, Gender::neuter},
    {"show", "shows", NounKind::aspect, Gender::neuter},
    {"novel", "novels", NounKind::aspect, Gender::neuter},
    {"meal", "meals", NounKind::aspect, Gender::neuter},
    {"price", "prices", NounKind::aspect, Gender::neuter},
    {"staff", "staffs", NounKind::aspect, Gender::neuter},
    {"view", "views", NounKind::aspect, Gender::neuter},
    {"game", "games", NounKind::aspect, Gender::neuter},
    {"design", "designs", NounKind::aspect, Gender::neuter},
    {"screen", "screens", NounKind::aspect, Gender::neuter},
    {"album", "albums", NounKind::aspect, Gender::neuter},
    {"menu", "menus", NounKind::aspect, Gender::neuter},
};

enum class Frame : std::uint8_t { transitive, intransitive };

struct VerbEntry {
  const char* base;
  const char* third;  // 3rd person singular present
  const char* past;
  const char* participle;  // past participle
  Frame frame;
  std::uint8_t subjects;  // NounKind mask of allowed subjects
  std::uint8_t objects;   // NounKind mask of allowed objects (transitive)
};

inline constexpr std::uint8_t kPerson = bit(NounKind::person);

inline constexpr VerbEntry kVerbs[] = {
    {"see", "sees", "saw", "seen", Frame::transitive, kAnimate, kConcrete},
    {"find", "finds", "found", "found", Frame::transitive, kAnimate, kConcrete},
    {"like", "likes", "liked", "liked", Frame::transitive, kAnimate, kConcrete},
    {"love", "loves", "loved", "loved", Frame::transitive, kAnimate, kConcrete},
    {"hate", "hates", "hated", "hated", Frame::transitive, kAnimate, kConcrete},
    {"want", "wants", "wanted", "wanted", Frame::transitive, kAnimate, kThings},
    {"need", "needs", "needed", "needed", Frame::transitive, kAnimate, kThings},
    {"carry", "carries", "carried", "carried", Frame::transitive, kAnimate, kThings | kAnimate},
    {"buy", "buys", "bought", "bought", Frame::transitive, kPerson, kThings},
    {"sell", "sells", "sold", "sold", Frame::transitive, kPerson, kThings},
    {"take", "takes", "took", "taken", Frame::transitive, kAnimate, kThings},
    {"bring", "brings", "brought", "brought", Frame::transitive, kAnimate, kThings},
    {"make", "makes", "made", "made", Frame::transitive, kPerson, kThings},
    {"build", "builds", "built", "built", Frame::transitive, kPerson, bit(NounKind::artifact)},
    {"paint", "paints", "painted", "painted", Frame::transitive, kPerson, bit(NounKind::artifact)},
    {"clean", "cleans", "cleaned", "cleaned", Frame::transitive, kPerson, kThings | bit(NounKind::place)},
    {"open", "opens", "opened", "opened", Frame::transitive, kPerson, bit(NounKind::artifact)},
    {"close", "closes", "closed", "closed", Frame::transitive, kPerson, bit(NounKind::artifact)},
    {"break", "breaks", "broke", "broken", Frame::transitive, kAnimate, bit(NounKind::artifact)},
    {"fix", "fixes", "fixed", "fixed", Frame::transitive, kPerson, bit(NounKind::artifact)},
    {"hold", "holds", "held", "held", Frame::transitive, kPerson, kThings | kAnimate},
    {"watch", "watches", "watched", "watched", Frame::transitive, kAnimate, kConcrete},
    {"visit", "visits", "visited", "visited", Frame::transitive, kPerson, bit(NounKind::place) | kPerson},
    {"help", "helps", "helped", "helped", Frame::transitive, kAnimate, kAnimate},
    {"follow", "follows", "followed", "followed", Frame::transitive, kAnimate, kAnimate},
    {"call", "calls", "called", "called", Frame::transitive, kPerson, kAnimate},
    {"meet", "meets", "met", "met", Frame::transitive, kPerson, kPerson},
    {"know", "knows", "knew", "known", Frame::transitive, kAnimate, kAnimate | bit(NounKind::place)},
    {"read", "reads", "read", "read", Frame::transitive, kPerson, bit(NounKind::artifact)},
    {"write", "writes", "wrote", "written", Frame::transitive, kPerson, bit(NounKind::artifact)},
    {"eat", "eats", "ate", "eaten", Frame::transitive, kAnimate, bit(NounKind::food)},
    {"drink", "drinks", "drank", "drunk", Frame::transitive, kAnimate, bit(NounKind::drink)},
    {"cook", "cooks", "cooked", "cooked", Frame::transitive, kPerson, bit(NounKind::food)},
    {"push", "pushes", "pushed", "pushed", Frame::transitive, kAnimate, kThings | kAnimate},
    {"pull", "pulls", "pulled", "pulled", Frame::transitive, kAnimate, kThings | kAnimate},
    {"throw", "throws", "threw", "thrown", Frame::transitive, kPerson, kThings},
    {"catch", "catches", "caught", "caught", Frame::transitive, kAnimate, kThings | kAnimate},
    {"draw", "draws", "drew", "drawn", Frame::transitive, kPerson, kConcrete},
    {"move", "moves", "moved", "moved", Frame::transitive, kAnimate, kThings},
    {"teach", "teaches", "taught", "taught", Frame::transitive, kPerson, kAnimate},
    {"feed", "feeds", "fed", "fed", Frame::transitive, kPerson, kAnimate},
    {"wash", "washes", "washed", "washed", Frame::transitive, kPerson, kThings | kAnimate},
    {"hide", "hides", "hid", "hidden", Frame::transitive, kAnimate, kThings},
    {"lose", "loses", "lost", "lost", Frame::transitive, kAnimate, kThings},
    {"keep", "keeps", "kept", "kept", Frame::transitive, kAnimate, kThings | kAnimate},
    {"drop", "drops", "dropped", "dropped", Frame::transitive, kAnimate, kThings},
    {"kick", "kicks", "kicked", "kicked", Frame::transitive, kAnimate, kThings},
    {"lift", "lifts", "lifted", "lifted", Frame::transitive, kAnimate, kThings | kAnimate},
    {"check", "checks", "checked", "checked", Frame::transitive, kPerson, kConcrete},
    {"praise", "praises", "praised", "praised", Frame::transitive, kPerson, kAnimate},
    {"admire", "admires", "admired", "admired", Frame::transitive, kPerson, kConcrete},
    {"chase", "chases", "chased", "chased", Frame::transitive, kAnimate, kAnimate},
    {"miss", "misses", "missed", "missed", Frame::transitive, kAnimate, kConcrete},
    {"remember", "remembers", "remembered", "remembered", Frame::transitive, kAnimate, kConcrete},
    {"forget", "forgets", "forgot", "forgotten", Frame::transitive, kAnimate, kConcrete},
    {"hear", "hears", "heard", "heard", Frame::transitive, kAnimate, kAnimate},
    {"touch", "touches", "touched", "touched", Frame::transitive, kAnimate, kConcrete},
    {"protect", "protects", "protected", "protected", Frame::transitive, kAnimate, kConcrete},
    {"save", "saves", "saved", "saved", Frame::transitive, kPerson, kConcrete},
    {"sleep", "sleeps", "slept", "slept", Frame::intransitive, kAnimate, 0},
    {"run", "runs", "ran", "run", Frame::intransitive, kAnimate, 0},
    {"walk", "walks", "walked", "walked", Frame::intransitive, kAnimate, 0},
    {"laugh", "laughs", "laughed", "laughed", Frame::intransitive, kPerson, 0},
    {"smile", "smiles", "smiled", "smiled", Frame::intransitive, kPerson, 0},
    {"cry", "cries", "cried", "cried", Frame::intransitive, kAnimate, 0},
    {"arrive", "arrives", "arrived", "arrived", Frame::intransitive, kAnimate, 0},
    {"dance", "dances", "danced", "danced", Frame::intransitive, kAnimate, 0},
    {"swim", "swims", "swam", "swum", Frame::intransitive, kAnimate, 0},
    {"wait", "waits", "waited", "waited", Frame::intransitive, kAnimate, 0},
    {"sit", "sits", "sat", "sat", Frame::intransitive, kAnimate, 0},
    {"stand", "stands", "stood", "stood", Frame::intransitive, kAnimate, 0},
    {"fall", "falls", "fell", "fallen", Frame::intransitive, kAnimate, 0},
    {"jump", "jumps", "jumped", "jumped", Frame::intransitive, kAnimate, 0},
    {"shout", "shouts", "shouted", "shouted", Frame::intransitive, kPerson, 0},
    {"rest", "rests", "rested", "rested", Frame::intransitive, kAnimate, 0},
    {"talk", "talks", "talked", "talked", Frame::intransitive, kPerson, 0},
    {"work", "works", "worked", "worked", Frame::intransitive, kPerson, 0},
    {"travel", "travels", "traveled", "traveled", Frame::intransitive, kAnimate, 0},
    {"cough", "coughs", "coughed", "coughed", Frame::intransitive, kAnimate, 0},
    {"sneeze", "sneezes", "sneezed", "sneezed", Frame::intransitive, kAnimate, 0},
    {"yawn", "yawns", "yawned", "yawned", Frame::intransitive, kAnimate, 0},
    {"vanish", "vanishes", "vanished", "vanished", Frame::intransitive, kAnimate, 0},
    {"appear", "appears", "appeared", "appeared", Frame::intransitive, kAnimate, 0},
    {"disappear", "disappears", "disappeared", "disappeared", Frame::intransitive, kAnimate, 0},
    {"sigh", "sighs", "sighed", "sighed", Frame::intransitive, kPerson, 0},
    {"wander", "wanders", "wandered", "wandered", Frame::intransitive, kAnimate, 0},
    {"hurry", "hurries", "hurried", "hurried", Frame::intransitive, kAnimate, 0},
};

enum class AdjectiveKind : std::uint8_t { evaluative, descriptive };

struct AdjectiveEntry {
  const char* word;
  double valence;  // mean, -4..4
  double spread;   // per-occurrence standard deviation
  AdjectiveKind kind;
};

inline constexpr AdjectiveEntry kAdjectives[] = {
    // positive
    {"good", 1.9, 0.7, AdjectiveKind::evaluative},
    {"great", 3.1, 0.7, AdjectiveKind::evaluative},
    {"excellent", 2.7, 0.6, AdjectiveKind::evaluative},
    {"wonderful", 2.7, 0.6, AdjectiveKind::evaluative},
    {"amazing", 2.8, 0.7, AdjectiveKind::evaluative},
    {"fantastic", 2.6, 0.8, AdjectiveKind::evaluative},
    {"brilliant", 2.8, 0.6, AdjectiveKind::evaluative},
    {"lovely", 2.8, 0.6, AdjectiveKind::evaluative},
    {"delightful", 2.9, 0.6, AdjectiveKind::evaluative},
    {"charming", 2.2, 0.7, AdjectiveKind::evaluative},
    {"beautiful", 2.9, 0.6, AdjectiveKind::evaluative},
    {"enjoyable", 2.2, 0.6, AdjectiveKind::evaluative},
    {"pleasant", 2.0, 0.6, AdjectiveKind::evaluative},
    {"clever", 1.8, 0.7, AdjectiveKind::evaluative},
    {"funny", 1.9, 0.8, AdjectiveKind::evaluative},
    {"moving", 1.6, 0.9, AdjectiveKind::evaluative},
    {"fresh", 1.3, 0.7, AdjectiveKind::evaluative},
    {"nice", 1.8, 0.6, AdjectiveKind::evaluative},
    {"superb", 3.0, 0.6, AdjectiveKind::evaluative},
    {"perfect", 2.7, 0.8, AdjectiveKind::evaluative},
    {"gorgeous", 2.8, 0.7, AdjectiveKind::evaluative},
    {"friendly", 2.2, 0.6, AdjectiveKind::evaluative},
    {"tasty", 2.0, 0.7, AdjectiveKind::evaluative},
    {"smart", 1.7, 0.7, AdjectiveKind::evaluative},
    {"exciting", 2.2, 0.8, AdjectiveKind::evaluative},
    {"solid", 1.2, 0.7, AdjectiveKind::evaluative},
    {"decent", 1.1, 0.8, AdjectiveKind::evaluative},
    {"warmhearted", 2.1, 0.7, AdjectiveKind::evaluative},
    // negative
    {"bad", -2.5, 0.7, AdjectiveKind::evaluative},
    {"terrible", -2.9, 0.7, AdjectiveKind::evaluative},
    {"awful", -2.7, 0.7, AdjectiveKind::evaluative},
    {"horrible", -2.8, 0.7, AdjectiveKind::evaluative},
    {"boring", -1.9, 0.7, AdjectiveKind::evaluative},
    {"dull", -1.7, 0.7, AdjectiveKind::evaluative},
    {"poor", -2.1, 0.8, AdjectiveKind::evaluative},
    {"weak", -1.6, 0.8, AdjectiveKind::evaluative},
    {"ugly", -2.2, 0.7, AdjectiveKind::evaluative},
    {"dreadful", -2.6, 0.7, AdjectiveKind::evaluative},
    {"disappointing", -2.2, 0.6, AdjectiveKind::evaluative},
    {"annoying", -2.0, 0.7, AdjectiveKind::evaluative},
    {"painful", -2.1, 0.8, AdjectiveKind::evaluative},
    {"clumsy", -1.5, 0.7, AdjectiveKind::evaluative},
    {"stupid", -2.4, 0.8, AdjectiveKind::evaluative},
    {"messy", -1.5, 0.7, AdjectiveKind::evaluative},
    {"tedious", -2.0, 0.6, AdjectiveKind::evaluative},
    {"bland", -1.6, 0.7, AdjectiveKind::evaluative},
    {"rude", -2.3, 0.7, AdjectiveKind::evaluative},
    {"silly", -1.1, 0.9, AdjectiveKind::evaluative},
    {"lazy", -1.6, 0.7, AdjectiveKind::evaluative},
    {"pointless", -2.2, 0.7, AdjectiveKind::evaluative},
    {"mediocre", -1.4, 0.6, AdjectiveKind::evaluative},
    {"sloppy", -1.8, 0.7, AdjectiveKind::evaluative},
    {"stale", -1.6, 0.7, AdjectiveKind::evaluative},
    {"unpleasant", -2.1, 0.6, AdjectiveKind::evaluative},
    {"forgettable", -1.5, 0.7, AdjectiveKind::evaluative},
    {"overpriced", -1.8, 0.7, AdjectiveKind::evaluative},
    // descriptive (valence 0)
    {"red", 0.0, 0.1, AdjectiveKind::descriptive},
    {"blue", 0.0, 0.1, AdjectiveKind::descriptive},
    {"green", 0.0, 0.1, AdjectiveKind::descriptive},
    {"yellow", 0.0, 0.1, AdjectiveKind::descriptive},
    {"black", 0.0, 0.1, AdjectiveKind::descriptive},
    {"white", 0.0, 0.1, AdjectiveKind::descriptive},
    {"brown", 0.0, 0.1, AdjectiveKind::descriptive},
    {"old", 0.0, 0.1, AdjectiveKind::descriptive},
    {"new", 0.0, 0.1, AdjectiveKind::descriptive},
    {"big", 0.0, 0.1, AdjectiveKind::descriptive},
    {"small", 0.0, 0.1, AdjectiveKind::descriptive},
    {"tall", 0.0, 0.1, AdjectiveKind::descriptive},
    {"short", 0.0, 0.1, AdjectiveKind::descriptive},
    {"long", 0.0, 0.1, AdjectiveKind::descriptive},
    {"young", 0.0, 0.1, AdjectiveKind::descriptive},
    {"large", 0.0, 0.1, AdjectiveKind::descriptive},
    {"round", 0.0, 0.1, AdjectiveKind::descriptive},
    {"heavy", 0.0, 0.1, AdjectiveKind::descriptive},
    {"light", 0.0, 0.1, AdjectiveKind::descriptive},
    {"wooden", 0.0, 0.1, AdjectiveKind::descriptive},
    {"quiet", 0.0, 0.1, AdjectiveKind::descriptive},
    {"loud", 0.0, 0.1, AdjectiveKind::descriptive},
    {"warm", 0.0, 0.1, AdjectiveKind::descriptive},
    {"cold", 0.0, 0.1, AdjectiveKind::descriptive},
    {"empty", 0.0, 0.1, AdjectiveKind::descriptive},
    {"full", 0.0, 0.1, AdjectiveKind::descriptive},
    {"dark", 0.0, 0.1, AdjectiveKind::descriptive},
    {"bright", 0.0, 0.1, AdjectiveKind::descriptive},
    {"square", 0.0, 0.1, AdjectiveKind::descriptive},
    {"narrow", 0.0, 0.1, AdjectiveKind::descriptive},
    {"wide", 0.0, 0.1, AdjectiveKind::descriptive},
    {"soft", 0.0, 0.1, AdjectiveKind::descriptive},
    {"hard", 0.0, 0.1, AdjectiveKind::descriptive},
    {"plain", 0.0, 0.1, AdjectiveKind::descriptive},
    {"famous", 0.0, 0.1, AdjectiveKind::descriptive},
    {"local", 0.0, 0.1, AdjectiveKind::descriptive},
    {"foreign", 0.0, 0.1, AdjectiveKind::descriptive},
    {"busy", 0.0, 0.1, AdjectiveKind::descriptive},
    {"tired", 0.0, 0.1, AdjectiveKind::descriptive},
    {"hungry", 0.0, 0.1, AdjectiveKind::descriptive},
};

struct IntensifierEntry {
  const char* word;
  double factor;
};

inline constexpr IntensifierEntry kIntensifiers[] = {
    {"very", 1.3},     {"really", 1.3},   {"extremely", 1.5}, {"quite", 1.1},      {"rather", 1.05},
    {"slightly", 0.5}, {"somewhat", 0.7}, {"truly", 1.3},     {"incredibly", 1.5}, {"fairly", 0.9},
};

struct NameEntry {
  const char* name;
  Gender gender;
};

inline constexpr NameEntry kNames[] = {
    {"john", Gender::male},  {"mary", Gender::female},  {"alice", Gender::female}, {"bob", Gender::male},
    {"david", Gender::male}, {"emma", Gender::female},  {"frank", Gender::male},   {"grace", Gender::female},
    {"henry", Gender::male}, {"irene", Gender::female}, {"jack", Gender::male},    {"kate", Gender::female},
    {"leo", Gender::male},   {"nina", Gender::female},  {"oscar", Gender::male},   {"rosa", Gender::female},
    {"sam", Gender::male},   {"tina", Gender::female},  {"victor", Gender::male},  {"wendy", Gender::female},
};

/// Spatial prepositions taking a place noun ("in the park").
inline constexpr const char* kPlacePrepositions[] = {"in", "near", "behind", "at", "outside"};
/// Manner and time adverbs for neutral filler.
inline constexpr const char* kAdverbs[] = {"quickly", "slowly", "quietly", "loudly", "carefully",
                                           "often",   "again",  "early",   "late"};
inline constexpr const char* kDays[] = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
/// Time phrases usable as a clause-final modifier ("last week").
inline constexpr const char* kTimePhrases[] = {"yesterday",    "today",     "last week", "last night",
                                               "this morning", "on monday", "on friday", "in the evening"};

/// Closed-class words the grammar emits; listed so the vocabulary is closed.
inline constexpr const char* kFunctionWords[] = {
    "the",    "a",       "an",       "this",     "that",    "these",   "those",   "every",      "each",    "some",
    "no",     "all",     "most",     "two",      "three",   "many",    "few",     "not",        "did",     "does",
    "do",     "is",      "are",      "was",      "were",    "has",     "have",    "had",        "been",    "be",
    "by",     "and",     "but",      "or",       "who",     "which",   "it",      "its",        "there",   "here",
    "ever",   "never",   "also",     "like",     "unlike",  "himself", "herself", "themselves", "itself",  "to",
    "of",     "for",     "with",     "from",     "about",   "on",      "in",      "at",         "i",       "we",
    "you",    "they",    "he",       "she",      "them",    "him",     "her",     "me",         "us",      "my",
    "our",    "your",    "their",    "his",      "what",    "where",   "when",    "why",        "how",     "so",
    "then",   "because", "although", "while",    "if",      "than",    "as",      "very",       "too",     "just",
    "still",  "yet",     "only",     "last",     "week",    "night",   "morning", "evening",    "time",    "thing",
    "things", "one",     "called",   "known",    "kind",    "sort",    "same",    "different",  "similar", "true",
    "false",  "overall", "however",  "honestly", "frankly", "also",    "into",    "under",      "over",    "went",
    "go",     "there",   "thought",  "think",    "bit",     ".",       ",",       "?",          "!",
};

}  // namespace scalora::tasks::lexicon_data
