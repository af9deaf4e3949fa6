// SPDX-License-Identifier: Apache-2.0
// Writes a generated task to <out>/<task>/{train,dev,test}.tsv (MNLI:
// dev_matched, dev_mismatched, test_matched, test_mismatched) plus meta.json:
// generator version, seed, every knob, per-file example and class counts,
// noisy-label counts, the noise rate and the sha256 of each file.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scalora/io/file.hpp"
#include "scalora/io/sha256.hpp"
#include "scalora/tasks/generator.hpp"
#include "scalora/tasks/tsv.hpp"
#include "scalora/version.hpp"

namespace scalora::tasks {

/// Summary of one written file.
struct WrittenFile {
  std::string name;  ///< e.g. "train.tsv"
  std::size_t examples = 0;
  std::string sha256;
  std::vector<std::size_t> class_counts;  ///< by (noisy) label; empty for syn-stsb
  double label_mean = 0;                  ///< mean written label
  std::size_t noisy_labels = 0;           ///< label != clean_label
};

/// Summary of one written task.
struct WrittenTask {
  std::string directory;
  std::vector<WrittenFile> files;
  std::string meta_json;
};

namespace detail {

/// Shortest of %.15g, %.16g, %.17g that reads back as x.
inline std::string json_number(double x) {
  char buf[40];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  return buf;
}

inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

inline WrittenFile summarise(TaskKind task, const std::string& name, const std::vector<Example>& examples,
                             const std::string& bytes) {
  WrittenFile f;
  f.name = name;
  f.examples = examples.size();
  f.sha256 = io::sha256_hex(bytes);
  if (!is_regression(task)) f.class_counts.assign(std::size_t(num_classes(task)), 0);
  double sum = 0;
  for (const Example& e : examples) {
    sum += e.label;
    if (!is_regression(task)) ++f.class_counts[std::size_t(e.label)];
    if (e.label != e.clean_label) ++f.noisy_labels;
  }
  f.label_mean = examples.empty() ? 0 : sum / double(examples.size());
  return f;
}

}  // namespace detail

/// meta.json text for a resolved configuration and its files.
inline std::string meta_json(const TaskConfig& c, const std::vector<WrittenFile>& files) {
  using detail::json_number;
  using detail::json_string;
  std::ostringstream os;
  os << "{\n"
     << "  \"generator\": \"scalora-glue-gen\",\n"
     << "  \"generator_version\": " << kGeneratorVersion << ",\n"
     << "  \"scalora_version\": " << json_string(version_string) << ",\n"
     << "  \"task\": " << json_string(task_name(c.task)) << ",\n"
     << "  \"glue_layout\": " << json_string(glue_layout_name(c.task)) << ",\n"
     << "  \"note\": \"generated GLUE-style task; not GLUE data\",\n"
     << "  \"seed\": " << c.seed << ",\n"
     << "  \"knobs\": {\n"
     << "    \"rank_dial\": " << c.rank_dial << ",\n"
     << "    \"items\": " << c.items << ",\n"
     << "    \"label_noise\": " << json_number(c.label_noise) << ",\n"
     << "    \"relational_fraction\": " << json_number(c.relational_fraction) << ",\n"
     << "    \"holdout_fraction\": " << json_number(c.holdout_fraction) << ",\n"
     << "    \"shift_rank\": " << c.shift_rank << ",\n"
     << "    \"train_size\": " << c.train_size << ",\n"
     << "    \"dev_size\": " << c.dev_size << ",\n"
     << "    \"test_size\": " << c.test_size << "\n"
     << "  },\n"
     << "  \"noise_rate\": " << json_number(c.label_noise) << ",\n"
     << "  \"noise_kind\": " << json_string(is_regression(c.task) ? "gaussian_sigma" : "symmetric_flip") << ",\n"
     << "  \"files\": {\n";
  for (std::size_t k = 0; k < files.size(); ++k) {
    const WrittenFile& f = files[k];
    os << "    " << json_string(f.name) << ": {\"examples\": " << f.examples
       << ", \"sha256\": " << json_string(f.sha256);
    if (!f.class_counts.empty()) {
      os << ", \"class_counts\": {";
      for (std::size_t c2 = 0; c2 < f.class_counts.size(); ++c2)
        os << (c2 ? ", " : "") << json_string(detail::label_field(c.task, double(c2))) << ": " << f.class_counts[c2];
      os << "}";
    }
    os << ", \"label_mean\": " << json_number(f.label_mean) << ", \"noisy_labels\": " << f.noisy_labels << "}"
       << (k + 1 < files.size() ? "," : "") << "\n";
  }
  os << "  }\n}\n";
  return os.str();
}

/// Generates every split of `config` and writes it under out_root/<task>/.
/// The clean_label column is written when label_noise > 0. Throws io::io_error
/// on file-system failures and invalid_argument on bad knobs.
inline WrittenTask write_task(const TaskConfig& config, const std::string& out_root) {
  const TaskGenerator generator(config);
  const TaskConfig& c = generator.config();
  const std::filesystem::path dir = std::filesystem::path(out_root) / task_name(c.task);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw io::io_error(io::io_problem::write_failed, dir.string(), "", "cannot create the directory: " + ec.message());
  WrittenTask out;
  out.directory = dir.string();
  for (Split s : task_splits(c.task)) {
    const std::vector<Example> examples = generator.split(s);
    const std::string name = std::string(split_file_stem(c.task, s)) + ".tsv";
    const std::string bytes = tsv_text(c.task, s, examples, c.label_noise > 0);
    io::write_file_atomically((dir / name).string(), bytes);
    out.files.push_back(detail::summarise(c.task, name, examples, bytes));
  }
  out.meta_json = meta_json(c, out.files);
  io::write_file_atomically((dir / "meta.json").string(), out.meta_json);
  return out;
}

}  // namespace scalora::tasks
