// SPDX-License-Identifier: Apache-2.0
// Training-step throughput of the toy encoder in float: LoRA r = 4 on all six targets vs full fine-tuning.
//
// Config (docs/model.md, "Speed"): d_model 64, 4 heads, d_ff 256, 2 layers, L = 32, B = 32,
// vocab 1000, 2 classes. One iteration = forward + backward + AdamW step; the
// counter steps_per_second is the figure reported in docs/model.md.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>

#include "scalora/model.hpp"

namespace {
using namespace scalora::model;

Config bench_config(Mode mode) {
  Config c;
  c.vocab_size = 1000;
  c.max_len = 32;
  c.d_model = 64;
  c.n_heads = 4;
  c.d_ff = 256;
  c.n_layers = 2;
  c.n_classes = 2;
  c.mode = mode;
  c.lora_rank = 4;
  c.lora_alpha = 8;
  return c;
}

/// B = 32 sequences of L = 32 random ids, lengths in [16, 32] (padding exercised), random labels.
Batch bench_batch(const Config& c) {
  std::mt19937_64 gen(42);
  const scalora::Index L = 32, B = 32;
  Batch b;
  b.tokens.resize(L, B);
  b.lengths.resize(std::size_t(B));
  b.labels.resize(std::size_t(B));
  for (scalora::Index j = 0; j < B; ++j) {
    b.lengths[std::size_t(j)] = 16 + scalora::Index(gen() % 17);
    b.labels[std::size_t(j)] = std::int32_t(gen() % 2);
    for (scalora::Index i = 0; i < L; ++i) b.tokens(i, j) = std::int32_t(5 + gen() % std::uint64_t(c.vocab_size - 5));
    b.tokens(0, j) = 2;  // [CLS]
  }
  return b;
}

void train_step(benchmark::State& state, Mode mode) {
  const Config c = bench_config(mode);
  Transformer<float> model(c, 1);
  const Batch batch = bench_batch(c);
  AdamW<float> opt(model.parameters());
  float loss = 0;
  for (auto _ : state) {
    loss = model.forward_backward(batch);
    opt.step(model.parameters(), 1e-3);
    benchmark::DoNotOptimize(loss);
  }
  state.counters["steps_per_second"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["tokens_per_second"] =
      benchmark::Counter(double(state.iterations()) * double(batch.tokens.size()), benchmark::Counter::kIsRate);
}

void forward_only(benchmark::State& state, Mode mode) {
  const Config c = bench_config(mode);
  Transformer<float> model(c, 1);
  const Batch batch = bench_batch(c);
  for (auto _ : state) benchmark::DoNotOptimize(model.forward(batch));
  state.counters["steps_per_second"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_train_step_lora_r4(benchmark::State& state) { train_step(state, Mode::lora); }
void BM_train_step_full(benchmark::State& state) { train_step(state, Mode::full); }
void BM_forward_lora_r4(benchmark::State& state) { forward_only(state, Mode::lora); }
}  // namespace

BENCHMARK(BM_train_step_lora_r4)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_train_step_full)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_forward_lora_r4)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_MAIN();
