// SPDX-License-Identifier: Apache-2.0
// Configuration and input batch of the toy transformer encoder, with their validation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scalora/error.hpp"
#include "scalora/linalg/types.hpp"

namespace scalora::model {

/// Which output head the model carries (docs/model.md, "Heads").
enum class Head {
  sequence,   ///< [CLS] pooling -> n_classes logits (n_classes >= 2: cross-entropy; 1: regression, MSE)
  masked_lm,  ///< per-token logits over the vocabulary, decoder tied to the token embedding
};

/// Training mode: which weights the optimizer updates.
enum class Mode {
  full,  ///< every tensor trainable (embeddings, W, biases, layer norms, head)
  lora,  ///< adapted layers: A, B; every layer: bias; layer norms; head. W_pt and embeddings frozen
};

/// LoRA targets, a bit set (Config::lora_targets).
enum Target : unsigned {
  target_q = 1u << 0,
  target_k = 1u << 1,
  target_v = 1u << 2,
  target_o = 1u << 3,
  target_mlp_up = 1u << 4,
  target_mlp_down = 1u << 5,
  target_all = 63u,
};

/// Shapes and options of the encoder. Defaults: the speed configuration of docs/model.md.
struct Config {
  Index vocab_size = 64;    ///< V; ids 0..V-1 ([PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4 by data.md §9)
  Index max_len = 32;       ///< L_max: number of learned positions
  Index d_model = 64;       ///< d
  Index n_heads = 4;        ///< H; d_head = d / H
  Index d_ff = 256;         ///< MLP hidden width
  Index n_layers = 2;
  Index n_segments = 2;     ///< 0: no segment embeddings; 2: BERT sentence A / B
  Head head = Head::sequence;
  Index n_classes = 2;      ///< Head::sequence: 1 = regression (MSE), >= 2 = classification
  double ln_eps = 1e-5;     ///< layer norm: sqrt(var + ln_eps)
  double init_std = 0.02;   ///< N(0, init_std^2) for embeddings and dense weights; biases 0, LN gain 1
  Mode mode = Mode::lora;
  Index lora_rank = 8;          ///< r (Mode::lora)
  double lora_alpha = 8;        ///< lora_scale (omega) = lora_alpha / r
  unsigned lora_targets = target_all;  ///< subset of {q, k, v, o, mlp_up, mlp_down}

  Index d_head() const { return d_model / n_heads; }
  double lora_scale() const { return lora_alpha / double(lora_rank); }
  bool adapts(Target t) const { return mode == Mode::lora && (lora_targets & t) != 0; }
  Index n_outputs() const { return head == Head::masked_lm ? vocab_size : n_classes; }
};

/// Label value of Batch::mlm_labels meaning "no prediction at this position" (as PyTorch's ignore_index).
inline constexpr std::int32_t ignore_label = -100;

/// Token-id matrices are L x B: column b is sequence b, row i is position i.
using IdMatrix = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic>;

/// One batch of B right-padded sequences of length L (the column count fixes B).
/// Token t = (b, i) is column b L + i of every d x N activation block, N = B L.
struct Batch {
  IdMatrix tokens;              ///< L x B ids in [0, V); position 0 is pooled by Head::sequence ([CLS])
  IdMatrix segments;            ///< empty (all segment 0) or L x B ids in [0, n_segments)
  std::vector<Index> lengths;   ///< empty (no padding) or B lengths in [1, L]; positions >= length are padding
  std::vector<std::int32_t> labels;   ///< classification: B class ids in [0, n_classes)
  std::vector<double> targets;        ///< regression: B real targets
  IdMatrix mlm_labels;          ///< masked LM: L x B, original id or ignore_label; only at non-padded positions

