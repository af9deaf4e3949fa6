// SPDX-License-Identifier: Apache-2.0
// scalora-train: the end-to-end run (docs/training.md). Masked-LM pre-training
// of the toy encoder (cached), then fine-tuning on GLUE-style tasks with full
// fine-tuning, LoRA, ScaLoRA or ScaLoRA-I, the ScaLoRA steps through the
// production kernels of gpu/ (Thrust host backend) with shadow checks against
// the reference; CSV/JSON logs, checkpoints, plots. A list of tasks, methods
// or seeds runs the grid and writes results.md.
//
// Exit status: 0 done, 1 a shadow check failed (the report names layer and
// step), 2 invalid arguments or unreadable input, 3 any other failure.
#include <unistd.h>

#include <Eigen/Core>
#include <atomic>
#include <cmath>
#include <numeric>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernel_rescaler.hpp"
#include "plots.hpp"
#include "scalora/glue/sha256.hpp"
#include "scalora/train/run.hpp"

namespace {

using namespace scalora;
using namespace scalora::train;
namespace fs = std::filesystem;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* kUsage = R"(usage: scalora-train [options]
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
  --resume CKPT          continue a run from its checkpoint (settings come from the checkpoint)
  --checkpoint-every N [0]  --stop-after N (stop early, as if interrupted)  --no-final-checkpoint
  --out DIR [scalora-train-out]  --jobs N (runs in parallel) [1]  --plots svg|png|none [svg]
  --report DIR           write DIR/results.md and plots from the runs under DIR/<task>/<method>/seed-*/
  --inject-fault LAYER@STEP  (testing) corrupt a kernel result; the next shadow check must stop the run
Exit status: 0 done, 1 shadow check failed, 2 invalid arguments or unreadable input, 3 other failure.
)";

/// One entry of --method: the method and its rank.
struct MethodEntry {
  Method method;
  Index rank;
  std::string label() const {
    std::string s = method_name(method);
    if (method != Method::full) s += "-r" + std::to_string(rank);
    return s;
  }
};

struct Options {
  std::vector<std::string> tasks{"syn-stsb"};
  std::vector<MethodEntry> methods;
  std::vector<std::string> method_texts{"scalora"};
  std::vector<std::uint64_t> seeds{1};
  FinetuneSettings base;
  bool lr_given = false, warmup_given = false, L_given = false;
  PretrainSettings pretrain;
  std::string pretrained = "auto";
  std::string cache;
  std::string resume;
  std::string report;  ///< --report DIR: aggregate the runs under DIR, train nothing
  RunOptions run;
  std::string out = "scalora-train-out";
  int jobs = 1;
  std::string plots = "svg";
  FaultInjection fault;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream is(s);
  while (std::getline(is, cur, ','))
    if (!cur.empty()) out.push_back(cur);
  if (out.empty()) throw UsageError("empty list '" + s + "'");
  return out;
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
  throw UsageError(name + ": expected a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" +
                   v + "'");
}

/// Default peak learning rates (docs/training.md, "Hyperparameters"): AdamW's are the winners of the
/// pilot sweep of docs/results.md ({3e-4, 1e-3, 3e-3} per method). With lora_scale = lora_alpha / r
/// fixed at 2, AdamW's update lora_scale A B^T grows with r: above r = 4 the LoRA family's rate is
/// 3e-3 sqrt(4 / r) (r = 32: 1.06e-3; 3e-3 collapses LoRA r = 32 to a constant prediction).
double default_lr(Method m, OptimizerKind o, long rank) {
  if (o == OptimizerKind::sgd) return m == Method::full ? 0.03 : 0.1;
  if (m == Method::full) return 1e-3;
  return rank <= 4 ? 3e-3 : 3e-3 * std::sqrt(4.0 / double(rank));
}

