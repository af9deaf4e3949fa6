// SPDX-License-Identifier: Apache-2.0
#include "runs.hpp"

#include <Eigen/Core>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernel_rescaler.hpp"
#include "plots.hpp"
#include "progress.hpp"
#include "report.hpp"
#include "scalora/io/file.hpp"
#include "scalora/io/output_dir.hpp"
#include "scalora/io/sha256.hpp"
#include "scalora/version.hpp"
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
  const auto cached = [&] {
    std::fprintf(stderr, "pre-trained checkpoint: %s (cached)\n", path.c_str());
    return read_checkpoint(path).state;
  };
  if (fs::exists(path)) return cached();
  // One process pre-trains a key; another waits for it and reads its checkpoint.
  const io::DirectoryLock lock(dir, true);
  if (fs::exists(path)) return cached();
  io::remove_stale_temporaries(dir);
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

/// 128 random bits as hex: a run's identity.
std::string random_id() {
  std::random_device rd;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
  return buf;
}

constexpr const char* kRunRecord = "run.json";

/// dir/run.json: what produced the directory (tool, version, start time, host, pid,
/// arguments), its run identity and `extra` (the settings).
void write_run_record(const std::string& dir, const Options& o, const std::string& run_id, const nlohmann::json& extra) {
  nlohmann::json j = {{"tool", "scalora-train"}, {"version", version_string}, {"started", io::utc_now()},
                      {"host", io::host_name()}, {"pid", long(::getpid())}, {"arguments", o.arguments},
                      {"run_id", run_id}};
  j.update(extra);
  io::write_file_atomically(dir + "/" + kRunRecord, j.dump(2) + "\n");
}

