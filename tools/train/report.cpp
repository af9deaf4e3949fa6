// SPDX-License-Identifier: Apache-2.0
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <sstream>

#include "cli.hpp"
#include "plots.hpp"
#include "scalora/io/file.hpp"
#include "scalora/train/run.hpp"

namespace scalora::train::cli {
namespace {

namespace fs = std::filesystem;

double mean(const std::vector<double>& v) {
  return v.empty() ? NAN : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}
double stdev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}
std::string mean_pm_std(const std::vector<double>& v) {
  if (v.empty()) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f ± %.3f", mean(v), stdev(v));
  return buf;
}

/// One (task, method) cell of the grid: per-seed values.
struct Cell {
  std::string metric;  ///< the task's primary metric
  std::vector<double> final_metric, best_metric, mean_rank, column_fraction, train_loss;
};

/// The grid: tasks and method labels in first-seen order, one Cell each.
struct Grid {
  std::vector<std::string> tasks, labels;
  std::map<std::pair<std::string, std::string>, Cell> cells;
  const Cell& at(const std::string& task, const std::string& label) const {
    static const Cell empty;
    const auto it = cells.find({task, label});
    return it == cells.end() ? empty : it->second;
  }
};

/// Training loss of a run: the mean of its last 100 logged steps (one batch is noisy).
std::vector<double> last_losses(const std::string& dir) {
  const plots::Curve lc = plots::column_curve(read_csv(dir + "/steps.csv"), "loss", "");
  const std::size_t k0 = lc.y.size() > 100 ? lc.y.size() - 100 : 0;
  if (lc.y.size() <= k0) return {};
  return {std::accumulate(lc.y.begin() + long(k0), lc.y.end(), 0.0) / double(lc.y.size() - k0)};
}

Grid aggregate(const std::vector<RunResult>& runs) {
  Grid g;
  for (const RunResult& r : runs) {
    if (std::find(g.tasks.begin(), g.tasks.end(), r.task) == g.tasks.end()) g.tasks.push_back(r.task);
    if (std::find(g.labels.begin(), g.labels.end(), r.label) == g.labels.end()) g.labels.push_back(r.label);
    if (r.summary.is_null()) continue;
    const nlohmann::json& j = r.summary;
    Cell& c = g.cells[{r.task, r.label}];
    c.metric = j.value("primary_metric", "");
    if (j.contains("final_eval")) c.final_metric.push_back(j["final_eval"].value(c.metric, NAN));
    if (j.contains("best_eval")) c.best_metric.push_back(j["best_eval"].value(c.metric, NAN));
    std::vector<double> ranks;
    for (const auto& [name, layer] : j["layers"].items())
      if (layer.contains("final_rank")) ranks.push_back(layer["final_rank"].get<double>());
    if (!ranks.empty()) c.mean_rank.push_back(mean(ranks));
    c.column_fraction.push_back(j.value("column_fraction", 0.0));
    for (double x : last_losses(r.dir)) c.train_loss.push_back(x);
  }
  return g;
}

/// A markdown table, one row per method and one column per task.
std::string table(const Grid& g, const std::function<std::string(const Cell&)>& cell) {
  std::ostringstream md;
  md << "| method |";
  for (const std::string& t : g.tasks) md << " " << t << " |";
  md << "\n|---|";
  for (std::size_t k = 0; k < g.tasks.size(); ++k) md << "---|";
  md << "\n";
  for (const std::string& label : g.labels) {
    md << "| " << label << " |";
    for (const std::string& t : g.tasks) md << " " << cell(g.at(t, label)) << " |";
    md << "\n";
  }
  return md.str();
}

nlohmann::json to_json(const Grid& g) {
  nlohmann::json out = nlohmann::json::object();
  for (const std::string& t : g.tasks)
    for (const std::string& label : g.labels) {
      const Cell& c = g.at(t, label);
      out[t][label] = {{"metric", c.metric},
                       {"final", c.final_metric},
                       {"best", c.best_metric},
                       {"final_mean", mean(c.final_metric)},
                       {"final_std", stdev(c.final_metric)},
                       {"best_mean", mean(c.best_metric)},
                       {"best_std", stdev(c.best_metric)},
                       {"mean_final_rank", mean(c.mean_rank)},
                       {"column_fraction", mean(c.column_fraction)},
                       {"train_loss_last100", c.train_loss}};
    }
  return out;
}

/// The settings of the first finished run of each method.
std::string settings_table(const Grid& g, const std::vector<RunResult>& runs) {
  std::ostringstream md;
  md << "| method | optimizer | lr | s | steps |\n|---|---|---|---|---|\n";
  for (const std::string& label : g.labels)
    for (const RunResult& r : runs)
      if (r.label == label && !r.summary.is_null()) {
        const FinetuneSettings s = r.summary.at("settings").get<FinetuneSettings>();
        char buf[160];
        std::snprintf(buf, sizeof buf, "| %s | %s | %g | %g | %ld |\n", label.c_str(), optimizer_name(s.optim.kind),
                      s.optim.lr, s.lora_scale(), long(s.steps));
        md << buf;
        break;
      }
  return md.str();
}

/// Mean over layers of each step's rank (layers.csv rows come in layer order per step).
plots::Curve mean_rank_curve(const std::string& dir, const std::string& label) {
  const plots::Curve per_layer = plots::column_curve(read_csv(dir + "/layers.csv"), "rank", label);
  plots::Curve per_step{label, {}, {}};
  for (std::size_t k = 0; k < per_layer.x.size();) {
    std::size_t e = k;
    double s = 0;
    while (e < per_layer.x.size() && per_layer.x[e] == per_layer.x[k]) s += per_layer.y[e++];
    per_step.x.push_back(per_layer.x[k]);
    per_step.y.push_back(s / double(e - k));
    k = e;
  }
  return per_step;
}

/// Comparison plots of one task: loss, dev metric, mean rank (seed means, 100
/// points per curve) and the column-branch fraction per method.
std::vector<plots::Figure> task_figures(const std::string& task, const Grid& g, const std::vector<RunResult>& runs) {
  plots::Figure loss("loss_" + task, task + ": training loss (mean over seeds)", "step", "loss", {}, true);
  plots::Figure metric("metric_" + task, task + ": dev metric (mean over seeds)", "step", "");
  plots::Figure rank("rank_" + task, task + ": mean rank of W - W_pt(0) over layers", "step", "rank");
  plots::Figure branch("branches_" + task, task + ": column-branch fraction", "", "fraction of layer rescales");
  branch.bars = true;
  plots::Curve fraction{"column", {}, {}};
  for (const std::string& label : g.labels) {
    std::vector<plots::Curve> losses, metrics, ranks;
    std::vector<double> column;
    for (const RunResult& r : runs) {
      if (r.task != task || r.label != label) continue;
      losses.push_back(plots::thin(plots::column_curve(read_csv(r.dir + "/steps.csv"), "loss", label), 100));
      const CsvTable ev = read_csv(r.dir + "/eval.csv");
      if (ev.header.size() > 2) {
        metric.ylabel = ev.header[2];
        metrics.push_back(plots::column_curve(ev, ev.header[2], label));
      }
      const plots::Curve rc = mean_rank_curve(r.dir, label);
      if (!rc.x.empty()) ranks.push_back(plots::thin(rc, 100));
      if (!r.summary.is_null() && r.summary.value("rescaled_layer_steps", 0L) > 0)
        column.push_back(r.summary.value("column_fraction", 0.0));
    }
    if (!losses.empty()) loss.curves.push_back(plots::mean_curve(losses, label));
    if (!metrics.empty()) metric.curves.push_back(plots::mean_curve(metrics, label));
    if (!ranks.empty()) rank.curves.push_back(plots::mean_curve(ranks, label));
    if (!column.empty()) {
      branch.bar_labels.push_back(label);
      fraction.y.push_back(mean(column));
    }
  }
  std::vector<plots::Figure> figs{loss, metric};
  if (!rank.curves.empty()) figs.push_back(rank);
  if (!fraction.y.empty()) {
    branch.curves.push_back(fraction);
    figs.push_back(branch);
  }
  return figs;
}

}  // namespace

