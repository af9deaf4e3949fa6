// SPDX-License-Identifier: Apache-2.0
// In-memory checkpoints: every named tensor and counter of a model and its optimizer, saved and restored.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "scalora/error.hpp"
#include "scalora/model/tensors.hpp"

namespace scalora::model {

/// Tensors and counters by stable name: what a checkpoint file (safetensors,
/// written elsewhere) must hold for a bit-identical resume. Matrices are the
/// column-major values of the named tensors (tensors.hpp).
template <class T>
struct StateDict {
  std::map<std::string, Matrix<T>> tensors;
  std::map<std::string, std::int64_t> counters;
};

/// Copies every tensor and counter of obj (a Transformer, AdamW or SGD: anything with
/// tensors() and counters()) into dict. @throws invalid_argument("state") on a repeated name.
template <class T, class Obj>
void save_into(StateDict<T>& dict, Obj& obj) {
  for (const NamedTensor<T>& t : obj.tensors())
    if (!dict.tensors.emplace(t.name, Matrix<T>(t.data)).second)
      throw invalid_argument("state", argument_problem::shape_mismatch, "tensor " + t.name + " appears twice");
  for (const NamedCounter& c : obj.counters())
    if (!dict.counters.emplace(c.name, *c.value).second)
      throw invalid_argument("state", argument_problem::shape_mismatch, "counter " + c.name + " appears twice");
}

/// save_into for each object in turn: save_state<float>(model, optimizer).
template <class T, class... Objs>
StateDict<T> save_state(Objs&... objs) {
  StateDict<T> dict;
  (save_into(dict, objs), ...);
  return dict;
}

/// Writes the entries of dict named like obj's tensors and counters into obj.
/// strict: every tensor and counter of obj must be present. Non-strict: absent
/// ones keep their values and their names are returned (e.g. LoRA factors and
/// head when loading a pre-trained checkpoint into a LoRA classifier).
/// Shapes are checked for all entries before anything is written.
/// @throws invalid_argument("state") naming the tensor on a shape mismatch or (strict) an absent entry.
template <class T, class Obj>
std::vector<std::string> load_from(const StateDict<T>& dict, Obj& obj, bool strict = true) {
  std::vector<std::string> missing;
  const std::vector<NamedTensor<T>> tensors = obj.tensors();
  const std::vector<NamedCounter> counters = obj.counters();
  for (const NamedTensor<T>& t : tensors) {
    const auto it = dict.tensors.find(t.name);
    if (it == dict.tensors.end()) {
      if (strict) throw invalid_argument("state", argument_problem::empty, "tensor " + t.name + " is absent");
      missing.push_back(t.name);
    } else if (it->second.rows() != t.data.rows() || it->second.cols() != t.data.cols()) {
      throw invalid_argument("state", argument_problem::shape_mismatch,
                             "tensor " + t.name + " is " + std::to_string(it->second.rows()) + "x" +
                                 std::to_string(it->second.cols()) + ", expected " + std::to_string(t.data.rows()) +
                                 "x" + std::to_string(t.data.cols()));
    }
  }
  for (const NamedCounter& c : counters)
    if (dict.counters.find(c.name) == dict.counters.end()) {
      if (strict) throw invalid_argument("state", argument_problem::empty, "counter " + c.name + " is absent");
      missing.push_back(c.name);
    }
  for (const NamedTensor<T>& t : tensors) {
    const auto it = dict.tensors.find(t.name);
    if (it != dict.tensors.end()) t.data = it->second;
  }
  for (const NamedCounter& c : counters) {
    const auto it = dict.counters.find(c.name);
    if (it != dict.counters.end()) *c.value = it->second;
  }
  return missing;
}

}  // namespace scalora::model