/// Takes --out for a new run: a directory that is absent or empty (but its lock file),
/// or whose contents --overwrite moved aside; stale temporaries removed.
/// @throws io::io_error(busy) when another process holds it, UsageError when it is not empty.
std::unique_ptr<io::DirectoryLock> take_new_output(const Options& o) {
  auto lock = std::make_unique<io::DirectoryLock>(o.out);
  const std::vector<std::string> there = io::directory_entries(o.out);
  if (!there.empty() && !o.overwrite) {
    std::string names;
    for (std::size_t k = 0; k < there.size() && k < 5; ++k) names += (k ? ", " : "") + there[k];
    if (there.size() > 5) names += ", ... (" + std::to_string(there.size()) + " entries)";
    throw UsageError("--out " + o.out + " is not empty (" + names +
                     "): choose another directory, continue a run with --resume, or pass --overwrite");
  }
  if (!there.empty())
    std::fprintf(stderr, "--overwrite: the old contents of %s moved to %s\n", o.out.c_str(),
                 io::move_contents_aside(o.out).c_str());
  io::remove_stale_temporaries(o.out);
  return lock;
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
                       const std::string& dir, bool show_progress, const std::string& run_id) {
  FineTuner tuner(s, std::move(data), shape, pretrained);
  if (resume) {
    tuner.restore(*resume);
    if (tuner.steps_done() > s.steps)
      throw UsageError("--steps " + std::to_string(s.steps) + " is below the checkpoint's step " +
                       std::to_string(tuner.steps_done()) + " (--steps may only extend a resumed run)");
  }
  std::unique_ptr<KernelRescaler> rescaler;
  if (rescales(s.method)) {
    rescaler = std::make_unique<KernelRescaler>(tuner.adapted_layers(), s, o.fault);
    tuner.set_rescaler(rescaler.get());
    if (resume) rescaler->set_next_shadow_step(std::stol(resume->metadata.at("shadow_next")));
  }
  RunOptions ro = o.run;
  ro.out_dir = dir;
  ro.run_id = run_id;
  if (resume) ro.shadow_checks_before = std::stol(resume->metadata.at("shadow_checks"));
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
  const std::unique_ptr<io::DirectoryLock> lock = take_new_output(o);
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
  if (grid) write_run_record(o.out, o, random_id(), {{"grid_runs", runs.size()}});
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
    // A grid's runs are locked too: a --resume of one while the grid runs fails at once.
    std::unique_ptr<io::DirectoryLock> member;
    if (grid) member = std::make_unique<io::DirectoryLock>(r.dir);
    const std::string run_id = random_id();
    write_run_record(r.dir, o, run_id, {{"settings", settings[i]}, {"shape", o.pretrain.shape}});
    results[i] = {data[r.task]->name, r.method.label(), r.dir,
                  run_one(settings[i], data[r.task], o.pretrain.shape, use_pretrained ? &pre : nullptr, nullptr, o,
                          r.dir, jobs == 1, run_id)};
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
  const auto meta = [&](const char* key) {
    const auto it = ckpt.metadata.find(key);
    if (it == ckpt.metadata.end())
      throw invalid_argument("--resume", argument_problem::out_of_range,
                             "'" + o.resume + "' is not a checkpoint of a fine-tuning run (no " + key + ")");
    return it->second;
  };
  if (meta("kind") != "finetune")
    throw invalid_argument("--resume", argument_problem::out_of_range, "not a fine-tuning checkpoint");
  const FinetuneSettings stored = nlohmann::json::parse(meta("settings")).get<FinetuneSettings>();
  const ModelShape shape = nlohmann::json::parse(meta("shape")).get<ModelShape>();
  const nlohmann::json stored_options = nlohmann::json::parse(meta("run_options"));
  Options ro = o;
  ro.run.checkpoint_every = stored_options.at("checkpoint_every").get<long>();
  ro.run.final_checkpoint = stored_options.at("final_checkpoint").get<bool>();
  const FinetuneSettings s = resumed_settings(o, stored, shape, ro.run);
  // The run's directory holds checkpoints/<ckpt>; --out, when given, must name it.
  std::string dir = fs::path(o.resume).parent_path().parent_path().string();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (o.out_given && !fs::equivalent(o.out, dir, ec))
    throw UsageError("--out: a resumed run continues in its own directory " + dir + ", not " + o.out);
  const io::DirectoryLock lock(dir);
  const std::string record_path = dir + "/" + kRunRecord;
  nlohmann::json record = nlohmann::json::parse(fs::exists(record_path) ? io::read_file(record_path) : "", nullptr, false);
  const std::string run_id = meta("run_id");
  if (!record.is_object() || record.value("run_id", "") != run_id)
    throw invalid_argument("--resume", argument_problem::out_of_range,
                           "'" + o.resume + "' is a checkpoint of run " + run_id + " but " + dir + " holds " +
                               (record.is_object() ? "run " + record.value("run_id", std::string("?")) : "no run.json") +
                               ": a checkpoint resumes only in its own run's directory");
  if (const int stale = io::remove_stale_temporaries(dir))
    std::fprintf(stderr, "removed %d temporary file(s) of an interrupted writer under %s\n", stale, dir.c_str());
  record["resumed"].push_back({{"started", io::utc_now()}, {"host", io::host_name()}, {"pid", long(::getpid())},
                               {"arguments", o.arguments}, {"steps", s.steps}});
  io::write_file_atomically(record_path, record.dump(2) + "\n");
  auto data = std::make_shared<const TaskData>(load_task(s.task, shape.max_len));
  meta("shadow_checks");
  meta("shadow_next");
  run_one(s, data, shape, nullptr, &ckpt, ro, dir, true, run_id);
}

void report_only(const Options& o) {
  warn_without_gnuplot(o);
  const std::vector<RunResult> runs = finished_runs(o.report);
  if (runs.empty()) throw invalid_argument("--report", argument_problem::empty, "no finished run under " + o.report);
  write_report(o.report, runs, o.plots);
  std::fprintf(stderr, "report of %zu runs: %s/results.md\n", runs.size(), o.report.c_str());
}

}  // namespace scalora::train::cli