void write_report(const std::string& out_dir, const std::vector<RunResult>& runs, const std::string& plots) {
  const Grid g = aggregate(runs);
  std::ostringstream doc;
  doc << "# scalora-train grid\n\nFinal dev metric, mean ± std over seeds:\n\n"
      << table(g, [](const Cell& c) { return c.final_metric.empty() ? "—" : mean_pm_std(c.final_metric) + " (" + c.metric + ")"; })
      << "\nBest dev metric over the evaluations, mean ± std:\n\n"
      << table(g, [](const Cell& c) { return mean_pm_std(c.best_metric); })
      << "\nMean final rank of W − W_pt(0) over layers / column-branch fraction:\n\n"
      << table(g,
               [](const Cell& c) {
                 if (c.mean_rank.empty()) return std::string("—");
                 char buf[96];
                 std::snprintf(buf, sizeof buf, "%.1f / %.2f", mean(c.mean_rank), mean(c.column_fraction));
                 return std::string(buf);
               })
      << "\nTraining loss, mean of the last 100 steps, mean ± std over seeds:\n\n"
      << table(g, [](const Cell& c) { return mean_pm_std(c.train_loss); })
      << "\nSettings of the runs (from summary.json):\n\n"
      << settings_table(g, runs);
  io::write_file_atomically(out_dir + "/results.md", doc.str());
  io::write_file_atomically(out_dir + "/results.json", to_json(g).dump(2) + "\n");
  if (plots == "none") return;
  for (const std::string& t : g.tasks) plots::render(out_dir + "/plots", task_figures(t, g, runs), plots);
}

std::vector<RunResult> finished_runs(const std::string& dir) {
  std::vector<fs::path> dirs;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename() == "summary.json" && e.path().parent_path().filename().string().rfind("seed-", 0) == 0)
      dirs.push_back(e.path().parent_path());
  std::sort(dirs.begin(), dirs.end());
  std::vector<RunResult> runs;
  for (const fs::path& d : dirs) {
    nlohmann::json j = nlohmann::json::parse(io::read_file((d / "summary.json").string()));
    const FinetuneSettings s = j.at("settings").get<FinetuneSettings>();
    runs.push_back({j.value("task_name", ""), MethodEntry{s.method, s.rank}.label(), d.string(), std::move(j)});
  }
  return runs;
}

}  // namespace scalora::train::cli
