// SPDX-License-Identifier: Apache-2.0
#include "cli.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include "scalora/core/limits.hpp"

namespace scalora::train::cli {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream is(s);
  while (std::getline(is, cur, ','))
    if (!cur.empty()) out.push_back(cur);
  if (out.empty()) throw UsageError("empty list '" + s + "'");
  return out;
}

/// A bound as "%g" shows it (1e-09, 9.99, 100000000).
std::string bound_text(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

long parse_long(const std::string& name, const std::string& v, long lo, long hi) {
  try {
    std::size_t pos = 0;
    const long x = std::stol(v, &pos);
    if (pos == v.size() && x >= lo && x <= hi) return x;
  } catch (const std::exception&) {
  }
  throw UsageError(name + ": expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" +
                   v + "'");
}

double parse_double(const std::string& name, const std::string& v, double lo, double hi) {
  try {
    std::size_t pos = 0;
    const double x = std::stod(v, &pos);
    if (pos == v.size() && x >= lo && x <= hi) return x;
  } catch (const std::exception&) {
  }
  throw UsageError(name + ": expected a number in [" + bound_text(lo) + ", " + bound_text(hi) + "], got '" + v + "'");
}

/// What an option does with its value (the option's name, for the errors).
using Handler = std::function<void(Options&, const std::string& name, const std::string& value)>;

long steps_value(const std::string& a, const std::string& v) { return parse_long(a, v, 0, 100'000'000); }

const std::map<std::string, Handler>& handlers() {
  static const std::map<std::string, Handler> h = {
      // task
      {"--rank-dial", [](Options& o, auto& a, auto& v) { o.base.task.generated.rank_dial = int(parse_long(a, v, 1, 1024)); }},
      {"--data-seed", [](Options& o, auto& a, auto& v) { o.base.task.generated.seed = std::uint64_t(parse_long(a, v, 0, 1L << 40)); }},
      {"--items", [](Options& o, auto& a, auto& v) { o.base.task.generated.items = int(parse_long(a, v, 2, 512)); }},
      {"--relational-fraction", [](Options& o, auto& a, auto& v) { o.base.task.generated.relational_fraction = parse_double(a, v, 0, 1); }},
      {"--train-size", [](Options& o, auto& a, auto& v) { o.base.task.generated.train_size = std::size_t(parse_long(a, v, 1, 10'000'000)); }},
      {"--dev-size", [](Options& o, auto& a, auto& v) { o.base.task.generated.dev_size = std::size_t(parse_long(a, v, 1, 10'000'000)); }},
      // method and bound
      {"--rank", [](Options& o, auto& a, auto& v) { o.base.rank = parse_long(a, v, 1, kMaxKernelRank); }},
      {"--lora-alpha", [](Options& o, auto& a, auto& v) { o.base.lora_alpha = parse_double(a, v, 1e-6, 1e6); }},
      {"--interval", [](Options& o, auto& a, auto& v) { o.base.interval = parse_long(a, v, 1, 1'000'000); }},
      {"--L", [](Options& o, auto& a, auto& v) { o.base.L = parse_double(a, v, 1e-12, 1e12); }},
      // optimizer
      {"--optimizer",
       [](Options& o, auto&, auto& v) {
         if (v != "adamw" && v != "sgd") throw UsageError("--optimizer: expected adamw or sgd, got '" + v + "'");
         o.base.optim.kind = parse_optimizer(v);
       }},
      {"--lr",
       [](Options& o, auto& a, auto& v) {
         o.base.optim.lr = parse_double(a, v, 1e-9, 9.99);
         o.lr_given = true;
       }},
      {"--weight-decay", [](Options& o, auto& a, auto& v) { o.base.optim.weight_decay = parse_double(a, v, 0, 10); }},
      {"--momentum", [](Options& o, auto& a, auto& v) { o.base.optim.momentum = parse_double(a, v, 0, 0.999); }},
      {"--warmup", [](Options& o, auto& a, auto& v) { o.base.optim.warmup_steps = steps_value(a, v); }},
      {"--clip", [](Options& o, auto& a, auto& v) { o.base.optim.clip = parse_double(a, v, 0, 1e9); }},
      {"--steps", [](Options& o, auto& a, auto& v) { o.base.steps = parse_long(a, v, 1, 100'000'000); }},
      {"--batch-size", [](Options& o, auto& a, auto& v) { o.base.batch_size = parse_long(a, v, 1, 4096); }},
      {"--eval-every", [](Options& o, auto& a, auto& v) { o.base.eval_every = steps_value(a, v); }},
      {"--shadow-every", [](Options& o, auto& a, auto& v) { o.base.shadow_every = steps_value(a, v); }},
      {"--diagnostics-every", [](Options& o, auto& a, auto& v) { o.base.diagnostics_every = steps_value(a, v); }},
      // pre-training
      {"--pretrained", [](Options& o, auto&, auto& v) { o.pretrained = v; }},
      {"--cache", [](Options& o, auto&, auto& v) { o.cache = v; }},
      {"--pretrain-steps", [](Options& o, auto& a, auto& v) { o.pretrain.steps = parse_long(a, v, 1, 100'000'000); }},
      {"--pretrain-documents", [](Options& o, auto& a, auto& v) { o.pretrain.documents = std::size_t(parse_long(a, v, 100, 10'000'000)); }},
      {"--d-model", [](Options& o, auto& a, auto& v) { o.pretrain.shape.d_model = parse_long(a, v, 4, 4096); }},
      {"--layers", [](Options& o, auto& a, auto& v) { o.pretrain.shape.n_layers = parse_long(a, v, 1, 64); }},
      {"--heads", [](Options& o, auto& a, auto& v) { o.pretrain.shape.n_heads = parse_long(a, v, 1, 64); }},
      {"--d-ff", [](Options& o, auto& a, auto& v) { o.pretrain.shape.d_ff = parse_long(a, v, 1, 65536); }},
      {"--max-len", [](Options& o, auto& a, auto& v) { o.pretrain.shape.max_len = parse_long(a, v, 8, 4096); }},
      // runs and outputs
      {"--resume", [](Options& o, auto&, auto& v) { o.resume = v; }},
      {"--report", [](Options& o, auto&, auto& v) { o.report = v; }},
      {"--checkpoint-every", [](Options& o, auto& a, auto& v) { o.run.checkpoint_every = steps_value(a, v); }},
      {"--stop-after", [](Options& o, auto& a, auto& v) { o.run.stop_after = parse_long(a, v, 1, 100'000'000); }},
      {"--out",
       [](Options& o, auto&, auto& v) {
         o.out = v;
         o.out_given = true;
       }},
      {"--jobs", [](Options& o, auto& a, auto& v) { o.jobs = int(parse_long(a, v, 1, 64)); }},
      {"--plots",
       [](Options& o, auto&, auto& v) {
         if (v != "svg" && v != "png" && v != "none")
           throw UsageError("--plots: expected svg, png or none, got '" + v + "'");
         o.plots = v;
       }},
      {"--inject-fault",
       [](Options& o, auto& a, auto& v) {
         const std::size_t at = v.find('@');
         if (at == std::string::npos || at == 0) throw UsageError("--inject-fault: expected LAYER@STEP, got '" + v + "'");
         o.fault.layer = v.substr(0, at);
         o.fault.step = parse_long(a, v.substr(at + 1), 1, 100'000'000);
       }},
  };
  return h;
}

}  // namespace

