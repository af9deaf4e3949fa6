// SPDX-License-Identifier: Apache-2.0
// Cost of scalora-verify on realistic case files: 4096 x 4096 and 4096 x 14336,
// r = 8, F32, with W_pt, AdamW moments and every output (scalora-vectors --large).
// Baselines of the same run: reading the file's bytes (read_tensor_file), and one
// double GEMM pass over W (W_pt^T A, 2 m n r flops). Rows:
//   read_file        read_tensor_file (bytes into memory, no conversion)
//   gemm_pass        W_pt^T A in double (Eigen, one core)
//   read_case        read_case: every tensor decoded to double and validated
//   verify           the judgement alone (reference, scalings, lemmas, W check)
//   scalora-verify   the command end to end (a separate process; the target)
// Median of --repeat runs (default 3).
//
//   bench_verify [DIR] [--repeat N]     DIR: where the large cases are (generated when absent)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "../tools/verify_core.hpp"

namespace {

using namespace scalora;

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

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "bench_verify_cases";
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else dir = a;
  }
  namespace fs = std::filesystem;
  const char* shapes[] = {"large_4096x4096_r8", "large_4096x14336_r8"};
  if (!fs::exists(fs::path(dir) / (std::string(shapes[1]) + ".safetensors"))) {
    const std::string cmd = std::string("'") + SCALORA_VECTORS_EXE + "' '" + dir + "' --large > /dev/null";
    std::printf("generating the cases: %s\n", cmd.c_str());
    if (std::system(cmd.c_str()) != 0) return 2;
  }
  std::printf("scalora-verify on realistic case files (F32, W_pt, moments, all outputs), median of %d runs\n\n", repeat);
  std::printf("%-22s %-16s %10s %12s %10s\n", "case", "what", "time", "/ read_file", "target");
  for (const char* name : shapes) {
    const std::string path = (fs::path(dir) / (std::string(name) + ".safetensors")).string();
    const double read = median_seconds(repeat, [&] { io::read_tensor_file(path); });
    const io::Case c = io::read_case(path);
    Matrix<double> sink;
    const double gemm = median_seconds(repeat, [&] { sink.noalias() = c.input.W_pt.transpose() * c.input.A; });
    const double read_case = median_seconds(repeat, [&] { io::read_case(path); });
    reference::Verdict v;
    const double judge = median_seconds(repeat, [&] { v = tools::verify(c, {}); });
    const std::string cmd = std::string("'") + SCALORA_VERIFY_EXE + "' '" + path + "' > /dev/null";
    int rc = 0;
    const double cli = median_seconds(repeat, [&] { rc = std::system(cmd.c_str()); });
    const char* target = std::string(name).find("14336") != std::string::npos ? "<= 15 s" : "<= 5 s";
    auto row = [&](const char* what, double t, const char* tgt) {
      std::printf("%-22s %-16s %8.3f s %12.2f %10s\n", name, what, t, t / read, tgt);
    };
    row("read_file", read, "baseline");
    row("gemm_pass", gemm, "");
    row("read_case", read_case, "");
    row("verify", judge, "");
    row("scalora-verify", cli, target);
    std::printf("%-22s verdict %s (exit %d); in-process split:", name, v.passed() ? "PASS" : "FAIL", rc);
    for (const auto& [what, s] : v.seconds) std::printf(" %s %.3f s;", what.c_str(), s);
    std::printf("\n\n");
  }
  return 0;
}
