// SPDX-License-Identifier: Apache-2.0
// Checkpoints as safetensors files (scalora::io, written atomically): every
// named tensor of a state dict -- the model (merged W_pt in LoRA modes,
// adapters, biases, layer norms, head), the optimizer's moments, W_pt(0) --
// and, in "__metadata__", the counters, the run settings, the data order and a
// SHA-256 of each tensor and of the metadata, verified on load.
#pragma once

#include <map>
#include <string>

#include "scalora/io/safetensors.hpp"
#include "scalora/io/sha256.hpp"
#include "scalora/model/state.hpp"

namespace scalora::train {

inline constexpr const char* kCheckpointFormat = "scalora-train-v2";  ///< v2: with checksums

/// A checkpoint in memory: tensors and counters by name, plus string metadata.
struct Checkpoint {
  model::StateDict<float> state;
  std::map<std::string, std::string> metadata;  ///< counters are stored here as "counter.<name>"
};

namespace detail {
inline constexpr const char* kSumPrefix = "sha256.";
inline constexpr const char* kMetadataSum = "sha256.__metadata__";

/// SHA-256 of a tensor's name, dtype, shape and bytes.
inline std::string tensor_sum(const io::Tensor& t) {
  std::string text = t.name + '\0' + io::safetensors_name(t.type) + '\0';
  for (std::int64_t d : t.shape) text += std::to_string(d) + ',';
  text += '\0';
  text.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
  return io::sha256_hex(text);
}

/// SHA-256 of the metadata other than the checksums (length-prefixed key = value pairs, by key).
inline std::string metadata_sum(const std::map<std::string, std::string>& meta) {
  std::string text;
  for (const auto& [k, v] : meta)
    if (k.rfind(kSumPrefix, 0) != 0) text += std::to_string(k.size()) + ':' + k + std::to_string(v.size()) + ':' + v;
  return io::sha256_hex(text);
}
}  // namespace detail

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
  for (const io::Tensor& t : tensors) meta[detail::kSumPrefix + t.name] = detail::tensor_sum(t);
  meta[detail::kMetadataSum] = detail::metadata_sum(meta);
  io::write_safetensors(path, tensors, meta);
}

/// Reads a checkpoint written by write_checkpoint(), verifying its checksums.
/// @throws io::io_error for an unreadable or malformed file, checksum_mismatch naming the
/// tensor (or "__metadata__") whose bytes differ from the recorded SHA-256 or lack one;
/// invalid_argument("checkpoint") when it is not a scalora-train checkpoint or a counter is not an integer.
inline Checkpoint read_checkpoint(const std::string& path) {
  const io::TensorFile file = io::read_safetensors(path);
  const auto format = file.metadata.find("format");
  if (format == file.metadata.end() || format->second != kCheckpointFormat)
    throw invalid_argument("checkpoint", argument_problem::out_of_range,
                           "'" + path + "' is not a " + kCheckpointFormat + " checkpoint");
  const auto recorded = [&](const std::string& key, const std::string& what, const std::string& actual) {
    const auto it = file.metadata.find(key);
    if (it == file.metadata.end() || it->second != actual)
      throw io::io_error(io::io_problem::checksum_mismatch, path, what,
                         it == file.metadata.end() ? "no recorded SHA-256"
                                                   : "SHA-256 differs from the recorded one: the file is corrupt");
  };
  recorded(detail::kMetadataSum, "__metadata__", detail::metadata_sum(file.metadata));
  for (const io::Tensor& t : file.tensors) recorded(detail::kSumPrefix + t.name, t.name, detail::tensor_sum(t));
  Checkpoint out;
  for (const io::Tensor& t : file.tensors) out.state.tensors.emplace(t.name, t.to_matrix<float>());
  for (const auto& [key, value] : file.metadata) {
    if (key.rfind(detail::kSumPrefix, 0) == 0) continue;
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
