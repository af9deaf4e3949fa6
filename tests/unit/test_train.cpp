// SPDX-License-Identifier: Apache-2.0
// The trainer's host-side pieces (toy/include/scalora/train): checkpoint round trip
// and bit-identical continuation, settings JSON, batch order, CSV logs that
// truncate on resume, rank and Theorem 1 diagnostics. The kernel path (ScaLoRA
// steps, shadow checks, resume of ScaLoRA runs) is tested through the
// scalora-train CLI (tools/CMakeLists.txt, tests train.*).
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "scalora/train/run.hpp"
#include "test_support.hpp"

using namespace scalora;
using namespace scalora::train;
namespace fs = std::filesystem;

namespace {

/// A small generated task and model: d 16, 1 layer, 24 learned positions.
FinetuneSettings tiny_settings(Method method, OptimizerKind opt = OptimizerKind::adamw) {
  FinetuneSettings s;
  s.task.generated.task = tasks::TaskKind::rte;
  s.task.generated.rank_dial = 4;
  s.task.generated.items = 16;
  s.task.generated.train_size = 64;
  s.task.generated.dev_size = 16;
  s.task.generated.test_size = 16;
  s.method = method;
  s.rank = 2;
  s.optim.kind = opt;
  s.optim.lr = opt == OptimizerKind::adamw ? 1e-2 : 1e-1;
  s.optim.warmup_steps = 2;
  s.steps = 8;
  s.batch_size = 8;
  s.eval_every = 4;
  s.diagnostics_every = 2;
  return s;
}

ModelShape tiny_shape() {
  ModelShape m;
  m.d_model = 16;
  m.n_heads = 2;
  m.d_ff = 24;
  m.n_layers = 1;
  m.max_len = 48;
  return m;
}

std::shared_ptr<const TaskData> tiny_data(const FinetuneSettings& s) {
  return std::make_shared<const TaskData>(load_task(s.task, tiny_shape().max_len));
}

std::string temp_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("scalora_test_train_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

}  // namespace

TEST_CASE("checkpoint round trip: write -> read -> restore continues bit for bit (LoRA, full; AdamW, SGD)") {
  for (const Method method : {Method::lora, Method::full})
    for (const OptimizerKind opt : {OptimizerKind::adamw, OptimizerKind::sgd}) {
      CAPTURE(method_name(method));
      CAPTURE(optimizer_name(opt));
      const FinetuneSettings s = tiny_settings(method, opt);
      const auto data = tiny_data(s);
      std::vector<float> straight, resumed;
      std::vector<int> straight_ranks, resumed_ranks;
      {
        FineTuner t(s, data, tiny_shape(), nullptr);
        while (!t.finished()) {
          const StepReport r = t.step();
          straight.push_back(r.record.loss);
          for (const LayerRecord& l : r.layers) straight_ranks.push_back(l.rank);
        }
      }
      const std::string dir = temp_dir("ckpt");
      const std::string path = dir + "/step-3.safetensors";
      {
        FineTuner t(s, data, tiny_shape(), nullptr);
        for (int k = 0; k < 3; ++k) {
          const StepReport r = t.step();
          resumed.push_back(r.record.loss);
          for (const LayerRecord& l : r.layers) resumed_ranks.push_back(l.rank);
        }
        write_checkpoint(path, t.checkpoint());
      }
      const Checkpoint c = read_checkpoint(path);
      CHECK(c.metadata.at("kind") == "finetune");
      CHECK(c.state.counters.at(opt == OptimizerKind::adamw ? "adamw.step" : "sgd.step") == 3);
      CHECK(c.state.tensors.count("layer0.attn.q.weight") == 1);  // merged W_pt (LoRA) or W (full)
      CHECK(c.state.tensors.count("w_pt0.layer0.mlp.down") == 1);
      if (method == Method::lora) {
        CHECK(c.state.tensors.count("layer0.attn.q.lora_A") == 1);
        if (opt == OptimizerKind::adamw) CHECK(c.state.tensors.count("adamw.exp_avg_sq.layer0.attn.q.lora_B") == 1);
        else CHECK(c.state.tensors.count("sgd.momentum_buffer.layer0.attn.q.lora_B") == 1);
      }
      // The file holds the values exactly (float32 tensors).
      FineTuner t(s, data, tiny_shape(), nullptr);
      const Checkpoint before = Checkpoint{};
      (void)before;
      FinetuneSettings other = s;
      other.seed = 99;  // a differently initialised model: restore must overwrite everything
      FineTuner u(other, data, tiny_shape(), nullptr);
      CHECK_THROWS_AS(u.restore(c), invalid_argument);  // settings differ
      t.restore(c);
      CHECK(t.steps_done() == 3);
      const Checkpoint again = t.checkpoint();
      for (const auto& [name, m] : c.state.tensors) {
        CAPTURE(name);
        REQUIRE(again.state.tensors.count(name) == 1);
        CHECK(again.state.tensors.at(name) == m);
      }
      while (!t.finished()) {
        const StepReport r = t.step();
        resumed.push_back(r.record.loss);
        for (const LayerRecord& l : r.layers) resumed_ranks.push_back(l.rank);
      }
      REQUIRE(resumed.size() == straight.size());
      for (std::size_t i = 0; i < straight.size(); ++i) CHECK_MESSAGE(resumed[i] == straight[i], "step " << i + 1);
      CHECK(resumed_ranks == straight_ranks);
      fs::remove_all(dir);
    }
}

TEST_CASE("read_checkpoint rejects files that are not scalora-train checkpoints") {
  const std::string dir = temp_dir("bad");
  io::write_safetensors(dir + "/x.safetensors", {io::from_scalar("x", 1.0, io::dtype::f32)}, {{"format", "other"}});
  CHECK_THROWS_AS(read_checkpoint(dir + "/x.safetensors"), invalid_argument);
  CHECK_THROWS_AS(read_checkpoint(dir + "/absent.safetensors"), io::io_error);
  fs::remove_all(dir);
}

TEST_CASE("settings survive JSON: to_json -> from_json is the identity") {
  FinetuneSettings s = tiny_settings(Method::scalora_i, OptimizerKind::sgd);
  s.L = 37.5;
  s.interval = 7;
  s.lora_alpha = 3;
  const nlohmann::json j = s;
  const FinetuneSettings back = j.get<FinetuneSettings>();
  CHECK(nlohmann::json(back).dump() == j.dump());
  CHECK(back.method == Method::scalora_i);
  CHECK(back.optim.kind == OptimizerKind::sgd);
  CHECK(back.task.generated.task == tasks::TaskKind::rte);
  CHECK(back.lora_scale() == 1.5);
  CHECK(back.rescale_interval() == 7);
}

TEST_CASE("batch order: a function of (seed, step), every example once per epoch") {
  BatchOrder a(10, 3), b(10, 3), c(10, 4);
  std::multiset<std::size_t> epoch;
  for (long step = 0; step < 5; ++step)
    for (std::size_t i : a.indices(step, 2)) epoch.insert(i);
  CHECK(epoch.size() == 10);
  for (std::size_t i = 0; i < 10; ++i) CHECK(epoch.count(i) == 1);
  CHECK(b.indices(7, 3) == a.indices(7, 3));  // order of calls does not matter
  CHECK(b.indices(0, 10) != c.indices(0, 10));
  CHECK_THROWS_AS(BatchOrder(0, 1), invalid_argument);
}

TEST_CASE("CSV logs: a resumed run keeps the rows up to its step and appends") {
  const std::string dir = temp_dir("csv");
  const std::string path = dir + "/steps.csv";
  {
    CsvLog log(path, "step,loss", 0);
    for (int s = 1; s <= 5; ++s) log.row(std::to_string(s) + "," + csv_number(0.5 * s, 9));
  }
  {
    CsvLog log(path, "step,loss", 3);
    log.row("4,9");
  }
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str() == "step,loss\n1,0.5\n2,1\n3,1.5\n4,9\n");
  CHECK(csv_number(0.1f, 9) == "0.1");              // shortest text that reads back as the float
  CHECK(csv_number(1.0 / 3.0, 9) == "0.33333333");   // enough digits for the float nearest 1/3
  CHECK(csv_number(0.1) == "0.1");
  CHECK(csv_number(std::nan("")) == "");
  const CsvTable t = read_csv(path);
  CHECK(t.column("loss") == 1);
  CHECK(t.rows.size() == 4);
  fs::remove_all(dir);
}

