// SPDX-License-Identifier: Apache-2.0
// Configuration of the end-to-end runs (docs/training.md): methods, optimizers,
// the encoder's shape, masked-LM pre-training and fine-tuning, with validation
// and the canonical text that keys the pre-training cache.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "scalora/core/bound_parameters.hpp"
#include "scalora/core/limits.hpp"
#include "scalora/error.hpp"
#include "scalora/tasks/task.hpp"
#include "scalora/linalg/types.hpp"

namespace scalora::train {

/// What fine-tuning updates (docs/training.md, "Methods").
enum class Method {
  full,       ///< every tensor (model::Mode::full)
  lora,       ///< LoRA factors, biases, layer norms, head; W_pt frozen
  scalora,    ///< LoRA + steps 2-8 through the production kernels at every step
  scalora_i,  ///< LoRA + steps 2-8 every I-th step (ScaLoRA-I)
};

inline const char* method_name(Method m) {
  switch (m) {
    case Method::full: return "full";
    case Method::lora: return "lora";
    case Method::scalora: return "scalora";
    case Method::scalora_i: return "scalora-i";
  }
  return "?";
}

/// "full", "lora", "scalora", "scalora-i" (also "scalora_i").
/// @throws invalid_argument naming `argument` for anything else.
inline Method parse_method(std::string_view text, const std::string& argument = "method") {
  for (Method m : {Method::full, Method::lora, Method::scalora, Method::scalora_i})
    if (text == method_name(m)) return m;
  if (text == "scalora_i") return Method::scalora_i;
  throw invalid_argument(argument, argument_problem::out_of_range,
                         "unknown method '" + std::string(text) + "' (expected full, lora, scalora or scalora-i)");
}

inline bool rescales(Method m) { return m == Method::scalora || m == Method::scalora_i; }
inline bool uses_lora(Method m) { return m != Method::full; }

enum class OptimizerKind { adamw, sgd };

inline const char* optimizer_name(OptimizerKind o) { return o == OptimizerKind::adamw ? "adamw" : "sgd"; }

inline OptimizerKind parse_optimizer(std::string_view text, const std::string& argument = "optimizer") {
  if (text == "adamw") return OptimizerKind::adamw;
  if (text == "sgd") return OptimizerKind::sgd;
  throw invalid_argument(argument, argument_problem::out_of_range,
                         "unknown optimizer '" + std::string(text) + "' (expected adamw or sgd)");
}

/// Shape of the encoder shared by pre-training and fine-tuning.
struct ModelShape {
  Index d_model = 64;
  Index n_heads = 4;
  Index d_ff = 256;
  Index n_layers = 2;
  Index max_len = 48;  ///< learned positions; longer inputs are truncated (longest first)
  double init_std = 0.02;
};

/// Optimizer and schedule of one stage (linear decay after a linear warm-up).
struct OptimSettings {
  OptimizerKind kind = OptimizerKind::adamw;
  double lr = 1e-3;           ///< peak learning rate (also the eta of kappa = L eta lora_scale^2, decision D1)
  double weight_decay = 0.01;
  double momentum = 0.9;      ///< SGD only
  long warmup_steps = 0;
  double clip = 1.0;          ///< global gradient-norm clipping; <= 0: off
};

/// Masked-LM pre-training on the embedded grammar text (tasks::PretrainCorpus).
struct PretrainSettings {
  ModelShape shape;
  std::uint64_t seed = 1;          ///< model initialisation, corpus, masking and batch order
  std::size_t documents = 20000;   ///< corpus lines (1-3 sentences each)
  long steps = 3000;
  Index batch_size = 32;
  OptimSettings optim{OptimizerKind::adamw, 1e-3, 0.01, 0.9, 200, 1.0};
  long eval_every = 250;           ///< MLM loss and accuracy on held-out lines
};

/// Where the task comes from.
struct TaskSpec {
  tasks::TaskConfig generated;  ///< task kind, rank dial, data seed, sizes (generated tasks)
  std::string directory;       ///< non-empty: read train.tsv and dev.tsv (GLUE layout) from here instead
};

/// One fine-tuning run.
struct FinetuneSettings {
  TaskSpec task;
  Method method = Method::scalora;
  Index rank = 4;
  double lora_alpha = 0;   ///< lora_scale = lora_alpha / r; 0 means 2 r (lora_scale = 2)
  long interval = 10;      ///< ScaLoRA-I: I (Method::scalora uses 1)
  double L = 1000;         ///< smoothness constant of kappa = L eta lora_scale^2 (a hyperparameter, D1)
  OptimSettings optim;
  long steps = 1500;
  Index batch_size = 32;
  std::uint64_t seed = 1;  ///< LoRA initialisation, head, batch order (the task data has its own seed)
  long eval_every = 100;
  long shadow_every = 50;  ///< reference check of the kernels every K steps; 0: never
  long diagnostics_every = 1;  ///< rank of W - W_pt(0) and the SVD optimum every N steps; 0: never

