// SPDX-License-Identifier: Apache-2.0
// Plots of fine-tuning runs with gnuplot (Debian package gnuplot-nox), SVG or
// PNG (pngcairo): loss and dev-metric curves, rank growth of W - W_pt(0) per
// layer, branch fractions. Data files are thinned to at most ~200 points per
// curve (window means) so the SVGs stay small.
#pragma once

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "scalora/train/run.hpp"

namespace scalora::train::plots {

inline bool gnuplot_available() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

/// A named curve: (x, y) points.
struct Curve {
  std::string title;
  std::vector<double> x, y;
};

/// Means over consecutive windows so that at most `points` remain.
inline Curve thin(const Curve& c, std::size_t points = 200) {
  const std::size_t w = std::max<std::size_t>(1, (c.x.size() + points - 1) / points);
  Curve out{c.title, {}, {}};
  for (std::size_t i = 0; i < c.x.size(); i += w) {
    double sx = 0, sy = 0;
    std::size_t n = 0;
    for (std::size_t k = i; k < std::min(c.x.size(), i + w); ++k, ++n) {
      sx += c.x[k];
      sy += c.y[k];
    }
    out.x.push_back(sx / double(n));
    out.y.push_back(sy / double(n));
  }
  return out;
}

/// Pointwise mean of curves sampled at the same x (seeds of one method).
inline Curve mean_curve(const std::vector<Curve>& cs, const std::string& title) {
  Curve out{title, {}, {}};
  if (cs.empty()) return out;
  std::size_t n = cs.front().x.size();
  for (const Curve& c : cs) n = std::min(n, c.x.size());
  for (std::size_t i = 0; i < n; ++i) {
    double s = 0;
    for (const Curve& c : cs) s += c.y[i];
    out.x.push_back(cs.front().x[i]);
    out.y.push_back(s / double(cs.size()));
  }
  return out;
}

/// Column `y` against column 0 of a CSV log (rows with an empty y skipped;
/// `filter_col`/`filter_value` keep only matching rows).
inline Curve column_curve(const CsvTable& t, const std::string& y, const std::string& title, int filter_col = -1,
                          const std::string& filter_value = "") {
  Curve c{title, {}, {}};
  const int k = t.column(y);
  if (k < 0) return c;
  for (const std::vector<std::string>& r : t.rows) {
    if (int(r.size()) <= k || r[std::size_t(k)].empty()) continue;
    if (filter_col >= 0 && (int(r.size()) <= filter_col || r[std::size_t(filter_col)] != filter_value)) continue;
    c.x.push_back(std::stod(r[0]));
    c.y.push_back(std::stod(r[std::size_t(k)]));
  }
  return c;
}

/// One figure: curves (lines) or a bar chart (one bar per curve point, labels from titles).
struct Figure {
  Figure(std::string file_, std::string title_, std::string xlabel_, std::string ylabel_,
         std::vector<Curve> curves_ = {}, bool logy_ = false)
      : file(std::move(file_)), title(std::move(title_)), xlabel(std::move(xlabel_)), ylabel(std::move(ylabel_)),
        curves(std::move(curves_)), logy(logy_) {}
  std::string file;  ///< output name without extension
  std::string title, xlabel, ylabel;
  std::vector<Curve> curves;
  bool logy = false;
  bool bars = false;                    ///< curves[0].y are bar heights, labels in bar_labels
  std::vector<std::string> bar_labels;
};

/// Writes <dir>/<file>.dat and .gp for every figure and runs gnuplot once.
/// Returns false (and writes nothing) when gnuplot is not installed.
inline bool render(const std::string& dir, const std::vector<Figure>& figures, const std::string& format = "svg") {
  if (!gnuplot_available()) return false;
  std::filesystem::create_directories(dir);
  std::ostringstream gp;
  gp << (format == "png" ? "set terminal pngcairo size 900,520 enhanced font 'sans,10'\n"
                         : "set terminal svg size 720,420 enhanced font 'sans,11' background rgb 'white'\n")
     << "set grid\nset key outside right top\nset datafile missing 'nan'\n";
  for (const Figure& f : figures) {
    const std::string dat = f.file + ".dat";
    std::ofstream d(dir + "/" + dat);
    d.precision(7);
    if (f.bars) {
      for (std::size_t i = 0; i < f.bar_labels.size() && !f.curves.empty() && i < f.curves[0].y.size(); ++i)
        d << i << " \"" << f.bar_labels[i] << "\" " << f.curves[0].y[i] << "\n";
    } else {
      for (const Curve& c : f.curves) {
        for (std::size_t i = 0; i < c.x.size(); ++i) d << c.x[i] << " " << c.y[i] << "\n";
        d << "\n\n";  // gnuplot data block separator
      }
    }
    gp << "set output '" << f.file << "." << format << "'\n"
       << "set title \"" << f.title << "\"\nset xlabel \"" << f.xlabel << "\"\nset ylabel \"" << f.ylabel << "\"\n"
       << (f.logy ? "set logscale y\n" : "unset logscale y\n");
    if (f.bars) {
      gp << "set style fill solid 0.6\nset boxwidth 0.7\nset yrange [0:1.05]\nset xtics rotate by -35\n"
         << "plot '" << dat << "' using 1:3:xtic(2) with boxes notitle\n"
         << "unset yrange\nset xtics norotate\nset autoscale\n";
    } else {
      gp << "plot ";
      for (std::size_t i = 0; i < f.curves.size(); ++i)
        gp << (i ? ", " : "") << "'" << dat << "' index " << i << " using 1:2 with lines lw 2 title \""
           << f.curves[i].title << "\"";
      gp << "\n";
    }
  }
  const std::string script = dir + "/plots.gp";
  std::ofstream(script) << gp.str();
  const std::string cmd = "cd '" + dir + "' && gnuplot plots.gp >/dev/null 2>gnuplot.log";
  return std::system(cmd.c_str()) == 0;
}

/// The figures of one run directory (steps.csv, eval.csv, layers.csv).
inline std::vector<Figure> run_figures(const std::string& run_dir, const std::string& label) {
  const CsvTable steps = read_csv(run_dir + "/steps.csv");
  const CsvTable eval = read_csv(run_dir + "/eval.csv");
  const CsvTable layers = read_csv(run_dir + "/layers.csv");
  std::vector<Figure> figs;
  figs.emplace_back("loss", label + ": training loss", "step", "loss (window mean)",
                    std::vector<Curve>{thin(column_curve(steps, "loss", "train loss"))}, true);
  if (eval.header.size() > 2)
    figs.emplace_back("metric", label + ": dev " + eval.header[2], "step", eval.header[2],
                      std::vector<Curve>{column_curve(eval, eval.header[2], "dev " + eval.header[2])});
  std::vector<std::string> names;
  for (const std::vector<std::string>& r : layers.rows)
    if (r.size() > 1 && std::find(names.begin(), names.end(), r[1]) == names.end()) names.push_back(r[1]);
  Figure rank("rank", label + ": rank of W - W_pt(0)", "step", "numerical rank");
  Figure branch("branches", label + ": column-branch fraction per layer", "", "fraction of rescales");
  branch.bars = true;
  Curve frac{"column", {}, {}};
  for (const std::string& n : names) {
    Curve c = thin(column_curve(layers, "rank", n, 1, n));
    if (!c.x.empty()) rank.curves.push_back(c);
    long col = 0, all = 0;
    for (const std::vector<std::string>& r : layers.rows)
      if (r.size() > 3 && r[1] == n && r[2] == "1") {
        ++all;
        col += r[3] == "column" ? 1 : 0;
      }
    if (all > 0) {
      branch.bar_labels.push_back(n);
      frac.y.push_back(double(col) / double(all));
    }
  }
  if (!rank.curves.empty()) figs.push_back(rank);
  if (!frac.y.empty()) {
    branch.curves.push_back(frac);
    figs.push_back(branch);
  }
  return figs;
}

}  // namespace scalora::train::plots