TEST_CASE("diagnostics: numerical rank and Theorem 1's decrease from the Gram eigenvalues") {
  // A rank-3 update of a 40 x 24 matrix, plus noise below the threshold.
  const Matrix<double> U = test::gaussian(40, 3, 1), V = test::gaussian(24, 3, 2);
  Matrix<double> D = U * V.transpose();
  const double tau = rank_threshold(40, 24, 1.0);  // 40 eps_float
  D += (0.01 * tau) * test::gaussian(40, 24, 3);
  CHECK(numerical_rank(squared_singular_values(D), tau) == 3);
  CHECK(numerical_rank(squared_singular_values(D.transpose()), tau) == 3);
  CHECK(numerical_rank(squared_singular_values(Matrix<double>::Zero(5, 4)), tau) == 0);
  // Theorem 1: sum of the 2r largest sigma^2 / 2L equals svd_optimum()'s decrease.
  const Matrix<double> G = test::gaussian(30, 20, 4);
  const double L = 3.5;
  const SvdOptimum<double> ref = svd_optimum(G, 4, L, 0.1);
  const double ours = svd_optimum_decrease(squared_singular_values(G), 4, L);
  CHECK(std::abs(ours - ref.bound_decrease) <= 64 * scalar_traits<double>::epsilon() * ref.bound_decrease);
}