  /// PEFT's lora_alpha as the run uses it (0 means 2 r).
  double effective_lora_alpha() const { return lora_alpha > 0 ? lora_alpha : 2.0 * double(rank); }
  double lora_scale() const { return effective_lora_alpha() / double(rank); }
  /// The loss bound's constants: L, the PEAK learning rate (D1) and s.
  BoundParameters<double> bound() const { return {L, optim.lr, lora_scale()}; }
  long rescale_interval() const { return method == Method::scalora_i ? interval : 1; }
};

namespace detail {
inline void require(bool ok, const char* name, const std::string& detail) {
  if (!ok) throw invalid_argument(name, argument_problem::out_of_range, detail);
}
}  // namespace detail

/// @throws invalid_argument naming the field.
inline void validate(const ModelShape& s) {
  detail::require(s.d_model >= 1 && s.n_heads >= 1 && s.d_model % s.n_heads == 0, "d_model",
                  "must be >= 1 and divisible by n_heads");
  detail::require(s.d_ff >= 1, "d_ff", "must be >= 1");
  detail::require(s.n_layers >= 1, "n_layers", "must be >= 1");
  detail::require(s.max_len >= 8, "max_len", "must be >= 8");
}

inline void validate(const OptimSettings& o) {
  detail::require(o.lr > 0 && o.lr < 10, "lr", "must be in (0, 10)");
  detail::require(o.weight_decay >= 0, "weight_decay", "must be >= 0");
  detail::require(o.momentum >= 0 && o.momentum < 1, "momentum", "must be in [0, 1)");
  detail::require(o.warmup_steps >= 0, "warmup", "must be >= 0");
}

inline void validate(const PretrainSettings& p) {
  validate(p.shape);
  validate(p.optim);
  detail::require(p.documents >= 100, "pretrain_documents", "must be >= 100");
  detail::require(p.steps >= 1, "pretrain_steps", "must be >= 1");
  detail::require(p.batch_size >= 1, "batch_size", "must be >= 1");
}

inline void validate(const FinetuneSettings& f) {
  validate(f.optim);
  detail::require(f.rank >= 1 && f.rank <= kMaxKernelRank, "rank",
                  "must be in [1, " + std::to_string(kMaxKernelRank) + "] (the kernels' limit), got " +
                      std::to_string(f.rank));
  detail::require(f.lora_alpha >= 0, "lora_alpha", "must be >= 0");
  detail::require(f.interval >= 1, "interval", "must be >= 1, got " + std::to_string(f.interval));
  detail::require(f.L > 0, "L", "must be > 0");
  detail::require(f.steps >= 1, "steps", "must be >= 1");
  detail::require(f.batch_size >= 1, "batch_size", "must be >= 1");
  detail::require(f.eval_every >= 0 && f.shadow_every >= 0 && f.diagnostics_every >= 0, "eval_every",
                  "intervals must be >= 0");
}

/// Canonical text of everything that determines a pre-trained checkpoint's
/// bytes: the cache key (docs/training.md, "Pre-training").
inline std::string cache_text(const PretrainSettings& p) {
  std::ostringstream os;
  os.precision(17);
  const ModelShape& s = p.shape;
  os << "pretrain-v2 d" << s.d_model << " h" << s.n_heads << " ff" << s.d_ff << " l" << s.n_layers << " len"
     << s.max_len << " std" << s.init_std << " seed" << p.seed << " docs" << p.documents << " steps" << p.steps
     << " bs" << p.batch_size << " opt" << optimizer_name(p.optim.kind) << " lr" << p.optim.lr << " wd"
     << p.optim.weight_decay << " mom" << p.optim.momentum << " warm" << p.optim.warmup_steps << " clip"
     << p.optim.clip << " generator" << tasks::kGeneratorVersion;
  return os.str();
}

}  // namespace scalora::train