const char* const kUsage = R"(usage: scalora-train [options]
Fine-tunes a pre-trained toy encoder on GLUE-style tasks (docs/training.md).
  --task T[,T..]         syn-sst2 syn-cola syn-mrpc syn-stsb syn-rte syn-mnli, or a directory with GLUE
                         train.tsv/dev.tsv (layout named by the directory: SST-2, STS-B, ...) [syn-stsb]
  --rank-dial M          rank dial of generated tasks [32]      --data-seed N   task data seed [1]
  --items K              nonce items per side of the relation [task default]
  --relational-fraction F  share of relational examples, the rest low-rank controls [1]
  --train-size N, --dev-size N                                 split sizes of generated tasks [task defaults]
  --method M[,M..]       full lora scalora scalora-i; "lora:32" sets the rank of one entry [scalora]
  --rank R               LoRA rank [4]                          --lora-alpha A  s = A / R [2R]
  --interval I           ScaLoRA-I interval [10]                --L L           kappa = L lr lora_scale^2 [1000]
  --optimizer adamw|sgd  [adamw]   --weight-decay W [0.01]  --momentum M (sgd) [0.9]
  --lr LR                peak rate [full 1e-3; LoRA family 3e-3 (r <= 4), 3e-3 sqrt(4/r) above; SGD 0.03 / 0.1]
  --warmup N [steps/20]  --clip C [1]  --steps N [1500]  --batch-size B [32]  --seeds S[,S..] [1]
  --eval-every N [100]   --shadow-every K [50; 0 off]           --diagnostics-every N [1; 0 off]
  --pretrained auto|none|PATH   auto: build or reuse a cached checkpoint [auto]
  --cache DIR            pre-training cache [$SCALORA_CACHE_DIR or build/cache]
  --pretrain-steps N [3000]  --pretrain-documents N [20000]  --d-model D [64]  --layers N [2]
  --heads H [4]  --d-ff F [256]  --max-len L [48]
  --resume CKPT          continue a run from its checkpoint (settings come from the checkpoint; only
                         --steps (to extend), --stop-after, --plots, --jobs may differ)
  --checkpoint-every N [0]  --stop-after N (stop early, as if interrupted)  --no-final-checkpoint
  --out DIR [scalora-train-out]  must be empty or absent (one writer at a time, locked)
  --overwrite            move the contents of a non-empty --out aside to DIR.old-<time>-<pid> first
  --jobs N (runs in parallel) [1]  --plots svg|png|none [svg]
  --report DIR           write DIR/results.md and plots from the runs under DIR/<task>/<method>/seed-*/
  --inject-fault LAYER@STEP  (testing) corrupt a kernel result; the next shadow check must stop the run