TEST_CASE("fine-tuning logs: CSV files, summary, diagnostics; invalid settings throw") {
  FinetuneSettings s = tiny_settings(Method::lora);
  const auto data = tiny_data(s);
  FineTuner t(s, data, tiny_shape(), nullptr);
  const std::string dir = temp_dir("run");
  RunOptions ro;
  ro.out_dir = dir;
  const RunSummary sum = run_finetune(t, ro);
  CHECK(sum.json["steps_done"] == 8);
  CHECK(read_csv(dir + "/steps.csv").rows.size() == 8);
  CHECK(read_csv(dir + "/eval.csv").rows.size() == 3);  // steps 0, 4, 8
  const CsvTable layers = read_csv(dir + "/layers.csv");
  CHECK(layers.rows.size() == 4 * 6);  // diagnostics at steps 2, 4, 6, 8 for 6 adapted layers
  for (const auto& r : layers.rows) {
    CHECK(std::stoi(r[9]) <= 2);  // LoRA: rank(W - W_pt(0)) = rank(lora_scale A B^T) <= r
    CHECK(std::stod(r[8]) >= 0);  // Theorem 1's decrease
  }
  CHECK(fs::exists(dir + "/checkpoints/final.safetensors"));
  CHECK(fs::exists(dir + "/summary.json"));
  // ScaLoRA without a rescaler, and invalid settings.
  FinetuneSettings sc = tiny_settings(Method::scalora);
  FineTuner ts(sc, data, tiny_shape(), nullptr);
  CHECK_THROWS_AS(ts.step(), invalid_argument);
  FinetuneSettings bad = s;
  bad.rank = 0;
  CHECK_THROWS_AS(FineTuner(bad, data, tiny_shape(), nullptr), invalid_argument);
  CHECK_THROWS_AS(parse_method("dora"), invalid_argument);
  fs::remove_all(dir);
}