Options parse(int argc, char** argv) {
  Options o;
  auto value = [&](int& i) -> std::string {
    if (i + 1 >= argc) throw UsageError(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--task") {
      o.tasks = split_list(value(i));
    } else if (a == "--rank-dial") {
      o.base.task.generated.rank_dial = int(parse_long(a, value(i), 1, 1024));
    } else if (a == "--data-seed") {
      o.base.task.generated.seed = std::uint64_t(parse_long(a, value(i), 0, 1L << 40));
    } else if (a == "--items") {
      o.base.task.generated.items = int(parse_long(a, value(i), 2, 512));
    } else if (a == "--relational-fraction") {
      o.base.task.generated.relational_fraction = parse_double(a, value(i), 0, 1);
    } else if (a == "--train-size") {
      o.base.task.generated.train_size = std::size_t(parse_long(a, value(i), 1, 10'000'000));
    } else if (a == "--dev-size") {
      o.base.task.generated.dev_size = std::size_t(parse_long(a, value(i), 1, 10'000'000));
    } else if (a == "--method") {
      o.method_texts = split_list(value(i));
    } else if (a == "--rank") {
      o.base.rank = parse_long(a, value(i), 1, 64);
    } else if (a == "--lora-alpha") {
      o.base.lora_alpha = parse_double(a, value(i), 1e-6, 1e6);
    } else if (a == "--interval") {
      o.base.interval = parse_long(a, value(i), 1, 1'000'000);
    } else if (a == "--L") {
      o.base.L = parse_double(a, value(i), 1e-12, 1e12);
      o.L_given = true;
    } else if (a == "--optimizer") {
      const std::string v = value(i);
      if (v != "adamw" && v != "sgd") throw UsageError("--optimizer: expected adamw or sgd, got '" + v + "'");
      o.base.optim.kind = parse_optimizer(v);
    } else if (a == "--lr") {
      o.base.optim.lr = parse_double(a, value(i), 1e-9, 9.99);
      o.lr_given = true;
    } else if (a == "--weight-decay") {
      o.base.optim.weight_decay = parse_double(a, value(i), 0, 10);
    } else if (a == "--momentum") {
      o.base.optim.momentum = parse_double(a, value(i), 0, 0.999);
    } else if (a == "--warmup") {
      o.base.optim.warmup_steps = parse_long(a, value(i), 0, 100'000'000);
      o.warmup_given = true;
    } else if (a == "--clip") {
      o.base.optim.clip = parse_double(a, value(i), 0, 1e9);
    } else if (a == "--steps") {
      o.base.steps = parse_long(a, value(i), 1, 100'000'000);
    } else if (a == "--batch-size") {
      o.base.batch_size = parse_long(a, value(i), 1, 4096);
    } else if (a == "--seeds" || a == "--seed") {
      o.seeds.clear();
      for (const std::string& s : split_list(value(i))) o.seeds.push_back(std::uint64_t(parse_long(a, s, 0, 1L << 40)));
    } else if (a == "--eval-every") {
      o.base.eval_every = parse_long(a, value(i), 0, 100'000'000);
    } else if (a == "--shadow-every") {
      o.base.shadow_every = parse_long(a, value(i), 0, 100'000'000);
    } else if (a == "--diagnostics-every") {
      o.base.diagnostics_every = parse_long(a, value(i), 0, 100'000'000);
    } else if (a == "--pretrained") {
      o.pretrained = value(i);
    } else if (a == "--cache") {
      o.cache = value(i);
    } else if (a == "--pretrain-steps") {
      o.pretrain.steps = parse_long(a, value(i), 1, 100'000'000);
    } else if (a == "--pretrain-documents") {
      o.pretrain.documents = std::size_t(parse_long(a, value(i), 100, 10'000'000));
    } else if (a == "--d-model") {
      o.pretrain.shape.d_model = parse_long(a, value(i), 4, 4096);
    } else if (a == "--layers") {
      o.pretrain.shape.n_layers = parse_long(a, value(i), 1, 64);
    } else if (a == "--heads") {
      o.pretrain.shape.n_heads = parse_long(a, value(i), 1, 64);
    } else if (a == "--d-ff") {
      o.pretrain.shape.d_ff = parse_long(a, value(i), 1, 65536);
    } else if (a == "--max-len") {
      o.pretrain.shape.max_len = parse_long(a, value(i), 8, 4096);
    } else if (a == "--resume") {
      o.resume = value(i);
    } else if (a == "--report") {
      o.report = value(i);
      if (!fs::is_directory(o.report)) throw UsageError("--report: no directory '" + o.report + "'");
    } else if (a == "--checkpoint-every") {
      o.run.checkpoint_every = parse_long(a, value(i), 0, 100'000'000);
    } else if (a == "--stop-after") {
      o.run.stop_after = parse_long(a, value(i), 1, 100'000'000);
    } else if (a == "--no-final-checkpoint") {
      o.run.final_checkpoint = false;
    } else if (a == "--out") {
      o.out = value(i);
    } else if (a == "--jobs") {
      o.jobs = int(parse_long(a, value(i), 1, 64));
    } else if (a == "--plots") {
      o.plots = value(i);
      if (o.plots != "svg" && o.plots != "png" && o.plots != "none")
        throw UsageError("--plots: expected svg, png or none, got '" + o.plots + "'");
    } else if (a == "--inject-fault") {
      const std::string v = value(i);
      const std::size_t at = v.find('@');
      if (at == std::string::npos || at == 0) throw UsageError("--inject-fault: expected LAYER@STEP, got '" + v + "'");
      o.fault.layer = v.substr(0, at);
      o.fault.step = parse_long(a, v.substr(at + 1), 1, 100'000'000);
    } else {
      throw UsageError("unknown option '" + a + "'");
    }
  }
  if (o.pretrained != "auto" && o.pretrained != "none" && !fs::exists(o.pretrained))
    throw UsageError("--pretrained: no file '" + o.pretrained + "'");
  if (!o.resume.empty() && !fs::exists(o.resume)) throw UsageError("--resume: no file '" + o.resume + "'");
  for (const std::string& m : o.method_texts) {
    const std::size_t colon = m.find(':');
    MethodEntry e{parse_method(m.substr(0, colon), "--method"), o.base.rank};
    if (colon != std::string::npos) e.rank = parse_long("--method", m.substr(colon + 1), 1, 64);
    o.methods.push_back(e);
  }
  for (const std::string& t : o.tasks)
    if (!fs::is_directory(t)) glue::parse_task(t, "--task");
  if (!o.lr_given) o.base.optim.lr = 0;  // per method, below
  if (!o.warmup_given) o.base.optim.warmup_steps = o.base.steps / 20;
  validate(o.pretrain);
  if (o.cache.empty()) {
    const char* env = std::getenv("SCALORA_CACHE_DIR");
    o.cache = env && *env ? env : "build/cache";
  }
  return o;
}

