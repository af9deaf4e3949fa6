// SPDX-License-Identifier: Apache-2.0
// read_tensor_file(): a tensor file of any supported format, told by its first bytes.
#pragma once

#include <string>

#include "scalora/io/detail/bytes.hpp"
#include "scalora/io/npy.hpp"
#include "scalora/io/npz.hpp"
#include "scalora/io/safetensors.hpp"
#include "scalora/io/tensor.hpp"

namespace scalora::io {

/// Reads a tensor file of any supported format, chosen by its first bytes:
/// "\x93NUMPY" -> npy (one tensor named after the file), "PK\x03\x04" or "PK\x05\x06"
/// -> npz, anything else -> safetensors (whose errors then describe the file).
inline TensorFile read_tensor_file(const std::string& path) {
  detail::FileSource src(path);
  unsigned char head[6] = {};
  const std::size_t have = static_cast<std::size_t>(src.size() < 6 ? src.size() : 6);
  src.read(0, have, head);
  TensorFile out;
  if (have == 6 && head[0] == 0x93 && head[1] == 'N' && head[2] == 'U' && head[3] == 'M' && head[4] == 'P' && head[5] == 'Y') {
    out.tensors.push_back(detail::parse_npy(src, detail::npy_stem(path)));
    return out;
  }
  if (have >= 4 && head[0] == 'P' && head[1] == 'K' && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6)))
    return detail::parse_npz(src);
  return detail::parse_safetensors(src);
}

}  // namespace scalora::io
