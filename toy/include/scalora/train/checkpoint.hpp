// SPDX-License-Identifier: Apache-2.0
// Checkpoints as safetensors files (scalora::io, written atomically): every
// named tensor of a state dict -- the model (merged W_pt in LoRA modes,
// adapters, biases, layer norms, head), the optimizer's moments, W_pt(0) --
// and, in "__metadata__", the counters, the run settings and the data order.
#pragma once

#include <map>
#include <string>

#include "scalora/io/safetensors.hpp"
#include "scalora/model/state.hpp"

namespace scalora::train {

inline constexpr const char* kCheckpointFormat = "scalora-train-v1";

/// A checkpoint in memory: tensors and counters by name, plus string metadata.
struct Checkpoint {
  model::StateDict<float> state;
  std::map<std::string, std::string> metadata;  ///< counters are stored here as "counter.<name>"
};

/// Writes `ckpt` to `path` atomically (temporary file + rename). Matrices are
/// [rows, cols] float32 tensors (M(i, j) is element (i, j), so a Linear's weight
/// is [out, in] as in PyTorch), one-column ones are 1-D [rows].
/// @throws io::io_error when the file cannot be written.
inline void write_checkpoint(const std::string& path, const Checkpoint& ckpt) {
  std::vector<io::Tensor> tensors;
  tensors.reserve(ckpt.state.tensors.size());
  for (const auto& [name, m] : ckpt.state.tensors) {
    io::Tensor t = io::from_matrix(name, m, io::dtype::f32);
    if (m.cols() == 1) t.shape = {std::int64_t(m.rows())};
    tensors.push_back(std::move(t));
  }
  std::map<std::string, std::string> meta = ckpt.metadata;
  meta["format"] = kCheckpointFormat;
  for (const auto& [name, value] : ckpt.state.counters) meta["counter." + name] = std::to_string(value);
  io::write_safetensors(path, tensors, meta);
}

/// Reads a checkpoint written by write_checkpoint().
/// @throws io::io_error for an unreadable or malformed file; invalid_argument("checkpoint")
/// when it is not a scalora-train checkpoint or a counter is not an integer.
inline Checkpoint read_checkpoint(const std::string& path) {
  const io::TensorFile file = io::read_safetensors(path);
  const auto format = file.metadata.find("format");
  if (format == file.metadata.end() || format->second != kCheckpointFormat)
    throw invalid_argument("checkpoint", argument_problem::out_of_range,
                           "'" + path + "' is not a " + kCheckpointFormat + " checkpoint");
  Checkpoint out;
  for (const io::Tensor& t : file.tensors) out.state.tensors.emplace(t.name, t.to_matrix<float>());
  for (const auto& [key, value] : file.metadata) {
    if (key.rfind("counter.", 0) != 0) {
      out.metadata.emplace(key, value);
      continue;
    }
    std::size_t pos = 0;
    long long v = 0;
    try {
      v = std::stoll(value, &pos);
    } catch (const std::exception&) {
      pos = 0;
    }
    if (pos == 0 || pos != value.size())
      throw invalid_argument("checkpoint", argument_problem::out_of_range,
                             "'" + path + "': counter " + key + " is not an integer: '" + value + "'");
    out.state.counters.emplace(key.substr(8), std::int64_t(v));
  }
  return out;
}

}  // namespace scalora::train
