// SPDX-License-Identifier: Apache-2.0
// A fine-tuning run on disk (docs/training.md, "Outputs"): append-only CSV logs
// (steps.csv, eval.csv, layers.csv; truncated to the checkpoint's step on
// resume, so an interrupted and resumed run writes the same bytes as an
// uninterrupted one), periodic and final checkpoints, summary.json (atomic).
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scalora/io/file.hpp"
#include "scalora/train/trainer.hpp"

namespace scalora::train {

/// Shortest "%.Ng" (N = 9 for float, 17 for double) that reads back exactly;
/// "" for NaN (an absent value).
inline std::string csv_number(double x, int digits = 17) {
  if (std::isnan(x)) return "";
  char buf[40];
  for (int p = 6; p <= digits; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, x);
    if (digits == 9 ? float(std::strtod(buf, nullptr)) == float(x) : std::strtod(buf, nullptr) == x) break;
  }
  return buf;
}

/// An append-only CSV file whose first column is the step. Opening it for a
/// run that starts at `first_step` keeps the header and the rows of steps
/// < first_step (rewritten atomically) and appends from there; a fresh run
/// (first_step 0) starts it anew. Each row is written whole or not at all (io::AppendFile).
class CsvLog {
 public:
  CsvLog(std::string path, const std::string& header, long keep_through) : path_(std::move(path)) {
    std::string kept = header + "\n";
    std::ifstream in(path_);
    if (keep_through > 0 && in) {
      std::string line;
      std::getline(in, line);  // old header
      while (std::getline(in, line)) {
        const long step = std::strtol(line.c_str(), nullptr, 10);
        if (step <= keep_through) kept += line + "\n";
      }
    }
    in.close();
    io::write_file_atomically(path_, kept);
    out_ = std::make_unique<io::AppendFile>(path_);
  }
  /// @throws io::io_error(write_failed) with the system's reason; the file then ends with the previous row.
  void row(const std::string& line) { out_->append(line + "\n"); }

 private:
  std::string path_;
  std::unique_ptr<io::AppendFile> out_;
};

/// Reads a CSV written by CsvLog: header names and rows of fields.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int column(const std::string& name) const {
    for (std::size_t k = 0; k < header.size(); ++k)
      if (header[k] == name) return int(k);
    return -1;
  }
};
inline CsvTable read_csv(const std::string& path) {
  CsvTable t;
  std::ifstream in(path);
  std::string line;
  auto split = [](const std::string& s) {
    std::vector<std::string> f;
    std::string cur;
    std::istringstream is(s);
    while (std::getline(is, cur, ',')) f.push_back(cur);
    if (!s.empty() && s.back() == ',') f.emplace_back();
    return f;
  };
  if (std::getline(in, line)) t.header = split(line);
  while (std::getline(in, line))
    if (!line.empty()) t.rows.push_back(split(line));
  return t;
}

/// Progress of a run, for a progress bar.
struct Progress {
  const char* phase = "";  ///< "pretrain" or "finetune"
  long step = 0, total = 0;
  double loss = 0;         ///< last step's loss
  double metric = std::numeric_limits<double>::quiet_NaN();  ///< last evaluation's primary metric
  std::string metric_name;
};
using ProgressFn = std::function<void(const Progress&)>;

struct RunOptions {
  std::string out_dir;
  long checkpoint_every = 0;  ///< also one at the end when > 0
  long stop_after = 0;        ///< stop after this many steps (an interruption, for resume tests); 0: run to the end
  bool final_checkpoint = true;
  ProgressFn progress;
  std::string run_id;            ///< stored in each checkpoint ("run_id"); a resume must match the directory's
  long shadow_checks_before = 0;  ///< shadow checks of the run before its checkpoint (resume)
};

/// The options of `o` a resumed run must keep: stored in each checkpoint as "run_options".
inline nlohmann::json stored_run_options(const RunOptions& o) {
  return {{"checkpoint_every", o.checkpoint_every}, {"final_checkpoint", o.final_checkpoint}};
}

/// Aggregates of a run, computed from its logs on disk (the whole history,
/// resumed parts included) and the timings of this process.
struct RunSummary {
  nlohmann::json json;
};

