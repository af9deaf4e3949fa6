// SPDX-License-Identifier: Apache-2.0
// safetensors read/write: validated parsing (every malformed input is an io_error) and
// atomic writes in the layout of the reference implementation.
//
// Format: u64 little-endian N; N bytes of UTF-8 JSON
//   {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"<key>": "<value>", ...}}
// then the data section; [begin, end) are relative to its start (byte 8 + N). The
// tensors' ranges must cover the data section exactly, without overlap (as in the
// reference). Empty tensors (begin == end) may sit anywhere inside it.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "scalora/io/detail/bytes.hpp"
#include "scalora/io/file.hpp"
#include "scalora/io/io_error.hpp"
#include "scalora/io/tensor.hpp"

namespace scalora::io {

/// Largest accepted header (bytes of JSON): 100 MiB.
inline constexpr std::uint64_t kSafetensorsHeaderCap = std::uint64_t{100} << 20;

namespace detail {

/// SAX handler building the header as JSON while rejecting duplicate keys (nlohmann's
/// DOM parser would keep the last one), non-object roots, nesting deeper than 16 and
/// arrays longer than 4096 (a shape has one entry per dimension). root_keys keeps the
/// order of the tensors in the header. On failure, problem/tensor/why say why.
class SafetensorsHeaderSax final : public nlohmann::json_sax<nlohmann::json> {
 public:
  using json = nlohmann::json;
  static constexpr std::size_t kMaxDepth = 16;
  static constexpr std::size_t kMaxArrayLength = 4096;

  json root;
  std::vector<std::string> root_keys;
  io_problem problem = io_problem::bad_json;
  std::string tensor;
  std::string why;