// ---------------------------------------------------------------- progress

/// A progress bar on stderr when it is a terminal, else a plain line every 10%.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)), tty_(::isatty(2) != 0) {}
  ~ProgressBar() {
    if (tty_ && drawn_) std::fprintf(stderr, "\n");
  }
  void operator()(const Progress& p) {
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double frac = p.total > 0 ? double(p.step) / double(p.total) : 1.0;
    const double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
    char metric[64] = "";
    if (!std::isnan(p.metric)) std::snprintf(metric, sizeof metric, " %s %.4f", p.metric_name.c_str(), p.metric);
    if (tty_) {
      if (p.step != p.total && std::chrono::duration<double>(now - last_).count() < 0.2) return;
      last_ = now;
      const int width = 30, fill = int(frac * width);
      std::fprintf(stderr, "\r%s [%s%s] %3d%% %ld/%ld loss %.4f%s eta %.0fs   ", label_.c_str(),
                   std::string(std::size_t(fill), '#').c_str(), std::string(std::size_t(width - fill), '.').c_str(),
                   int(100 * frac), p.step, p.total, p.loss, metric, eta);
      drawn_ = true;
    } else {
      const int decile = int(10 * frac);
      if (decile <= decile_ && p.step != p.total) return;
      decile_ = decile;
      std::fprintf(stderr, "%s: %3d%% step %ld/%ld loss %.4f%s (%.0f s, eta %.0f s)\n", label_.c_str(), int(100 * frac),
                   p.step, p.total, p.loss, metric, elapsed, eta);
    }
    std::fflush(stderr);
  }

 private:
  std::string label_;
  bool tty_;
  bool drawn_ = false;
  int decile_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
};

