// SPDX-License-Identifier: Apache-2.0
// Task and pre-training data for the trainer: generated syn-* tasks or GLUE TSV
// directories, tokenized once; batches in a deterministic order that is a
// function of (seed, step) alone, so a resumed run sees the same batches.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "scalora/tasks/generator.hpp"
#include "scalora/tasks/pretrain.hpp"
#include "scalora/tasks/tokenizer.hpp"
#include "scalora/tasks/tsv.hpp"
#include "scalora/model/config.hpp"
#include "scalora/train/config.hpp"

namespace scalora::train {

/// One tokenized input: [CLS] s1 [SEP] (s2 [SEP]), unpadded.
struct EncodedExample {
  std::vector<std::int32_t> ids;
  std::vector<std::int32_t> segments;
  double label = 0;  ///< class index or score
};

/// A tokenized task: train and dev splits, the vocabulary and the task kind
/// (which fixes the head and the metric).
struct TaskData {
  tasks::TaskKind kind = tasks::TaskKind::stsb;
  std::string name;  ///< "syn-stsb", or the directory's name
  tasks::Vocabulary vocab;
  std::vector<EncodedExample> train, dev;
  std::size_t truncated = 0;  ///< inputs cut to max_len
  std::size_t unknown = 0;    ///< words mapped to [UNK]
};

namespace detail {
inline EncodedExample encode(const tasks::Vocabulary& vocab, const tasks::Example& e, Index max_len,
                             std::size_t& truncated, std::size_t& unknown) {
  const tasks::Encoding x = vocab.encode(e.sentence1, e.sentence2, int(max_len));
  truncated += x.truncated ? 1 : 0;
  unknown += std::size_t(x.unknown);
  EncodedExample out;
  out.ids.assign(x.input_ids.begin(), x.input_ids.begin() + x.length);
  out.segments.assign(x.segment_ids.begin(), x.segment_ids.begin() + x.length);
  out.label = e.label;
  return out;
}

inline std::vector<EncodedExample> encode_all(const tasks::Vocabulary& vocab, const std::vector<tasks::Example>& in,
                                              Index max_len, TaskData& stats) {
  std::vector<EncodedExample> out;
  out.reserve(in.size());
  for (const tasks::Example& e : in)
    if (e.has_label) out.push_back(encode(vocab, e, max_len, stats.truncated, stats.unknown));
  return out;
}
}  // namespace detail

/// Loads a task. Generated tasks use the closed syn-* vocabulary (the
/// pre-trained model's). A GLUE directory holds train.tsv and dev.tsv
/// (syn-mnli/MNLI: dev_matched.tsv); its layout is named by the directory
/// (parse_task of its name, e.g. "STS-B", "syn-rte") unless `kind` is given.
/// Its vocabulary is the synthetic one when `synthetic_vocab` (to match a
/// pre-trained embedding), else the 4,000 most frequent words of train.tsv.
/// @throws invalid_argument for an unknown layout, io::io_error / tasks::format_error for unreadable files.
inline TaskData load_task(const TaskSpec& spec, Index max_len, bool synthetic_vocab = true,
                          const tasks::TaskKind* kind = nullptr) {
  TaskData out;
  if (spec.directory.empty()) {
    const tasks::TaskGenerator gen(spec.generated);
    out.kind = gen.config().task;
    out.name = tasks::task_name(out.kind);
    out.vocab = tasks::Vocabulary::synthetic();
    out.train = detail::encode_all(out.vocab, gen.split(tasks::Split::train), max_len, out);
    out.dev = detail::encode_all(out.vocab, gen.split(tasks::Split::dev), max_len, out);
    return out;
  }
  const std::filesystem::path dir(spec.directory);
  out.name = dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
  out.kind = kind ? *kind : tasks::parse_task(out.name, "task");
  const std::string dev_name = out.kind == tasks::TaskKind::mnli ? "dev_matched.tsv" : "dev.tsv";
  const tasks::GlueFile train = tasks::read_glue_tsv((dir / "train.tsv").string(), out.kind);
  const tasks::GlueFile dev = tasks::read_glue_tsv((dir / dev_name).string(), out.kind);
  if (!train.labeled || !dev.labeled || train.examples.empty() || dev.examples.empty())
    throw invalid_argument("task", argument_problem::empty,
                           "'" + spec.directory + "' needs labelled, non-empty train.tsv and " + dev_name);
  out.vocab = synthetic_vocab ? tasks::Vocabulary::synthetic() : tasks::Vocabulary::from_glue_file(train, 4000);
  out.train = detail::encode_all(out.vocab, train.examples, max_len, out);
  out.dev = detail::encode_all(out.vocab, dev.examples, max_len, out);
  return out;
}

/// The examples of optimizer step `step`: positions step*B .. step*B + B - 1 of
/// an endless stream that visits every example once per epoch, each epoch in
/// the order of a permutation keyed by (seed, epoch). A function of (seed,
/// step) alone: this is the whole state of the data order ("rng" in a checkpoint).
class BatchOrder {
 public:
  BatchOrder(std::size_t count, std::uint64_t seed) : count_(count), seed_(seed) {
    if (count == 0) throw invalid_argument("train", argument_problem::empty, "no training example");
  }

  std::vector<std::size_t> indices(long step, Index batch_size) {
    std::vector<std::size_t> out(static_cast<std::size_t>(batch_size));
    for (Index j = 0; j < batch_size; ++j) {
      const std::uint64_t pos = std::uint64_t(step) * std::uint64_t(batch_size) + std::uint64_t(j);
      const std::uint64_t epoch = pos / count_;
      if (epoch != epoch_ || perm_.empty()) reshuffle(epoch);
      out[std::size_t(j)] = perm_[std::size_t(pos % count_)];
    }
    return out;
  }
  std::uint64_t seed() const { return seed_; }