  Index seq_len() const { return tokens.rows(); }
  Index batch_size() const { return tokens.cols(); }
  Index length(Index b) const { return lengths.empty() ? tokens.rows() : lengths[std::size_t(b)]; }
};

namespace detail {

inline void require(bool ok, const char* name, argument_problem problem, const std::string& detail) {
  if (!ok) throw invalid_argument(name, problem, detail);
}

}  // namespace detail

/// Lengths of right-padded sequences: the row of the first pad_id in each column (L if none).
/// @throws invalid_argument("tokens") if a column starts with pad_id or has a non-pad id after a pad.
inline std::vector<Index> lengths_from_padding(const IdMatrix& tokens, std::int32_t pad_id = 0) {
  std::vector<Index> out(std::size_t(tokens.cols()));
  for (Index b = 0; b < tokens.cols(); ++b) {
    Index len = tokens.rows();
    for (Index i = 0; i < tokens.rows(); ++i)
      if (tokens(i, b) == pad_id) {
        len = i;
        break;
      }
    detail::require(len >= 1, "tokens", argument_problem::out_of_range,
                    "column " + std::to_string(b) + " starts with the pad id");
    for (Index i = len; i < tokens.rows(); ++i)
      detail::require(tokens(i, b) == pad_id, "tokens", argument_problem::out_of_range,
                      "column " + std::to_string(b) + " is not right-padded (id after a pad at row " +
                          std::to_string(i) + ")");
    out[std::size_t(b)] = len;
  }
  return out;
}

/// @throws invalid_argument naming the field (sizes < 1, d_model not divisible by n_heads, ...).
inline void validate(const Config& c) {
  using detail::require;
  const auto oor = argument_problem::out_of_range;
  require(c.vocab_size >= 1, "vocab_size", oor, "must be >= 1, got " + std::to_string(c.vocab_size));
  require(c.max_len >= 1, "max_len", oor, "must be >= 1, got " + std::to_string(c.max_len));
  require(c.d_model >= 1, "d_model", oor, "must be >= 1, got " + std::to_string(c.d_model));
  require(c.n_heads >= 1 && c.d_model % c.n_heads == 0, "n_heads", oor,
          "must be >= 1 and divide d_model = " + std::to_string(c.d_model) + ", got " + std::to_string(c.n_heads));
  require(c.d_ff >= 1, "d_ff", oor, "must be >= 1, got " + std::to_string(c.d_ff));
  require(c.n_layers >= 0, "n_layers", oor, "must be >= 0, got " + std::to_string(c.n_layers));
  require(c.n_segments >= 0, "n_segments", oor, "must be >= 0, got " + std::to_string(c.n_segments));
  require(c.head == Head::masked_lm || c.n_classes >= 1, "n_classes", oor,
          "must be >= 1 (1 = regression), got " + std::to_string(c.n_classes));
  require(c.ln_eps > 0, "ln_eps", oor, "must be > 0");
  require(c.init_std >= 0, "init_std", oor, "must be >= 0");
  if (c.mode == Mode::lora) {
    require(c.lora_rank >= 1, "lora_rank", oor, "must be >= 1 in Mode::lora, got " + std::to_string(c.lora_rank));
    require(c.lora_alpha > 0, "lora_alpha", oor, "must be > 0");
    require((c.lora_targets & ~unsigned(target_all)) == 0, "lora_targets", oor, "unknown target bits");
  }
}

/// Checks a batch against a configuration (ids, lengths, labels of the configured head).
/// @throws invalid_argument naming the Batch field.
inline void validate(const Batch& batch, const Config& c) {
  using detail::require;
  const auto shape = argument_problem::shape_mismatch, oor = argument_problem::out_of_range;
  const Index L = batch.seq_len(), B = batch.batch_size();
  require(L >= 1 && B >= 1, "tokens", argument_problem::empty, "needs L >= 1 rows and B >= 1 columns");
  require(L <= c.max_len, "tokens", oor,
          "sequence length " + std::to_string(L) + " exceeds max_len " + std::to_string(c.max_len));
  for (Index b = 0; b < B; ++b)
    for (Index i = 0; i < L; ++i)
      require(batch.tokens(i, b) >= 0 && batch.tokens(i, b) < c.vocab_size, "tokens", oor,
              "entry (" + std::to_string(i) + "," + std::to_string(b) + ") = " + std::to_string(batch.tokens(i, b)) +
                  " not in [0, " + std::to_string(c.vocab_size) + ")");
  if (batch.segments.size() != 0) {
    require(batch.segments.rows() == L && batch.segments.cols() == B, "segments", shape, "must be L x B like tokens");
    for (Index b = 0; b < B; ++b)
      for (Index i = 0; i < L; ++i)
        require(batch.segments(i, b) >= 0 && batch.segments(i, b) < c.n_segments, "segments", oor,
                "entry (" + std::to_string(i) + "," + std::to_string(b) + ") not in [0, n_segments)");
  }
  if (!batch.lengths.empty()) {
    require(Index(batch.lengths.size()) == B, "lengths", shape, "must have B = " + std::to_string(B) + " entries");
    for (Index b = 0; b < B; ++b)
      require(batch.lengths[std::size_t(b)] >= 1 && batch.lengths[std::size_t(b)] <= L, "lengths", oor,
              "entry " + std::to_string(b) + " not in [1, L]");
  }
  if (c.head == Head::masked_lm) {
    require(batch.mlm_labels.rows() == L && batch.mlm_labels.cols() == B, "mlm_labels", shape,
            "must be L x B like tokens");
    for (Index b = 0; b < B; ++b)
      for (Index i = 0; i < L; ++i) {
        const std::int32_t y = batch.mlm_labels(i, b);
        if (y == ignore_label) continue;
        require(y >= 0 && y < c.vocab_size, "mlm_labels", oor,
                "entry (" + std::to_string(i) + "," + std::to_string(b) + ") not in [0, V) or ignore_label");
        require(i < batch.length(b), "mlm_labels", oor,
                "entry (" + std::to_string(i) + "," + std::to_string(b) + ") is at a padded position");
      }
  } else if (c.n_classes == 1) {
    require(Index(batch.targets.size()) == B, "targets", shape, "regression needs B = " + std::to_string(B) + " targets");
  } else {
    require(Index(batch.labels.size()) == B, "labels", shape, "classification needs B = " + std::to_string(B) + " labels");
    for (Index b = 0; b < B; ++b)
      require(batch.labels[std::size_t(b)] >= 0 && batch.labels[std::size_t(b)] < c.n_classes, "labels", oor,
              "entry " + std::to_string(b) + " not in [0, n_classes)");
  }
}

}  // namespace scalora::model