// ---------------------------------------------------------------- pre-training

/// The pre-trained state: read from --pretrained PATH, or from the cache keyed
/// by sha256(cache_text(settings)), pre-training (and caching) on a miss.
model::StateDict<float> pretrained_state(const Options& o, bool quiet) {
  if (o.pretrained != "auto") return read_checkpoint(o.pretrained).state;
  const std::string key = glue::sha256_hex(cache_text(o.pretrain)).substr(0, 16);
  const std::string dir = o.cache + "/pretrain-" + key;
  const std::string path = dir + "/pretrained.safetensors";
  if (fs::exists(path)) {
    if (!quiet) std::fprintf(stderr, "pre-trained checkpoint: %s (cached)\n", path.c_str());
    return read_checkpoint(path).state;
  }
  fs::create_directories(dir);
  if (!quiet) std::fprintf(stderr, "pre-training (masked LM, %ld steps) into %s\n", o.pretrain.steps, dir.c_str());
  const auto t0 = std::chrono::steady_clock::now();
  Pretrainer pre(o.pretrain);
  CsvLog steps(dir + "/steps.csv", "step,loss,lr,grad_norm", 0);
  CsvLog evals(dir + "/eval.csv", "step,mlm_loss,mlm_accuracy", 0);
  ProgressBar bar("pretrain");
  Progress pr;
  pr.phase = "pretrain";
  pr.total = o.pretrain.steps;
  pr.metric_name = "mlm_acc";
  auto evaluate = [&] {
    const MlmEval e = pre.evaluate();
    evals.row(std::to_string(e.step) + "," + csv_number(e.loss) + "," + csv_number(e.accuracy));
    pr.metric = e.accuracy;
    return e;
  };
  evaluate();
  MlmEval last;
  while (!pre.finished()) {
    const StepRecord r = pre.step();
    steps.row(std::to_string(r.step) + "," + csv_number(r.loss, 9) + "," + csv_number(r.lr) + "," +
              csv_number(r.grad_norm));
    if (r.step % o.pretrain.eval_every == 0 || r.step == o.pretrain.steps) last = evaluate();
    pr.step = r.step;
    pr.loss = r.loss;
    if (!quiet) bar(pr);
  }
  Checkpoint c = pre.checkpoint();
  c.metadata["mlm_loss"] = csv_number(last.loss);
  c.metadata["mlm_accuracy"] = csv_number(last.accuracy);
  write_checkpoint(path, c);
  nlohmann::json j = {{"settings", o.pretrain},
                      {"cache_key", cache_text(o.pretrain)},
                      {"mlm_loss", last.loss},
                      {"mlm_accuracy", last.accuracy},
                      {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
  write_text_atomic(dir + "/summary.json", j.dump(2) + "\n");
  if (o.plots != "none")
    plots::render(dir,
                  {plots::Figure("mlm_loss", "pre-training: masked-LM loss", "step", "loss",
                                 {plots::thin(plots::column_curve(read_csv(dir + "/steps.csv"), "loss", "train"))}, true)},
                  o.plots);
  return c.state;
}

// ---------------------------------------------------------------- one run

struct RunSpec {
  std::string task;
  MethodEntry method;
  std::uint64_t seed;
  std::string dir;
};

FinetuneSettings settings_of(const Options& o, const RunSpec& r) {
  FinetuneSettings s = o.base;
  if (fs::is_directory(r.task)) {
    s.task.directory = fs::absolute(r.task).lexically_normal().string();
  } else {
    s.task.directory.clear();
    s.task.generated.task = glue::parse_task(r.task, "--task");
  }
  s.method = r.method.method;
  s.rank = r.method.rank;
  s.seed = r.seed;
  if (!o.lr_given) s.optim.lr = default_lr(s.method, s.optim.kind, s.rank);
  return s;
}

/// Runs one fine-tuning; returns its summary. Throws shadow_check_failure.
nlohmann::json run_one(const FinetuneSettings& s, std::shared_ptr<const TaskData> data, const ModelShape& shape,
                       const model::StateDict<float>* pretrained, const Checkpoint* resume, const Options& o,
                       const std::string& dir, bool show_progress) {
  FineTuner tuner(s, std::move(data), shape, pretrained);
  if (resume) tuner.restore(*resume);
  std::unique_ptr<KernelRescaler> rescaler;
  if (rescales(s.method)) {
    rescaler = std::make_unique<KernelRescaler>(tuner.adapted_layers(), s, o.fault);
    tuner.set_rescaler(rescaler.get());
  }
  RunOptions ro = o.run;
  ro.out_dir = dir;
  std::unique_ptr<ProgressBar> bar;
  if (show_progress) {
    bar = std::make_unique<ProgressBar>(tuner.data().name + " " + std::string(method_name(s.method)) + " seed " +
                                        std::to_string(s.seed));
    ro.progress = [&](const Progress& p) { (*bar)(p); };
  }
  try {
    RunSummary sum = run_finetune(tuner, ro, rescaler.get());
    bar.reset();
    if (rescaler) sum.json["kernel_workspace_bytes"] = rescaler->workspace_bytes();
    write_text_atomic(dir + "/summary.json", sum.json.dump(2) + "\n");
    if (o.plots != "none") plots::render(dir, plots::run_figures(dir, tuner.data().name + " " + method_name(s.method)), o.plots);
    return sum.json;
  } catch (const shadow_check_failure& f) {
    bar.reset();
    write_text_atomic(dir + "/shadow_failure.txt", std::string(f.what()) + "\n");
    throw;
  }
}

// ---------------------------------------------------------------- grid report

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? NAN : s / double(v.size());
}
double stdev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}