  bool null() override { return put(json(nullptr)); }
  bool boolean(bool v) override { return put(json(v)); }
  bool number_integer(number_integer_t v) override { return put(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return put(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return put(json(v)); }
  bool string(string_t& v) override { return put(json(v)); }
  bool binary(binary_t&) override { return fail(io_problem::bad_json, current_tensor(), "binary value"); }
  bool start_object(std::size_t) override { return open(json::object()); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    json& object = *stack_.back();
    if (object.contains(k)) {
      if (stack_.size() == 1) return fail(io_problem::duplicate_name, k, "the header names this tensor twice");
      return fail(io_problem::duplicate_name, current_tensor(), "key \"" + k + "\" appears twice");
    }
    if (stack_.size() == 1) root_keys.push_back(k);
    pending_ = &object[k];
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) override {
    return fail(io_problem::bad_json, "", std::string("header is not valid JSON: ") + ex.what());
  }

 private:
  std::string current_tensor() const { return root_keys.empty() ? std::string() : root_keys.back(); }
  bool fail(io_problem p, std::string t, std::string w) {
    problem = p;
    tensor = std::move(t);
    why = std::move(w);
    return false;
  }
  json* place(json&& v) {
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    *pending_ = std::move(v);
    return pending_;
  }
  bool put(json&& v) {
    if (stack_.empty()) return fail(io_problem::not_object, "", "header is not a JSON object");
    if (stack_.back()->is_array() && stack_.back()->size() >= kMaxArrayLength)
      return fail(io_problem::bad_json, current_tensor(), "array longer than 4096 entries");
    place(std::move(v));
    return true;
  }
  bool open(json&& v) {
    if (stack_.empty()) {
      if (!v.is_object()) return fail(io_problem::not_object, "", "header is not a JSON object");
      root = std::move(v);
      stack_.push_back(&root);
      return true;
    }
    if (stack_.size() >= kMaxDepth) return fail(io_problem::bad_json, current_tensor(), "JSON nested deeper than 16");
    if (stack_.back()->is_array() && stack_.back()->size() >= kMaxArrayLength)
      return fail(io_problem::bad_json, current_tensor(), "array longer than 4096 entries");
    stack_.push_back(place(std::move(v)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }
  std::vector<json*> stack_;  // open containers; each is the last element of its parent
  json* pending_ = nullptr;   // value slot of the last key
};

/// Reads one tensor entry of the header into `t` (name, type, shape) and its range.
inline void parse_safetensors_entry(const nlohmann::json& entry, const std::string& file, Tensor& t,
                                    std::uint64_t& begin, std::uint64_t& end, std::uint64_t& bytes) {
  const std::string& name = t.name;
  if (!entry.is_object()) throw io_error(io_problem::not_object, file, name, "entry is not a JSON object");

  const auto dt = entry.find("dtype");
  if (dt == entry.end() || !dt->is_string()) throw io_error(io_problem::unknown_dtype, file, name, "no \"dtype\" string");
  const auto type = dtype_from_safetensors_name(dt->get_ref<const std::string&>());
  if (!type)
    throw io_error(io_problem::unknown_dtype, file, name,
                   "dtype \"" + printable(dt->get_ref<const std::string&>()) + "\" is not one of " +
                       dtype_names(safetensors_name));
  t.type = *type;

  const auto shape = entry.find("shape");
  if (shape == entry.end() || !shape->is_array()) throw io_error(io_problem::bad_shape, file, name, "no \"shape\" list");
  for (const nlohmann::json& d : *shape) {
    if (d.is_number_unsigned()) {
      const std::uint64_t v = d.get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw io_error(io_problem::size_overflow, file, name, "dimension " + std::to_string(v) + " too large");
      t.shape.push_back(static_cast<std::int64_t>(v));
    } else if (d.is_number_integer()) {
      throw io_error(io_problem::bad_shape, file, name, "negative dimension " + std::to_string(d.get<std::int64_t>()));
    } else {
      throw io_error(io_problem::bad_shape, file, name, "dimension " + d.dump() + " is not a non-negative integer");
    }
  }
  std::string why;
  std::uint64_t count;
  if (const auto p = tensor_problem(t, why, count, bytes, false)) throw io_error(*p, file, name, why);

  const auto offsets = entry.find("data_offsets");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned())
    throw io_error(io_problem::bad_offsets, file, name, "data_offsets is not two non-negative integers");
  begin = (*offsets)[0].get<std::uint64_t>();
  end = (*offsets)[1].get<std::uint64_t>();
  if (end < begin)
    throw io_error(io_problem::bad_offsets, file, name,
                   "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] end before begin");
}

/// Parses a whole safetensors file from `src`.
inline TensorFile parse_safetensors(const ByteSource& src) {
  const std::string& file = src.name();
  if (src.size() < 8)
    throw io_error(io_problem::truncated, file, "", "shorter than the 8-byte header length (" +
                                                       std::to_string(src.size()) + " bytes)");
  unsigned char len_bytes[8];
  src.read(0, 8, len_bytes);
  const std::uint64_t header_len = load_le(len_bytes, 8);
  if (header_len > kSafetensorsHeaderCap)
    throw io_error(io_problem::header_too_large, file, "",
                   "header length " + std::to_string(header_len) + " exceeds the 100 MiB cap");
  if (header_len > src.size() - 8)
    throw io_error(io_problem::truncated, file, "",
                   "header length " + std::to_string(header_len) + " but only " + std::to_string(src.size() - 8) +
                       " bytes follow");
  const std::vector<unsigned char> header = src.read_vector(8, static_cast<std::size_t>(header_len));
  const std::uint64_t data_start = 8 + header_len;
  const std::uint64_t data_size = src.size() - data_start;

  SafetensorsHeaderSax sax;
  if (!nlohmann::json::sax_parse(header.begin(), header.end(), &sax)) throw io_error(sax.problem, file, sax.tensor, sax.why);

  struct Range {
    std::uint64_t begin, end;
    std::size_t index;
  };
  TensorFile out;
  std::vector<Range> ranges;
  for (const std::string& key : sax.root_keys) {
    const nlohmann::json& entry = sax.root.find(key).value();
    if (key == "__metadata__") {
      if (entry.is_null()) continue;
      if (!entry.is_object()) throw io_error(io_problem::bad_metadata, file, "", "__metadata__ is not an object");
      for (const auto& kv : entry.items()) {
        if (!kv.value().is_string())
          throw io_error(io_problem::bad_metadata, file, "",
                         "__metadata__ value of \"" + printable(kv.key()) + "\" is not a string");
        out.metadata[kv.key()] = kv.value().get<std::string>();
      }
      continue;
    }
    Tensor t;
    t.name = key;
    std::uint64_t begin, end, bytes;
    parse_safetensors_entry(entry, file, t, begin, end, bytes);
    if (end > data_size)
      throw io_error(io_problem::offsets_out_of_range, file, t.name,
                     "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                         "] outside the data section of " + std::to_string(data_size) + " bytes");
    if (end - begin != bytes)
      throw io_error(io_problem::size_mismatch, file, t.name,
                     "data_offsets span " + std::to_string(end - begin) + " bytes, shape and dtype need " +
                         std::to_string(bytes));
    ranges.push_back({begin, end, out.tensors.size()});
    out.tensors.push_back(std::move(t));
  }

  // Non-empty ranges, by begin, must tile [0, data_size).
  std::vector<Range> sorted;
  for (const Range& r : ranges)
    if (r.end > r.begin) sorted.push_back(r);
  std::sort(sorted.begin(), sorted.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const Range& r = sorted[i];
    if (r.begin < covered)
      throw io_error(io_problem::overlap, file, out.tensors[r.index].name,
                     "bytes [" + std::to_string(r.begin) + ", " + std::to_string(r.end) + ") overlap tensor '" +
                         printable(out.tensors[sorted[i - 1].index].name) + "'");
    if (r.begin > covered)
      throw io_error(io_problem::unused_bytes, file, out.tensors[r.index].name,
                     "bytes [" + std::to_string(covered) + ", " + std::to_string(r.begin) +
                         ") before this tensor belong to no tensor");
    covered = r.end;
  }
  if (covered != data_size)
    throw io_error(io_problem::unused_bytes, file, "",
                   "bytes [" + std::to_string(covered) + ", " + std::to_string(data_size) +
                       ") at the end of the data section belong to no tensor");

  for (const Range& r : ranges)
    out.tensors[r.index].data = src.read_vector(data_start + r.begin, static_cast<std::size_t>(r.end - r.begin));
  return out;
}

/// JSON string literal of s; io_error(problem) naming `tensor` when s is not UTF-8.
inline std::string json_string(const std::string& s, const std::string& file, const std::string& tensor,
                               io_problem problem) {
  try {
    return nlohmann::json(s).dump();
  } catch (const nlohmann::json::exception&) {
    throw io_error(problem, file, tensor, "name or value is not valid UTF-8");
  }
}

/// The 8-byte length and the space-padded JSON header for `tensors`, laid out in
/// the given order without gaps. Validates everything a writer needs first.
inline std::vector<unsigned char> safetensors_prefix(const std::vector<Tensor>& tensors,
                                                     const std::map<std::string, std::string>& metadata,
                                                     const std::string& file) {
  check_tensors_for_writing(tensors, file);
  std::string json = "{";
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      json += (first ? "" : ",") + json_string(k, file, "", io_problem::bad_metadata) + ":" +
              json_string(v, file, "", io_problem::bad_metadata);
      first = false;
    }
    json += "}";
  }
  std::uint64_t offset = 0;
  for (const Tensor& t : tensors) {
    if (t.name == "__metadata__")
      throw io_error(io_problem::invalid_tensor, file, t.name, "the name __metadata__ is reserved");
    if (json.size() > 1) json += ",";
    json += json_string(t.name, file, t.name, io_problem::invalid_tensor) + ":{\"dtype\":\"" +
            safetensors_name(t.type) + "\",\"shape\":[";
    for (std::size_t i = 0; i < t.shape.size(); ++i) json += (i ? "," : "") + std::to_string(t.shape[i]);
    json += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + t.data.size()) + "]}";
    offset += t.data.size();
  }
  json += "}";
  json.append((8 - json.size() % 8) % 8, ' ');
  if (json.size() > kSafetensorsHeaderCap)
    throw io_error(io_problem::header_too_large, file, "", "header would exceed the 100 MiB cap");
  std::vector<unsigned char> out;
  append_le(out, json.size(), 8);
  out.insert(out.end(), json.begin(), json.end());
  return out;
}

inline void write_safetensors(ByteSink& sink, const std::vector<unsigned char>& prefix,
                              const std::vector<Tensor>& tensors) {
  sink.write(prefix);
  for (const Tensor& t : tensors) sink.write(t.data);
}

}  // namespace detail

/// Parses safetensors bytes; source_name is used in error messages.
/// @throws io_error for every malformed input (docs/io.md lists the ids).
inline TensorFile parse_safetensors(const unsigned char* bytes, std::size_t size, const std::string& source_name) {
  return detail::parse_safetensors(detail::MemorySource(bytes, size, source_name));
}

/// Reads a safetensors file; each tensor's bytes are read straight into its Tensor.
/// @throws io_error (open_failed, truncated, and every parse error).
inline TensorFile read_safetensors(const std::string& path) { return detail::parse_safetensors(detail::FileSource(path)); }

/// The bytes write_safetensors would write: tensors in the given order, header padded
/// with spaces to a multiple of 8, "__metadata__" first when metadata is non-empty.
/// @throws io_error invalid_tensor, duplicate_name, bad_metadata, ... before writing anything.
inline std::vector<unsigned char> serialize_safetensors(const std::vector<Tensor>& tensors,
                                                        const std::map<std::string, std::string>& metadata = {}) {
  detail::VectorSink sink;
  detail::write_safetensors(sink, detail::safetensors_prefix(tensors, metadata, ""), tensors);
  return std::move(sink.bytes);
}

/// Writes `path` atomically (temporary file in the same directory, fsync, rename): on
/// any failure `path` is left as it was and the temporary file is removed.
/// @throws io_error write_failed, or a validation error before any file is created.
inline void write_safetensors(const std::string& path, const std::vector<Tensor>& tensors,
                              const std::map<std::string, std::string>& metadata = {}) {
  const std::vector<unsigned char> prefix = detail::safetensors_prefix(tensors, metadata, path);
  AtomicFile sink(path);
  detail::write_safetensors(sink, prefix, tensors);
  sink.commit();
}

}  // namespace scalora::io