 private:
  void reshuffle(std::uint64_t epoch) {
    perm_.resize(count_);
    for (std::size_t i = 0; i < count_; ++i) perm_[i] = i;
    tasks::Stream rng(tasks::stream_key(seed_, tasks::hash_string("batch-order"), epoch));
    rng.shuffle(perm_);
    epoch_ = epoch;
  }
  std::size_t count_;
  std::uint64_t seed_;
  std::uint64_t epoch_ = 0;
  std::vector<std::size_t> perm_;
};

/// A right-padded batch of the given examples (length: the longest of them).
/// Classification labels are rounded class indices; regression sets targets.
inline model::Batch make_batch(const std::vector<EncodedExample>& examples, const std::vector<std::size_t>& which,
                               bool regression) {
  Index L = 1;
  for (std::size_t i : which) L = std::max<Index>(L, Index(examples[i].ids.size()));
  const Index B = Index(which.size());
  model::Batch b;
  b.tokens = model::IdMatrix::Constant(L, B, tasks::kPadId);
  b.segments = model::IdMatrix::Zero(L, B);
  b.lengths.resize(std::size_t(B));
  for (Index c = 0; c < B; ++c) {
    const EncodedExample& e = examples[which[std::size_t(c)]];
    for (std::size_t i = 0; i < e.ids.size(); ++i) {
      b.tokens(Index(i), c) = e.ids[i];
      b.segments(Index(i), c) = e.segments[i];
    }
    b.lengths[std::size_t(c)] = Index(e.ids.size());
    if (regression)
      b.targets.push_back(e.label);
    else
      b.labels.push_back(std::int32_t(e.label + 0.5));
  }
  return b;
}

/// Masked-LM batches from the pre-training corpus: line k of the corpus is
/// "[CLS] words [SEP]" (cut to max_len); masking is keyed by the stream position.
class PretrainData {
 public:
  PretrainData(const PretrainSettings& p, const tasks::Vocabulary& vocab)
      : vocab_size_(vocab.size()), seed_(p.seed), order_(p.documents, p.seed) {
    tasks::PretrainConfig pc;
    pc.seed = p.seed;
    pc.documents = p.documents;
    const tasks::PretrainCorpus corpus(pc);
    auto encode_line = [&](std::size_t k) {
      std::vector<int> ids = vocab.ids(corpus.document(k));
      if (Index(ids.size()) > p.shape.max_len - 2) ids.resize(std::size_t(p.shape.max_len - 2));
      ids.insert(ids.begin(), tasks::kClsId);
      ids.push_back(tasks::kSepId);
      return ids;
    };
    lines_.reserve(p.documents);
    for (std::size_t k = 0; k < p.documents; ++k) lines_.push_back(encode_line(k));
    for (std::size_t k = 0; k < kHeldOut; ++k) held_out_.push_back(encode_line(p.documents + k));
  }

  /// The training batch of step `step`.
  model::Batch batch(long step, Index batch_size) {
    const std::vector<std::size_t> which = order_.indices(step, batch_size);
    std::vector<std::uint64_t> keys(which.size());
    for (std::size_t j = 0; j < which.size(); ++j) keys[j] = std::uint64_t(step) * std::uint64_t(batch_size) + j;
    return masked(lines_, which, keys);
  }
  /// Held-out batches (fixed masks) for the MLM loss and accuracy.
  std::vector<model::Batch> held_out(Index batch_size) const {
    std::vector<model::Batch> out;
    for (std::size_t first = 0; first < held_out_.size(); first += std::size_t(batch_size)) {
      std::vector<std::size_t> which;
      std::vector<std::uint64_t> keys;
      for (std::size_t k = first; k < std::min(held_out_.size(), first + std::size_t(batch_size)); ++k) {
        which.push_back(k);
        keys.push_back(~std::uint64_t(0) - k);
      }
      out.push_back(masked(held_out_, which, keys));
    }
    return out;
  }

  static constexpr std::size_t kHeldOut = 256;

 private:
  model::Batch masked(const std::vector<std::vector<int>>& lines, const std::vector<std::size_t>& which,
                      const std::vector<std::uint64_t>& keys) const {
    Index L = 1;
    for (std::size_t i : which) L = std::max<Index>(L, Index(lines[i].size()));
    const Index B = Index(which.size());
    model::Batch b;
    b.tokens = model::IdMatrix::Constant(L, B, tasks::kPadId);
    b.mlm_labels = model::IdMatrix::Constant(L, B, model::ignore_label);
    b.lengths.resize(std::size_t(B));
    for (Index c = 0; c < B; ++c) {
      const std::vector<int>& ids = lines[which[std::size_t(c)]];
      const tasks::MaskedTokens m = tasks::mask_tokens(ids, vocab_size_, seed_, keys[std::size_t(c)]);
      for (std::size_t i = 0; i < ids.size(); ++i) {
        b.tokens(Index(i), c) = m.input_ids[i];
        b.mlm_labels(Index(i), c) = m.labels[i];
      }
      b.lengths[std::size_t(c)] = Index(ids.size());
    }
    return b;
  }

  int vocab_size_;
  std::uint64_t seed_;
  BatchOrder order_;
  std::vector<std::vector<int>> lines_, held_out_;
};

}  // namespace scalora::train
