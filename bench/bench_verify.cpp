// SPDX-License-Identifier: Apache-2.0
// Cost of scalora-verify by rank and shape (docs/performance.md, "Verifier"):
// r = 8 ... 128 on 384 x 512 and 4096 x 4096, 4096 x 14336 r = 8 with and
// without G, and the exact fallback's worst case (a duplicated column: M
// singular). F32 case files with W_pt, AdamW moments and every output
// (scalora-vectors --bench; about 2 GB, generated on first use). Per case:
//   read_file        read_tensor_file: the file's bytes into memory (the baseline)
//   scalora-verify   the command end to end (a separate process), median of --repeat
//   ratio            scalora-verify / read_file of the same run
//   paths            which path decided the optimality verdict's comparisons
// Targets: r = 64 <= 10x r = 8 on the same shape; 4096 x 4096 r = 64 <= 5 s;
// 4096 x 14336 <= 5x read_file without G, <= 8x with G.
//
//   bench_verify [DIR] [--repeat N] [--only SUBSTRING]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "scalora/io.hpp"

namespace {

double median_seconds(int repeat, const std::function<void()>& f) {
  std::vector<double> t;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "bench_verify_cases", only;
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else dir = a;
  }
  namespace fs = std::filesystem;
  const fs::path manifest = fs::path(dir) / "manifest.json";
  if (!fs::exists(manifest)) {
    const std::string cmd = std::string("'") + SCALORA_VECTORS_EXE + "' '" + dir + "' --bench > /dev/null";
    std::printf("generating the cases: %s\n", cmd.c_str());
    if (std::system(cmd.c_str()) != 0) return 2;
  }
  const nlohmann::json m = nlohmann::json::parse(slurp(manifest.string()));
  std::printf("scalora-verify by rank and shape (F32, W_pt, moments, all outputs), median of %d runs\n\n", repeat);
  std::printf("%-34s %10s %14s %8s  %-8s %s\n", "case", "read_file", "scalora-verify", "ratio", "verdict", "paths");
  std::map<std::string, double> seconds;
  for (const auto& c : m["cases"]) {
    const std::string name = c["name"], path = (fs::path(dir) / c["file"].get<std::string>()).string();
    if (!only.empty() && name.find(only) == std::string::npos) continue;
    const double read = median_seconds(repeat, [&] { scalora::io::read_tensor_file(path); });
    const std::string json_path = (fs::path(dir) / (name + ".verdict.json")).string();
    const std::string cmd = std::string("'") + SCALORA_VERIFY_EXE + "' --json '" + path + "' > '" + json_path + "'";
    int rc = 0;
    const double cli = median_seconds(repeat, [&] { rc = std::system(cmd.c_str()); });
    std::string verdict = "?", paths;
    try {
      const nlohmann::json v = nlohmann::json::parse(slurp(json_path));
      verdict = v["status"];
      std::map<std::string, int> count;
      for (const auto& d : v["cases"][0]["decided_by"]) ++count[d["path"].get<std::string>()];
      for (const auto& [p, k] : count) paths += (paths.empty() ? "" : ", ") + std::to_string(k) + " " + p;
    } catch (const std::exception&) {
    }
    seconds[name] = cli;
    std::printf("%-34s %9.3fs %13.3fs %8.1f  %-8s %s\n", name.c_str(), read, cli, cli / read, verdict.c_str(),
                paths.c_str());
    std::fflush(stdout);
  }
  std::printf("\nrank ratios (time at r / time at r = 8, same shape; target r = 64 <= 10):\n");
  for (const char* shape : {"384x512", "4096x4096"}) {
    const std::string base = std::string("bench_") + shape + "_r8";
    if (!seconds.count(base)) continue;
    std::printf("  %-10s", shape);
    for (int r : {16, 32, 64, 128}) {
      const std::string key = std::string("bench_") + shape + "_r" + std::to_string(r);
      if (seconds.count(key)) std::printf("  r%d %.2f", r, seconds[key] / seconds[base]);
    }
    std::printf("\n");
  }
  return 0;
}
