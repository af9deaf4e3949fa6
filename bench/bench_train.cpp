// SPDX-License-Identifier: Apache-2.0
// Training-step time and memory of the fine-tuning methods in one run
// (docs/performance.md, "Training (issue 6)"): LoRA r=4 is the baseline;
// ScaLoRA r=4 and ScaLoRA-I r=4 (I=10) run their steps 2-8 through the
// production kernels (Thrust host backend, as scalora-train). Shadow checks and
// diagnostics are off: the figures are the methods' own cost.
//
//   bench_train [--steps N] [--rounds R] [--task syn-sst2] [--batch-size B]
//
// Time: R rounds; each round runs N steps of every method in turn (interleaved,
// so drifting machine load hits all methods alike); a method's figure is the
// median over rounds of its mean train time per step (forward, backward,
// kernels, clipping, optimizer). Memory: each method in a forked child: heap in
// use (mallinfo2) after N steps minus before the model was built, and the
// peak RSS of the child; plus the kernels' workspace.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "kernel_rescaler.hpp"
#include "scalora/train/trainer.hpp"

namespace {
using namespace scalora;
using namespace scalora::train;

struct Variant {
  const char* label;
  Method method;
  long interval;
};

const Variant kVariants[] = {{"lora r=4", Method::lora, 1},
                             {"scalora r=4", Method::scalora, 1},
                             {"scalora-i r=4 (I=10)", Method::scalora_i, 10},
                             {"full", Method::full, 1}};

FinetuneSettings settings_for(const Variant& v, const TaskSpec& task, long steps, Index batch) {
  FinetuneSettings s;
  s.task = task;
  s.method = v.method;
  s.interval = v.interval;
  s.rank = 4;
  s.optim.lr = v.method == Method::full ? 1e-3 : 3e-3;  // scalora-train's defaults at r = 4 (results.md); time per step does not depend on it
  s.steps = 1'000'000;  // the schedule never ends inside the benchmark
  s.batch_size = batch;
  s.shadow_every = 0;
  s.diagnostics_every = 0;
  (void)steps;
  return s;
}

/// A tuner with its rescaler, built in place (views into the tuner stay valid).
struct Runner {
  FineTuner tuner;
  std::unique_ptr<KernelRescaler> rescaler;
  Runner(const FinetuneSettings& s, std::shared_ptr<const TaskData> data, const ModelShape& shape)
      : tuner(s, std::move(data), shape, nullptr) {
    if (rescales(s.method)) {
      rescaler = std::make_unique<KernelRescaler>(tuner.adapted_layers(), s);
      tuner.set_rescaler(rescaler.get());
    }
  }
  /// Mean train seconds per step over n steps.
  double run(long n) {
    double t = 0;
    for (long k = 0; k < n; ++k) t += tuner.step().timing.train;
    return t / double(n);
  }
};

std::size_t heap_in_use() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

struct Memory {
  long long heap = 0, peak_rss_kb = 0, workspace = 0;
};

/// Heap and peak RSS of one method, measured in a child process.
Memory measure_memory(const Variant& v, const TaskSpec& task, std::shared_ptr<const TaskData> data,
                      const ModelShape& shape, long steps, Index batch) {
  int fd[2];
  if (pipe(fd) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    Memory m;
    const std::size_t before = heap_in_use();
    {
      Runner r(settings_for(v, task, steps, batch), data, shape);
      r.run(steps);
      m.heap = (long long)(heap_in_use() - before);
      m.workspace = r.rescaler ? (long long)r.rescaler->workspace_bytes() : 0;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    m.peak_rss_kb = ru.ru_maxrss;
    if (write(fd[1], &m, sizeof m) != ssize_t(sizeof m)) _exit(1);
    _exit(0);
  }
  close(fd[1]);
  Memory m;
  if (read(fd[0], &m, sizeof m) != ssize_t(sizeof m)) m = {};
  close(fd[0]);
  waitpid(pid, nullptr, 0);
  return m;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]));
}

}  // namespace