namespace detail {
inline std::string layer_row(const LayerRecord& r, const std::string& name) {
  const StepOutcome<double>& o = r.outcome;
  std::ostringstream os;
  os << r.step << ',' << name << ',' << (r.rescaled ? 1 : 0) << ','
     << (r.rescaled ? (o.nonfinite ? "nonfinite" : o.not_representable ? "not_representable"
                                                                            : to_string(o.applied))
                 : "none") << ','
     << (r.rescaled ? csv_number(o.bound_decrease, 9) : "") << ','
     << (r.rescaled ? csv_number(o.vanilla_bound_decrease, 9) : "") << ','
     << (r.rescaled ? csv_number(o.scalar_bound_decrease, 9) : "") << ','
     << (r.rescaled ? csv_number(o.column_bound_decrease, 9) : "")
     << ',' << csv_number(r.svd_optimum, 9) << ',' << (r.rank >= 0 ? std::to_string(r.rank) : "");
  return os.str();
}

inline double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

/// summary.json's statistics from the CSV logs in dir.
inline nlohmann::json log_statistics(const std::string& dir) {
  nlohmann::json j;
  const CsvTable steps = read_csv(dir + "/steps.csv");
  if (!steps.rows.empty()) {
    j["final_loss"] = std::stod(steps.rows.back()[1]);
    j["steps_logged"] = steps.rows.size();
  }
  const CsvTable eval = read_csv(dir + "/eval.csv");
  if (!eval.rows.empty() && eval.header.size() >= 3) {
    nlohmann::json last, best;
    const std::vector<std::string>& r = eval.rows.back();
    for (std::size_t k = 0; k < eval.header.size() && k < r.size(); ++k)
      last[eval.header[k]] = r[k].empty() ? std::nan("") : std::stod(r[k]);
    std::size_t best_row = 0;
    for (std::size_t i = 0; i < eval.rows.size(); ++i) {
      const double v = std::stod(eval.rows[i][2].empty() ? "nan" : eval.rows[i][2]);
      const double b = std::stod(eval.rows[best_row][2].empty() ? "nan" : eval.rows[best_row][2]);
      if (!std::isnan(v) && (std::isnan(b) || v > b)) best_row = i;
    }
    for (std::size_t k = 0; k < eval.header.size() && k < eval.rows[best_row].size(); ++k)
      best[eval.header[k]] = eval.rows[best_row][k].empty() ? std::nan("") : std::stod(eval.rows[best_row][k]);
    j["final_eval"] = last;
    j["best_eval"] = best;
    j["primary_metric"] = eval.header[2];
  }
  const CsvTable layers = read_csv(dir + "/layers.csv");
  std::map<std::string, nlohmann::json> per_layer;
  std::map<std::string, long> column, rescaled, nonfinite;
  std::map<std::string, int> last_rank;
  long column_all = 0, rescaled_all = 0;
  for (const std::vector<std::string>& r : layers.rows) {
    if (r.size() < 10) continue;
    const std::string& name = r[1];
    if (r[2] == "1") {
      ++rescaled[name];
      ++rescaled_all;
      if (r[3] == "column") {
        ++column[name];
        ++column_all;
      }
      if (r[3] == "nonfinite" || r[3] == "not_representable") ++nonfinite[name];  // left unchanged
    }
    if (!r[9].empty()) last_rank[name] = std::stoi(r[9]);
  }
  nlohmann::json lj = nlohmann::json::object();
  for (const auto& [name, rank] : last_rank) lj[name]["final_rank"] = rank;
  for (const auto& [name, n] : rescaled) {
    lj[name]["rescales"] = n;
    lj[name]["column_fraction"] = n > 0 ? double(column[name]) / double(n) : 0.0;
    lj[name]["nonfinite"] = nonfinite[name];
  }
  j["layers"] = lj;
  j["rescaled_layer_steps"] = rescaled_all;
  j["column_fraction"] = rescaled_all > 0 ? double(column_all) / double(rescaled_all) : 0.0;
  return j;
}
}  // namespace detail