Exit status: 0 done, 1 shadow check failed, 2 invalid input (arguments, task, checkpoint, non-empty --out),
3 could not do the work (I/O, out of memory, --out locked by another process); docs/validating.md.
)";

std::string MethodEntry::label() const {
  std::string s = method_name(method);
  if (method != Method::full) s += "-r" + std::to_string(rank);
  return s;
}

/// AdamW's defaults are the winners of the pilot sweep of docs/results.md
/// ({3e-4, 1e-3, 3e-3} per method). With lora_scale = lora_alpha / r fixed at 2,
/// AdamW's update lora_scale A B^T grows with r: above r = 4 the LoRA family's rate is
/// 3e-3 sqrt(4 / r) (r = 32: 1.06e-3; 3e-3 collapses LoRA r = 32 to a constant prediction).
double default_lr(Method m, OptimizerKind o, long rank) {
  if (o == OptimizerKind::sgd) return m == Method::full ? 0.03 : 0.1;
  if (m == Method::full) return 1e-3;
  return rank <= 4 ? 3e-3 : 3e-3 * std::sqrt(4.0 / double(rank));
}

Options parse(int argc, const char* const* argv) {
  Options o;
  std::vector<std::string> task_texts{"syn-stsb"}, method_texts{"scalora"};
  bool warmup_given = false;
  o.arguments.assign(argv + std::min(argc, 1), argv + argc);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      o.help = true;
      return o;
    }
    if (a == "--no-final-checkpoint") {
      o.run.final_checkpoint = false;
      o.given.emplace_back(a, "");
      continue;
    }
    if (a == "--overwrite") {
      o.overwrite = true;
      continue;
    }
    const auto h = handlers().find(a);
    const bool list = a == "--task" || a == "--method" || a == "--seeds" || a == "--seed";
    if (!list && h == handlers().end()) throw UsageError("unknown option '" + a + "'");
    if (i + 1 >= argc) throw UsageError(a + " needs a value");
    const std::string v = argv[++i];
    o.given.emplace_back(a, v);
    if (a == "--task") {
      task_texts = split_list(v);
    } else if (a == "--method") {
      method_texts = split_list(v);
    } else if (list) {
      o.seeds.clear();
      for (const std::string& s : split_list(v)) o.seeds.push_back(std::uint64_t(parse_long(a, s, 0, 1L << 40)));
    } else {
      h->second(o, a, v);
      warmup_given = warmup_given || a == "--warmup";
    }
  }
  if (o.pretrained != "auto" && o.pretrained != "none" && !fs::exists(o.pretrained))
    throw UsageError("--pretrained: no file '" + o.pretrained + "'");
  if (!o.resume.empty() && !fs::exists(o.resume)) throw UsageError("--resume: no file '" + o.resume + "'");
  if (!o.report.empty() && !fs::is_directory(o.report)) throw UsageError("--report: no directory '" + o.report + "'");
  for (const std::string& m : method_texts) {
    const std::size_t colon = m.find(':');
    MethodEntry e{parse_method(m.substr(0, colon), "--method"), o.base.rank};
    if (colon != std::string::npos) e.rank = parse_long("--method", m.substr(colon + 1), 1, kMaxKernelRank);
    o.methods.push_back(e);
  }
  for (const std::string& t : task_texts) {  // the one place a task name is parsed
    TaskEntry e{t, o.base.task};
    if (fs::is_directory(t)) e.spec.directory = fs::absolute(t).lexically_normal().string();
    else e.spec.generated.task = tasks::parse_task(t, "--task");
    o.tasks.push_back(e);
  }
  for (std::size_t i = 0; i < o.seeds.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (o.seeds[i] == o.seeds[j]) throw UsageError("--seeds: seed " + std::to_string(o.seeds[i]) + " given twice");
  for (std::size_t i = 0; i < o.methods.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (o.methods[i].label() == o.methods[j].label())
        throw UsageError("--method: " + o.methods[i].label() + " given twice");
  for (std::size_t i = 0; i < o.tasks.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (o.tasks[i].spec.directory == o.tasks[j].spec.directory &&
          (!o.tasks[i].spec.directory.empty() || o.tasks[i].spec.generated.task == o.tasks[j].spec.generated.task))
        throw UsageError("--task: " + o.tasks[i].text + " given twice");
  if (!o.lr_given) o.base.optim.lr = 0;  // per method: default_lr()
  if (!warmup_given) o.base.optim.warmup_steps = o.base.steps / 20;
  validate(o.pretrain);
  if (o.cache.empty()) {
    const char* env = std::getenv("SCALORA_CACHE_DIR");
    o.cache = env && *env ? env : "build/cache";
  }
  return o;
}

bool may_change_on_resume(const std::string& option) {
  return option == "--resume" || option == "--steps" || option == "--stop-after" || option == "--plots" ||
         option == "--jobs" || option == "--out" || option == "--inject-fault";
}

FinetuneSettings resumed_settings(const Options& o, const FinetuneSettings& stored, const ModelShape& shape,
                                  const RunOptions& stored_run) {
  std::string conflicts;
  const auto conflict = [&](const std::string& option, const std::string& why) {
    conflicts += (conflicts.empty() ? "" : "; ") + option + " " + why;
  };
  FinetuneSettings s = stored;
  for (const auto& [a, v] : o.given) {
    if (a == "--steps") {
      s.steps = parse_long(a, v, 1, 100'000'000);
      continue;
    }
    if (may_change_on_resume(a)) continue;
    Options x;  // the stored run with this one option applied
    x.base = stored;
    x.pretrain.shape = shape;
    x.run = stored_run;
    x.base.task.generated.task = stored.task.generated.task;
    const bool list = a == "--task" || a == "--method" || a == "--seeds" || a == "--seed";
    if (a == "--no-final-checkpoint") {
      x.run.final_checkpoint = false;
    } else if (a == "--seeds" || a == "--seed") {
      const std::vector<std::string> seeds = split_list(v);
      x.base.seed = seeds.size() == 1 ? std::uint64_t(parse_long(a, seeds[0], 0, 1L << 40)) : ~std::uint64_t{0};
    } else if (a == "--method") {
      const std::vector<std::string> ms = split_list(v);
      const std::size_t colon = ms[0].find(':');
      x.base.method = ms.size() == 1 ? parse_method(ms[0].substr(0, colon), a) : Method::full;
      if (colon != std::string::npos) x.base.rank = parse_long(a, ms[0].substr(colon + 1), 1, kMaxKernelRank);
      if (ms.size() != 1) x.base.rank = 0;
    } else if (a == "--task") {
      const std::vector<std::string> ts = split_list(v);
      if (ts.size() != 1) x.base.task.directory = "?";
      else if (fs::is_directory(ts[0])) x.base.task.directory = fs::absolute(ts[0]).lexically_normal().string();
      else x.base.task.generated.task = tasks::parse_task(ts[0], a);
    } else if (!list) {
      handlers().at(a)(x, a, v);
    }
    const bool pretraining = a == "--pretrained" || a == "--cache" || a == "--pretrain-steps" ||
                             a == "--pretrain-documents";
    if (pretraining) conflict(a, "has no effect on a resumed run (its state comes from the checkpoint)");
    else if (nlohmann::json(x.base).dump() != nlohmann::json(stored).dump() ||
             nlohmann::json(x.pretrain.shape).dump() != nlohmann::json(shape).dump() ||
             x.run.checkpoint_every != stored_run.checkpoint_every ||
             x.run.final_checkpoint != stored_run.final_checkpoint)
      conflict(a, v.empty() ? "differs from the checkpoint's run" : v + " differs from the checkpoint's run");
  }
  if (!conflicts.empty())
    throw UsageError("--resume: " + conflicts + " (only --steps, --stop-after, --plots and --jobs may change)");
  validate(s);
  return s;
}

}  // namespace scalora::train::cli
