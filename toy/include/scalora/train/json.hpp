// SPDX-License-Identifier: Apache-2.0
// Settings <-> JSON (nlohmann): the record of a run in summary.json and in
// every checkpoint, from which --resume rebuilds the run.
#pragma once

#include <nlohmann/json.hpp>

#include "scalora/train/config.hpp"

namespace scalora::train {

inline void to_json(nlohmann::json& j, const ModelShape& s) {
  j = {{"d_model", s.d_model}, {"n_heads", s.n_heads}, {"d_ff", s.d_ff},
       {"n_layers", s.n_layers}, {"max_len", s.max_len}, {"init_std", s.init_std}};
}
inline void from_json(const nlohmann::json& j, ModelShape& s) {
  j.at("d_model").get_to(s.d_model);
  j.at("n_heads").get_to(s.n_heads);
  j.at("d_ff").get_to(s.d_ff);
  j.at("n_layers").get_to(s.n_layers);
  j.at("max_len").get_to(s.max_len);
  j.at("init_std").get_to(s.init_std);
}

inline void to_json(nlohmann::json& j, const OptimSettings& o) {
  j = {{"optimizer", optimizer_name(o.kind)}, {"lr", o.lr},         {"weight_decay", o.weight_decay},
       {"momentum", o.momentum},              {"warmup", o.warmup_steps}, {"clip", o.clip}};
}
inline void from_json(const nlohmann::json& j, OptimSettings& o) {
  o.kind = parse_optimizer(j.at("optimizer").get<std::string>());
  j.at("lr").get_to(o.lr);
  j.at("weight_decay").get_to(o.weight_decay);
  j.at("momentum").get_to(o.momentum);
  j.at("warmup").get_to(o.warmup_steps);
  j.at("clip").get_to(o.clip);
}

inline void to_json(nlohmann::json& j, const PretrainSettings& p) {
  j = {{"shape", p.shape}, {"seed", p.seed}, {"documents", p.documents}, {"steps", p.steps},
       {"batch_size", p.batch_size}, {"optim", p.optim}, {"eval_every", p.eval_every}};
}

inline void to_json(nlohmann::json& j, const TaskSpec& t) {
  const tasks::TaskConfig& g = t.generated;
  j = {{"directory", t.directory},  {"task", tasks::task_name(g.task)}, {"seed", g.seed},
       {"rank_dial", g.rank_dial},  {"items", g.items},                {"label_noise", g.label_noise},
       {"relational_fraction", g.relational_fraction},                 {"holdout_fraction", g.holdout_fraction},
       {"shift_rank", g.shift_rank}, {"train_size", g.train_size},     {"dev_size", g.dev_size},
       {"test_size", g.test_size}};
}
inline void from_json(const nlohmann::json& j, TaskSpec& t) {
  tasks::TaskConfig& g = t.generated;
  j.at("directory").get_to(t.directory);
  g.task = tasks::parse_task(j.at("task").get<std::string>());
  j.at("seed").get_to(g.seed);
  j.at("rank_dial").get_to(g.rank_dial);
  j.at("items").get_to(g.items);
  j.at("label_noise").get_to(g.label_noise);
  j.at("relational_fraction").get_to(g.relational_fraction);
  j.at("holdout_fraction").get_to(g.holdout_fraction);
  j.at("shift_rank").get_to(g.shift_rank);
  j.at("train_size").get_to(g.train_size);
  j.at("dev_size").get_to(g.dev_size);
  j.at("test_size").get_to(g.test_size);
}

inline void to_json(nlohmann::json& j, const FinetuneSettings& f) {
  j = {{"task", f.task},         {"method", method_name(f.method)}, {"rank", f.rank},
       {"lora_alpha", f.lora_alpha}, {"interval", f.interval},     {"L", f.L},
       {"optim", f.optim},       {"steps", f.steps},                {"batch_size", f.batch_size},
       {"seed", f.seed},         {"eval_every", f.eval_every},      {"shadow_every", f.shadow_every},
       {"diagnostics_every", f.diagnostics_every}};
}
inline void from_json(const nlohmann::json& j, FinetuneSettings& f) {
  j.at("task").get_to(f.task);
  f.method = parse_method(j.at("method").get<std::string>());
  j.at("rank").get_to(f.rank);
  j.at("lora_alpha").get_to(f.lora_alpha);
  j.at("interval").get_to(f.interval);
  j.at("L").get_to(f.L);
  j.at("optim").get_to(f.optim);
  j.at("steps").get_to(f.steps);
  j.at("batch_size").get_to(f.batch_size);
  j.at("seed").get_to(f.seed);
  j.at("eval_every").get_to(f.eval_every);
  j.at("shadow_every").get_to(f.shadow_every);
  j.at("diagnostics_every").get_to(f.diagnostics_every);
}

}  // namespace scalora::train