/// results.md / results.json of a grid: mean +- std over seeds of the final and
/// best dev primary metric, final ranks and column fractions; comparison plots.
void write_report(const Options& o, const std::vector<RunSpec>& runs, const std::vector<nlohmann::json>& sums) {
  std::vector<std::string> tasks, labels;
  for (const RunSpec& r : runs) {
    const std::string t = fs::path(r.dir).parent_path().parent_path().filename().string();
    if (std::find(tasks.begin(), tasks.end(), t) == tasks.end()) tasks.push_back(t);
    if (std::find(labels.begin(), labels.end(), r.method.label()) == labels.end()) labels.push_back(r.method.label());
  }
  nlohmann::json out = nlohmann::json::object();
  std::ostringstream md;
  md << "| method |";
  for (const std::string& t : tasks) md << " " << t << " |";
  md << "\n|---|";
  for (std::size_t k = 0; k < tasks.size(); ++k) md << "---|";
  md << "\n";
  auto cell = [](const std::vector<double>& v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f ± %.3f", mean(v), stdev(v));
    return std::string(buf);
  };
  std::ostringstream md_best, md_rank, md_train;
  md_best << md.str();
  md_rank << md.str();
  md_train << md.str();
  for (const std::string& label : labels) {
    md << "| " << label << " |";
    md_best << "| " << label << " |";
    md_rank << "| " << label << " |";
    md_train << "| " << label << " |";
    for (const std::string& t : tasks) {
      std::vector<double> fin, best, rank, colfrac, train_loss;
      std::string metric;
      for (std::size_t i = 0; i < runs.size(); ++i) {
        const std::string rt = fs::path(runs[i].dir).parent_path().parent_path().filename().string();
        if (rt != t || runs[i].method.label() != label || sums[i].is_null()) continue;
        const nlohmann::json& j = sums[i];
        metric = j.value("primary_metric", "");
        if (j.contains("final_eval")) fin.push_back(j["final_eval"].value(metric, NAN));
        if (j.contains("best_eval")) best.push_back(j["best_eval"].value(metric, NAN));
        double rs = 0;
        int rn = 0;
        for (const auto& [name, l] : j["layers"].items())
          if (l.contains("final_rank")) {
            rs += l["final_rank"].get<double>();
            ++rn;
          }
        if (rn) rank.push_back(rs / rn);
        colfrac.push_back(j.value("column_fraction", 0.0));
        // training loss: mean of the last 100 logged steps (one batch is noisy)
        const plots::Curve lc = plots::column_curve(read_csv(runs[i].dir + "/steps.csv"), "loss", label);
        const std::size_t k0 = lc.y.size() > 100 ? lc.y.size() - 100 : 0;
        if (lc.y.size() > k0) train_loss.push_back(std::accumulate(lc.y.begin() + long(k0), lc.y.end(), 0.0) / double(lc.y.size() - k0));
      }
      out[t][label] = {{"metric", metric},         {"final", fin},          {"best", best},
                       {"final_mean", mean(fin)},   {"final_std", stdev(fin)}, {"best_mean", mean(best)},
                       {"best_std", stdev(best)},   {"mean_final_rank", mean(rank)},
                       {"column_fraction", mean(colfrac)}, {"train_loss_last100", train_loss}};
      md << " " << (fin.empty() ? "—" : cell(fin) + " (" + metric + ")") << " |";
      md_best << " " << (best.empty() ? "—" : cell(best)) << " |";
      char buf[96];
      std::snprintf(buf, sizeof buf, "%.1f / %.2f", mean(rank), mean(colfrac));
      md_rank << " " << (rank.empty() ? std::string("—") : std::string(buf)) << " |";
      md_train << " " << (train_loss.empty() ? "—" : cell(train_loss)) << " |";
    }
    md << "\n";
    md_best << "\n";
    md_rank << "\n";
    md_train << "\n";
  }
  std::ostringstream doc;
  doc << "# scalora-train grid\n\nFinal dev metric, mean ± std over seeds:\n\n"
      << md.str() << "\nBest dev metric over the evaluations, mean ± std:\n\n"
      << md_best.str() << "\nMean final rank of W − W_pt(0) over layers / column-branch fraction:\n\n"
      << md_rank.str() << "\nTraining loss, mean of the last 100 steps, mean ± std over seeds:\n\n"
      << md_train.str() << "\nSettings of the runs (from summary.json):\n\n| method | optimizer | lr | s | steps |\n|---|---|---|---|---|\n";
  for (const std::string& label : labels)
    for (std::size_t i = 0; i < runs.size(); ++i)
      if (runs[i].method.label() == label && !sums[i].is_null()) {
        const FinetuneSettings fs_ = sums[i].at("settings").get<FinetuneSettings>();
        char buf[160];
        std::snprintf(buf, sizeof buf, "| %s | %s | %g | %g | %ld |\n", label.c_str(),
                      optimizer_name(fs_.optim.kind), fs_.optim.lr, fs_.lora_scale(),
                      long(fs_.steps));
        doc << buf;
        break;
      }
  write_text_atomic(o.out + "/results.md", doc.str());
  write_text_atomic(o.out + "/results.json", out.dump(2) + "\n");
  if (o.plots == "none") return;
  // Comparison plots per task: loss, dev metric, mean rank over layers (seed means; 100 points per curve).
  for (const std::string& t : tasks) {
    plots::Figure loss("loss_" + t, t + ": training loss (mean over seeds)", "step", "loss", {}, true);
    plots::Figure metric("metric_" + t, t + ": dev metric (mean over seeds)", "step", "");
    plots::Figure rank("rank_" + t, t + ": mean rank of W - W_pt(0) over layers", "step", "rank");
    plots::Figure branch("branches_" + t, t + ": column-branch fraction", "", "fraction of layer rescales");
    branch.bars = true;
    plots::Curve frac{"column", {}, {}};
    for (const std::string& label : labels) {
      std::vector<plots::Curve> ls, ms, rs;
      double cf = 0;
      int cn = 0;
      for (std::size_t i = 0; i < runs.size(); ++i) {
        const std::string rt = fs::path(runs[i].dir).parent_path().parent_path().filename().string();
        if (rt != t || runs[i].method.label() != label) continue;
        ls.push_back(plots::thin(plots::column_curve(read_csv(runs[i].dir + "/steps.csv"), "loss", label), 100));
        const CsvTable ev = read_csv(runs[i].dir + "/eval.csv");
        if (ev.header.size() > 2) {
          metric.ylabel = ev.header[2];
          ms.push_back(plots::column_curve(ev, ev.header[2], label));
        }
        const CsvTable ly = read_csv(runs[i].dir + "/layers.csv");
        plots::Curve mr = plots::column_curve(ly, "rank", label);
        // mean over layers at each step: rows come in layer order per step
        plots::Curve per_step{label, {}, {}};
        for (std::size_t k = 0; k < mr.x.size();) {
          std::size_t e = k;
          double s = 0;
          while (e < mr.x.size() && mr.x[e] == mr.x[k]) s += mr.y[e++];
          per_step.x.push_back(mr.x[k]);
          per_step.y.push_back(s / double(e - k));
          k = e;
        }
        if (!per_step.x.empty()) rs.push_back(plots::thin(per_step, 100));
        if (!sums[i].is_null() && sums[i].value("rescaled_layer_steps", 0L) > 0) {
          cf += sums[i].value("column_fraction", 0.0);
          ++cn;
        }
      }
      if (!ls.empty()) loss.curves.push_back(plots::mean_curve(ls, label));
      if (!ms.empty()) metric.curves.push_back(plots::mean_curve(ms, label));
      if (!rs.empty()) rank.curves.push_back(plots::mean_curve(rs, label));
      if (cn) {
        branch.bar_labels.push_back(label);
        frac.y.push_back(cf / cn);
      }
    }
    std::vector<plots::Figure> figs{loss, metric};
    if (!rank.curves.empty()) figs.push_back(rank);
    if (!frac.y.empty()) {
      branch.curves.push_back(frac);
      figs.push_back(branch);
    }
    plots::render(o.out + "/plots", figs, o.plots);
  }
}

