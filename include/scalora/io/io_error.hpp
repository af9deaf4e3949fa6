// SPDX-License-Identifier: Apache-2.0
// scalora::io::io_error: the one exception type of the tensor file readers and writers.
//
// what() = "[scalora.io.<problem>] <file>: tensor '<name>': <detail>"; the file part is
// left out when there is no file (in-memory helpers), the tensor part when the problem
// concerns no single tensor (header length, ZIP directory, ...).
#pragma once

#include <string>
#include <utility>

#include "scalora/error.hpp"

namespace scalora::io {

/// What is wrong with a tensor file or with tensors handed to a writer. The names
/// (to_string) are stable ids: docs/io.md lists them.
enum class io_problem {
  open_failed,              ///< the file cannot be opened, is not a regular file, or a read failed
  write_failed,             ///< creating, writing, syncing or renaming the output failed
  truncated,                ///< the input ends before a structure it announces
  header_too_large,         ///< a header length above the cap (safetensors 100 MiB, npy 1 MiB)
  bad_json,                 ///< the safetensors header is not valid JSON (or is nested too deep)
  not_object,               ///< the header, or a tensor entry, is not a JSON object
  duplicate_name,           ///< two tensors (or ZIP members, or keys of one entry) share a name
  unknown_dtype,            ///< dtype missing or not one the format defines that scalora knows (F8_E4M3, '<c8')
  bad_shape,                ///< shape missing, not a list/tuple, or an entry negative or non-integer
  size_overflow,            ///< element count x element size does not fit in 64 bits
  bad_offsets,              ///< data_offsets not two non-negative integers, or end < begin
  offsets_out_of_range,     ///< a tensor's bytes lie outside the data section (or the archive)
  size_mismatch,            ///< byte count differs from shape x element size
  overlap,                  ///< two tensors' (or ZIP members') byte ranges overlap
  unused_bytes,             ///< a hole between tensors, or bytes after the last one
  bad_metadata,             ///< __metadata__ is not an object of strings
  bad_magic,                ///< npy: not "\x93NUMPY"
  bad_version,              ///< npy: format version other than 1.0, 2.0, 3.0
  bad_header,               ///< npy: header dict malformed, or keys other than descr, fortran_order, shape
  bad_zip,                  ///< npz: no end record, bad signature, inconsistent sizes or names
  unsupported_compression,  ///< npz: a member neither STORED (0) nor DEFLATED (8)
  unsupported_feature,      ///< npz: encryption or a multi-disk archive
  crc_mismatch,             ///< npz: a member's CRC-32 differs from the directory's
  decompress_failed,        ///< npz: the DEFLATE stream is corrupt or its length is wrong
  not_npy_member,           ///< npz: a member whose name does not end in ".npy"
  unsupported_dtype,        ///< a valid dtype the format cannot store (BF16 in npy/npz)
  invalid_tensor,           ///< a tensor handed to a writer or helper is inconsistent
  not_matrix,               ///< to_matrix on a tensor of rank > 2
  not_scalar,               ///< scalar_value on a tensor whose shape is not [] or [1]
  missing_tensor,           ///< case file: a required tensor (or the input of a given output) is absent
  shape_mismatch,           ///< case file: a tensor's shape disagrees with m, n, r of A and B
  bad_value,                ///< case file: a scalar not finite and > 0, an input entry NaN/Inf
  unknown_name,             ///< case file: an "out." tensor the format does not define
  not_floating,             ///< values asked of a BOOL or integer tensor (or such a dtype given to an encoder)
  checksum_mismatch,        ///< a tensor's or the metadata's recorded SHA-256 differs from its bytes
  busy,                     ///< an output directory is locked by another live process
};

inline const char* to_string(io_problem p) {
  switch (p) {
    case io_problem::open_failed: return "open_failed";
    case io_problem::write_failed: return "write_failed";
    case io_problem::truncated: return "truncated";
    case io_problem::header_too_large: return "header_too_large";
    case io_problem::bad_json: return "bad_json";
    case io_problem::not_object: return "not_object";
    case io_problem::duplicate_name: return "duplicate_name";
    case io_problem::unknown_dtype: return "unknown_dtype";
    case io_problem::bad_shape: return "bad_shape";
    case io_problem::size_overflow: return "size_overflow";
    case io_problem::bad_offsets: return "bad_offsets";
    case io_problem::offsets_out_of_range: return "offsets_out_of_range";
    case io_problem::size_mismatch: return "size_mismatch";
    case io_problem::overlap: return "overlap";
    case io_problem::unused_bytes: return "unused_bytes";
    case io_problem::bad_metadata: return "bad_metadata";
    case io_problem::bad_magic: return "bad_magic";
    case io_problem::bad_version: return "bad_version";
    case io_problem::bad_header: return "bad_header";
    case io_problem::bad_zip: return "bad_zip";
    case io_problem::unsupported_compression: return "unsupported_compression";
    case io_problem::unsupported_feature: return "unsupported_feature";
    case io_problem::crc_mismatch: return "crc_mismatch";
    case io_problem::decompress_failed: return "decompress_failed";
    case io_problem::not_npy_member: return "not_npy_member";
    case io_problem::unsupported_dtype: return "unsupported_dtype";
    case io_problem::invalid_tensor: return "invalid_tensor";
    case io_problem::not_matrix: return "not_matrix";
    case io_problem::not_scalar: return "not_scalar";
    case io_problem::missing_tensor: return "missing_tensor";
    case io_problem::shape_mismatch: return "shape_mismatch";
    case io_problem::bad_value: return "bad_value";
    case io_problem::unknown_name: return "unknown_name";
    case io_problem::not_floating: return "not_floating";
    case io_problem::checksum_mismatch: return "checksum_mismatch";
    case io_problem::busy: return "busy";
  }
  return "unknown";
}

namespace detail {
/// Text safe to print: bytes outside printable ASCII become \xNN (names come from files).
inline std::string printable(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

inline std::string io_message(io_problem problem, const std::string& file, const std::string& tensor,
                              const std::string& detail) {
  std::string m = "[scalora.io." + std::string(to_string(problem)) + "] ";
  if (!file.empty()) m += printable(file) + ": ";
  if (!tensor.empty()) m += "tensor '" + printable(tensor) + "': ";
  return m + detail;
}
}  // namespace detail

/// A tensor file is malformed, cannot be read or written, or a tensor is unusable.
/// file(): the path (or the source name given to a parse_* function), "" for none;
/// tensor(): the tensor (or ZIP member) concerned, "" when none is.
class io_error : public scalora::error {
 public:
  io_error(io_problem problem, std::string file, std::string tensor, const std::string& detail)
      : error(detail::io_message(problem, file, tensor, detail)),
        file_(std::move(file)),
        tensor_(std::move(tensor)),
        problem_(problem) {}
  const std::string& file() const noexcept { return file_; }
  const std::string& tensor() const noexcept { return tensor_; }
  io_problem problem() const noexcept { return problem_; }

 private:
  std::string file_;
  std::string tensor_;
  io_problem problem_;
};

}  // namespace scalora::io
