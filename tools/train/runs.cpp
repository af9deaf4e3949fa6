// SPDX-License-Identifier: Apache-2.0
#include "runs.hpp"

#include <Eigen/Core>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernel_rescaler.hpp"
#include "plots.hpp"
#include "progress.hpp"
#include "report.hpp"
#include "scalora/io/file.hpp"
#include "scalora/io/sha256.hpp"
#include "worker_pool.hpp"

namespace scalora::train::cli {
namespace {

namespace fs = std::filesystem;

/// The pre-trained state: read from --pretrained PATH, or from the cache keyed
/// by sha256(cache_text(settings)), pre-training (and caching) on a miss.
model::StateDict<float> pretrained_state(const Options& o) {
  if (o.pretrained != "auto") return read_checkpoint(o.pretrained).state;
  const std::string key = io::sha256_hex(cache_text(o.pretrain)).substr(0, 16);
  const std::string dir = o.cache + "/pretrain-" + key;
  const std::string path = dir + "/pretrained.safetensors";
  if (fs::exists(path)) {
    std::fprintf(stderr, "pre-trained checkpoint: %s (cached)\n", path.c_str());
    return read_checkpoint(path).state;
  }
  fs::create_directories(dir);
  std::fprintf(stderr, "pre-training (masked LM, %ld steps) into %s\n", o.pretrain.steps, dir.c_str());
  const auto t0 = std::chrono::steady_clock::now();
  Pretrainer pre(o.pretrain);
  CsvLog steps(dir + "/steps.csv", "step,loss,lr,grad_norm", 0);
  CsvLog evals(dir + "/eval.csv", "step,mlm_loss,mlm_accuracy", 0);
  ProgressBar bar("pretrain");
  Progress pr;
  pr.phase = "pretrain";
  pr.total = o.pretrain.steps;
  pr.metric_name = "mlm_acc";
  const auto evaluate = [&] {
    const MlmEval e = pre.evaluate();
    evals.row(std::to_string(e.step) + "," + csv_number(e.loss) + "," + csv_number(e.accuracy));
    pr.metric = e.accuracy;
    return e;
  };
  MlmEval last = evaluate();
  while (!pre.finished()) {
    const StepRecord r = pre.step();
    steps.row(std::to_string(r.step) + "," + csv_number(r.loss, 9) + "," + csv_number(r.lr) + "," +
              csv_number(r.grad_norm));
    if (r.step % o.pretrain.eval_every == 0 || r.step == o.pretrain.steps) last = evaluate();
    pr.step = r.step;
    pr.loss = r.loss;
    bar(pr);
  }
  Checkpoint c = pre.checkpoint();
  c.metadata["mlm_loss"] = csv_number(last.loss);
  c.metadata["mlm_accuracy"] = csv_number(last.accuracy);
  write_checkpoint(path, c);
  const nlohmann::json j = {{"settings", o.pretrain},
                            {"cache_key", cache_text(o.pretrain)},
                            {"mlm_loss", last.loss},
                            {"mlm_accuracy", last.accuracy},
                            {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
  io::write_file_atomically(dir + "/summary.json", j.dump(2) + "\n");
  if (o.plots != "none")
    plots::render(dir,
                  {plots::Figure("mlm_loss", "pre-training: masked-LM loss", "step", "loss",
                                 {plots::thin(plots::column_curve(read_csv(dir + "/steps.csv"), "loss", "train"))}, true)},
                  o.plots);
  return c.state;
}

/// One run of the grid.
struct RunSpec {
  std::size_t task = 0;  ///< index into Options::tasks
  MethodEntry method;
  std::uint64_t seed = 1;
  std::string dir;
};

FinetuneSettings settings_of(const Options& o, const RunSpec& r) {
  FinetuneSettings s = o.base;
  s.task = o.tasks[r.task].spec;
  s.method = r.method.method;
  s.rank = r.method.rank;
  s.seed = r.seed;
  if (!o.lr_given) s.optim.lr = default_lr(s.method, s.optim.kind, s.rank);
  validate(s);
  return s;
}

/// Runs one fine-tuning into dir; returns its summary. On a shadow-check
/// failure writes dir/shadow_failure.txt and rethrows.
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
    bar = std::make_unique<ProgressBar>(tuner.data().name + " " + method_name(s.method) + " seed " +
                                        std::to_string(s.seed));
    ro.progress = [&](const Progress& p) { (*bar)(p); };
  }
  try {
    RunSummary sum = run_finetune(tuner, ro, rescaler.get());
    bar.reset();
    if (rescaler) sum.json["kernel_workspace_bytes"] = rescaler->workspace_bytes();
    io::write_file_atomically(dir + "/summary.json", sum.json.dump(2) + "\n");
    if (o.plots != "none")
      plots::render(dir, plots::run_figures(dir, tuner.data().name + " " + method_name(s.method)), o.plots);
    return sum.json;
  } catch (const shadow_check_failure& f) {
    bar.reset();
    io::write_file_atomically(dir + "/shadow_failure.txt", std::string(f.what()) + "\n");
    throw;
  }
}

void warn_without_gnuplot(const Options& o) {
  if (o.plots != "none" && !plots::gnuplot_available())
    std::fprintf(stderr, "note: gnuplot not found; plots skipped (apt-get install gnuplot-nox)\n");
}

}  // namespace

void run_grid(const Options& o) {
  warn_without_gnuplot(o);
  const bool use_pretrained = o.pretrained != "none";
  // Tasks are loaded first (bad input fails before any training) and shared by their runs.
  std::vector<std::shared_ptr<const TaskData>> data;
  for (const TaskEntry& t : o.tasks)
    data.push_back(std::make_shared<const TaskData>(load_task(t.spec, o.pretrain.shape.max_len, use_pretrained)));
  std::vector<RunSpec> runs;
  const bool grid = o.tasks.size() * o.methods.size() * o.seeds.size() > 1;
  for (std::size_t t = 0; t < o.tasks.size(); ++t)
    for (const MethodEntry& m : o.methods)
      for (std::uint64_t seed : o.seeds)
        runs.push_back({t, m, seed,
                        grid ? o.out + "/" + data[t]->name + "/" + m.label() + "/seed-" + std::to_string(seed) : o.out});
  std::vector<FinetuneSettings> settings;
  for (const RunSpec& r : runs) settings.push_back(settings_of(o, r));  // every run validated before any trains
  model::StateDict<float> pre;
  if (use_pretrained) pre = pretrained_state(o);

  const int jobs = int(std::min<std::size_t>(std::size_t(o.jobs), runs.size()));
  if (jobs > 1) {  // one thread per run: no nested Eigen or OpenMP threads
    Eigen::setNbThreads(1);
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
  }
  std::vector<RunResult> results(runs.size());
  std::mutex log;
  run_parallel(runs.size(), jobs, [&](std::size_t i) {
#ifdef _OPENMP
    if (jobs > 1) omp_set_num_threads(1);  // per thread
#endif
    const RunSpec& r = runs[i];
    fs::create_directories(r.dir);
    results[i] = {data[r.task]->name, r.method.label(), r.dir,
                  run_one(settings[i], data[r.task], o.pretrain.shape, use_pretrained ? &pre : nullptr, nullptr, o,
                          r.dir, jobs == 1)};
    if (grid) {
      const nlohmann::json& j = results[i].summary;
      const std::string metric = j.value("primary_metric", "");
      std::lock_guard<std::mutex> lock(log);
      std::fprintf(stderr, "done %zu/%zu: %s %s seed %llu: %s %.4f (%.0f s)\n", i + 1, runs.size(),
                   results[i].task.c_str(), results[i].label.c_str(), static_cast<unsigned long long>(r.seed),
                   metric.c_str(), j.contains("final_eval") ? j["final_eval"].value(metric, NAN) : NAN,
                   j["timing"].value("wall_seconds", 0.0));
    }
  });
  if (grid) write_report(o.out, results, o.plots);
}

void run_resumed(const Options& o) {
  warn_without_gnuplot(o);
  const Checkpoint ckpt = read_checkpoint(o.resume);
  const auto settings_it = ckpt.metadata.find("settings"), shape_it = ckpt.metadata.find("shape");
  if (ckpt.metadata.count("kind") == 0 || ckpt.metadata.at("kind") != "finetune" ||
      settings_it == ckpt.metadata.end() || shape_it == ckpt.metadata.end())
    throw invalid_argument("--resume", argument_problem::out_of_range, "not a fine-tuning checkpoint");
  const FinetuneSettings s = nlohmann::json::parse(settings_it->second).get<FinetuneSettings>();
  const ModelShape shape = nlohmann::json::parse(shape_it->second).get<ModelShape>();
  auto data = std::make_shared<const TaskData>(load_task(s.task, shape.max_len));
  // The run's directory: --out, else the one holding checkpoints/<ckpt>.
  const std::string dir = o.out_given ? o.out : fs::path(o.resume).parent_path().parent_path().string();
  fs::create_directories(dir);
  run_one(s, data, shape, nullptr, &ckpt, o, dir, true);
}

void report_only(const Options& o) {
  warn_without_gnuplot(o);
  const std::vector<RunResult> runs = finished_runs(o.report);
  if (runs.empty()) throw invalid_argument("--report", argument_problem::empty, "no finished run under " + o.report);
  write_report(o.report, runs, o.plots);
  std::fprintf(stderr, "report of %zu runs: %s/results.md\n", runs.size(), o.report.c_str());
}

}  // namespace scalora::train::cli
