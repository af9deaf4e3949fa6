// SPDX-License-Identifier: Apache-2.0
// scalora-glue-gen: writes syn-* GLUE-style tasks (and optional masked-LM
// pre-training text and the vocabulary) as GLUE TSV files plus meta.json.
//
//   scalora-glue-gen --task syn-stsb --rank-dial 32 --seed 1 --out data/
//   scalora-glue-gen --all --out data/
//
// Exit status (docs/validating.md, "Exit status"): 0 written, 2 bad arguments,
// 3 the files could not be written (I/O, out of memory).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "scalora/io/file.hpp"
#include "scalora/tasks.hpp"
#include "exit_status.hpp"

namespace {

using namespace scalora::tasks;
namespace io = scalora::io;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* kUsage =
    "usage: scalora-glue-gen (--task NAME | --all) [--out DIR] [--seed N] [--rank-dial M] [--items K]\n"
    "                        [--noise X] [--relational-fraction R] [--holdout F] [--shift-rank R]\n"
    "                        [--size ci|glue] [--train N] [--dev N] [--test N]\n"
    "                        [--pretrain N] [--pretrain-facts] [--vocab]\n"
    "  --task NAME             syn-sst2, syn-cola, syn-mrpc, syn-stsb, syn-rte or syn-mnli\n"
    "  --all                   every task (CI size unless --size glue)\n"
    "  --out DIR               output root; files go to DIR/<task>/ (default data)\n"
    "  --seed N                generator seed (default 1)\n"
    "  --rank-dial M           width m of the relation's factors (default 16)\n"
    "  --items K               nonce items per side of the relation (default: per task)\n"
    "  --noise X               label flip probability (syn-stsb: score sigma); adds clean_label\n"
    "  --relational-fraction R share of examples decided by the relation (default 1)\n"
    "  --holdout F             fraction of relation pairs reserved for dev/test (default 0.2)\n"
    "  --shift-rank R          distance from pre-training: fine-tune on Z0 + Delta, rank(Delta) = R\n"
    "  --size ci|glue          CI sizes (512-2,000 train) or GLUE-mirror sizes\n"
    "  --train/--dev/--test N  explicit split sizes\n"
    "  --pretrain N            also write DIR/pretrain/train.txt with N lines of masked-LM text\n"
    "  --pretrain-facts        state the selected tasks' base geometry Z0 in that text (needs --shift-rank)\n"
    "  --vocab                 also write DIR/vocab.txt (the closed vocabulary, one token a line)\n";

struct Options {
  std::vector<TaskKind> tasks;
  TaskConfig knobs;
  std::string out = "data";
  bool glue_size = false;
  std::size_t pretrain = 0;
  bool pretrain_facts = false;
  bool vocab = false;
};

double parse_number(const std::string& name, const std::string& v) {
  try {
    std::size_t pos = 0;
    const double x = std::stod(v, &pos);
    if (pos == v.size()) return x;
  } catch (const std::exception&) {
  }
  throw UsageError(name + ": expected a number, got '" + v + "'");
}

long long parse_integer(const std::string& name, const std::string& v, long long lo, long long hi) {
  try {
    std::size_t pos = 0;
    const long long x = std::stoll(v, &pos);
    if (pos == v.size() && x >= lo && x <= hi) return x;
  } catch (const std::exception&) {
  }
  throw UsageError(name + ": expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" +
                   v + "'");
}

Options parse(int argc, char** argv) {
  Options o;
  bool all = false;
  auto value = [&](int& i) -> std::string {
    if (i + 1 >= argc) throw UsageError(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  constexpr long long kMaxSize = 10'000'000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--task") {
      const std::string v = value(i);
      try {
        o.tasks.push_back(parse_task(v, "--task"));
      } catch (const scalora::invalid_argument& e) {
        throw UsageError(e.what());
      }
    } else if (a == "--all") {
      all = true;
    } else if (a == "--out") {
      o.out = value(i);
    } else if (a == "--seed") {
      o.knobs.seed = std::uint64_t(parse_integer(a, value(i), 0, (1LL << 62)));
    } else if (a == "--rank-dial") {
      o.knobs.rank_dial = int(parse_integer(a, value(i), 1, kMaxRankDial));
    } else if (a == "--items") {
      o.knobs.items = int(parse_integer(a, value(i), 2, 512));
    } else if (a == "--noise") {
      o.knobs.label_noise = parse_number(a, value(i));
    } else if (a == "--relational-fraction") {
      o.knobs.relational_fraction = parse_number(a, value(i));
    } else if (a == "--holdout") {
      o.knobs.holdout_fraction = parse_number(a, value(i));
    } else if (a == "--shift-rank") {
      o.knobs.shift_rank = int(parse_integer(a, value(i), -1, kMaxRankDial));
    } else if (a == "--size") {
      const std::string v = value(i);
      if (v != "ci" && v != "glue") throw UsageError("--size: expected ci or glue, got '" + v + "'");
      o.glue_size = v == "glue";
    } else if (a == "--train") {
      o.knobs.train_size = std::size_t(parse_integer(a, value(i), 1, kMaxSize));
    } else if (a == "--dev") {
      o.knobs.dev_size = std::size_t(parse_integer(a, value(i), 1, kMaxSize));
    } else if (a == "--test") {
      o.knobs.test_size = std::size_t(parse_integer(a, value(i), 1, kMaxSize));
    } else if (a == "--pretrain") {
      o.pretrain = std::size_t(parse_integer(a, value(i), 1, kMaxSize));
    } else if (a == "--pretrain-facts") {
      o.pretrain_facts = true;
    } else if (a == "--vocab") {
      o.vocab = true;
    } else if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else {
      throw UsageError("unknown argument '" + a + "'");
    }
  }
  if (all && !o.tasks.empty()) throw UsageError("give --task or --all, not both");
  if (all) o.tasks.assign(std::begin(kAllTasks), std::end(kAllTasks));
  if (o.tasks.empty() && o.pretrain == 0 && !o.vocab) throw UsageError("nothing to do: give --task NAME or --all");
  if (o.pretrain_facts && (o.pretrain == 0 || o.knobs.shift_rank < 0))
    throw UsageError("--pretrain-facts needs --pretrain N and --shift-rank R");
  return o;
}

/// The configuration of one task: the shared knobs, sizes per --size.
TaskConfig task_config(const Options& o, TaskKind t) {
  TaskConfig c = o.knobs;
  c.task = t;
  if (o.glue_size) {
    const SplitSizes s = glue_mirror_sizes(t);
    if (c.train_size == 0) c.train_size = s.train;
    if (c.dev_size == 0) c.dev_size = s.dev;
    if (c.test_size == 0) c.test_size = s.test;
  }
  return resolved(c);  // throws invalid_argument on bad knobs (exit status 2)
}

int run(const Options& o) {
  std::vector<TaskConfig> configs;
  for (TaskKind t : o.tasks) configs.push_back(task_config(o, t));
  using clock = std::chrono::steady_clock;
  for (const TaskConfig& c : configs) {
    const auto t0 = clock::now();
    const WrittenTask w = write_task(c, o.out);
    const double seconds = std::chrono::duration<double>(clock::now() - t0).count();
    std::printf("%s (m=%d, K=%d, seed=%llu) -> %s  [%.3f s]\n", task_name(c.task), c.rank_dial, c.items,
                static_cast<unsigned long long>(c.seed), w.directory.c_str(), seconds);
    for (const WrittenFile& f : w.files) {
      std::printf("  %-20s %7zu examples", f.name.c_str(), f.examples);
      if (f.class_counts.empty()) {
        std::printf("  mean score %.3f", f.label_mean);
      } else {
        std::printf("  classes");
        for (std::size_t k = 0; k < f.class_counts.size(); ++k) std::printf(" %zu", f.class_counts[k]);
      }
      if (f.noisy_labels) std::printf("  noisy %zu", f.noisy_labels);
      std::printf("\n");
    }
  }
  if (o.vocab || o.pretrain > 0) {
    std::filesystem::create_directories(o.out);
    io::write_file_atomically((std::filesystem::path(o.out) / "vocab.txt").string(), Vocabulary::synthetic().to_text());
    std::printf("vocab.txt: %d tokens\n", Vocabulary::synthetic().size());
  }
  if (o.pretrain > 0) {
    PretrainConfig pc;
    pc.seed = o.knobs.seed;
    pc.documents = o.pretrain;
    if (o.pretrain_facts)
      for (const TaskConfig& c : configs)
        if (c.task != TaskKind::mrpc) pc.relation_facts.push_back(c);
    const PretrainCorpus corpus(pc);
    const auto dir = std::filesystem::path(o.out) / "pretrain";
    std::filesystem::create_directories(dir);
    const auto t0 = clock::now();
    std::string text;
    for (std::size_t i = 0; i < corpus.size(); ++i) text += corpus.document(i) + "\n";
    io::write_file_atomically((dir / "train.txt").string(), text);
    std::printf("pretrain/train.txt: %zu lines, sha256 %s  [%.3f s]\n", corpus.size(), io::sha256_hex(text).c_str(),
                std::chrono::duration<double>(clock::now() - t0).count());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "scalora-glue-gen: " << e.what() << "\n" << kUsage;
    return 2;
  }
  try {
    return scalora::tools::close_stdout("scalora-glue-gen", run(o));
  } catch (const scalora::invalid_argument& e) {
    std::cerr << "scalora-glue-gen: " << e.what() << "\n";
    return scalora::tools::kExitInvalid;
  } catch (const std::exception& e) {
    std::cerr << "scalora-glue-gen: " << e.what() << "\n";
    return scalora::tools::kExitError;
  }
}