int main(int argc, char** argv) {
  long steps = 50, rounds = 7;
  Index batch = 32;
  std::string task_name = "syn-sst2";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--steps") steps = std::atol(argv[i + 1]);
    else if (a == "--rounds") rounds = std::atol(argv[i + 1]);
    else if (a == "--task") task_name = argv[i + 1];
    else if (a == "--batch-size") batch = std::atol(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: bench_train [--steps N] [--rounds R] [--task T] [--batch-size B]\n");
      return 2;
    }
  }
  if (steps < 1 || rounds < 1 || batch < 1) {
    std::fprintf(stderr, "bench_train: steps, rounds and batch size must be >= 1\n");
    return 2;
  }
  TaskSpec task;
  task.generated.task = tasks::parse_task(task_name);
  task.generated.relational_fraction = 0;
  const ModelShape shape;  // the main job's encoder: d 64, 4 heads, d_ff 256, 2 layers
  auto data = std::make_shared<const TaskData>(load_task(task, shape.max_len));

  std::printf("bench_train: %s, d_model %ld, %ld layers, batch %ld, %ld rounds x %ld steps per method\n",
              data->name.c_str(), long(shape.d_model), long(shape.n_layers), long(batch), rounds, steps);
  std::vector<std::unique_ptr<Runner>> runners;
  for (const Variant& v : kVariants)
    runners.push_back(std::make_unique<Runner>(settings_for(v, task, steps, batch), data, shape));
  for (auto& r : runners) r->run(5);  // warm-up
  std::vector<std::vector<double>> per_round(runners.size());
  for (long k = 0; k < rounds; ++k)
    for (std::size_t m = 0; m < runners.size(); ++m) per_round[m].push_back(runners[m]->run(steps));
  std::vector<double> ms(runners.size());
  for (std::size_t m = 0; m < runners.size(); ++m) ms[m] = 1e3 * median(per_round[m]);

  std::printf("\n| method | train ms/step (median of rounds) | min..max over rounds | / LoRA r=4 |\n|---|---|---|---|\n");
  for (std::size_t m = 0; m < runners.size(); ++m) {
    const auto [lo, hi] = std::minmax_element(per_round[m].begin(), per_round[m].end());
    std::printf("| %s | %.3f | %.3f..%.3f | %.3f |\n", kVariants[m].label, ms[m], 1e3 * *lo, 1e3 * *hi, ms[m] / ms[0]);
  }
  std::printf("\nratio ScaLoRA / LoRA = %.3f (target <= 1.10); ScaLoRA-I (I=10) / LoRA = %.3f (target <= 1.02)\n",
              ms[1] / ms[0], ms[2] / ms[0]);
  runners.clear();

  std::printf("\n| method | heap after %ld steps (bytes) | - LoRA r=4 | kernel workspace | peak RSS (KiB) |\n"
              "|---|---|---|---|---|\n", steps);
  std::vector<Memory> mem;
  for (const Variant& v : kVariants) mem.push_back(measure_memory(v, task, data, shape, steps, batch));
  for (std::size_t m = 0; m < mem.size(); ++m)
    std::printf("| %s | %lld | %+lld | %lld | %lld |\n", kVariants[m].label, mem[m].heap, mem[m].heap - mem[0].heap,
                mem[m].workspace, mem[m].peak_rss_kb);
  // O((m + n + r) r) per layer: the adapted shapes of the model.
  long long bound = 0;
  const long long d = shape.d_model, ff = shape.d_ff, r = 4;
  for (Index l = 0; l < shape.n_layers; ++l) {
    for (int k = 0; k < 4; ++k) bound += (d + d + r) * r;  // q, k, v, o: d x d
    bound += 2 * (ff + d + r) * r;                        // up: ff x d, down: d x ff
  }
  std::printf("\nsum over adapted layers of (m + n + r) r = %lld entries (%lld bytes as doubles)\n", bound, 8 * bound);
  return 0;
}