/// Runs (or continues) `tuner` to its last step, writing the logs, checkpoints
/// and summary.json under opt.out_dir. Evaluations after step 0 (fresh runs),
/// every eval_every steps and at the end.
/// @throws shadow_check_failure (the logs up to the failing step are on disk),
/// io::io_error when a file cannot be written.
inline RunSummary run_finetune(FineTuner& tuner, const RunOptions& opt, const Rescaler* rescaler = nullptr) {
  namespace fs = std::filesystem;
  const FinetuneSettings& s = tuner.settings();
  fs::create_directories(opt.out_dir);
  const long start = tuner.steps_done();
  const tasks::MetricSet probe = tasks::evaluate(tuner.data().kind, {0.0, 1.0}, {0.0, 1.0});
  std::string eval_header = "step,dev_loss";
  for (const auto& [name, v] : probe.values) eval_header += "," + name;
  CsvLog steps(opt.out_dir + "/steps.csv", "step,loss,lr,grad_norm", start);
  CsvLog evals(opt.out_dir + "/eval.csv", eval_header, start);
  CsvLog layers(opt.out_dir + "/layers.csv",
                "step,layer,rescaled,branch,decrease,vanilla,scalar,column,svd_optimum,rank", start);
  Progress pr;
  pr.phase = "finetune";
  pr.total = s.steps;
  pr.metric_name = probe.values.front().first;
  auto evaluate = [&] {
    const EvalRecord e = tuner.evaluate();
    std::string row = std::to_string(e.step) + "," + csv_number(e.loss);
    for (const auto& [name, v] : e.metrics.values) row += "," + csv_number(v);
    evals.row(row);
    pr.metric = e.metrics.primary();
  };
  const auto shadow_checks = [&] { return opt.shadow_checks_before + (rescaler ? rescaler->shadow_checks() : 0); };
  auto save = [&](const std::string& name) {
    fs::create_directories(opt.out_dir + "/checkpoints");
    Checkpoint c = tuner.checkpoint();
    c.metadata["run_id"] = opt.run_id;
    c.metadata["run_options"] = stored_run_options(opt).dump();
    c.metadata["shadow_checks"] = std::to_string(shadow_checks());
    c.metadata["shadow_next"] = std::to_string(rescaler ? rescaler->next_shadow_step() : 0);
    write_checkpoint(opt.out_dir + "/checkpoints/" + name + ".safetensors", c);
  };
  if (start == 0) evaluate();
  double train_s = 0, rescale_s = 0, diag_s = 0, shadow_s = 0;
  long timed = 0;
  const auto wall0 = detail::Clock::now();
  while (!tuner.finished()) {
    if (opt.stop_after > 0 && tuner.steps_done() >= opt.stop_after) break;
    const StepReport r = tuner.step();
    steps.row(std::to_string(r.record.step) + "," + csv_number(r.record.loss, 9) + "," + csv_number(r.record.lr) + "," +
              csv_number(r.record.grad_norm));
    for (const LayerRecord& l : r.layers)
      if (l.rescaled || l.rank >= 0 || !std::isnan(l.svd_optimum))
        layers.row(detail::layer_row(l, tuner.layer_names()[std::size_t(l.layer)]));
    train_s += r.timing.train;
    rescale_s += r.timing.rescale;
    diag_s += r.timing.diagnostics;
    shadow_s += r.timing.shadow;
    ++timed;
    const long done = tuner.steps_done();
    if ((s.eval_every > 0 && done % s.eval_every == 0) || done == s.steps) evaluate();
    if (opt.checkpoint_every > 0 && done % opt.checkpoint_every == 0) save("step-" + std::to_string(done));
    pr.step = done;
    pr.loss = r.record.loss;
    if (opt.progress) opt.progress(pr);
  }
  if (tuner.finished() && opt.final_checkpoint) save("final");
  RunSummary sum;
  nlohmann::json& j = sum.json;
  j = detail::log_statistics(opt.out_dir);
  j["settings"] = s;
  j["task_name"] = tuner.data().name;
  j["layer_names"] = tuner.layer_names();
  j["steps_done"] = tuner.steps_done();
  j["finished"] = tuner.finished();
  j["timing"] = {{"steps_timed", timed},
                 {"wall_seconds", detail::seconds_since(wall0)},
                 {"train_ms_per_step", timed ? 1e3 * train_s / double(timed) : 0.0},
                 {"rescale_ms_per_step", timed ? 1e3 * rescale_s / double(timed) : 0.0},
                 {"diagnostics_ms_per_step", timed ? 1e3 * diag_s / double(timed) : 0.0},
                 {"shadow_seconds", shadow_s}};
  j["shadow_checks"] = shadow_checks();  // the whole run's, resumed parts included
  io::write_file_atomically(opt.out_dir + "/summary.json", j.dump(2) + "\n");
  return sum;
}

}  // namespace scalora::train