/// --report DIR: the grid report of finished runs found as DIR/<task>/<method label>/seed-<s>/summary.json.
int report_only(Options o) {
  o.out = o.report;
  std::vector<RunSpec> runs;
  std::vector<nlohmann::json> sums;
  std::vector<fs::path> dirs;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(o.report))
    if (e.path().filename() == "summary.json" && e.path().parent_path().filename().string().rfind("seed-", 0) == 0)
      dirs.push_back(e.path().parent_path());
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& d : dirs) {
    std::ifstream in(d / "summary.json");
    nlohmann::json j = nlohmann::json::parse(in);
    const FinetuneSettings s = j.at("settings").get<FinetuneSettings>();
    runs.push_back({j.value("task_name", ""), MethodEntry{s.method, s.rank}, s.seed, d.string()});
    sums.push_back(std::move(j));
  }
  if (runs.empty()) throw invalid_argument("--report", argument_problem::empty, "no finished run under " + o.report);
  write_report(o, runs, sums);
  std::fprintf(stderr, "report of %zu runs: %s/results.md\n", runs.size(), o.report.c_str());
  return 0;
}

int run(const Options& o) {
  if (o.plots != "none" && !plots::gnuplot_available())
    std::fprintf(stderr, "note: gnuplot not found; plots skipped (apt-get install gnuplot-nox)\n");
  if (!o.report.empty()) return report_only(o);
  // Resume: the settings, shape and task come from the checkpoint.
  if (!o.resume.empty()) {
    const Checkpoint ckpt = read_checkpoint(o.resume);
    const auto settings_it = ckpt.metadata.find("settings"), shape_it = ckpt.metadata.find("shape");
    if (ckpt.metadata.count("kind") == 0 || ckpt.metadata.at("kind") != "finetune" ||
        settings_it == ckpt.metadata.end() || shape_it == ckpt.metadata.end())
      throw invalid_argument("--resume", argument_problem::out_of_range, "not a fine-tuning checkpoint");
    const FinetuneSettings s = nlohmann::json::parse(settings_it->second).get<FinetuneSettings>();
    const ModelShape shape = nlohmann::json::parse(shape_it->second).get<ModelShape>();
    auto data = std::make_shared<const TaskData>(load_task(s.task, shape.max_len));
    const std::string dir = o.out != "scalora-train-out" ? o.out
                                                          : fs::path(o.resume).parent_path().parent_path().string();
    fs::create_directories(dir);
    run_one(s, data, shape, nullptr, &ckpt, o, dir, true);
    return 0;
  }
  const bool use_pretrained = o.pretrained != "none";
  // Tasks are loaded first (bad input fails before any training) and shared by their runs.
  std::vector<std::shared_ptr<const TaskData>> data;
  for (const std::string& t : o.tasks) {
    TaskSpec spec = o.base.task;
    if (fs::is_directory(t)) spec.directory = t;
    else spec.generated.task = glue::parse_task(t, "--task");
    data.push_back(std::make_shared<const TaskData>(load_task(spec, o.pretrain.shape.max_len, use_pretrained)));
  }
  model::StateDict<float> pre;
  if (use_pretrained) pre = pretrained_state(o, false);
  std::vector<RunSpec> runs;
  const bool grid = o.tasks.size() * o.methods.size() * o.seeds.size() > 1;
  for (std::size_t t = 0; t < o.tasks.size(); ++t)
    for (const MethodEntry& m : o.methods)
      for (std::uint64_t seed : o.seeds) {
        RunSpec r{o.tasks[t], m, seed, o.out};
        if (grid) r.dir = o.out + "/" + data[t]->name + "/" + m.label() + "/seed-" + std::to_string(seed);
        runs.push_back(r);
      }
  std::vector<FinetuneSettings> settings;
  for (const RunSpec& r : runs) {
    settings.push_back(settings_of(o, r));
    validate(settings.back());
  }
  std::vector<nlohmann::json> sums(runs.size());
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::exception_ptr failure;
  const int jobs = int(std::min<std::size_t>(std::size_t(o.jobs), runs.size()));
  if (jobs > 1) {
    Eigen::setNbThreads(1);
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
  }
  auto worker = [&] {
#ifdef _OPENMP
    if (jobs > 1) omp_set_num_threads(1);
#endif
    for (;;) {
      const std::size_t i = next++;
      if (i >= runs.size()) return;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (failure) return;
      }
      std::size_t t = 0;
      while (o.tasks[t] != runs[i].task) ++t;
      try {
        fs::create_directories(runs[i].dir);
        sums[i] = run_one(settings[i], data[t], o.pretrain.shape, use_pretrained ? &pre : nullptr, nullptr, o,
                          runs[i].dir, jobs == 1);
        if (jobs > 1 || grid) {
          std::lock_guard<std::mutex> lock(mu);
          const nlohmann::json& j = sums[i];
          std::fprintf(stderr, "done %zu/%zu: %s %s seed %llu: %s %.4f (%.0f s)\n", i + 1, runs.size(),
                       data[t]->name.c_str(), runs[i].method.label().c_str(), (unsigned long long)runs[i].seed,
                       j.value("primary_metric", "").c_str(),
                       j.contains("final_eval") ? j["final_eval"].value(j.value("primary_metric", ""), NAN) : NAN,
                       j["timing"].value("wall_seconds", 0.0));
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failure) failure = std::current_exception();
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int k = 1; k < jobs; ++k) pool.emplace_back(worker);
  worker();
  for (std::thread& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);
  if (grid) write_report(o, runs, sums);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "scalora-train: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const shadow_check_failure& e) {
    std::fprintf(stderr, "scalora-train: SHADOW CHECK FAILED at layer %s, step %ld\n%s\n", e.layer().c_str(), e.step(),
                 e.what());
    return 1;
  } catch (const invalid_argument& e) {
    std::fprintf(stderr, "scalora-train: %s\n", e.what());
    return 2;
  } catch (const glue::format_error& e) {
    std::fprintf(stderr, "scalora-train: %s\n", e.what());
    return 2;
  } catch (const glue::io_error& e) {
    std::fprintf(stderr, "scalora-train: %s\n", e.what());
    return 2;
  } catch (const io::io_error& e) {
    // Unreadable input (a checkpoint) or an unwritable output.
    const bool reading = e.problem() != io::io_problem::write_failed;
    std::fprintf(stderr, "scalora-train: %s\n", e.what());
    return reading ? 2 : 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scalora-train: error: %s\n", e.what());
    return 3;
  }
}
